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
// a Go client that sends no media, shows in the console's alert list.
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

	// The silent point is alerted, the good one is not.
	waitFor(t, tech, "an alert for the point that sends nothing", fmt.Sprintf(`(() => {
	  const box = document.querySelector('#quality-alerts');
	  const li = box.querySelector('li[data-participant="%s"]');
	  return !box.hidden && li && li.dataset.reason === 'no_media' && li.textContent.startsWith('Chất lượng kém: Điểm cầu') &&
	    document.querySelector('.tile[data-participant="%s"]')?.dataset.alert === 'poor'; })()`, points[1], points[1]), 10*time.Second)
	alerts, err := eval[string](tech, `document.querySelector('#quality-alerts').innerText`)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("alerts: %s", alerts)
	screenshot(t, tech, "console-quality.png")
	if good, err := eval[bool](tech, fmt.Sprintf(`!document.querySelector('#quality-alerts li[data-participant="%s"]')`, points[0])); err != nil || !good {
		t.Errorf("the point with a good link is alerted (%v)", err)
	}
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}
