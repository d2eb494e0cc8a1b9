package signal

import (
	"testing"
	"time"

	"hoinghi/internal/protocol"
)

// Samples of one interval's figures.
var (
	goodLink = alertSample{lossPercent: 0.5, rttMs: 20, media: true}
	fairLoss = alertSample{lossPercent: 5, rttMs: 20, media: true}
	fairRTT  = alertSample{rttMs: 350, media: true}
	lossy    = alertSample{lossPercent: 12, rttMs: 20, media: true}
	slow     = alertSample{rttMs: 520, media: true}
	downLoss = alertSample{recvLossPercent: 9.5, rttMs: 20, media: true}
	silent   = alertSample{rttMs: 20}
)

func TestGradeOf(t *testing.T) {
	for _, tt := range []struct {
		in     alertSample
		grade  string
		reason string
	}{
		{goodLink, protocol.GradeGood, ""},
		{alertSample{lossPercent: 2, recvLossPercent: 2, rttMs: 150, media: true}, protocol.GradeGood, ""}, // on the bounds: not over
		{alertSample{rttMs: 150.1, media: true}, protocol.GradeFair, ""},
		{alertSample{recvLossPercent: 2.1, media: true}, protocol.GradeFair, ""},
		{fairLoss, protocol.GradeFair, ""},
		{alertSample{lossPercent: 8, rttMs: 400, media: true}, protocol.GradeFair, ""},
		{lossy, protocol.GradePoor, protocol.AlertLoss},
		{downLoss, protocol.GradePoor, protocol.AlertRecvLoss},
		{slow, protocol.GradePoor, protocol.AlertRTT},
		{silent, protocol.GradePoor, protocol.AlertNoMedia},
		{alertSample{lossPercent: 50}, protocol.GradePoor, protocol.AlertNoMedia}, // no media says most
	} {
		if grade, reason, _ := gradeOf(tt.in); grade != tt.grade || reason != tt.reason {
			t.Errorf("gradeOf(%+v) = %s, %q; want %s, %q", tt.in, grade, reason, tt.grade, tt.reason)
		}
	}
}

// step is a run of n intervals in a row sampled in, and what they lead to.
type step struct {
	in      alertSample
	n       int    // intervals of qualityInterval
	changes int    // times the alert was raised or cleared during them
	poor    bool   // the alert after them
	grade   string // the grade shown after them
	reason  string // the alert's reason after them
}

// runSteps plays steps on a fake clock, one interval every qualityInterval,
// from the state s, and fails at the first that does not lead where it
// says.
func runSteps(t *testing.T, steps []step) alertState {
	t.Helper()
	var s alertState
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for i, st := range steps {
		changes := 0
		var grade string
		for range st.n {
			now = now.Add(qualityInterval)
			var changed bool
			s, grade, changed = stepAlert(s, st.in, now)
			if changed {
				changes++
			}
		}
		if changes != st.changes || s.poor != st.poor || grade != st.grade || s.reason != st.reason {
			t.Fatalf("step %d (%d × %+v): %d changes, poor %v, grade %s, reason %q; want %d, %v, %s, %q",
				i+1, st.n, st.in, changes, s.poor, grade, s.reason, st.changes, st.poor, st.grade, st.reason)
		}
	}
	return s
}

// TestStepAlert: the alert is raised once the link graded poor for
// alertHold (5 intervals of 2 s) without a break and cleared once it
// graded better for as long; until then the grade shown is fair.
func TestStepAlert(t *testing.T) {
	hold := int(alertHold / qualityInterval)
	if hold != 5 {
		t.Fatalf("the hold is %d intervals; the steps below count 5", hold)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"steady good link", []step{{goodLink, 150, 0, false, protocol.GradeGood, ""}}},
		{"steady fair link", []step{{fairLoss, 75, 0, false, protocol.GradeFair, ""}, {fairRTT, 75, 0, false, protocol.GradeFair, ""}}},
		{"poor for less than the hold shows fair", []step{
			{lossy, 4, 0, false, protocol.GradeFair, ""}, {goodLink, 1, 0, false, protocol.GradeGood, ""},
			{lossy, 4, 0, false, protocol.GradeFair, ""}, {fairLoss, 1, 0, false, protocol.GradeFair, ""},
		}},
		{"poor for the hold raises the alert", []step{
			{goodLink, 3, 0, false, protocol.GradeGood, ""},
			{lossy, 4, 0, false, protocol.GradeFair, ""}, {lossy, 1, 1, true, protocol.GradePoor, protocol.AlertLoss},
			{lossy, 20, 0, true, protocol.GradePoor, protocol.AlertLoss},
		}},
		{"long round trip", []step{{slow, 5, 1, true, protocol.GradePoor, protocol.AlertRTT}}},
		{"loss the point receives", []step{{downLoss, 5, 1, true, protocol.GradePoor, protocol.AlertRecvLoss}}},
		{"poor intervals of different kinds add up", []step{
			{lossy, 2, 0, false, protocol.GradeFair, ""}, {slow, 3, 1, true, protocol.GradePoor, protocol.AlertRTT},
		}},
		{"no media for the hold", []step{{silent, 4, 0, false, protocol.GradeFair, ""}, {silent, 1, 1, true, protocol.GradePoor, protocol.AlertNoMedia}}},
		{"media back in between", []step{
			{silent, 4, 0, false, protocol.GradeFair, ""}, {goodLink, 1, 0, false, protocol.GradeGood, ""}, {silent, 4, 0, false, protocol.GradeFair, ""},
		}},
		{"cleared after the hold of better intervals", []step{
			{lossy, 5, 1, true, protocol.GradePoor, protocol.AlertLoss},
			{goodLink, 4, 0, true, protocol.GradePoor, protocol.AlertLoss}, {goodLink, 1, 1, false, protocol.GradeGood, ""},
		}},
		{"fair intervals clear it too", []step{
			{slow, 5, 1, true, protocol.GradePoor, protocol.AlertRTT},
			{fairRTT, 4, 0, true, protocol.GradePoor, protocol.AlertRTT}, {fairRTT, 1, 1, false, protocol.GradeFair, ""},
		}},
		{"a poor interval restarts the hold of the clearing", []step{
			{lossy, 5, 1, true, protocol.GradePoor, protocol.AlertLoss},
			{goodLink, 4, 0, true, protocol.GradePoor, protocol.AlertLoss}, {lossy, 1, 0, true, protocol.GradePoor, protocol.AlertLoss},
			{goodLink, 4, 0, true, protocol.GradePoor, protocol.AlertLoss}, {goodLink, 1, 1, false, protocol.GradeGood, ""},
		}},
		{"no media recovers once media flows", []step{
			{silent, 8, 1, true, protocol.GradePoor, protocol.AlertNoMedia},
			{goodLink, 4, 0, true, protocol.GradePoor, protocol.AlertNoMedia}, {goodLink, 1, 1, false, protocol.GradeGood, ""},
		}},
		{"the reason follows a standing problem", []step{
			{lossy, 5, 1, true, protocol.GradePoor, protocol.AlertLoss}, {slow, 1, 0, true, protocol.GradePoor, protocol.AlertRTT},
			{goodLink, 2, 0, true, protocol.GradePoor, protocol.AlertRTT},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, tt.steps) })
	}
}

