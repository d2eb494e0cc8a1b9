package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// startConference starts conference conf of stack as its technician would,
// from a Go client, for tests whose pages need a running conference.
func startConference(t *testing.T, stack *servertest.Stack, conf string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tech, err := client.Dial(ctx, client.Options{ServerURL: stack.URL, Token: stack.Token(conf, conference.RoleTechnician, "", time.Hour)})
	if err != nil {
		t.Fatalf("dial the technician: %v", err)
	}
	defer tech.Close()
	if err := tech.ConferenceAction(protocol.ConferenceStart); err != nil {
		t.Fatal(err)
	}
	if err := tech.WaitConference(ctx, func(cs protocol.ConferenceState) bool { return cs.Running }); err != nil {
		t.Fatalf("start the conference: %v", err)
	}
}

// TestBrowserConferenceStages: the point page and the console show the
// conference's stage as the technician takes it through testing, the
// start and the end; the point may ask for the floor only while it runs;
// after the end the console offers no start, only the explicit reopen,
// which starts a second session.
func TestBrowserConferenceStages(t *testing.T) {
	const conf = "stages"
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token(conf, conference.RoleTechnician, "", time.Hour)))
	waitFor(t, tech, "technician connected", connected, 15*time.Second)
	acceptDialogs(t, tech)
	point := newTab(t, browser)
	openPoint(t, point, pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[0], time.Hour)))
	waitFor(t, point, "point connected", connected, 15*time.Second)

	stage := func(tab context.Context, who, want, text string) {
		t.Helper()
		waitFor(t, tab, who+" shows "+want,
			`document.querySelector('#conf-stage').dataset.stage === '`+want+`' && !document.querySelector('#conf-stage').hidden && document.querySelector('#conf-stage').textContent.includes(`+jsString(text)+`)`, 10*time.Second)
	}
	askable := func(want bool) {
		t.Helper()
		expr := `document.querySelector('#floor-ask').disabled === true && !document.querySelector('#floor-status').hidden`
		if want {
			expr = `document.querySelector('#floor-ask').disabled === false`
		}
		waitFor(t, point, "the point's floor request button", expr, 10*time.Second)
	}

	// Before the start: not started, no request for the floor.
	stage(point, "the point", "draft", "Chưa bắt đầu")
	askable(false)
	waitFor(t, tech, "testing and start offered", `!document.querySelector('#conf-testing').hidden && !document.querySelector('#conf-start').hidden && document.querySelector('#conf-reopen').hidden`, 10*time.Second)

	// The technical check.
	click(t, tech, "#conf-testing")
	stage(point, "the point", "testing", "Đang kiểm tra kỹ thuật")
	stage(tech, "the console", "testing", "Đang kiểm tra kỹ thuật")
	askable(false)

	// The start: the point may ask.
	click(t, tech, "#conf-start")
	stage(point, "the point", "running", "Đang diễn ra")
	askable(true)

	// The end: no start again, only the reopen.
	click(t, tech, "#conf-end")
	stage(point, "the point", "ended", "Đã kết thúc lúc")
	askable(false)
	waitFor(t, tech, "only the reopen offered", `document.querySelector('#conf-start').hidden && document.querySelector('#conf-testing').hidden && !document.querySelector('#conf-reopen').hidden`, 10*time.Second)
	ended, err := eval[string](point, `window.hoinghi.conference.ended_at`)
	if err != nil || ended == "" {
		t.Fatalf("the end time: %q, %v", ended, err)
	}
	click(t, tech, "#conf-reopen")
	stage(point, "the point", "running", "Đang diễn ra")
	waitFor(t, point, "a second session", `window.hoinghi.conference.sessions === 2`, 10*time.Second)
	click(t, tech, "#conf-end")
	stage(tech, "the console", "ended", "2 phiên họp")
}

// TestBrowserTimesInTheConferenceZone: a browser in another time zone
// (New York) writes the conference's times in the conference's own zone
// (Asia/Ho_Chi_Minh), and says which.
func TestBrowserTimesInTheConferenceZone(t *testing.T) {
	const conf = "zone"
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t, chromedp.Env("TZ=America/New_York"))
	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token(conf, conference.RoleTechnician, "", time.Hour)))
	waitFor(t, tech, "technician connected", connected, 15*time.Second)
	if off, err := eval[int](tech, `new Date().getTimezoneOffset()`); err != nil || off < 180 {
		t.Fatalf("the browser's zone is not New York's: offset %d min (%v)", off, err)
	}
	point := newTab(t, browser)
	openPoint(t, point, pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[0], time.Hour)))
	waitFor(t, point, "point connected", connected, 15*time.Second)
	startConference(t, stack, conf)
	waitFor(t, tech, "running", `window.hoinghi.conference?.running === true`, 10*time.Second)
	started, err := eval[string](tech, `window.hoinghi.conference.started_at`)
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, started)
	if err != nil {
		t.Fatal(err)
	}
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	clock := at.In(hcm).Format("15:04")
	for name, tab := range map[string]context.Context{"console": tech, "point": point} {
		waitFor(t, tab, name+" writes the start in the conference's zone",
			`document.querySelector('#conf-stage').textContent.includes(`+jsString(clock)+`) && document.querySelector('#conf-stage').textContent.includes('UTC+07:00')`, 10*time.Second)
	}
}
