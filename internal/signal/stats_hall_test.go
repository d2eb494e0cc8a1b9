package signal_test

import (
	"context"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store"
)

// TestStatsReachTheHall sends a point's own stats report and checks
// that the hall's link_quality carries its figures, that malformed and too
// frequent reports are refused, and that a point the server receives no
// media from raises a quality alert at the hall once that has held for
// alertHold, and is graded poor in the figures, while the good one is
// graded good.
func TestStatsReachTheHall(t *testing.T) { eachStore(t, testStatsReachTheHall) }

func testStatsReachTheHall(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "stats", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token("stats", conference.RoleTechnician, "", time.Hour), true)
	a := s.dial(ctx, s.token("stats", conference.RolePoint, points[0], time.Hour), true)
	s.dial(ctx, s.token("stats", conference.RolePoint, points[1], time.Hour), false) // sends no media
	joined := time.Now()

	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	report := protocol.ClientStats{
		SendKbps: f(512.34), SendWidth: i(1280), SendHeight: i(720), SendFPS: f(29.97), SendLimit: "bandwidth",
		RecvKbps: f(800), RecvLossPercent: f(0), JitterMs: f(3.21), RecvFPS: f(25),
		ClientRTTMs: f(12), ClientNetwork: "udp", ClientCandidate: "host",
	}
	if err := a.SendStats(report); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, send func() error, code string) {
		t.Helper()
		if err := send(); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-a.Errors():
			if e.Code != code || e.Request != protocol.TypeStats {
				t.Errorf("%s: error %+v, want %s for stats", what, e, code)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no error", what)
		}
	}
	refused("a second report within a second", func() error { return a.SendStats(report) }, protocol.CodeRateLimited)
	refused("a negative bitrate", func() error { return a.SendStats(protocol.ClientStats{RecvKbps: f(-5)}) }, protocol.CodeBadRequest)
	refused("an unknown network", func() error { return a.SendStats(protocol.ClientStats{ClientNetwork: "wifi"}) }, protocol.CodeBadRequest)
	refused("a fractional width", func() error { return a.SendRaw([]byte(`{"type":"stats","send_width":12.5}`)) }, protocol.CodeBadJSON)

	var got map[string]protocol.ParticipantQuality
	waitQuality := func(what string, ok func() bool) {
		t.Helper()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			got = map[string]protocol.ParticipantQuality{}
			for _, q := range hall.LinkQuality().Participants {
				got[q.ID] = q
			}
			if ok() {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: never; last link_quality %+v, alerts %+v", what, hall.LinkQuality(), hall.QualityAlerts())
			case <-tick.C:
			}
		}
	}
	waitQuality("the point's own figures in the hall's link_quality", func() bool {
		q := got[points[0]]
		return q.SendWidth != nil && q.Kbps > 0
	})
	q := got[points[0]]
	switch {
	case *q.SendWidth != 1280 || q.SendHeight == nil || *q.SendHeight != 720:
		t.Errorf("resolution %v×%v, want 1280×720", q.SendWidth, q.SendHeight)
	case q.SendFPS == nil || *q.SendFPS != 30 || q.SendKbps == nil || *q.SendKbps != 512.3:
		t.Errorf("send fps %v kbps %v, want 30 and 512.3 (rounded)", q.SendFPS, q.SendKbps)
	case q.RecvKbps == nil || *q.RecvKbps != 800 || q.RecvLossPercent == nil || *q.RecvLossPercent != 0 ||
		q.JitterMs == nil || *q.JitterMs != 3.2 || q.RecvFPS == nil || *q.RecvFPS != 25:
		t.Errorf("receive figures %+v", q.ClientStats)
	case q.ClientRTTMs == nil || *q.ClientRTTMs != 12 || q.ClientNetwork != "udp" || q.ClientCandidate != "host" || q.SendLimit != "bandwidth":
		t.Errorf("pair figures %+v", q.ClientStats)
	case q.Alert != "" || q.Grade != protocol.GradeGood:
		t.Errorf("publishing point has alert %q, grade %q; want none, good", q.Alert, q.Grade)
	}
	if q := got[points[1]]; q.SendWidth != nil || q.RecvKbps != nil || q.ClientRTTMs != nil {
		t.Errorf("point without a report has client figures: %+v", q.ClientStats)
	}
	if lq := a.LinkQuality(); len(lq.Participants) > 0 {
		t.Errorf("a point got link_quality: %+v", lq)
	}

	// The silent point raises an alert, to the hall, in the figures too,
	// after 10 s without media.
	waitQuality("a no_media alert for the silent point", func() bool {
		for _, al := range hall.QualityAlerts() {
			if al.ParticipantID == points[1] && al.Level == protocol.LevelPoor && al.Reason == protocol.AlertNoMedia && al.Value >= 10 && al.Name != "" {
				q := got[points[1]]
				return q.Alert == protocol.AlertNoMedia && q.AlertValue >= 10 && q.Grade == protocol.GradePoor
			}
		}
		return false
	})
	t.Logf("no_media alert %v after the silent point joined", time.Since(joined).Round(100*time.Millisecond))
	for _, al := range hall.QualityAlerts() {
		if al.ParticipantID != points[1] {
			t.Errorf("alert for a point with a good link: %+v", al)
		}
	}
	if n := len(a.QualityAlerts()); n > 0 {
		t.Errorf("a point got %d quality alerts", n)
	}
}
