package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// joined is true on a point page whose call is connected (it waits for
// the hall, which this test has none of).
const joined = `window.hoinghi?.state === 'connected'`

// sentMic is the device of the microphone track the page publishes.
const sentMic = `(() => { const s = window.hoinghi?.pcs?.publish?.getSenders().find((x) => x.track?.kind === 'audio'); return s ? s.track.getSettings().deviceId || '' : ''; })()`

// TestBrowserReopenedPageKeepsItsMicrophone: a point chooses a microphone
// other than the default; the page reopened publishes that microphone
// again (asked for exactly: Chromium ignores an ideal device for audio);
// and when the remembered device is gone, it opens another rather than
// none.
func TestBrowserReopenedPageKeepsItsMicrophone(t *testing.T) {
	const conf = "devices"
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)
	url := pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[0], time.Hour))

	tab := newTab(t, browser)
	openPoint(t, tab, url)
	waitFor(t, tab, "point connected, publishing a microphone", joined+` && `+sentMic+` !== ''`, 15*time.Second)
	mics, err := eval[[]string](tab, `(async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput').map((d) => d.deviceId))()`)
	if err != nil {
		t.Fatal(err)
	}
	first, err := eval[string](tab, sentMic)
	if err != nil {
		t.Fatal(err)
	}
	var other string
	for _, m := range mics {
		if m != first && m != "default" && m != "" {
			other = m
			break
		}
	}
	if other == "" {
		t.Fatalf("the fake devices offer no second microphone: %v", mics)
	}
	if _, err := eval[chromedp.Void](tab, fmt.Sprintf(`(() => { const s = document.querySelector('#mic-select'); s.value = %q; s.dispatchEvent(new Event('change')); })()`, other)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tab, "the chosen microphone published", sentMic+` === `+jsString(other), 10*time.Second)

	// Reopened: the same microphone.
	openPoint(t, tab, url)
	waitFor(t, tab, "the reopened page publishes the chosen microphone", joined+` && `+sentMic+` === `+jsString(other), 15*time.Second)

	// The remembered microphone is gone: another opens.
	if _, err := eval[chromedp.Void](tab, `localStorage.setItem('hoinghi.devices', JSON.stringify({ audio: 'unplugged-microphone' }))`); err != nil {
		t.Fatal(err)
	}
	openPoint(t, tab, url)
	waitFor(t, tab, "a microphone despite the one remembered gone", joined+` && `+sentMic+` !== ''`, 15*time.Second)
}
