package web_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// tileStatsJS lists, for each tile on the console's wall, the point it
// shows and the frames decoded and bytes received of its track; and how
// many inbound video streams of the subscribe connection received bytes
// at all, as {tiles: [{point, frames, bytes}], video: [{track, bytes}]}.
const tileStatsJS = `(async () => {
  const pc = window.hoinghi?.pcs?.subscribe;
  if (!pc) return {tiles: [], video: []};
  const byTrack = new Map();
  const video = [];
  (await pc.getStats()).forEach((r) => {
    if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
    byTrack.set(r.trackIdentifier, r);
    video.push({track: r.trackIdentifier, bytes: r.bytesReceived || 0});
  });
  const tiles = [...document.querySelectorAll('#wall .tile[data-participant]')].map((tile) => {
    const track = tile.querySelector('video').srcObject?.getVideoTracks()[0];
    const r = track && byTrack.get(track.id);
    return {point: tile.dataset.participant, frames: r?.framesDecoded || 0, bytes: r?.bytesReceived || 0};
  });
  return {tiles, video};
})()`

type tileStats struct {
	Tiles []struct {
		Point  string  `json:"point"`
		Frames float64 `json:"frames"`
		Bytes  float64 `json:"bytes"`
	} `json:"tiles"`
	Video []struct {
		Track string  `json:"track"`
		Bytes float64 `json:"bytes"`
	} `json:"video"`
}

func readTiles(t *testing.T, tab context.Context) tileStats {
	t.Helper()
	s, err := eval[tileStats](tab, tileStatsJS)
	if err != nil {
		t.Fatalf("tile stats: %v", err)
	}
	return s
}

// TestBrowserWallPages runs the console with 40 points (Go clients that
// publish synthetic media): the wall shows them in pages, the console
// receives video only for the tiles of the page it shows, and turning the
// page brings the new tiles' frames within a second.
func TestBrowserWallPages(t *testing.T) {
	const (
		conf     = "wall-pages"
		nPoints  = 40
		pageSize = 12
	)
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, nPoints)
	stack := servertest.StartWith(t, st, servertest.Options{WallSlots: pageSize})
	browser := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A real VP8 clip, which Chromium decodes; the synthetic media is not.
	clip, err := os.ReadFile(filepath.Join(repoRoot(t), "internal", "client", "testdata", "point-160x90.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, nPoints)
	for i, p := range points {
		wg.Go(func() {
			c, err := client.Dial(ctx, client.Options{ServerURL: stack.URL, Publish: true, VideoClip: clip, AudioBitrate: 16_000,
				Token: stack.Token(conf, conference.RolePoint, p, time.Hour), SkipICEServers: true})
			if err == nil {
				t.Cleanup(func() { c.Close() })
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token(conf, conference.RoleTechnician, "", time.Hour)))
	waitFor(t, tech, "console connected", connected, 15*time.Second)
	waitFor(t, tech, "a full first page", fmt.Sprintf(`(() => { const w = window.hoinghi.wallPage;
	  return w && w.pages === %d && w.tiles.length === %d && document.querySelector('#page-label').textContent === 'Trang 1/%d'; })()`,
		(nPoints+pageSize-1)/pageSize, pageSize, (nPoints+pageSize-1)/pageSize), 15*time.Second)

	// live waits until the page has want tiles and each decodes new
	// frames (three more than when first seen: frames of the slot's former
	// point still on their way do not count), and returns the tiles'
	// points.
	live := func(what string, want int) []string {
		t.Helper()
		start := time.Now()
		base := map[string]float64{}
		for {
			s := readTiles(t, tech)
			var shown []string
			growing := 0
			for _, tile := range s.Tiles {
				shown = append(shown, tile.Point)
				b, ok := base[tile.Point]
				if !ok {
					base[tile.Point] = tile.Frames
					continue
				}
				if tile.Frames >= b+3 {
					growing++
				}
			}
			if len(s.Tiles) == want && growing == want {
				return shown
			}
			if time.Since(start) > 20*time.Second {
				t.Fatalf("%s: %d of %d tiles decode frames: %+v", what, growing, len(s.Tiles), s.Tiles)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	first := live("first page", pageSize)

	// receiving counts the inbound video streams whose bytes grow over a
	// second.
	receiving := func() int {
		before := readTiles(t, tech).Video
		time.Sleep(time.Second)
		after := readTiles(t, tech).Video
		n := 0
		for _, a := range after {
			for _, b := range before {
				if a.Track == b.Track && a.Bytes > b.Bytes {
					n++
				}
			}
		}
		return n
	}
	if n := receiving(); n > pageSize || n < pageSize {
		t.Errorf("the console receives %d video streams; the page has %d tiles", n, pageSize)
	}

	for turn := 1; turn*pageSize < nPoints; turn++ {
		want := min(pageSize, nPoints-turn*pageSize)
		click(t, tech, `#page-next`)
		clicked := time.Now()
		waitFor(t, tech, "the next page", fmt.Sprintf(`window.hoinghi.wallPage?.page === %d`, turn), 5*time.Second)
		shown := live(fmt.Sprintf("page %d", turn+1), want)
		took := time.Since(clicked)
		t.Logf("page %d: its %d tiles decode frames %v after the click", turn+1, len(shown), took.Round(time.Millisecond))
		if slices.ContainsFunc(shown, func(p string) bool { return slices.Contains(first, p) }) {
			t.Errorf("page %d shows points of page 1: %v", turn+1, shown)
		}
		if took > time.Second {
			t.Errorf("page %d: the new tiles' frames came %v after the click, want within 1 s", turn+1, took.Round(time.Millisecond))
		}
		if n := receiving(); n != want {
			t.Errorf("page %d: the console receives %d video streams; the page has %d tiles", turn+1, n, want)
		}
	}
	screenshot(t, tech, "console-wall-pages.png")
}
