package main

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hoinghi/internal/testenv"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserDefaultStartConnectsOnLoopback is a newcomer's first run: the
// server with its defaults (media on loopback alone) and a browser on the
// same machine as it comes, without the flag that lets Chromium gather
// loopback candidates and with its local addresses hidden behind mDNS
// names. The technician's console and a point open their printed links;
// the point connects and shows the hall's picture, over the server's
// loopback media address.
func TestBrowserDefaultStartConnectsOnLoopback(t *testing.T) {
	_, err := os.Stat(chromiumPath)
	testenv.Need(t, "Chromium at "+chromiumPath, err)
	port := freeTCPPort(t, "127.0.0.1")
	s := startServer(t, "-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	lines := s.waitLinks()
	link := func(role string) string {
		for _, l := range lines {
			if f := strings.Fields(l); linkLine.MatchString(l) && f[0] == role {
				return f[len(f)-1]
			}
		}
		t.Fatalf("no %s link; output:\n%s", role, strings.Join(lines, "\n"))
		return ""
	}

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	defer acancel()
	browser, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(browser, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close Chromium: %v", err)
		}
	}()
	tab := func() context.Context {
		ctx, _ := chromedp.NewContext(browser, chromedp.WithNewBrowserContext()) // ends with the browser
		return ctx
	}

	hall, point := tab(), tab()
	if err := chromedp.Do(hall, chromedp.Navigate(link("technician"))); err != nil {
		t.Fatalf("open the console: %v", err)
	}
	if err := chromedp.Do(point, chromedp.Navigate(link("point"))); err != nil {
		t.Fatalf("open the point: %v", err)
	}
	// A browser's first visit asks for a click on #join.
	waitJS(t, point, "join button or joining", `(() => { const b = document.querySelector('#join'); return b && !b.disabled && b.offsetParent !== null || ['connecting', 'connected'].includes(window.hoinghi?.state); })()`, 15*time.Second)
	if _, err := chromedp.Run(point, chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('#join'); if (b && !b.disabled && b.offsetParent !== null) b.click(); })()`)); err != nil {
		t.Fatalf("click #join: %v", err)
	}
	waitJS(t, point, "point connected", `window.hoinghi?.state === 'connected' && document.querySelector('#status')?.dataset.state === 'connected'`, 20*time.Second)
	waitJS(t, point, "hall's picture at the point", `window.hoinghi?.timing?.firstHallFrame > 0`, 20*time.Second)

	remote, err := chromedp.Run(point, chromedp.Evaluate[string](`(async () => {
  const stats = await window.hoinghi.pcs.subscribe.getStats();
  let pair;
  stats.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId); });
  return pair ? stats.get(pair.remoteCandidateId).address : '';
})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if remote != "127.0.0.1" {
		t.Errorf("the point's media goes to %q, want the server's 127.0.0.1", remote)
	}
}

// waitJS evaluates the boolean expr in tab every 100 ms until it is true,
// and fails the test with what after timeout.
func waitJS(t *testing.T, tab context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(tab, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %v (last error: %v): %s", what, timeout, last, expr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
