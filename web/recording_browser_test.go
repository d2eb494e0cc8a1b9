package web_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/testenv"
)

// onAir is true in a page while its header shows the mark of class
// (on-air-rec or on-air-live) with text, whole inside the viewport.
func onAir(class, text string) string {
	return `(() => { const m = document.querySelector('#on-air'); const r = m?.querySelector('.` + class + `');
	  if (!m || m.hidden || !r || r.hidden || r.dataset.on !== 'true' || r.textContent !== ` + jsString(text) + `) return false;
	  const b = r.getBoundingClientRect();
	  return b.width > 0 && b.height > 0 && b.left >= 0 && b.top >= 0 && b.right <= innerWidth && b.bottom <= innerHeight; })()`
}

// offAir is true in a page while its header shows no mark of class.
func offAir(class string) string {
	return `(() => { const r = document.querySelector('#on-air .` + class + `'); return !r || (r.hidden && r.dataset.on === 'false'); })()`
}

// showPanel scrolls the console's side column to the panel at selector,
// for a screenshot.
func showPanel(t *testing.T, tab context.Context, selector string) {
	t.Helper()
	if _, err := eval[chromedp.Void](tab, `document.querySelector(`+jsString(selector)+`).scrollIntoView({block: 'end'})`); err != nil {
		t.Fatalf("scroll to %s: %v", selector, err)
	}
}

// fetchStatus fetches href in tab (as a click on a download link does,
// with the page's credentials) and returns its status, its content type
// and its first bytes.
func fetchStatus(t *testing.T, tab context.Context, href string) map[string]any {
	t.Helper()
	got, err := eval[map[string]any](tab, `fetch(`+jsString(href)+`).then(async (r) => {
	  const b = new Uint8Array(await r.arrayBuffer());
	  return {status: r.status, type: r.headers.get('Content-Type') || '', size: b.length, head: new TextDecoder().decode(b.slice(0, 12))}; })`)
	if err != nil {
		t.Fatalf("fetch %s: %v", href, err)
	}
	return got
}

