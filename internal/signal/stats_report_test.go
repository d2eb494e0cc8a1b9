package signal

import (
	"testing"

	"hoinghi/internal/protocol"
)

func TestStepAlert(t *testing.T) {
	good := alertSample{lossPercent: 0.5, rttMs: 20, media: true}
	lossy := alertSample{lossPercent: 12, rttMs: 20, media: true}
	edgy := alertSample{lossPercent: 5, rttMs: 20, media: true} // between the clear and the alert bound
	slow := alertSample{rttMs: 520, media: true}
	farRTT := alertSample{rttMs: 350, media: true} // between the clear and the alert bound
	silent := alertSample{rttMs: 20}
	downLoss := alertSample{recvLossPercent: 9.5, rttMs: 20, media: true}

	type step struct {
		in     alertSample
		poor   bool   // the level after the step
		change bool   // the step changed the level
		reason string // the reason after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"steady good link", []step{{good, false, false, ""}, {good, false, false, ""}, {good, false, false, ""}}},
		{"one lossy interval is not enough", []step{{lossy, false, false, ""}, {good, false, false, ""}, {lossy, false, false, ""}, {good, false, false, ""}}},
		{"two lossy intervals raise the alert", []step{{good, false, false, ""}, {lossy, false, false, ""}, {lossy, true, true, protocol.AlertLoss}, {lossy, true, false, protocol.AlertLoss}}},
		{"long round trip", []step{{slow, false, false, ""}, {slow, true, true, protocol.AlertRTT}}},
		{"loss the point receives", []step{{downLoss, false, false, ""}, {downLoss, true, true, protocol.AlertRecvLoss}}},
		{"bad intervals of different kinds add up", []step{{lossy, false, false, ""}, {slow, true, true, protocol.AlertRTT}}},
		{"no media for three intervals", []step{{silent, false, false, ""}, {silent, false, false, ""}, {silent, true, true, protocol.AlertNoMedia}}},
		{"media back in between", []step{{silent, false, false, ""}, {silent, false, false, ""}, {good, false, false, ""}, {silent, false, false, ""}}},
		{"recovers after three clean intervals", []step{
			{lossy, false, false, ""}, {lossy, true, true, protocol.AlertLoss},
			{good, true, false, protocol.AlertLoss}, {good, true, false, protocol.AlertLoss}, {good, false, true, ""},
		}},
		{"stays poor on the edge (hysteresis)", []step{
			{lossy, false, false, ""}, {lossy, true, true, protocol.AlertLoss},
			{edgy, true, false, protocol.AlertLoss}, {farRTT, true, false, protocol.AlertLoss}, {edgy, true, false, protocol.AlertLoss},
			{good, true, false, protocol.AlertLoss}, {edgy, true, false, protocol.AlertLoss},
			{good, true, false, protocol.AlertLoss}, {good, true, false, protocol.AlertLoss}, {good, false, true, ""},
		}},
		{"an edge interval does not raise it", []step{{edgy, false, false, ""}, {edgy, false, false, ""}, {farRTT, false, false, ""}, {farRTT, false, false, ""}}},
		{"no media recovers once media flows cleanly", []step{
			{silent, false, false, ""}, {silent, false, false, ""}, {silent, true, true, protocol.AlertNoMedia}, {silent, true, false, protocol.AlertNoMedia},
			{good, true, false, protocol.AlertNoMedia}, {good, true, false, protocol.AlertNoMedia}, {good, false, true, ""},
		}},
		{"the reason follows a standing problem", []step{{lossy, false, false, ""}, {lossy, true, true, protocol.AlertLoss}, {slow, true, false, protocol.AlertRTT}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s alertState
			for i, st := range tt.steps {
				var changed bool
				s, changed = stepAlert(s, st.in)
				if s.poor != st.poor || changed != st.change || s.reason != st.reason {
					t.Fatalf("step %d (%+v): poor %v, changed %v, reason %q; want %v, %v, %q",
						i+1, st.in, s.poor, changed, s.reason, st.poor, st.change, st.reason)
				}
			}
		})
	}
}

func TestStepAlertValue(t *testing.T) {
	var s alertState
	for range alertSilentIntervals {
		s, _ = stepAlert(s, alertSample{})
	}
	if want := float64(alertSilentIntervals) * qualityInterval.Seconds(); s.value != want || s.value < 5 {
		t.Errorf("no media: value %v s, want %v (at least 5)", s.value, want)
	}
	s = alertState{}
	s, _ = stepAlert(s, alertSample{lossPercent: 10, media: true})
	s, _ = stepAlert(s, alertSample{lossPercent: 12.5, media: true})
	if s.value != 12.5 {
		t.Errorf("loss: value %v, want the latest, 12.5", s.value)
	}
}

func TestSampleOf(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	q := protocol.ParticipantQuality{RTTMs: 80, LossPercent: 1, Kbps: 300}
	q.RecvLossPercent, q.ClientRTTMs = f(4), f(450)
	got := sampleOf(q)
	want := alertSample{lossPercent: 1, recvLossPercent: 4, rttMs: 450, media: true}
	if got != want {
		t.Errorf("sampleOf = %+v, want %+v", got, want)
	}
	if got := sampleOf(protocol.ParticipantQuality{RTTMs: 80}); got != (alertSample{rttMs: 80}) {
		t.Errorf("sampleOf without a report = %+v", got)
	}
}
