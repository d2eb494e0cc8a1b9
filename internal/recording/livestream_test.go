package recording_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/recording"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/testenv"
	"hoinghi/internal/testmedia"
)

// TestLivestream broadcasts a conference of the hall and a point through
// a floor turn, as HLS that the server serves and to an RTMP ingest (an
// ffmpeg listening on loopback): the playlist and its segments play, the
// RTMP recording plays, the technician sees the state and bitrate, and
// every page is told.
func TestLivestream(t *testing.T) {
	_, err := exec.LookPath("ffprobe")
	testenv.Need(t, "ffprobe", err)
	ffmpeg, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)

	st := storetest.Redis(t)
	s := servertest.StartWith(t, st, servertest.Options{})
	const conf = "phat-truc-tiep"
	points := servertest.Seed(t, st, conf, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hallVideo, hallAudio := testmedia.Clips(t, "red", 440, 4*time.Second)
	aVideo, aAudio := testmedia.Clips(t, "green", 660, 4*time.Second)
	dial := func(role conference.Role, point string, o client.Options) *client.Client {
		t.Helper()
		o.ServerURL, o.Token = s.URL, s.Token(conf, role, point, time.Hour)
		c, err := client.Dial(ctx, o)
		if err != nil {
			t.Fatalf("dial %s %s: %v", role, point, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	tech := dial(conference.RoleTechnician, "", client.Options{Publish: true, VideoClip: hallVideo, AudioClip: hallAudio})
	a := dial(conference.RolePoint, points[0], client.Options{Publish: true, VideoClip: aVideo, AudioClip: aAudio})
	techToken := s.Token(conf, conference.RoleTechnician, "", time.Hour)
	base := "/api/conferences/" + conf + "/livestream"

	// waitLive polls the state until ok.
	waitLive := func(what string, ok func(recording.LiveState) bool) recording.LiveState {
		t.Helper()
		for {
			var ls recording.LiveState
			if code := api(t, s, "GET", base, techToken, "", &ls); code != http.StatusOK {
				t.Fatalf("livestream state: %d", code)
			}
			if ok(ls) {
				return ls
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: state %+v", what, ls)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}

	for _, tt := range []struct{ body, code string }{
		{`{"target":"tv"}`, "bad_target"},
		{`{"target":"rtmp","url":"http://example.com/live/key"}`, "bad_target"},
	} {
		if code := api(t, s, "POST", base, techToken, tt.body, nil); code != http.StatusBadRequest {
			t.Errorf("start with %s: %d, want 400 %s", tt.body, code, tt.code)
		}
	}
	if code := api(t, s, "POST", base, s.Token(conf, conference.RolePoint, points[0], time.Hour), `{"target":"hls"}`, nil); code != http.StatusForbidden {
		t.Errorf("a point starts a livestream: %d, want 403", code)
	}

	t.Run("hls", func(t *testing.T) {
		var started recording.LiveState
		if code := api(t, s, "POST", base, techToken, `{"target":"hls"}`, &started); code != http.StatusCreated {
			t.Fatalf("start hls: %d", code)
		}
		t.Cleanup(func() { s.Recordings.StopLive(conf) })
		if code := api(t, s, "POST", base, techToken, `{"target":"hls"}`, nil); code != http.StatusConflict {
			t.Errorf("a second start: %d, want 409", code)
		}
		for _, c := range []*client.Client{tech, a} {
			waitState(t, ctx, c, func(cs protocol.ConferenceState) bool { return cs.Livestream })
		}
		// A turn while it runs: the live picture cuts to the point.
		if err := tech.Floor(protocol.Floor{Action: "give", PointID: points[0], Seconds: -1}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tech.Floor(protocol.Floor{Action: "take_back"}) })
		ls := waitLive("hls running with a bitrate", func(ls recording.LiveState) bool { return ls.Running && ls.BitrateKbps > 0 })
		if ls.DelayS <= 0 || ls.URL != "/live/"+conf+"/index.m3u8" {
			t.Errorf("state %+v: want a delay and the playlist", ls)
		}
		// The playlist, and a segment it names, served to anyone.
		var playlist string
		for {
			resp, err := http.Get(s.URL + "/live/" + conf + "/index.m3u8")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Count(string(b), ".ts") >= 2 {
				playlist = string(b)
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("playlist: %d %s", resp.StatusCode, b)
			case <-time.After(250 * time.Millisecond):
			}
		}
		segs := regexp.MustCompile(`(?m)^[^#\s]+\.ts$`).FindAllString(playlist, -1)
		seg := segs[len(segs)-1]
		resp, err := http.Get(s.URL + "/live/" + conf + "/" + seg)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "seg.ts")
		out, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(out, resp.Body)
		out.Close()
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp2t" {
			t.Errorf("segment %s: %d %s", seg, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if p := ffprobe(t, file); strings.Join(p.Codecs, ",") != "h264,aac" || p.Duration <= 0 {
			t.Errorf("segment %s: %+v, want h264,aac", seg, p)
		}
		if colour := frameColour(t, file, 0); colour != "green" {
			t.Errorf("live picture during the point's turn: %s, want green", colour)
		}
		t.Logf("hls: %.0f kbit/s, stated delay %.0f s, segment %s", ls.BitrateKbps, ls.DelayS, seg)
		if code := api(t, s, "DELETE", base, techToken, "", nil); code != http.StatusOK {
			t.Fatalf("stop: %d", code)
		}
		for _, c := range []*client.Client{tech, a} {
			waitState(t, ctx, c, func(cs protocol.ConferenceState) bool { return !cs.Livestream })
		}
		if resp, err := http.Get(s.URL + "/live/" + conf + "/index.m3u8"); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("the playlist after the stop: %v %v, want 404", resp.StatusCode, err)
		}
	})

	t.Run("rtmp", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		flv := filepath.Join(t.TempDir(), "ingest.flv")
		sink := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-listen", "1",
			"-i", fmt.Sprintf("rtmp://127.0.0.1:%d/live/stream-key", port), "-c", "copy", "-f", "flv", flv)
		if err := sink.Start(); err != nil {
			t.Fatal(err)
		}
		sinkDone := make(chan error, 1)
		go func() { sinkDone <- sink.Wait() }()
		sinkEnded := false
		defer func() {
			if !sinkEnded {
				sink.Process.Kill()
				<-sinkDone
			}
		}()
		waitListening(t, port)

		body := fmt.Sprintf(`{"target":"rtmp","url":"rtmp://127.0.0.1:%d/live/stream-key"}`, port)
		var started recording.LiveState
		if code := api(t, s, "POST", base, techToken, body, &started); code != http.StatusCreated {
			t.Fatalf("start rtmp: %d", code)
		}
		if strings.Contains(started.URL, "stream-key") {
			t.Errorf("the state shows the stream key: %s", started.URL)
		}
		ls := waitLive("rtmp running with a bitrate", func(ls recording.LiveState) bool { return ls.Running && ls.BitrateKbps > 0 })
		time.Sleep(4 * time.Second)
		t.Logf("rtmp: %.0f kbit/s to %s, stated delay %.0f s", ls.BitrateKbps, ls.URL, ls.DelayS)
		if code := api(t, s, "DELETE", base, techToken, "", nil); code != http.StatusOK {
			t.Fatalf("stop: %d", code)
		}
		select {
		case <-sinkDone:
			sinkEnded = true
		case <-time.After(15 * time.Second):
			t.Fatal("the RTMP sink did not end after the stop")
		}
		p := ffprobe(t, flv)
		if strings.Join(p.Codecs, ",") != "h264,aac" || p.Duration < 3 {
			t.Fatalf("what the ingest got: %+v, want h264,aac of 3 s or more", p)
		}
		if colour := frameColour(t, flv, time.Duration((p.Duration-1)*float64(time.Second))); colour != "red" {
			t.Errorf("live picture with nobody on the floor: %s, want red", colour)
		}
	})
}

// waitListening waits until a TCP socket listens on loopback port, read
// from /proc/net/tcp: a connection to find out would be the one an
// ffmpeg -listen 1 takes.
func waitListening(t *testing.T, port int) {
	t.Helper()
	want := fmt.Sprintf("0100007F:%04X", port)
	for range 100 {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			time.Sleep(time.Second)
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 3 && f[1] == want && f[3] == "0A" {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

// frameColour names the colour of the middle of the picture of file at
// at.
func frameColour(t *testing.T, file string, at time.Duration) string {
	t.Helper()
	rgb, err := testmedia.FrameAt(t, "", file, at, centreRect)
	if err != nil {
		t.Fatal(err)
	}
	return testmedia.DominantColour(rgb)
}