// TestSteadyLinkDoesNotFlip: over five minutes, a steady link whose
// figures wander about a bound (poor for up to 4 intervals, then better
// for up to 4) never flips the alert either way, whichever side it starts
// on; the issue saw 33 flips in 5 minutes.
func TestSteadyLinkDoesNotFlip(t *testing.T) {
	// RTT and loss about the poor bounds, poor runs of 1 to 4 intervals.
	pattern := []alertSample{
		{rttMs: 380, media: true}, {rttMs: 420, media: true}, {rttMs: 430, media: true}, {rttMs: 390, media: true},
		{lossPercent: 9, rttMs: 60, media: true}, {lossPercent: 7, rttMs: 60, media: true}, {lossPercent: 8.5, rttMs: 60, media: true},
		{lossPercent: 9.5, rttMs: 60, media: true}, {lossPercent: 10, rttMs: 60, media: true}, {lossPercent: 8.2, rttMs: 60, media: true},
		{lossPercent: 6, rttMs: 60, media: true}, {lossPercent: 3, rttMs: 200, media: true}, {rttMs: 410, media: true},
	}
	for _, start := range []bool{false, true} {
		now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		s := alertState{poor: start}
		if start {
			s.reason = protocol.AlertRTT
		}
		flips := 0
		for i := range int(5 * time.Minute / qualityInterval) {
			now = now.Add(qualityInterval)
			var changed bool
			var grade string
			s, grade, changed = stepAlert(s, pattern[i%len(pattern)], now)
			if changed {
				flips++
			}
			if (grade == protocol.GradePoor) != start {
				t.Fatalf("starting poor %v: interval %d shown %s", start, i, grade)
			}
		}
		if flips != 0 || s.poor != start {
			t.Errorf("starting poor %v: %d flips in 5 minutes, poor %v at the end; want none", start, flips, s.poor)
		}
	}

	// A good link with the noise of a real one: graded good throughout.
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var s alertState
	for i := range int(5 * time.Minute / qualityInterval) {
		now = now.Add(qualityInterval)
		m := alertSample{lossPercent: float64(i%4) * 0.5, rttMs: 10 + float64(i*37%90), media: true}
		var grade string
		var changed bool
		if s, grade, changed = stepAlert(s, m, now); changed || grade != protocol.GradeGood {
			t.Fatalf("good link, interval %d (%+v): grade %s, changed %v", i, m, grade, changed)
		}
	}
}

func TestStepAlertValue(t *testing.T) {
	s := runSteps(t, []step{{silent, 5, 1, true, protocol.GradePoor, protocol.AlertNoMedia}})
	if want := alertHold.Seconds(); s.value != want {
		t.Errorf("no media: value %v s, want %v", s.value, want)
	}
	s = runSteps(t, []step{{silent, 7, 1, true, protocol.GradePoor, protocol.AlertNoMedia}})
	if want := 7 * qualityInterval.Seconds(); s.value != want {
		t.Errorf("no media for 7 intervals: value %v s, want %v", s.value, want)
	}
	s = runSteps(t, []step{
		{lossy, 5, 1, true, protocol.GradePoor, protocol.AlertLoss},
		{alertSample{lossPercent: 12.5, media: true}, 1, 0, true, protocol.GradePoor, protocol.AlertLoss},
	})
	if s.value != 12.5 {
		t.Errorf("loss: value %v, want the latest, 12.5", s.value)
	}
}

func TestSampleOf(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	q := protocol.ParticipantQuality{RTTMs: 80, LossPercent: 1, Kbps: 300}
	q.RecvLossPercent, q.ClientRTTMs = f(4), f(450)
	got := sampleOf(q)
	// The browser's own round trip is shown beside, not judged.
	want := alertSample{lossPercent: 1, recvLossPercent: 4, rttMs: 80, media: true}
	if got != want {
		t.Errorf("sampleOf = %+v, want %+v", got, want)
	}
	if got := sampleOf(protocol.ParticipantQuality{RTTMs: 80}); got != (alertSample{rttMs: 80}) {
		t.Errorf("sampleOf without a report = %+v", got)
	}
}
