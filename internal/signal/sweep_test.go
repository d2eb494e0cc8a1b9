package signal

import (
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store/storetest"
)

// TestSweepForgetsEmptyConferences: what the hub keeps of a conference
// goes once it has been empty for forgetAfter and its timers are done.
func TestSweepForgetsEmptyConferences(t *testing.T) {
	h := NewHub(Deps{Store: storetest.Embedded(t)})
	defer h.Shutdown(t.Context())
	t0 := time.Now()
	keep := func(conf string) {
		h.floorOf(conference.Conference{ID: conf})
		h.attendanceOf(conf)
		h.setMuted(conf, "p", true)
		h.mu.Lock()
		h.empty[conf] = t0
		h.mu.Unlock()
	}
	kept := func(conf string) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.floors[conf] != nil || h.atts[conf] != nil || h.muted[conf] != nil
	}
	keep("a")
	keep("b")
	// b has a point in its grace period.
	h.floorOf(conference.Conference{ID: "b", GracePeriod: conference.Seconds(time.Hour)}).pointLeft("p")

	h.sweep(t0.Add(forgetAfter / 2))
	if !kept("a") || !kept("b") {
		t.Fatal("forgotten before forgetAfter")
	}
	h.sweep(t0.Add(forgetAfter + time.Second))
	if kept("a") {
		t.Error("an empty, idle conference is still kept after forgetAfter")
	}
	if !kept("b") {
		t.Error("a conference with a grace period running was forgotten")
	}
	h.floorOf(conference.Conference{ID: "b"}).pointBack("p")
	h.sweep(t0.Add(forgetAfter + 2*time.Second))
	if kept("b") {
		t.Error("still kept once its timers were done")
	}
}
