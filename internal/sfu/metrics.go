package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
)

// Histogram is a distribution of durations in fixed buckets, as Stats
// reports it: Counts[i] observations took at most Bounds[i] seconds and
// more than Bounds[i-1]; the last count, one past the bounds, holds the
// longer ones.
type Histogram struct {
	Bounds []float64 // upper bounds in seconds, ascending
	Counts []uint64  // per bucket, not cumulative; len(Bounds)+1
	Count  uint64    // all observations
	Sum    float64   // seconds, over all observations
}

// Cumulative returns, for each bound, how many observations took at most
// that long, as Prometheus buckets count them.
func (h Histogram) Cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(h.Bounds))
	var n uint64
	for i, b := range h.Bounds {
		n += h.Counts[i]
		out[b] = n
	}
	return out
}

// joinTimeBounds are the buckets of Stats.JoinTime, in seconds.
var joinTimeBounds = []float64{0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60}

// floorSwitchBounds are the buckets of Stats.FloorSwitchTime, in seconds.
var floorSwitchBounds = []float64{0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5}

// histogram counts observations in fixed buckets without locks. It is
// written rarely (once per participant or floor switch) and read at each
// scrape.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// observe counts one duration.
func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(h.bounds) && s > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// snapshot returns the counts so far.
func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: h.bounds, Counts: make([]uint64, len(h.counts))}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
		out.Count += out.Counts[i]
	}
	out.Sum = time.Duration(h.sum.Load()).Seconds()
	return out
}

// maxRoles bounds the roles counted by role; conference.Roles has fewer.
const maxRoles = 8

// roleIndex is the index of r in conference.Roles, or -1 when r is not
// there or beyond maxRoles.
func roleIndex(r conference.Role) int {
	for i, x := range conference.Roles {
		if x == r && i < maxRoles {
			return i
		}
	}
	return -1
}

// countRole adds delta to the participants of role r.
func (c *counters) countRole(r conference.Role, delta int64) {
	if i := roleIndex(r); i >= 0 {
		c.byRole[i].Add(delta)
	}
}

// firstMedia notes the first packet of u: the first of its owner's media
// observes the owner's join time. Once per up-track, never per packet.
func (u *upTrack) firstMedia() {
	p := u.owner
	if p == nil || !p.mediaSeen.CompareAndSwap(false, true) {
		return
	}
	p.sfu.stats.joinTime.observe(time.Since(p.connected))
}

// slotStarted notes that speaker slot d wrote the first packet of a source
// at now (unix nanoseconds): the first video slot of the room to do so
// after a floor switch observes the switch time. Once per switch.
func (d *downTrack) slotStarted(now int64) {
	if d.sub == nil || d.sub.room == nil || d.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	r := d.sub.room
	at := r.switchAt.Load()
	if at == 0 || !r.switchAt.CompareAndSwap(at, 0) {
		return
	}
	d.stats.floorSwitchTime.observe(time.Duration(max(0, now-at)))
}
