package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/testenv"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

var joinRuns = flag.Int("join-runs", 5, "how many times TestBrowserJoinTime opens a point link")

// startBrowser starts one headless Chromium with a fake camera and microphone
// and returns its context; the browser is closed when the test ends. Without
// Chromium the test is skipped, or fails in CI (see testenv.Need).
func startBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	_, err := os.Stat(chromiumPath)
	testenv.Need(t, "Chromium at "+chromiumPath, err)
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 720),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	opts = append(opts, extra...)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() {
		// Closes the browser gracefully and waits for its process to end.
		ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close Chromium: %v", err)
		}
		bcancel()
		acancel()
		if left := processesUsing(profile, 5*time.Second); len(left) > 0 {
			t.Errorf("Chromium processes left running: %v", left)
		}
	})
	return bctx
}

// processesUsing waits up to timeout for every process whose command line
// names dir (the browser's profile) to end, and returns the pids still there.
func processesUsing(dir string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		var pids []string
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			b, err := os.ReadFile(p)
			if err == nil && strings.Contains(string(b), dir) {
				pids = append(pids, filepath.Base(filepath.Dir(p)))
			}
		}
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newTab opens a tab in its own browser context (own storage and media
// permissions, like another computer) and closes it when the test ends.
//
// An uncaught exception in the tab's pages fails the test.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	var (
		mu         sync.Mutex
		exceptions []string
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			text := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				text += " " + ev.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			exceptions = append(exceptions, text)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		mu.Lock()
		defer mu.Unlock()
		for _, e := range exceptions {
			t.Errorf("uncaught exception in the page: %s", e)
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

func navigate(t *testing.T, tab context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// eval evaluates expr in tab (awaiting a promise) and decodes its value.
func eval[T any](ctx context.Context, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// waitFor evaluates the boolean expr in tab every 100 ms until it is true,
// and fails the test with what after timeout.
func waitFor(t *testing.T, tab context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	if err := waitUntil(tab, expr, timeout); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func waitUntil(tab context.Context, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := eval[bool](tab, "(async () => !!("+expr+"))()")
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("not true after %v (last error: %v): %s", timeout, last, expr)
			}
			return fmt.Errorf("not true after %v: %s", timeout, expr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rtpStats is what the tests read from the inbound-rtp reports of a page's
// subscribe PeerConnection, per kind and track.
type rtpStats struct {
	Kind           string  `json:"kind"`
	Track          string  `json:"track"`
	Participant    string  `json:"participant"`
	FramesDecoded  float64 `json:"framesDecoded"`
	Packets        float64 `json:"packetsReceived"`
	SamplesRecv    float64 `json:"totalSamplesReceived"`
	OutboundPacket float64 `json:"outboundPackets"`
}

// statsJS lists the inbound-rtp reports of the page's subscribe
// PeerConnection, each with the participant whose stream holds its track
// (on the console, the point whose tile shows it).
const statsJS = `(async () => {
  const h = window.hoinghi;
  const pc = h && h.pcs && h.pcs.subscribe;
  if (!pc) return [];
  const owner = new Map();
  for (const r of pc.getReceivers()) {
    for (const e of document.querySelectorAll('video, audio')) {
      const s = e.srcObject;
      // A wall tile's stream is of its slot's track alone: the tile names
      // the point.
      const who = e.closest('.tile[data-participant]')?.dataset.participant || s?.id;
      if (s && s.getTracks().some((x) => x.id === r.track.id)) owner.set(r.track.id, who);
    }
  }
  const out = [];
  (await pc.getStats()).forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    out.push({kind: r.kind, track: r.trackIdentifier || '', participant: owner.get(r.trackIdentifier) || '',
      framesDecoded: r.framesDecoded || 0, packetsReceived: r.packetsReceived || 0,
      totalSamplesReceived: r.totalSamplesReceived || 0});
  });
  return out;
})()`

func inbound(t *testing.T, tab context.Context) []rtpStats {
	t.Helper()
	s, err := eval[[]rtpStats](tab, statsJS)
	if err != nil {
		t.Fatalf("getStats: %v", err)
	}
	return s
}

// sum adds up field over the reports of kind (and of participant when not "").
func sum(stats []rtpStats, kind, participant string, field func(rtpStats) float64) float64 {
	var n float64
	for _, s := range stats {
		if s.Kind == kind && (participant == "" || s.Participant == participant) {
			n += field(s)
		}
	}
	return n
}

func frames(s rtpStats) float64  { return s.FramesDecoded }
func packets(s rtpStats) float64 { return s.Packets }
func samples(s rtpStats) float64 { return s.SamplesRecv }

// growing checks that field of kind (for participant, or all when "") grows
// in tab within timeout, starting above zero.
func growing(t *testing.T, tab context.Context, what, kind, participant string, field func(rtpStats) float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	first := -1.0
	for {
		n := sum(inbound(t, tab), kind, participant, field)
		switch {
		case n < first:
			// A new PeerConnection after a reconnect: its counters
			// start again from zero.
			first = -1
			if n > 0 {
				first = n
			}
		case first < 0 && n > 0:
			first = n
		case first > 0 && n > first:
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: does not grow within %v (first %v, now %v)", what, timeout, first, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// outDir returns the folder for test output (HOINGHI_TEST_OUT, else
// testout/ at the repository root), created.
func outDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HOINGHI_TEST_OUT")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "testout")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Dir(filepath.Dir(file))
}

// screenshot writes a PNG of tab's viewport to name in the test output
// folder, and to docs/images when HOINGHI_UPDATE_IMAGES is "1".
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(outDir(t), name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if os.Getenv("HOINGHI_UPDATE_IMAGES") == "1" {
		docs := filepath.Join(repoRoot(t), "docs", "images")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func pageURL(s *servertest.Stack, page, tok string) string {
	return s.URL + "/" + page + "/?t=" + tok
}

// openPoint opens a point's link and joins (the first visit of a browser
// asks for a click on #join).
func openPoint(t *testing.T, tab context.Context, url string) {
	t.Helper()
	navigate(t, tab, url)
	waitFor(t, tab, "join button", `(() => { const b = document.querySelector('#join'); return b && !b.disabled && b.offsetParent !== null || window.hoinghi?.state === 'connected' || window.hoinghi?.state === 'connecting'; })()`, 10*time.Second)
	if _, err := eval[chromedp.Void](tab, `(() => { const b = document.querySelector('#join'); if (b && !b.disabled && b.offsetParent !== null) b.click(); })()`); err != nil {
		t.Fatalf("click #join: %v", err)
	}
}

const connected = `window.hoinghi?.state === 'connected' && document.querySelector('#status')?.dataset.state === 'connected'`

func tilesOf(t *testing.T, tab context.Context) []string {
	t.Helper()
	ids, err := eval[[]string](tab, `[...document.querySelectorAll('.tile[data-participant]')].map((x) => x.dataset.participant)`)
	if err != nil {
		t.Fatalf("read tiles: %v", err)
	}
	return ids
}

// TestBrowserConference runs the hall console and two points in Chromium
// through the real server and Redis: media flows both ways, screenshots are
// taken, and the server is restarted under the pages.
func TestBrowserConference(t *testing.T) {
	start := time.Now()
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "browser", 2)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	hall := newTab(t, browser)
	navigate(t, hall, pageURL(stack, "console", stack.Token("browser", conference.RoleTechnician, "", time.Hour)))
	waitFor(t, hall, "console connected", connected, 15*time.Second)

	tabs := make([]context.Context, len(points))
	for i, p := range points {
		tabs[i] = newTab(t, browser)
		url := pageURL(stack, "point", stack.Token("browser", conference.RolePoint, p, time.Hour))
		if i == 0 {
			// The first point tests its connection before joining.
			navigate(t, tabs[i], url)
			waitFor(t, tabs[i], "test button", `!document.querySelector('#check').disabled`, 10*time.Second)
			click(t, tabs[i], "#check")
			waitFor(t, tabs[i], "connection test done", `['ok', 'warn', 'bad'].includes(document.querySelector('#check-results').dataset.result)`, 15*time.Second)
			result, err := eval[string](tabs[i], `document.querySelector('#check-results').dataset.result + ': ' + document.querySelector('#check-results').innerText`)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("connection test of %s: %s", p, strings.ReplaceAll(result, "\n", "; "))
			if !strings.HasPrefix(result, "ok") {
				t.Errorf("connection test on loopback = %s, want ok", result)
			}
		}
		openPoint(t, tabs[i], url)
	}
	for i, p := range points {
		waitFor(t, tabs[i], p+" connected", connected, 15*time.Second)
	}
	t.Logf("console and %d points connected after %v", len(points), time.Since(start).Round(time.Millisecond))

	for i, p := range points {
		growing(t, tabs[i], p+" decodes the hall's video", "video", "", frames, 15*time.Second)
		growing(t, tabs[i], p+" receives the hall's audio packets", "audio", "", packets, 10*time.Second)
		growing(t, tabs[i], p+" receives the hall's audio samples", "audio", "", samples, 10*time.Second)
	}
	for _, p := range points {
		growing(t, hall, "console decodes "+p, "video", p, frames, 15*time.Second)
	}
	waitFor(t, hall, "every tile live", fmt.Sprintf(`document.querySelectorAll('.tile[data-state="live"]').length === %d`, len(points)), 10*time.Second)
	t.Logf("media flows after %v", time.Since(start).Round(time.Millisecond))

	waitFor(t, hall, "every point's link quality measured good", fmt.Sprintf(`document.querySelectorAll('.tile .dot[data-quality="good"]').length === %d`, len(points)), 10*time.Second)
	screenshot(t, hall, "console.png")
	checkListView(t, hall, points)
	checkSecretariat(t, browser, stack, points)
	checkEnglish(t, tabs[1])
	waitFor(t, tabs[0], "hall video playing", `document.querySelector('#hall-video').currentTime > 0.5`, 10*time.Second)
	screenshot(t, tabs[0], "point.png")

	// Restart the server on the same address with the same store.
	addr := stack.Addr
	stack.Stop()
	restarted := time.Now()
	stack = servertest.StartAt(t, st, addr)
	for i, p := range points {
		waitFor(t, tabs[i], p+" reconnected", connected, 10*time.Second-time.Since(restarted))
		growing(t, tabs[i], p+" decodes the hall again", "video", "", frames, 10*time.Second)
	}
	t.Logf("points back %v after the restart", time.Since(restarted).Round(time.Millisecond))
	waitFor(t, hall, "console reconnected", connected, 10*time.Second)
	for _, p := range points {
		growing(t, hall, "console decodes "+p+" again", "video", p, frames, 10*time.Second)
	}
	ids := tilesOf(t, hall)
	slices.Sort(ids)
	if !slices.Equal(ids, points) {
		t.Errorf("console tiles after the restart = %v, want exactly %v", ids, points)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

func click(t *testing.T, tab context.Context, selector string) {
	t.Helper()
	if _, err := eval[chromedp.Void](tab, fmt.Sprintf(`document.querySelector(%q).click()`, selector)); err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
}

// checkListView switches the console to its list view, searches a name
// without its diacritics, sorts, and switches back to the wall.
func checkListView(t *testing.T, hall context.Context, points []string) {
	t.Helper()
	click(t, hall, `[data-view="list"]`)
	waitFor(t, hall, "list view lists every point", fmt.Sprintf(`document.querySelectorAll('#list-body tr[data-state="live"]').length === %d`, len(points)), 5*time.Second)
	if _, err := eval[chromedp.Void](hall, `(() => { const s = document.querySelector('#search'); s.value = 'diem cau so 2'; s.dispatchEvent(new Event('input')); })()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, hall, "search by name", `[...document.querySelectorAll('#list-body tr')].map((r) => r.dataset.participant).join() === 'diem-2'`, 5*time.Second)
	if _, err := eval[chromedp.Void](hall, `(() => { const s = document.querySelector('#search'); s.value = ''; s.dispatchEvent(new Event('input')); })()`); err != nil {
		t.Fatal(err)
	}
	click(t, hall, `[data-sort="name"]`) // name, descending
	waitFor(t, hall, "sort by name, descending", `[...document.querySelectorAll('#list-body tr')].map((r) => r.dataset.participant).join() === 'diem-2,diem-1'`, 5*time.Second)
	screenshot(t, hall, "console-list.png")
	click(t, hall, `[data-view="wall"]`)
}

// checkSecretariat opens the secretariat's link, which lists the points live.
func checkSecretariat(t *testing.T, browser context.Context, stack *servertest.Stack, points []string) {
	t.Helper()
	tab := newTab(t, browser)
	navigate(t, tab, pageURL(stack, "console", stack.Token("browser", conference.RoleSecretariat, "", time.Hour)))
	waitFor(t, tab, "secretariat page lists the points", fmt.Sprintf(`location.pathname === '/secretariat/' && document.querySelectorAll('#list-body tr[data-state="connected"]').length === %d`, len(points)), 10*time.Second)
	got, err := eval[map[string]any](tab, `({publish: window.hoinghi.pcs.publish, state: window.hoinghi.state})`)
	if err != nil {
		t.Fatal(err)
	}
	if got["publish"] != nil || got["state"] != "connected" {
		t.Errorf("secretariat: %v, want connected and publishing nothing", got)
	}
}

// checkEnglish switches a point page to English and back.
func checkEnglish(t *testing.T, tab context.Context) {
	t.Helper()
	title, err := eval[string](tab, `document.querySelector('#conf-title').textContent`)
	if err != nil {
		t.Fatal(err)
	}
	click(t, tab, "#lang")
	waitFor(t, tab, "English", `document.documentElement.lang === 'en' && document.querySelector('#status').textContent === 'Connected' && document.querySelector('#speaker-placeholder').textContent === 'Nobody has the floor'`, 5*time.Second)
	// The conference's name stays in the header.
	waitFor(t, tab, "the conference's name kept", `document.querySelector('#conf-title').textContent === `+fmt.Sprintf("%q", title)+` && `+fmt.Sprintf("%q", title)+` !== 'Online conference'`, 5*time.Second)
	click(t, tab, "#lang")
	waitFor(t, tab, "Vietnamese again", `document.documentElement.lang === 'vi' && document.querySelector('#status').textContent === 'Đã kết nối'`, 5*time.Second)
}

// TestBrowserWrongLink opens a point page with a forged and an expired link:
// the page shows the refusal with the technician's phone and sends no media.
func TestBrowserWrongLink(t *testing.T) {
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "wronglink", 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	valid := stack.Token("wronglink", conference.RolePoint, points[0], time.Hour)
	parts := strings.Split(valid, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	// phone: whether the server knows the conference, and so the phone
	// number, for this refusal (a forged token names nothing trustworthy).
	for _, c := range []struct {
		name, tok, reason string
		phone             bool
	}{
		{"forged", forged, "token_invalid", false},
		{"expired", stack.Token("wronglink", conference.RolePoint, points[0], -time.Minute), "token_expired", true},
		{"not invited", stack.Token("wronglink", conference.RolePoint, "ghost", time.Hour), "point_not_found", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tab := newTab(t, browser)
			// Count getUserMedia calls from before the page's scripts run.
			if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__gum = 0;
				if (navigator.mediaDevices) {
				  const orig = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
				  navigator.mediaDevices.getUserMedia = (c) => { window.__gum++; return orig(c); };
				}`}); err != nil {
				t.Fatal(err)
			}
			navigate(t, tab, pageURL(stack, "point", c.tok))
			waitFor(t, tab, "refusal shown", `(() => { const r = document.querySelector('#refusal'); return r && !r.hidden && r.dataset.reason; })()`, 10*time.Second)
			reason, err := eval[string](tab, `document.querySelector('#refusal').dataset.reason`)
			if err != nil {
				t.Fatal(err)
			}
			if reason != c.reason {
				t.Errorf("refusal reason = %q, want %q", reason, c.reason)
			}
			text, err := eval[string](tab, `document.querySelector('#refusal').innerText`)
			if err != nil {
				t.Fatal(err)
			}
			if c.phone && !strings.Contains(text, "0251 3822 123") {
				t.Errorf("refusal does not give the technician's phone:\n%s", text)
			}
			if !strings.Contains(text, "kỹ thuật viên") {
				t.Errorf("refusal does not say whom to call:\n%s", text)
			}
			// Give a wrongly started page time to open media.
			time.Sleep(500 * time.Millisecond)
			got, err := eval[map[string]any](tab, `({gum: window.__gum, publish: window.hoinghi ? window.hoinghi.pcs.publish : null, state: document.querySelector('#status').dataset.state})`)
			if err != nil {
				t.Fatal(err)
			}
			if got["gum"] != 0.0 || got["publish"] != nil {
				t.Errorf("refused page opened media: %v", got)
			}
			if got["state"] != "refused" {
				t.Errorf("status = %v, want refused", got["state"])
			}
			if c.name == "not invited" {
				screenshot(t, tab, "point-refused.png")
			}
		})
	}
}

// TestBrowserJoinTime measures, on a browser that allowed the devices and
// joined once before, the time from opening the point's link to the first
// decoded frame of the hall program, over -join-runs openings, and logs the
// median.
func TestBrowserJoinTime(t *testing.T) {
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "jointime", 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	hall := newTab(t, browser)
	navigate(t, hall, pageURL(stack, "console", stack.Token("jointime", conference.RoleTechnician, "", time.Hour)))
	waitFor(t, hall, "console connected", connected, 15*time.Second)

	tab := newTab(t, browser)
	url := pageURL(stack, "point", stack.Token("jointime", conference.RolePoint, points[0], time.Hour))
	openPoint(t, tab, url) // the first visit: devices allowed, joined once
	waitFor(t, tab, "first join", firstFrame, 15*time.Second)

	var times []float64
	for range *joinRuns {
		navigate(t, tab, "about:blank")
		navigate(t, tab, url)
		waitFor(t, tab, "first hall frame", firstFrame, 15*time.Second)
		ms, err := eval[float64](tab, `window.hoinghi.timing.firstHallFrame`)
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, math.Round(ms))
	}
	slices.Sort(times)
	median := times[len(times)/2]
	t.Logf("join to first hall frame: median %.0f ms over %d runs (all: %v)", median, len(times), times)
	if out, err := json.Marshal(map[string]any{"median_ms": median, "runs_ms": times}); err == nil {
		os.WriteFile(filepath.Join(outDir(t), "join-time.json"), out, 0o644)
	}
}

const firstFrame = `window.hoinghi?.timing?.firstHallFrame > 0`

// TestBrowserLANAddress opens a point's link by a LAN name (hall.lan, which
// Chromium resolves to loopback here): over plain HTTP the browser refuses
// the camera and the page says why and sends nothing; over HTTPS with a
// self-signed certificate the point joins and decodes the hall.
func TestBrowserLANAddress(t *testing.T) {
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "lan", 1)
	stack := servertest.Start(t, st)
	target, err := neturl.Parse(stack.URL)
	if err != nil {
		t.Fatal(err)
	}
	// HTTPS in front of the server, as a LAN deployment with a self-signed
	// certificate has it; the proxy also carries the WebSocket.
	proxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(proxy.Close)
	_, tlsPort, err := net.SplitHostPort(proxy.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, plainPort, err := net.SplitHostPort(stack.Addr)
	if err != nil {
		t.Fatal(err)
	}
	browser := startBrowser(t,
		chromedp.Flag("host-resolver-rules", "MAP hall.lan 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors", true))

	hall := newTab(t, browser)
	navigate(t, hall, pageURL(stack, "console", stack.Token("lan", conference.RoleTechnician, "", time.Hour)))
	waitFor(t, hall, "console connected", connected, 15*time.Second)
	tok := stack.Token("lan", conference.RolePoint, points[0], time.Hour)

	t.Run("http", func(t *testing.T) {
		tab := newTab(t, browser)
		navigate(t, tab, "http://hall.lan:"+plainPort+"/point/?t="+tok)
		waitFor(t, tab, "insecure refusal", `document.querySelector('#refusal[data-reason="insecure"]') && !document.querySelector('#refusal').hidden && !window.isSecureContext`, 10*time.Second)
		text, err := eval[string](tab, `document.querySelector('#refusal').innerText`)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "HTTPS") || !strings.Contains(text, "0251 3822 123") {
			t.Errorf("insecure refusal does not say why and whom to call:\n%s", text)
		}
		got, err := eval[map[string]any](tab, `({publish: window.hoinghi ? window.hoinghi.pcs.publish : null})`)
		if err != nil {
			t.Fatal(err)
		}
		if got["publish"] != nil {
			t.Errorf("insecure page publishes: %v", got)
		}
	})
	t.Run("https", func(t *testing.T) {
		tab := newTab(t, browser)
		openPoint(t, tab, "https://hall.lan:"+tlsPort+"/point/?t="+tok)
		waitFor(t, tab, "connected over HTTPS", connected+` && window.isSecureContext`, 15*time.Second)
		growing(t, tab, "decodes the hall over HTTPS", "video", "", frames, 15*time.Second)
	})
}

// slotStatsJS lists the inbound-rtp reports of the speaker slots a point
// page receives, with the slot's name (speaker-video, speaker-audio-0, ...)
// as participant: window.hoinghi.slots maps each slot to its track here.
const slotStatsJS = `(async () => {
  const h = window.hoinghi;
  const pc = h && h.pcs && h.pcs.subscribe;
  if (!pc) return [];
  const names = new Map(Object.entries(h.slots || {}).map(([name, id]) => [id, name]));
  const out = [];
  (await pc.getStats()).forEach((r) => {
    if (r.type !== 'inbound-rtp' || !names.has(r.trackIdentifier)) return;
    out.push({kind: r.kind, track: r.trackIdentifier, participant: names.get(r.trackIdentifier),
      framesDecoded: r.framesDecoded || 0, packetsReceived: r.packetsReceived || 0,
      totalSamplesReceived: r.totalSamplesReceived || 0});
  });
  return out;
})()`

// slotSum adds up field over the speaker slots whose name starts with prefix.
func slotSum(t *testing.T, tab context.Context, prefix string, field func(rtpStats) float64) float64 {
	t.Helper()
	stats, err := eval[[]rtpStats](tab, slotStatsJS)
	if err != nil {
		t.Fatalf("getStats: %v", err)
	}
	var n float64
	for _, s := range stats {
		if strings.HasPrefix(s.Participant, prefix) {
			n += field(s)
		}
	}
	return n
}

// slotGrowing checks that field of the speaker slots named prefix... grows
// in tab within timeout, starting above zero.
func slotGrowing(t *testing.T, tab context.Context, what, prefix string, field func(rtpStats) float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	first := -1.0
	for {
		n := slotSum(t, tab, prefix, field)
		if first < 0 && n > 0 {
			first = n
		} else if first > 0 && n > first {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: does not grow within %v (first %v, now %v)", what, timeout, first, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestBrowserFloor runs floor control through the pages: a point asks for
// the floor, the chair sees the queue and gives it from the console, another
// point decodes the speaker's video and receives its voice in the speaker
// slots and shows its name, and the chair takes the floor back.
func TestBrowserFloor(t *testing.T) {
	start := time.Now()
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "floor", 2)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)
	const subject = "Tham luận về chuyển đổi số"

	startConference(t, stack, "floor") // the floor is asked for only while the conference runs
	chair := newTab(t, browser)
	navigate(t, chair, pageURL(stack, "console", stack.Token("floor", conference.RoleChair, "", time.Hour)))
	speaker, listener := newTab(t, browser), newTab(t, browser)
	openPoint(t, speaker, pageURL(stack, "point", stack.Token("floor", conference.RolePoint, points[0], time.Hour)))
	openPoint(t, listener, pageURL(stack, "point", stack.Token("floor", conference.RolePoint, points[1], time.Hour)))
	waitFor(t, chair, "chair connected", connected, 15*time.Second)
	for _, tab := range []context.Context{speaker, listener} {
		waitFor(t, tab, "point connected and may ask", connected+` && !document.querySelector('#floor-ask').disabled && document.querySelector('#mic-state').dataset.live === 'false'`, 15*time.Second)
	}
	t.Logf("chair and points connected after %v", time.Since(start).Round(time.Millisecond))

	// Both points ask, the first with a subject: each sees its place.
	if _, err := eval[chromedp.Void](speaker, fmt.Sprintf(`document.querySelector('#floor-subject').value = %q`, subject)); err != nil {
		t.Fatal(err)
	}
	click(t, speaker, "#floor-ask")
	waitFor(t, speaker, "first in the queue", `document.querySelector('#floor').dataset.floor === 'queued' && document.querySelector('#floor-status').textContent.includes('vị trí thứ 1') && !document.querySelector('#floor-withdraw').hidden`, 5*time.Second)
	click(t, listener, "#floor-ask")
	waitFor(t, listener, "second in the queue", `document.querySelector('#floor-status').textContent.includes('vị trí thứ 2')`, 5*time.Second)
	// Meanwhile the point hears the hall: its silent speaker slots are the
	// floor's doing, not a stalled subscription.
	growing(t, listener, "a point receives the hall's audio before anyone has the floor", "audio", "", packets, 10*time.Second)
	if n := slotSum(t, listener, "speaker-audio", packets); n != 0 {
		t.Errorf("a point receives %v speaker audio packets before anyone has the floor", n)
	}

	// The chair sees the queue in order and gives the first the floor.
	waitFor(t, chair, "queue in order", `[...document.querySelectorAll('#floor-queue li[data-target]')].map((li) => li.dataset.target).join() === 'diem-1,diem-2' && document.querySelector('#floor-queue li[data-target="diem-1"]').textContent.includes(`+fmt.Sprintf("%q", subject)+`)`, 5*time.Second)
	click(t, chair, `#floor-queue li[data-target="diem-1"] button[data-action="give"]`)
	given := time.Now()
	waitFor(t, speaker, "speaker holds the floor, microphone live, countdown", `document.querySelector('#floor').dataset.floor === 'holding' && document.querySelector('#mic-state').dataset.live === 'true' && /^[67]:\d\d$/.test(document.querySelector('#floor-clock').textContent) && !document.querySelector('#floor-finish').hidden`, 5*time.Second)
	waitFor(t, listener, "speaker's name and subject shown", `document.querySelector('#speaker').dataset.participant === 'diem-1' && document.querySelector('#speaker-label').textContent.includes('Điểm cầu số 1') && document.querySelector('#speaker-label').textContent.includes(`+fmt.Sprintf("%q", subject)+`)`, 5*time.Second)
	slotGrowing(t, listener, "listener decodes the speaker's video", "speaker-video", frames, 10*time.Second)
	slotGrowing(t, listener, "listener receives the speaker's audio", "speaker-audio", packets, 10*time.Second)
	t.Logf("speaker's media at the other point %v after the give", time.Since(given).Round(time.Millisecond))
	waitFor(t, listener, "speaker view live, its voice playing", `document.querySelector('#speaker').dataset.state === 'live' && !document.querySelector('#speaker-video').hidden && [...document.querySelectorAll('#audio-sinks audio')].some((a) => a.dataset.participant.startsWith('speaker-audio') && !a.muted && !a.paused)`, 5*time.Second)
	// At the other point the speaker is the main view, the hall small
	// beside it, with the speaker's whole label and its time left.
	waitFor(t, listener, "the speaker as the main view, with its countdown", `document.body.dataset.mainView === 'speaker' && document.querySelector('#speaker').getBoundingClientRect().width > 1.5 * document.querySelector('#hall').getBoundingClientRect().width && !document.querySelector('#speaker-clock').hidden && /^[67]:\d\d$/.test(document.querySelector('#speaker-clock').textContent) && document.querySelector('#speaker-label').scrollWidth <= document.querySelector('#speaker-label').clientWidth + 1`, 5*time.Second)
	screenshot(t, listener, "listener-speaker.png")

	// The console: the holder with its countdown, its tile highlighted, the
	// rest of the queue, and the speaker large in the program view.
	waitFor(t, chair, "console shows the holder", `document.querySelector('#floor-holders .holder[data-target="diem-1"] .clock')?.textContent.match(/^[67]:\d\d$/) && document.querySelector('.tile[data-participant="diem-1"]').dataset.floor === 'holding' && document.querySelector('.tile[data-participant="diem-2"]').dataset.floor === 'queued' && [...document.querySelectorAll('#floor-queue li[data-target]')].map((li) => li.dataset.target).join() === 'diem-2'`, 5*time.Second)
	waitFor(t, chair, "speaker large in the program view", `document.querySelector('#program').dataset.show === 'speaker' && document.querySelector('#program-speaker').readyState >= 2 && document.querySelectorAll('.tile[data-state="live"]').length === 2`, 10*time.Second)
	// The speaker's sound level moves on the console.
	waitFor(t, chair, "the speaker's sound level", `Number(document.querySelector('#speaker-meter-chair').dataset.level) > 0.05`, 10*time.Second)
	screenshot(t, chair, "chair.png")

	// The chair extends the turn, then takes the floor back.
	click(t, chair, `#floor-holders button[data-action="extend"][data-seconds="180"]`)
	waitFor(t, speaker, "three more minutes", `/^(9|10):\d\d$/.test(document.querySelector('#floor-clock').textContent)`, 5*time.Second)
	click(t, chair, `#floor-holders button[data-action="take_back"][data-target="diem-1"]`)
	waitFor(t, listener, "speaker view empty again", `document.querySelector('#speaker').dataset.state === 'none' && document.querySelector('#speaker-video').hidden && !document.querySelector('#speaker-placeholder').hidden && document.querySelector('#speaker-placeholder').textContent === 'Chưa có người phát biểu'`, 5*time.Second)
	waitFor(t, listener, "the hall the main view again", `document.body.dataset.mainView === 'hall' && document.querySelector('#hall').getBoundingClientRect().width > 1.5 * document.querySelector('#speaker').getBoundingClientRect().width && document.querySelector('#speaker-clock').hidden`, 5*time.Second)
	waitFor(t, speaker, "former speaker muted at the hall", `document.querySelector('#floor').dataset.floor === 'idle' && document.querySelector('#mic-state').dataset.live === 'false'`, 5*time.Second)
	waitFor(t, chair, "console without holder", `!document.querySelector('#floor-holders .holder') && document.querySelector('.tile[data-participant="diem-1"]').dataset.floor === 'none' && document.querySelector('#program').dataset.show === 'hall'`, 5*time.Second)

	// The next in the queue gets a one-second turn (a limit the select does
	// not offer): at zero the countdowns turn red, the chair is alerted and
	// the speaker told; the speaker then finishes by itself.
	if _, err := eval[chromedp.Void](chair, `(() => { const s = document.querySelector('#floor-limit'); s.append(new Option('1 s', '1')); s.value = '1'; })()`); err != nil {
		t.Fatal(err)
	}
	click(t, chair, "#floor-next")
	waitFor(t, chair, "time-up alert, countdown red", `!document.querySelector('#floor-alert').hidden && document.querySelector('#floor-alert-text').textContent === 'Hết giờ phát biểu: Điểm cầu số 2' && document.querySelector('#floor-holders .holder[data-target="diem-2"] .clock').hasAttribute('data-over') && document.querySelector('.tile[data-participant="diem-2"]').hasAttribute('data-over')`, 5*time.Second)
	waitFor(t, listener, "speaker told the time is up", `document.querySelector('#floor-clock').hasAttribute('data-over') && [...document.querySelectorAll('#notices .notice')].some((n) => n.textContent.includes('hết thời gian phát biểu'))`, 5*time.Second)
	click(t, listener, "#floor-finish")
	waitFor(t, chair, "turn finished, alert gone", `!document.querySelector('#floor-holders .holder') && document.querySelector('#floor-alert').hidden && document.querySelector('#floor-queue li.hint')`, 5*time.Second)
	waitFor(t, speaker, "no speaker again", `document.querySelector('#speaker').dataset.state === 'none'`, 5*time.Second)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// seedAttendance creates conference conf with four points named as in a
// provincial conference, with their expected delegates, and returns their ids.
func seedAttendance(t *testing.T, st *store.Store, conf string) []string {
	t.Helper()
	servertest.Seed(t, st, conf, 0)
	points := []conference.Point{
		{ID: "bien-hoa", Name: "Điểm cầu TP. Biên Hòa", District: "TP. Biên Hòa", ExpectedDelegates: 30},
		{ID: "long-thanh", Name: "Điểm cầu huyện Long Thành", District: "Long Thành", ExpectedDelegates: 25},
		{ID: "trang-bom", Name: "Điểm cầu huyện Trảng Bom", District: "Trảng Bom", ExpectedDelegates: 20},
		{ID: "nhon-trach", Name: "Điểm cầu huyện Nhơn Trạch", District: "Nhơn Trạch", ExpectedDelegates: 22},
	}
	var ids []string
	for _, p := range points {
		if err := st.PutPoint(context.Background(), conf, p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

// setValue sets the value of the input at selector in tab.
func setValue(t *testing.T, tab context.Context, selector, value string) {
	t.Helper()
	if _, err := eval[chromedp.Void](tab, fmt.Sprintf(`document.querySelector(%q).value = %q`, selector, value)); err != nil {
		t.Fatalf("set %s: %v", selector, err)
	}
}

// acceptDialogs makes window.confirm in tab answer yes without a dialog.
func acceptDialogs(t *testing.T, tab context.Context) {
	t.Helper()
	if _, err := eval[chromedp.Void](tab, `window.confirm = () => true`); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserAttendance runs attendance through the pages: the technician
// starts the conference, a point joins and checks in with 25 delegates,
// and the secretariat's open page shows it present with them without a
// reload; the technician runs a roll call, the point confirms, and the
// secretariat shows the result; the export button downloads the XLSX.
func TestBrowserAttendance(t *testing.T) {
	start := time.Now()
	st := storetest.Redis(t)
	points := seedAttendance(t, st, "attend")
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	sec := newTab(t, browser)
	navigate(t, sec, pageURL(stack, "secretariat", stack.Token("attend", conference.RoleSecretariat, "", time.Hour)))
	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token("attend", conference.RoleTechnician, "", time.Hour)))
	point := newTab(t, browser)
	openPoint(t, point, pageURL(stack, "point", stack.Token("attend", conference.RolePoint, points[0], time.Hour)))
	waitFor(t, sec, "secretariat lists every invited point", `window.hoinghi?.state === 'connected' && document.querySelectorAll('#list-body tr[data-participant]').length === 4 && document.querySelector('#summary').textContent.includes('4 điểm cầu được mời')`, 10*time.Second)

	// The technician starts the conference.
	waitFor(t, tech, "console connected, start button ready", connected+` && !document.querySelector('#conf-start').disabled`, 15*time.Second)
	acceptDialogs(t, tech)
	click(t, tech, "#conf-start")
	waitFor(t, tech, "conference running", `document.querySelector('#conf-control').dataset.running === 'true' && !document.querySelector('#conf-end').hidden`, 5*time.Second)

	// The point checks in; the secretariat sees it without a reload.
	waitFor(t, point, "point connected", connected, 15*time.Second)
	setValue(t, point, "#checkin-delegates", "25")
	setValue(t, point, "#checkin-representative", "Bà Nguyễn Thị Hoa")
	click(t, point, "#checkin-send")
	waitFor(t, point, "check-in sent", `document.querySelector('#attendance').dataset.checkin === 'sent' && document.querySelector('#checkin-text').textContent.includes('25')`, 5*time.Second)
	t.Logf("point connected and checked in after %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, sec, "secretariat shows the point present with 25 delegates",
		`(() => { const r = document.querySelector('#list-body tr[data-participant="bien-hoa"]');
		  return r && r.dataset.state === 'connected' && r.dataset.status === 'present' &&
		    r.querySelector('.list-delegates').dataset.delegates === '25' && r.querySelector('.list-representative').textContent === 'Bà Nguyễn Thị Hoa' &&
		    document.querySelector('#summary').dataset.delegates === '25' && document.querySelector('#conf-times').textContent.includes('Bắt đầu'); })()`, 5*time.Second)
	waitFor(t, tech, "console shows the delegates", `document.querySelector('.tile[data-participant="bien-hoa"] .tile-delegates')?.textContent === '25 đại biểu'`, 5*time.Second)

	// A roll call: the technician starts it, the point confirms, the
	// technician closes it; the secretariat shows each point's result.
	setValue(t, tech, "#rollcall-seconds", "30")
	click(t, tech, "#rollcall-start")
	waitFor(t, point, "roll call asked", `document.querySelector('#attendance').dataset.rollcall === 'open' && !document.querySelector('#rollcall-confirm').disabled && /còn 0:[23]\d/.test(document.querySelector('#rollcall-clock').textContent)`, 5*time.Second)
	waitFor(t, sec, "roll call pending at the secretariat, with its countdown", `document.querySelector('#list-body tr[data-participant="bien-hoa"] .list-rollcall').dataset.rollcall === 'pending' && !document.querySelector('#rollcall-clock').hidden && /còn 0:[23]\d/.test(document.querySelector('#rollcall-clock').textContent)`, 5*time.Second)
	click(t, point, "#rollcall-confirm")
	waitFor(t, point, "presence confirmed", `document.querySelector('#attendance').dataset.rollcall === 'confirmed' && !document.querySelector('#rollcall-done').hidden`, 5*time.Second)
	waitFor(t, tech, "console counts the confirmation", `document.querySelector('#rollcall-status').dataset.confirmed === '1' && document.querySelector('#rollcall-status').textContent.includes('1/4')`, 5*time.Second)
	click(t, tech, "#rollcall-close")
	waitFor(t, sec, "secretariat shows the roll call's result",
		`document.querySelector('#list-body tr[data-participant="bien-hoa"] .list-rollcall').dataset.rollcall === 'present' &&
		 document.querySelector('#list-body tr[data-participant="long-thanh"] .list-rollcall').dataset.rollcall === 'absent' &&
		 document.querySelector('#rollcall-summary').textContent.includes('1 có mặt, 0 muộn, 3 vắng')`, 5*time.Second)
	waitFor(t, point, "roll call over at the point", `document.querySelector('#attendance').dataset.rollcall === 'none'`, 5*time.Second)
	waitFor(t, sec, "no countdown once closed", `document.querySelector('#rollcall-clock').hidden`, 5*time.Second)
	screenshot(t, sec, "secretariat.png")
	t.Logf("roll call done after %v", time.Since(start).Round(time.Millisecond))

	// The export button downloads the report as XLSX.
	dir := t.TempDir()
	if _, err := chromedp.Call(sec, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:         cdpbrowser.SetDownloadBehaviorBehaviorAllow,
		DownloadPath:     dir,
		BrowserContextID: chromedp.FromContext(sec).BrowserContextID,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	href, err := eval[string](sec, `document.querySelector('#export-xlsx').getAttribute('href')`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(href, "/api/conferences/attend/export?format=xlsx&t=") {
		t.Errorf("export link = %q", href)
	}
	click(t, sec, "#export-xlsx")
	file := waitDownload(t, dir, ".xlsx", 10*time.Second)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 || string(b[:2]) != "PK" {
		t.Errorf("downloaded %s: %d bytes starting %q, want an XLSX (a zip, PK...)", filepath.Base(file), len(b), b[:min(len(b), 4)])
	}
	t.Logf("downloaded %s (%d bytes); total %v", filepath.Base(file), len(b), time.Since(start).Round(time.Millisecond))
}

// waitDownload waits until dir holds a complete file whose name ends in
// suffix, and returns its path.
func waitDownload(t *testing.T, dir, suffix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), suffix) {
				if info, err := e.Info(); err == nil && info.Size() > 0 {
					return filepath.Join(dir, e.Name())
				}
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("no %s file downloaded into %s within %v (found %v)", suffix, dir, timeout, names)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserTechnicianControls runs the technician's controls from the
// console: a point is muted (its page says so) and unmuted, its camera is
// restarted (its page publishes a new camera track), another point is
// dropped (its page says so and does not reconnect by itself), and the
// list view shows the server's link-quality figures of a connected point.
func TestBrowserTechnicianControls(t *testing.T) {
	start := time.Now()
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "controls", 2)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token("controls", conference.RoleTechnician, "", time.Hour)))
	tabs := make([]context.Context, len(points))
	for i, p := range points {
		tabs[i] = newTab(t, browser)
		openPoint(t, tabs[i], pageURL(stack, "point", stack.Token("controls", conference.RolePoint, p, time.Hour)))
	}
	for i, p := range points {
		waitFor(t, tabs[i], p+" connected", connected, 15*time.Second)
	}
	waitFor(t, tech, "console connected, controls ready", connected+fmt.Sprintf(` && document.querySelectorAll('.tile .tile-controls button[data-control="mute"]:not(:disabled)').length === %d`, len(points)), 15*time.Second)
	t.Logf("console and points connected after %v", time.Since(start).Round(time.Millisecond))

	// Mute the first point: its page says so; unmute it again.
	click(t, tech, `.tile[data-participant="diem-1"] button[data-control="mute"]`)
	waitFor(t, tabs[0], "muted notice", `!document.querySelector('#muted-notice').hidden && document.querySelector('#muted-notice').textContent === 'Hội trường đã tắt micro của điểm cầu' && window.hoinghi.muted === true`, 5*time.Second)
	waitFor(t, tech, "tile marked muted", `document.querySelector('.tile[data-participant="diem-1"]').dataset.muted === 'true' && document.querySelector('.tile[data-participant="diem-1"] button[data-control="unmute"]')`, 5*time.Second)
	click(t, tech, `.tile[data-participant="diem-1"] button[data-control="unmute"]`)
	waitFor(t, tabs[0], "muted notice gone", `document.querySelector('#muted-notice').hidden && window.hoinghi.muted === false`, 5*time.Second)

	// Muted while it holds the floor: one state on its page, seen and not
	// heard, not "the conference hears you" beside "the hall muted you".
	click(t, tech, `.tile[data-participant="diem-1"] .tile-action[data-action="give"]`)
	waitFor(t, tabs[0], "holding the floor", `document.querySelector('#floor').dataset.floor === 'holding' && document.querySelector('#mic-state').dataset.live === 'true'`, 5*time.Second)
	click(t, tech, `.tile[data-participant="diem-1"] button[data-control="mute"]`)
	waitFor(t, tabs[0], "one state: holding, muted", `window.hoinghi.muted === true && document.querySelector('#floor-status').textContent.includes('đã tắt micro') && document.querySelector('#muted-notice').hidden && document.querySelector('#mic-state').hidden`, 5*time.Second)
	click(t, tech, `.tile[data-participant="diem-1"] button[data-control="unmute"]`)
	waitFor(t, tabs[0], "holding, heard again", `window.hoinghi.muted === false && document.querySelector('#floor-status').textContent === 'Bạn đang phát biểu' && document.querySelector('#mic-state').dataset.live === 'true'`, 5*time.Second)

	// Restart the first point's camera: it publishes a new, live track.
	click(t, tech, `.tile[data-participant="diem-1"] button[data-control="restart_camera"]`)
	waitFor(t, tabs[0], "camera restarted and republished", `(() => {
	  const s = window.hoinghi.pcs.publish?.getSenders().find((x) => x.track && x.track.kind === 'video');
	  const own = document.querySelector('#self-video').srcObject?.getVideoTracks()[0];
	  return window.hoinghi.cameraRestarts === 1 && s && own && s.track === own && own.readyState === 'live'; })()`, 10*time.Second)
	click(t, tech, `.tile[data-participant="diem-1"] button[data-control="keyframe"]`)

	// Drop the second point: a clear panel, no reconnection by itself.
	acceptDialogs(t, tech)
	click(t, tech, `.tile[data-participant="diem-2"] button[data-control="drop"]`)
	waitFor(t, tabs[1], "dropped panel", `(() => { const r = document.querySelector('#refusal');
	  return !r.hidden && r.dataset.reason === 'dropped' && r.querySelector('a.btn')?.textContent === 'Kết nối lại' && window.hoinghi.state === 'closed'; })()`, 5*time.Second)
	time.Sleep(2500 * time.Millisecond) // longer than the first reconnection's backoff
	got, err := eval[map[string]any](tabs[1], `({state: window.hoinghi.state, publish: window.hoinghi.pcs.publish, status: document.querySelector('#status').dataset.state})`)
	if err != nil {
		t.Fatal(err)
	}
	if got["state"] != "closed" || got["publish"] != nil || got["status"] != "closed" {
		t.Errorf("dropped page after 2.5 s: %v, want closed and not publishing", got)
	}
	// The console says how long the dropped point has been gone.
	waitFor(t, tech, "how long the point has been gone", `/^Mất kết nối \d+ giây$/.test(document.querySelector('.tile[data-participant="diem-2"] .tile-state').textContent)`, 10*time.Second)

	// The list view shows the server's link-quality figures.
	click(t, tech, `[data-view="list"]`)
	waitFor(t, tech, "link quality from the server in the list", `(() => {
	  const r = document.querySelector('#list-body tr[data-participant="diem-1"]');
	  return r && r.dataset.source === 'server' && Number(r.querySelector('.list-kbps').textContent) > 0 &&
	    /^\d+(\.\d)?$/.test(r.querySelector('.list-rtt').textContent) && /^\d+\.\d$/.test(r.querySelector('.list-loss').textContent) &&
	    ['UDP', 'TCP', 'TURN'].includes(r.querySelector('.list-network').textContent) &&
	    document.querySelector('#list-body tr[data-participant="diem-2"]').dataset.state === 'offline'; })()`, 10*time.Second)
	row, err := eval[string](tech, `document.querySelector('#list-body tr[data-participant="diem-1"]').innerText`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("list row of diem-1: %s", strings.Join(strings.Fields(row), " "))
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}
