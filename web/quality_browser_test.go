package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// TestBrowserQualityFigures opens a point page and the console: the point's
// page reports its own figures (stats), and the console's list view and
// tile show its resolution and frame rate from that report. A second point,
// a Go client that sends no media, shows in the console's alert list once
// that has held for 10 s: in that list alone (no notice repeats it), and
// graded poor in the list view too.
func TestBrowserQualityFigures(t *testing.T) {
	start := time.Now()
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "figures", 2)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	silent, err := client.Dial(ctx, client.Options{ServerURL: stack.URL, Token: stack.Token("figures", conference.RolePoint, points[1], time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token("figures", conference.RoleTechnician, "", time.Hour)))
	watchNotices(t, tech)
	point := newTab(t, browser)
	openPoint(t, point, pageURL(stack, "point", stack.Token("figures", conference.RolePoint, points[0], time.Hour)))
	waitFor(t, point, "point connected", connected, 10*time.Second)
	waitFor(t, point, "the point's own report with its resolution", `(() => { const r = window.hoinghi.ownStats;
	  return r && r.send_width > 0 && r.send_height > 0 && r.send_fps > 0 && r.send_kbps > 0; })()`, 8*time.Second)
	own, err := eval[map[string]any](point, `window.hoinghi.ownStats`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the point's report: %v", own)

	click(t, tech, `[data-view="list"]`)
	row := fmt.Sprintf(`#list-body tr[data-participant="%s"]`, points[0])
	waitFor(t, tech, "the point's resolution and frame rate in the list", fmt.Sprintf(`(() => {
	  const r = document.querySelector('%s');
	  const lq = (window.hoinghi.linkQuality?.participants || []).find((p) => p.id === '%s');
	  return r && lq && r.dataset.source === 'server' &&
	    r.querySelector('.list-resolution').textContent === lq.send_width + '×' + lq.send_height &&
	    r.querySelector('.list-fps').textContent === String(Math.round(lq.send_fps)) && lq.send_fps > 0 &&
	    /^\d+$/.test(r.querySelector('.list-recv').textContent) && /^\d+$/.test(r.querySelector('.list-jitter').textContent); })()`, row, points[0]), 8*time.Second)
	text, err := eval[string](tech, `document.querySelector('`+row+`').innerText`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("list row: %s", strings.Join(strings.Fields(text), " "))

	// The wall's tile shows the same figures; nothing is alerted.
	click(t, tech, `[data-view="wall"]`)
	waitFor(t, tech, "figures on the tile", fmt.Sprintf(`(() => {
	  const s = document.querySelector('.tile[data-participant="%s"] .tile-stats');
	  return s && !s.hidden && /^\d+×\d+@\d+ · ↑\d+ ↓\d+ kbps$/.test(s.textContent); })()`, points[0]), 5*time.Second)

	// The silent point is alerted, the good one is not: in the alert list,
	// once, after 10 s without media.
	waitFor(t, tech, "an alert for the point that sends nothing", fmt.Sprintf(`(() => {
	  const box = document.querySelector('#quality-alerts');
	  const li = box.querySelector('li[data-participant="%s"]');
	  return !box.hidden && li && li.dataset.reason === 'no_media' && li.textContent.startsWith('Chất lượng kém: Điểm cầu') &&
	    document.querySelector('.tile[data-participant="%s"]')?.dataset.alert === 'poor'; })()`, points[1], points[1]), 25*time.Second)
	if since := time.Since(start); since < 10*time.Second {
		t.Errorf("the alert came %v after the silent point joined, before 10 s without media", since)
	}
	shown, err := eval[map[string]any](tech, fmt.Sprintf(`(() => ({
	  items: document.querySelectorAll('#quality-alerts li[data-participant="%s"]').length,
	  notices: window.__notices.filter((n) => n.includes('Chất lượng') || n.includes('%s')),
	  messages: (window.hoinghi.qualityAlerts || []).filter((m) => m.participant_id === '%s').map((m) => m.level),
	}))()`, points[1], points[1], points[1]))
	if err != nil {
		t.Fatal(err)
	}
	if shown["items"] != 1.0 || len(shown["notices"].([]any)) != 0 || fmt.Sprint(shown["messages"]) != "[poor]" {
		t.Errorf("the alert is shown %v times in the alert list, in notices %v, from messages %v; want once, none, [poor]",
			shown["items"], shown["notices"], shown["messages"])
	}
	alerts, err := eval[string](tech, `document.querySelector('#quality-alerts').innerText`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("alerts: %s", alerts)
	screenshot(t, tech, "console-quality.png")
	if good, err := eval[bool](tech, fmt.Sprintf(`!document.querySelector('#quality-alerts li[data-participant="%s"]')`, points[0])); err != nil || !good {
		t.Errorf("the point with a good link is alerted (%v)", err)
	}

	// The list view grades both as the server does: the silent one poor.
	click(t, tech, `[data-view="list"]`)
	waitFor(t, tech, "the list grades as the server", fmt.Sprintf(`(() => {
	  const lq = window.hoinghi.linkQuality?.participants || [];
	  const grade = (id) => document.querySelector('#list-body tr[data-participant="' + id + '"] .list-quality .dot')?.dataset.quality;
	  const server = (id) => lq.find((p) => p.id === id)?.grade;
	  return grade('%s') === 'poor' && server('%s') === 'poor' && grade('%s') === server('%s') && server('%s') !== 'poor'; })()`,
		points[1], points[1], points[0], points[0], points[0]), 5*time.Second)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// watchNotices records in window.__notices the text of every notice the
// page shows from now on.
func watchNotices(t *testing.T, tab context.Context) {
	t.Helper()
	waitFor(t, tab, "the notices", `document.querySelector('#notices')`, 5*time.Second)
	if _, err := eval[bool](tab, `(() => {
	  window.__notices = [];
	  new MutationObserver((records) => {
	    for (const r of records) for (const n of r.addedNodes) window.__notices.push(n.textContent);
	  }).observe(document.querySelector('#notices'), { childList: true });
	  return true; })()`); err != nil {
		t.Fatal(err)
	}
}

// linkSample is one look at a point's link from both ends: the console's
// link_quality entry and list row, the point's own getStats.
type linkSample struct {
	ServerRTT  *float64 `json:"serverRTT"`  // rtt_ms
	Grade      string   `json:"grade"`      // the server's
	Alert      string   `json:"alert"`      // the server's
	RowGrade   string   `json:"rowGrade"`   // the list row's dot
	Banner     bool     `json:"banner"`     // the point is in the alert list
	InboundRTT *float64 `json:"inboundRTT"` // remote-inbound-rtp roundTripTime, ms
	PairRTT    *float64 `json:"pairRTT"`    // candidate pair currentRoundTripTime, ms
}

// TestBrowserLinkQualitySteady watches a point and the console for 24 s on
// loopback: the server's round trip of the point's media (rtt_ms, from the
// reception reports the point's browser sends about it) agrees with the
// round trip the point's browser measures from the server's receiver
// reports (remote-inbound-rtp) within 20 ms, and is under 50 ms; the list
// shows the grade the server gives, the alert list agrees with it, and no
// quality alert comes for the steady link.
func TestBrowserLinkQualitySteady(t *testing.T) {
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, "steady", 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)
	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token("steady", conference.RoleTechnician, "", time.Hour)))
	watchNotices(t, tech)
	point := newTab(t, browser)
	openPoint(t, point, pageURL(stack, "point", stack.Token("steady", conference.RolePoint, points[0], time.Hour)))
	waitFor(t, point, "point connected", connected, 10*time.Second)
	click(t, tech, `[data-view="list"]`)

	id := points[0]
	serverJS := fmt.Sprintf(`(() => {
	  const p = (window.hoinghi.linkQuality?.participants || []).find((p) => p.id === '%s');
	  return { serverRTT: p ? p.rtt_ms : null, grade: p?.grade || '', alert: p?.alert || '',
	    rowGrade: document.querySelector('#list-body tr[data-participant="%s"] .list-quality .dot')?.dataset.quality || '',
	    banner: !!document.querySelector('#quality-alerts li[data-participant="%s"]') }; })()`, id, id, id)
	const pointJS = `(async () => {
	  const pc = window.hoinghi.pcs.publish;
	  const out = { inboundRTT: null, pairRTT: null };
	  if (!pc) return out;
	  const report = await pc.getStats();
	  report.forEach((r) => {
	    if (r.type === 'remote-inbound-rtp' && typeof r.roundTripTime === 'number' && (out.inboundRTT === null || r.kind === 'video')) out.inboundRTT = r.roundTripTime * 1000;
	    if (r.type === 'transport' && r.selectedCandidatePairId) {
	      const pair = report.get(r.selectedCandidatePairId);
	      if (typeof pair?.currentRoundTripTime === 'number') out.pairRTT = pair.currentRoundTripTime * 1000;
	    }
	  });
	  return out; })()`
	sample := func() linkSample {
		t.Helper()
		s, err := eval[linkSample](tech, serverJS)
		if err != nil {
			t.Fatal(err)
		}
		p, err := eval[linkSample](point, pointJS)
		if err != nil {
			t.Fatal(err)
		}
		s.InboundRTT, s.PairRTT = p.InboundRTT, p.PairRTT
		return s
	}
	waitFor(t, tech, "the point graded good", fmt.Sprintf(`(window.hoinghi.linkQuality?.participants || []).find((p) => p.id === '%s')?.grade === 'good'`, id), 15*time.Second)

	ms := func(v *float64) string {
		if v == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f", *v)
	}
	compared := 0
	for i := range 12 {
		time.Sleep(2 * time.Second)
		s := sample()
		t.Logf("%2ds: server rtt %s ms, browser remote-inbound %s ms, candidate pair %s ms; grade %s, list %s, alert %q, in the alert list %v",
			2*(i+1), ms(s.ServerRTT), ms(s.InboundRTT), ms(s.PairRTT), s.Grade, s.RowGrade, s.Alert, s.Banner)
		if s.Grade == "poor" || s.Alert != "" || s.Banner {
			t.Errorf("a steady link is poor: %+v", s)
		}
		if s.RowGrade != s.Grade {
			t.Errorf("the list shows %q, the server grades %q", s.RowGrade, s.Grade)
		}
		if s.ServerRTT == nil || s.InboundRTT == nil {
			continue
		}
		compared++
		if d := *s.ServerRTT - *s.InboundRTT; d <= -20 || d >= 20 || *s.ServerRTT >= 50 {
			t.Errorf("the server's round trip %.1f ms and the browser's %.1f ms disagree (want within 20 ms, the server's under 50)", *s.ServerRTT, *s.InboundRTT)
		}
	}
	if compared < 6 {
		t.Errorf("only %d of 12 samples had both round trips", compared)
	}
	got, err := eval[map[string]any](tech, fmt.Sprintf(`({
	  messages: (window.hoinghi.qualityAlerts || []).filter((m) => m.participant_id === '%s'),
	  notices: window.__notices.filter((n) => n.includes('Chất lượng')) })`, id))
	if err != nil {
		t.Fatal(err)
	}
	if len(got["messages"].([]any)) != 0 || len(got["notices"].([]any)) != 0 {
		t.Errorf("quality alerts on a steady link: messages %v, notices %v", got["messages"], got["notices"])
	}
}
