package estimate

import (
	"testing"
	"time"
)

// link is a bottleneck as tc's tbf makes one: packets leave at rate bits
// a second through a queue of at most limit bytes; what does not fit is
// dropped. The receiver's clock runs offset from the sender's.
type link struct {
	rate   float64
	limit  int
	offset int64
	free   int64 // when the link is free again, ns
}

// packet is one packet sent and what became of it.
type packet struct {
	sent, arrival int64
	size          int
	lost          bool
}

// send puts a packet of size bytes on the link at t.
func (l *link) send(t int64, size int) packet {
	queued := float64(max(0, l.free-t)) * l.rate / 8 / 1e9 // bytes waiting
	if int(queued)+size > l.limit {
		return packet{sent: t, size: size, lost: true}
	}
	start := max(t, l.free)
	l.free = start + int64(float64(size*8)/l.rate*1e9)
	return packet{sent: t, arrival: l.free + l.offset, size: size}
}

// probeTime is how long a probe lasts.
const probeTime = 200 * time.Millisecond

// run sends for d from start at appRate (packets of 1 200 bytes, evenly
// spaced), raised to probeRate for probeTime every probeEvery when
// probeEvery > 0, and gives e a report every 100 ms; it returns the end.
func run(e *Estimator, l *link, start int64, d time.Duration, appRate float64, probeEvery time.Duration, probeRate float64) int64 {
	const size = 1200
	var pending []packet
	next, nextReport, nextProbe := start, start+int64(100*time.Millisecond), start+int64(probeEvery)
	end := start + int64(d)
	for t := start; t < end; t += int64(time.Millisecond) {
		rate := appRate
		if probeEvery > 0 && t >= nextProbe {
			if t == nextProbe {
				e.Probe(t, t+int64(probeTime))
			}
			rate = max(appRate, probeRate)
			if t >= nextProbe+int64(probeTime) {
				nextProbe += int64(probeEvery)
			}
		}
		for next <= t {
			pending = append(pending, l.send(next, size))
			next += int64(float64(size*8) / rate * 1e9)
		}
		if t >= nextReport {
			var r Report
			for _, p := range pending {
				if p.lost {
					r.Lost++
					continue
				}
				if r.Received == 0 {
					r.FirstArrival, r.FirstSent = p.arrival, p.sent
				}
				r.Received++
				r.Bytes += p.size
				r.LastArrival, r.LastSent = p.arrival, p.sent
			}
			r.At = t
			e.Update(r)
			pending = pending[:0]
			nextReport += int64(100 * time.Millisecond)
		}
	}
	return end
}

func TestEstimator(t *testing.T) {
	const kbps = 1000.0
	tests := []struct {
		name       string
		link       float64
		app        float64
		probeEvery time.Duration
		probeRate  float64
		d          time.Duration
		atLeast    float64
		atMost     float64
	}{
		{"an app rate the link carries is no congestion", 500 * kbps, 400 * kbps, 0, 0, 10 * time.Second, 380 * kbps, InitialRate},
		{"too much for the link falls under it", 500 * kbps, 1200 * kbps, 0, 0, 3 * time.Second, 100 * kbps, 500 * kbps},
		{"probes on a wide link find room", 10_000 * kbps, 400 * kbps, time.Second, 1600 * kbps, 5 * time.Second, 1500 * kbps, 50_000 * kbps},
		{"probes on a narrow link find none", 500 * kbps, 300 * kbps, time.Second, 1600 * kbps, 10 * time.Second, 250 * kbps, 560 * kbps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Estimator
			l := &link{rate: tt.link, limit: 16_000, offset: 123456789}
			run(&e, l, 1e12, tt.d, tt.app, tt.probeEvery, tt.probeRate)
			if got := float64(e.Rate()); got < tt.atLeast || got > tt.atMost {
				t.Errorf("estimate %.0f kbit/s, want %.0f to %.0f (delivered %d, loss %.2f, queue %v)",
					got/kbps, tt.atLeast/kbps, tt.atMost/kbps, e.Delivered()/1000, e.Loss(), e.Queue())
			}
		})
	}
}

// TestEstimatorRecovers: a link limited to 500 kbit/s, then opened: the
// estimate falls under the limit within a second of too much media, and
// probes take it past 1.3 Mbit/s within a few seconds of the opening.
func TestEstimatorRecovers(t *testing.T) {
	var e Estimator
	l := &link{rate: 500_000, limit: 16_000}
	now := run(&e, l, 1e12, time.Second, 1_200_000, 0, 0)
	if e.Rate() > 500_000 || !e.Congested() && e.Loss() == 0 {
		t.Fatalf("after 1 s of 1.2 Mbit/s into 500 kbit/s: estimate %d, loss %.2f, queue %v", e.Rate(), e.Loss(), e.Queue())
	}
	now = run(&e, l, now, 5*time.Second, 150_000, time.Second, 1_600_000)
	if r := e.Rate(); r > 560_000 {
		t.Fatalf("probing a 500 kbit/s link: estimate %d", r)
	}
	l.rate = 20_000_000
	run(&e, l, now, 4*time.Second, 150_000, time.Second, 1_600_000)
	if r := e.Rate(); r < 1_300_000 {
		t.Fatalf("4 s after the link opened: estimate %d, want over 1.3 Mbit/s", r)
	}
}

func BenchmarkUpdate(b *testing.B) {
	var e Estimator
	r := Report{Received: 40, Lost: 1, Bytes: 40 * 1200, FirstArrival: 0, LastArrival: 90e6, FirstSent: 0, LastSent: 90e6}
	b.ReportAllocs()
	for i := int64(0); b.Loop(); i++ {
		r.At = i * 100e6
		r.FirstArrival, r.LastArrival = r.At, r.At+90e6
		r.FirstSent, r.LastSent = r.At, r.At+90e6
		e.Update(r)
	}
}