// TestBrowserRecording runs the recording through the pages: the
// technician starts it from the console, and the console, the point page
// and the secretariat page show the red mark in their headers (at
// 1366x768); the console lists the running recording; stopped, the mark
// goes and the list shows it with its files, which download; the
// secretariat lists it too, without the technician's buttons; the archive
// is composed with its progress until its link appears; deleted, the list
// is empty. Then the technician broadcasts HLS: the state shows its
// bitrate, the playlist is served, every page says it is live, and it
// stops.
func TestBrowserRecording(t *testing.T) {
	_, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)
	const conf = "ghihinh"
	start := time.Now()
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	tech := newTab(t, browser)
	point := newTab(t, browser)
	sec := newTab(t, browser)
	for _, tab := range []context.Context{tech, point, sec} {
		if err := chromedp.Do(tab, chromedp.EmulateViewport(1366, 768)); err != nil {
			t.Fatal(err)
		}
	}
	navigate(t, tech, pageURL(stack, "console", stack.Token(conf, conference.RoleTechnician, "", time.Hour)))
	openPoint(t, point, pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[0], time.Hour)))
	navigate(t, sec, pageURL(stack, "secretariat", stack.Token(conf, conference.RoleSecretariat, "", time.Hour)))
	waitFor(t, tech, "console connected, recording panel ready", connected+` && !document.querySelector('#recording-panel').hidden && !document.querySelector('#rec-start').hidden && !document.querySelector('#rec-empty').hidden`, 15*time.Second)
	waitFor(t, point, "point connected", connected, 15*time.Second)
	waitFor(t, sec, "secretariat connected, no recordings", `window.hoinghi?.state === 'connected' && !document.querySelector('#recordings').hidden && !document.querySelector('#rec-empty').hidden`, 10*time.Second)
	growing(t, tech, "console decodes the point", "video", points[0], frames, 15*time.Second)
	for _, tab := range []context.Context{tech, point, sec} {
		waitFor(t, tab, "no mark before the recording", offAir("on-air-rec")+` && `+offAir("on-air-live"), 5*time.Second)
	}
	acceptDialogs(t, tech)
	t.Logf("pages ready after %v", time.Since(start).Round(time.Millisecond))

	// Start: every page shows the mark; the console lists the recording running.
	click(t, tech, "#rec-start")
	const rec = "● Đang ghi"
	waitFor(t, tech, "console shows the mark", onAir("on-air-rec", rec), 5*time.Second)
	waitFor(t, point, "point shows the mark", onAir("on-air-rec", rec), 5*time.Second)
	waitFor(t, sec, "secretariat shows the mark", onAir("on-air-rec", rec), 5*time.Second)
	waitFor(t, tech, "console lists the running recording", `(() => {
	  const li = document.querySelectorAll('#rec-list li.rec');
	  return li.length === 1 && li[0].dataset.active === 'true' && !document.querySelector('#rec-stop').hidden && document.querySelector('#rec-start').hidden &&
	    /^Đã ghi 0:00:0\d$/.test(document.querySelector('#rec-elapsed').textContent); })()`, 5*time.Second)
	waitFor(t, tech, "the elapsed time counts", `/^Đã ghi 0:00:0[3-9]$/.test(document.querySelector('#rec-elapsed').textContent)`, 6*time.Second)
	showPanel(t, tech, "#recording-panel")
	screenshot(t, tech, "console-recording.png")
	screenshot(t, point, "point-recording.png")
	waitFor(t, tech, "five seconds recorded", `/^Đã ghi 0:00:0[5-9]$/.test(document.querySelector('#rec-elapsed').textContent)`, 5*time.Second)

	// Stop: the mark goes; the recording is listed with its files.
	click(t, tech, "#rec-stop")
	waitFor(t, tech, "mark gone on the console", offAir("on-air-rec"), 5*time.Second)
	waitFor(t, point, "mark gone on the point", offAir("on-air-rec"), 5*time.Second)
	waitFor(t, tech, "console lists the stopped recording with files", `(() => {
	  const li = document.querySelectorAll('#rec-list li.rec');
	  return li.length === 1 && li[0].dataset.active === 'false' && Number(li[0].dataset.files) >= 2 &&
	    li[0].querySelectorAll('a.rec-file').length === Number(li[0].dataset.files) &&
	    /^0:00:0[4-9]$/.test(li[0].querySelector('.rec-duration').textContent) && /^\d+,\d MB$/.test(li[0].querySelector('.rec-size').textContent) &&
	    !document.querySelector('#rec-start').hidden && document.querySelector('#rec-elapsed').hidden; })()`, 10*time.Second)
	row, err := eval[string](tech, `document.querySelector('#rec-list li.rec').innerText`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recording listed: %s", row)
	href, err := eval[string](tech, `document.querySelector('#rec-list a.rec-file[data-file$=".webm"], #rec-list a.rec-file').href`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fetchStatus(t, tech, href); got["status"] != float64(200) || got["size"].(float64) < 1000 {
		t.Errorf("download %s from the console: %v", href, got)
	}

	// The secretariat lists it, downloads it, and has no technician's buttons.
	waitFor(t, sec, "mark gone at the secretariat", offAir("on-air-rec"), 5*time.Second)
	waitFor(t, sec, "secretariat lists the recording", `(() => {
	  const li = document.querySelectorAll('#rec-list li.rec');
	  return li.length === 1 && li[0].dataset.active === 'false' && li[0].querySelectorAll('a.rec-file').length >= 2 && document.querySelector('#rec-empty').hidden; })()`, 10*time.Second)
	if n, err := eval[int](sec, `document.querySelectorAll('#rec-start, #rec-stop, [data-rec-action], #live-start').length`); err != nil || n != 0 {
		t.Errorf("secretariat page: %d technician's controls, %v; want none", n, err)
	}
	secHref, err := eval[string](sec, `document.querySelector('#rec-list a.rec-file').href`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fetchStatus(t, sec, secHref); got["status"] != float64(200) {
		t.Errorf("download %s from the secretariat: %v", secHref, got)
	}
	screenshot(t, sec, "secretariat-recordings.png")

	// Compose the archive: its progress, then its link.
	click(t, tech, `#rec-list button[data-rec-action="compose"]`)
	var seen []string
	deadline := time.Now().Add(90 * time.Second)
	for {
		state, err := eval[string](tech, `(() => { const j = document.querySelector('#rec-list .rec-job'); return j ? j.dataset.job + ' ' + j.dataset.pct : ''; })()`)
		if err == nil && state != "" && (len(seen) == 0 || seen[len(seen)-1] != state) {
			seen = append(seen, state)
		}
		if state == "done 100" || (err == nil && len(state) > 6 && state[:6] == "failed") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("archive job as the console showed it: %v", seen)
	if len(seen) < 2 || !strings.HasPrefix(seen[0], "running ") {
		t.Errorf("archive job shown as %v, want it running, then done", seen)
	}
	waitFor(t, tech, "the archive composed and its link shown", `(() => {
	  const li = document.querySelector('#rec-list li.rec');
	  const a = li?.querySelector('a.rec-archive');
	  return li.querySelector('.rec-job').dataset.job === 'done' && a && a.dataset.file === 'archive.mp4' && /MP4/.test(a.textContent) &&
	    document.querySelector('#rec-message').hidden; })()`, 5*time.Second)
	archive, err := eval[string](tech, `document.querySelector('#rec-list a.rec-archive').href`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fetchStatus(t, tech, archive); got["status"] != float64(200) || got["type"] != "video/mp4" || got["size"].(float64) < 10000 {
		t.Errorf("download the archive: %v", got)
	}
	showPanel(t, tech, "#recording-panel")
	screenshot(t, tech, "console-recording-archive.png")

	// Delete: the list is empty, here and at the secretariat.
	click(t, tech, `#rec-list button[data-rec-action="delete"]`)
	waitFor(t, tech, "the list empty", `document.querySelectorAll('#rec-list li.rec').length === 0 && !document.querySelector('#rec-empty').hidden`, 5*time.Second)
	navigate(t, sec, pageURL(stack, "secretariat", stack.Token(conf, conference.RoleSecretariat, "", time.Hour)))
	waitFor(t, sec, "the secretariat's list empty", `!document.querySelector('#recordings').hidden && document.querySelectorAll('#rec-list li.rec').length === 0 && !document.querySelector('#rec-empty').hidden`, 10*time.Second)
	t.Logf("recording done after %v", time.Since(start).Round(time.Millisecond))

	// Livestream, HLS: running with a bitrate; the playlist is served;
	// every page says it is live; it stops.
	waitFor(t, tech, "livestream panel ready", `!document.querySelector('#live-panel').hidden && document.querySelector('#live-panel').dataset.running === 'false' && !document.querySelector('#live-start').hidden`, 5*time.Second)
	// RTMP: the stream key is typed like a password; an address that is
	// not rtmp:// or rtmps:// is refused with the page's explanation.
	waitFor(t, tech, "RTMP fields shown", `!document.querySelector('#live-rtmp-fields').hidden && document.querySelector('#live-key').type === 'password'`, 2*time.Second)
	setValue(t, tech, "#live-url", "http://example.invalid/live")
	setValue(t, tech, "#live-key", "bi-mat")
	click(t, tech, "#live-start")
	waitFor(t, tech, "a bad address explained", `(() => { const m = document.querySelector('#live-message');
	  return !m.hidden && m.dataset.code === 'bad_target' && m.textContent.startsWith('Địa chỉ phát trực tiếp không hợp lệ') &&
	    document.querySelector('#live-panel').dataset.running === 'false'; })()`, 5*time.Second)
	if _, err := eval[chromedp.Void](tech, `(() => { const r = document.querySelector('#live-hls'); r.checked = true; r.dispatchEvent(new Event('change')); })()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tech, "RTMP fields hidden for HLS", `document.querySelector('#live-rtmp-fields').hidden && document.querySelector('#live-key').type === 'password'`, 2*time.Second)
	click(t, tech, "#live-start")
	waitFor(t, tech, "livestream running with a bitrate", `(() => {
	  if (!document.querySelector('#live-message').hidden) return false;
	  const s = document.querySelector('#live-state');
	  return document.querySelector('#live-panel').dataset.running === 'true' && Number(s.dataset.kbps) > 0 &&
	    /^Đang phát HLS từ \d\d:\d\d · \d+ kbit\/s · trễ \d+ giây$/.test(s.textContent) && !document.querySelector('#live-stop').hidden; })()`, 15*time.Second)
	const live = "Đang phát trực tiếp"
	waitFor(t, tech, "console says live", onAir("on-air-live", live), 5*time.Second)
	waitFor(t, point, "point says live", onAir("on-air-live", live), 5*time.Second)
	waitFor(t, tech, "the playlist's address shown", `!document.querySelector('#live-playlist').hidden && document.querySelector('#live-playlist-link').href.endsWith('/live/`+conf+`/index.m3u8')`, 5*time.Second)
	state, err := eval[string](tech, `document.querySelector('#live-state').textContent`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("livestream: %s", state)
	playlist, err := eval[string](tech, `document.querySelector('#live-playlist-link').href`)
	if err != nil {
		t.Fatal(err)
	}
	got := fetchStatus(t, point, playlist)
	if head, _ := got["head"].(string); got["status"] != float64(200) || !strings.HasPrefix(head, "#EXTM3U") {
		t.Errorf("the playlist: %v", got)
	}
	showPanel(t, tech, "#live-panel")
	screenshot(t, tech, "console-livestream.png")
	stopped := time.Now()
	click(t, tech, "#live-stop")
	waitFor(t, tech, "livestream stopped", `document.querySelector('#live-panel').dataset.running === 'false' && document.querySelector('#live-state').textContent === 'Chưa phát trực tiếp.' && document.querySelector('#live-playlist').hidden`, 10*time.Second)
	// The server tells the pages once its encoder has ended, which may
	// take ffmpeg several seconds.
	waitFor(t, tech, "console no longer live", offAir("on-air-live"), 15*time.Second)
	waitFor(t, point, "point no longer live", offAir("on-air-live"), 5*time.Second)
	t.Logf("pages not live %v after the stop", time.Since(stopped).Round(time.Millisecond))
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}
