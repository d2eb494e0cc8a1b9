package web_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// TestBrowserOneHallProgram: with the technician's console and the chair's
// both open, a point receives the hall as one program: one sound and one
// picture flowing, from the technician's console; the chair's microphone
// is off until the chair turns it on, and the points hear it only once
// the technician chooses it, still as the one sound of the program.
func TestBrowserOneHallProgram(t *testing.T) {
	const conf = "program"
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token(conf, conference.RoleTechnician, "", time.Hour)))
	waitFor(t, tech, "technician connected", connected, 15*time.Second)
	chair := newTab(t, browser)
	navigate(t, chair, pageURL(stack, "console", stack.Token(conf, conference.RoleChair, "", time.Hour)))
	waitFor(t, chair, "chair connected", connected, 15*time.Second)
	point := newTab(t, browser)
	openPoint(t, point, pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[0], time.Hour)))
	waitFor(t, point, "point connected", connected, 15*time.Second)

	techID, err := eval[string](tech, `window.hoinghi.participantId`)
	if err != nil {
		t.Fatal(err)
	}
	chairID, err := eval[string](chair, `window.hoinghi.participantId`)
	if err != nil {
		t.Fatal(err)
	}
	// The consoles are told where the program comes from.
	waitFor(t, tech, "the program's sound from the technician", `window.hoinghi.program?.audio === `+jsString(techID)+` && window.hoinghi.program?.video === `+jsString(techID), 10*time.Second)
	if on, err := eval[bool](chair, `window.hoinghi.chairMic === true`); err != nil || on {
		t.Fatalf("the chair's microphone is on at first (%v)", err)
	}

	// The point: the program's sound and picture flow, and nothing else
	// of the hall (the speaker slots carry nothing while nobody speaks).
	growing(t, point, "the program's sound at the point", "audio", "program", samples, 10*time.Second)
	growing(t, point, "the program's picture at the point", "video", "program", frames, 10*time.Second)
	oneSound := func(what string) {
		t.Helper()
		a := inbound(t, point)
		time.Sleep(1500 * time.Millisecond)
		b := inbound(t, point)
		flowing := map[string]bool{}
		for _, s := range b {
			if s.Kind != "audio" {
				continue
			}
			for _, o := range a {
				if o.Track == s.Track && s.Packets > o.Packets {
					flowing[s.Track+" of "+s.Participant] = true
				}
			}
		}
		if len(flowing) != 1 {
			t.Fatalf("%s: %d hall sounds flow at the point, want one: %v", what, len(flowing), flowing)
		}
		for k := range flowing {
			t.Logf("%s: the point hears %s", what, k)
		}
	}
	oneSound("two consoles open")

	// The chair turns its microphone on and the technician chooses it.
	click(t, chair, "#chair-mic")
	waitFor(t, chair, "chair microphone on", `window.hoinghi.chairMic === true`, 5*time.Second)
	if _, err := eval[chromedp.Void](tech, fmt.Sprintf(`(() => { const s = document.querySelector('#program-audio'); s.value = %q; s.dispatchEvent(new Event('change')); })()`, chairID)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tech, "the program's sound from the chair", `window.hoinghi.program?.audio === `+jsString(chairID)+` && window.hoinghi.program?.chosen === true`, 10*time.Second)
	waitFor(t, chair, "the chair told it is live", `document.querySelector('#chair-mic-note').textContent.length > 0 && window.hoinghi.program?.audio === `+jsString(chairID), 10*time.Second)
	oneSound("the chair's microphone chosen")
	// The picture stays the technician's camera.
	if v, err := eval[string](tech, `window.hoinghi.program.video`); err != nil || v != techID {
		t.Fatalf("the program's picture comes from %q (%v), want the technician's console", v, err)
	}

	// The technician chooses the chair's camera as the program's picture
	// in its picture list, which offers both consoles, then the default.
	waitFor(t, tech, "the picture list names both consoles", fmt.Sprintf(
		`[...document.querySelectorAll('#program-picture option')].map((o) => o.value).join(',') === ',%s,%s' ||
		 [...document.querySelectorAll('#program-picture option')].map((o) => o.value).join(',') === ',%s,%s'`,
		techID, chairID, chairID, techID), 10*time.Second)
	choosePicture := func(id string) {
		t.Helper()
		if _, err := eval[chromedp.Void](tech, fmt.Sprintf(`(() => { const s = document.querySelector('#program-picture'); s.value = %q; s.dispatchEvent(new Event('change')); })()`, id)); err != nil {
			t.Fatal(err)
		}
	}
	choosePicture(chairID)
	waitFor(t, tech, "the program's picture from the chair", `window.hoinghi.program?.video === `+jsString(chairID)+` && window.hoinghi.program?.video_chosen === true && document.querySelector('#program-picture').value === `+jsString(chairID), 10*time.Second)
	growing(t, point, "the chair's picture at the point", "video", "program", frames, 10*time.Second)
	choosePicture("")
	waitFor(t, tech, "the program's picture back to the default", `window.hoinghi.program?.video === `+jsString(techID)+` && !window.hoinghi.program?.video_chosen`, 10*time.Second)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string { return strconv.Quote(s) }
