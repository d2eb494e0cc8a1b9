package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// gestureClick clicks selector in tab as a user does: with the user
// activation that getDisplayMedia asks for.
func gestureClick(t *testing.T, tab context.Context, selector string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, selector),
		func(p *cdpruntime.EvaluateParams) { yes := true; p.UserGesture = &yes }))
	if err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
}

// contentStats is what a page receives in its content slot: the inbound
// report of the track #content-video shows.
type contentStats struct {
	Frames float64 `json:"frames"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	FPS    float64 `json:"fps"`
	Bytes  float64 `json:"bytes"`
	Shown  float64 `json:"shown"` // videoWidth of #content-video
}

const contentStatsJS = `(async () => {
  const pc = window.hoinghi?.pcs?.subscribe;
  const v = document.querySelector('#content-video');
  const track = v?.srcObject?.getVideoTracks()[0];
  const out = {frames: 0, width: 0, height: 0, fps: 0, bytes: 0, shown: v?.videoWidth || 0};
  if (!pc || !track) return out;
  (await pc.getStats(track)).forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    Object.assign(out, {frames: r.framesDecoded || 0, width: r.frameWidth || 0, height: r.frameHeight || 0,
      fps: r.framesPerSecond || 0, bytes: r.bytesReceived || 0});
  });
  return out;
})()`

func readContent(t *testing.T, tab context.Context) contentStats {
	t.Helper()
	s, err := eval[contentStats](tab, contentStatsJS)
	if err != nil {
		t.Fatalf("content stats: %v", err)
	}
	return s
}

// decodesContent waits until tab shows the content as its main view and
// decodes it, its frames counting up, and returns its last stats.
func decodesContent(t *testing.T, tab context.Context, what string) contentStats {
	t.Helper()
	waitFor(t, tab, what+": content shown", `document.body.dataset.content === 'on' && !document.querySelector('#content').hidden && document.querySelector('#content-video').videoWidth > 0`, 15*time.Second)
	first := readContent(t, tab)
	deadline := time.Now().Add(15 * time.Second)
	for {
		time.Sleep(500 * time.Millisecond)
		s := readContent(t, tab)
		if s.Frames > first.Frames && first.Frames > 0 {
			return s
		}
		if first.Frames == 0 {
			first = s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: content frames decoded do not grow (%v, then %v)", what, first, s)
		}
	}
}

// contentStopped checks that tab shows no content and decodes none.
func contentStopped(t *testing.T, tab context.Context, what string) {
	t.Helper()
	waitFor(t, tab, what+": no content shown", `document.body.dataset.content === 'off' && document.querySelector('#content').hidden && !window.hoinghi.content?.participant_id`, 10*time.Second)
	stats := func() float64 {
		var n float64
		for _, s := range slotStats(t, tab) {
			if s.Participant == "content-video" {
				n += s.Frames
			}
		}
		return n
	}
	// What was on its way when the server stopped forwarding is decoded
	// within a second; then nothing more.
	time.Sleep(time.Second)
	a := stats()
	time.Sleep(1500 * time.Millisecond)
	if b := stats(); b > a {
		t.Errorf("%s: the content slot still decodes frames (%v, then %v)", what, a, b)
	}
}

// slotStats lists the inbound video reports of tab's subscribe
// PeerConnection by the server's track id of their transceiver.
func slotStats(t *testing.T, tab context.Context) []struct {
	Participant string  `json:"participant"`
	Frames      float64 `json:"frames"`
} {
	t.Helper()
	out, err := eval[[]struct {
		Participant string  `json:"participant"`
		Frames      float64 `json:"frames"`
	}](tab, `(async () => {
  const pc = window.hoinghi?.pcs?.subscribe;
  if (!pc) return [];
  const sdp = pc.remoteDescription?.sdp || '';
  const names = new Map();
  for (const tr of pc.getTransceivers()) {
    const m = sdp.split('\r\nm=').find((s) => s.includes('\r\na=mid:' + tr.mid + '\r\n'));
    const msid = m && /a=msid:(\S+) (\S+)/.exec(m);
    if (msid) names.set(tr.receiver.track.id, msid[2]);
  }
  const out = [];
  (await pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') out.push({participant: names.get(r.trackIdentifier) || '', frames: r.framesDecoded || 0});
  });
  return out;
})()`)
	if err != nil {
		t.Fatalf("slot stats: %v", err)
	}
	return out
}

// logShareTime logs the time from pressing share in sharer to the first
// content frame shown at point, and from the content message the sharer
// sent after the capture started.
func logShareTime(t *testing.T, sharer, point context.Context, who string) {
	t.Helper()
	times, err := eval[[]float64](sharer, `[window.hoinghi.timing.contentShare, window.hoinghi.timing.contentStart]`)
	if err != nil {
		t.Fatal(err)
	}
	first, err := eval[float64](point, `window.hoinghi.timing.firstContentFrame`)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 || first <= 0 {
		t.Fatalf("share times %v, first frame %v", times, first)
	}
	t.Logf("%s content: share pressed to the first frame at a point content_share_ms=%.0f (from the content message content_start_ms=%.0f)", who, first-times[0], first-times[1])
}

// layoutAt sets tab's viewport to w×h and checks that the content is the
// main view: at least twice as wide as the hall's picture, all of it on
// screen.
func layoutAt(t *testing.T, tab context.Context, w, h int64, small, name string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, fmt.Sprintf("%s: the content the main view at %d×%d", name, w, h), fmt.Sprintf(`(() => {
  const c = document.querySelector('#content').getBoundingClientRect();
  const s = document.querySelector(%q).getBoundingClientRect();
  return c.width >= 2 * s.width && c.height > 150 && c.left >= 0 && c.right <= %d + 1 && c.top >= 0 && c.bottom <= %d + 1;
})()`, small, w, h), 5*time.Second)
	screenshot(t, tab, fmt.Sprintf("%s-%dx%d.png", name, w, h))
}

// TestBrowserContent shares a screen (Chromium's fake capture) from the
// hall console, then from the point holding the floor: every other page
// decodes it as its main view; a point without the floor is refused; when
// the floor is taken back the content stops everywhere.
func TestBrowserContent(t *testing.T) {
	const conf = "content"
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, 2)
	stack := servertest.Start(t, st)
	browser := startBrowser(t,
		chromedp.Flag("auto-select-desktop-capture-source", "Entire screen"),
		chromedp.Flag("auto-accept-this-tab-capture", true),
		chromedp.Flag("enable-usermedia-screen-capturing", true))

	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token(conf, conference.RoleTechnician, "", time.Hour)))
	chair := newTab(t, browser)
	navigate(t, chair, pageURL(stack, "console", stack.Token(conf, conference.RoleChair, "", time.Hour)))
	speaker, listener := newTab(t, browser), newTab(t, browser)
	openPoint(t, speaker, pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[0], time.Hour)))
	openPoint(t, listener, pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[1], time.Hour)))
	for _, tab := range []context.Context{tech, chair, speaker, listener} {
		waitFor(t, tab, "connected", connected, 15*time.Second)
	}
	techID, err := eval[string](tech, `window.hoinghi.participantId`)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, listener, "the hall's program decoded", `document.querySelector('#hall-video').videoWidth > 0`, 15*time.Second)
	waitFor(t, listener, "told nobody shares", `window.hoinghi.content && window.hoinghi.content.participant_id === ''`, 5*time.Second)
	if hidden, err := eval[bool](listener, `document.querySelector('#content-share').hidden`); err != nil || !hidden {
		t.Errorf("a point without the floor is offered to share its screen (%v)", err)
	}

	// The technician shares: every point and the chair decode it as the
	// main view.
	gestureClick(t, tech, "#content-share")
	waitFor(t, tech, "the technician shares", `window.hoinghi.content?.participant_id === `+jsString(techID)+` && document.querySelector('#content-share').dataset.sharing === 'true'`, 10*time.Second)
	for _, c := range []struct {
		tab  context.Context
		name string
	}{{speaker, "point 1"}, {listener, "point 2"}, {chair, "chair"}} {
		s := decodesContent(t, c.tab, c.name+" decodes the hall's content")
		t.Logf("%s: hall content %v×%v at %.1f fps (%v frames)", c.name, s.Width, s.Height, s.FPS, s.Frames)
	}
	logShareTime(t, tech, listener, "hall")
	// The figures at a point over three seconds.
	s0 := readContent(t, listener)
	time.Sleep(3 * time.Second)
	s := readContent(t, listener)
	t.Logf("content at a point: %v×%v, %.1f fps, %.0f kbit/s", s.Width, s.Height, (s.Frames-s0.Frames)/3, (s.Bytes-s0.Bytes)*8/1000/3)
	if s.Width < 640 || s.FPS > 8 {
		t.Errorf("content at a point: %v×%v at %.1f fps; want a large picture at a low frame rate", s.Width, s.Height, s.FPS)
	}
	for _, size := range [][2]int64{{1366, 768}, {1920, 1080}} {
		layoutAt(t, listener, size[0], size[1], "#hall", "point-content")
		layoutAt(t, chair, size[0], size[1], "#program", "chair-content")
		layoutAt(t, tech, size[0], size[1], "#program", "console-content")
	}

	// A point gets the floor. The hall stops its content; the point shares.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ctl, err := client.Dial(ctx, client.Options{ServerURL: stack.URL, Token: stack.Token(conf, conference.RoleChair, "", time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if err := ctl.Floor(protocol.Floor{Type: protocol.TypeFloor, Action: "give", PointID: points[0], Seconds: -1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, speaker, "the point holds the floor, may share", `document.querySelector('#floor').dataset.floor === 'holding' && !document.querySelector('#content-share').hidden`, 10*time.Second)
	gestureClick(t, tech, "#content-share") // stop
	for _, tab := range []context.Context{speaker, listener, chair} {
		contentStopped(t, tab, "the hall stopped its content")
	}
	gestureClick(t, speaker, "#content-share")
	waitFor(t, speaker, "the point shares", `window.hoinghi.content?.participant_id === `+jsString(points[0])+` && document.querySelector('#content').dataset.mine === 'true'`, 10*time.Second)
	for _, c := range []struct {
		tab  context.Context
		name string
	}{{listener, "point 2"}, {chair, "chair"}, {tech, "technician"}} {
		s := decodesContent(t, c.tab, c.name+" decodes the speaking point's content")
		t.Logf("%s: point content %v×%v at %.1f fps", c.name, s.Width, s.Height, s.FPS)
	}
	logShareTime(t, speaker, listener, "point")
	waitFor(t, listener, "the sharer named", `document.querySelector('#content-label').textContent.includes('Điểm cầu số 1')`, 5*time.Second)
	screenshot(t, listener, "point-content.png")

	// The other point, without the floor, is refused.
	if _, err := eval[chromedp.Void](listener, `document.querySelector('#content-share').hidden = false`); err != nil {
		t.Fatal(err)
	}
	gestureClick(t, listener, "#content-share")
	waitFor(t, listener, "a point without the floor refused", `[...document.querySelectorAll('#notices .notice')].some((n) => n.textContent.includes('Chỉ điểm cầu đang phát biểu')) && document.querySelector('#content-share').dataset.sharing === 'false'`, 10*time.Second)
	if id, err := eval[string](chair, `window.hoinghi.content.participant_id`); err != nil || id != points[0] {
		t.Errorf("after the refusal the content is %q's (%v), want %s's", id, err, points[0])
	}

	// The floor is taken back: the content stops at every page, and the
	// speaker's page is told and stops capturing.
	if err := ctl.Floor(protocol.Floor{Type: protocol.TypeFloor, Action: "take_back"}); err != nil {
		t.Fatal(err)
	}
	for _, tab := range []context.Context{listener, chair, tech} {
		contentStopped(t, tab, "the floor taken back")
	}
	waitFor(t, speaker, "the speaker told its sharing stopped", `document.body.dataset.content === 'off' && document.querySelector('#content-share').hidden && [...document.querySelectorAll('#notices .notice')].some((n) => n.textContent.includes('Hết lượt phát biểu'))`, 10*time.Second)
}
