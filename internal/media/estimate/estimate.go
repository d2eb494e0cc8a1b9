// Package estimate follows what one subscriber's link carries, from the
// transport-wide congestion control feedback on what the SFU sent it: how
// fast the packets arrived, how many were lost, and how much longer than
// the shortest they took (the queue building up on the way).
//
// It is a loss- and delay-based estimator of its own, simpler than
// Google's congestion control: the estimate rises on evidence (a probe:
// the SFU sent more than the estimate for a moment, and the link carried
// it without a queue or loss) and a little with time, and falls at once
// to what the link delivered when a queue builds or packets are lost. A
// conference sends a few fixed encodings, not a video call's continuous
// range, so the estimate has to tell which encoding fits, not follow the
// link to the last kilobit.
//
// An Estimator is plain state with no lock and no allocation; its owner
// serializes calls.
package estimate

import "time"

// Tuning of the estimator.
const (
	// InitialRate is the estimate before the first feedback: enough for
	// the program's middle encoding and sound on any link a point uses.
	InitialRate = 1_000_000
	// MinRate and MaxRate bound the estimate.
	MinRate = 60_000
	MaxRate = 50_000_000
	// A queue longer than overuseQueue that lasts, or more than
	// overuseLoss of the packets lost (smoothed), is congestion; under
	// underuseQueue and lowLoss the link has room.
	overuseQueue  = 80 * time.Millisecond
	underuseQueue = 30 * time.Millisecond
	overuseLoss   = 0.10
	lowLoss       = 0.02
	// decrease is the share of what the link delivered that the
	// estimate falls to on congestion, at most once a decreaseEvery.
	decrease      = 0.85
	decreaseEvery = 500 * time.Millisecond
	// growth is how fast the estimate rises by itself with room on the
	// link, a share a second, up to growthCap times what was delivered.
	growth    = 0.05
	growthCap = 1.3
	// baseWindow is the span of each of the two windows whose shortest
	// delay is the base the queue is measured from.
	baseWindow = 5 * time.Second
	// smoothing is the weight of one report in the smoothed loss and
	// delivered rate.
	smoothing = 0.25
)

// Report is what one feedback says of the packets it covers.
type Report struct {
	// Received and Lost count the packets; Bytes is the size of the
	// received ones.
	Received, Lost, Bytes int
	// FirstArrival and LastArrival are when the first and last received
	// packet arrived by the receiver's clock; FirstSent and LastSent
	// when they were sent by the sender's; all in nanoseconds.
	FirstArrival, LastArrival int64
	FirstSent, LastSent       int64
	// At is when the feedback came, by the sender's clock (unix
	// nanoseconds).
	At int64
}

// Estimator is the estimate of one link. The zero value is ready.
type Estimator struct {
	// Initial is the estimate before the first report; 0 means
	// InitialRate.
	Initial int

	rate      float64 // bits a second; 0 before the first report
	delivered float64 // smoothed
	loss      float64 // smoothed share lost
	queue     int64   // last queue delay, ns

	// The shortest one-way delay (receiver's arrival less sender's
	// send, two clocks: only its changes count) of the current window
	// and the one before.
	base      [2]int64
	baseStart int64
	haveBase  bool

	lastAt       int64
	lastDecrease int64
	congested    bool
	// queuedBefore is whether the report before showed a queue over
	// overuseQueue, queueBefore that queue.
	queuedBefore bool
	queueBefore  int64

	probe probe
}

// probe gathers the reports of the packets sent during a probe.
type probe struct {
	start, end                int64 // when the packets were sent; end 0: none under way
	bytes, received, lost     int
	firstArrival, lastArrival int64
	maxQueue                  int64
	lossBefore                float64
}

// Update takes one report.
func (e *Estimator) Update(r Report) {
	total := r.Received + r.Lost
	if total == 0 {
		return
	}
	loss := float64(r.Lost) / float64(total)
	if e.rate == 0 {
		e.rate, e.loss = float64(e.initial()), loss
		e.lastAt = r.At
	}
	e.loss += smoothing * (loss - e.loss)

	var delivered float64
	if span := r.LastArrival - r.FirstArrival; r.Received >= 2 && span >= int64(5*time.Millisecond) {
		// The span runs from the first arrival to the last: the first
		// packet's bytes came before it.
		bytes := r.Bytes - r.Bytes/r.Received
		delivered = float64(bytes*8) * 1e9 / float64(span)
		if e.delivered == 0 {
			e.delivered = delivered
		}
		e.delivered += smoothing * (delivered - e.delivered)
	}
	if r.Received > 0 {
		e.trackDelay(r.LastArrival-r.LastSent, r.At)
	}
	if e.probe.end > 0 {
		e.probeReport(r)
	}

	dt := time.Duration(max(0, r.At-e.lastAt))
	e.lastAt = r.At
	// A queue counts when it lasts (two reports in a row, the second
	// no shorter): a receiver that stalls for a moment is no congestion.
	queued := time.Duration(e.queue) > overuseQueue
	persistent := queued && e.queuedBefore && e.queue >= e.queueBefore
	e.queuedBefore, e.queueBefore = queued, e.queue
	switch {
	case persistent:
		// The queue says what the link carries: what it delivered.
		e.congested = true
		if r.At-e.lastDecrease >= int64(decreaseEvery) {
			// Under what the congested link delivered: a queue that
			// lasts several reports does not halve the estimate again
			// and again.
			if e.delivered > 0 {
				e.rate = min(e.rate, decrease*e.delivered)
			} else {
				e.rate *= decrease
			}
			e.lastDecrease = r.At
		}
	case e.loss > overuseLoss:
		// Heavy loss without a queue: a lossy link, or a policer. Back
		// off by half the share lost, as Google's congestion control
		// does; a few per cent of random loss only holds the estimate.
		e.congested = true
		if r.At-e.lastDecrease >= int64(decreaseEvery) {
			e.rate *= 1 - e.loss/2
			e.lastDecrease = r.At
		}
	case !queued && time.Duration(e.queue) < underuseQueue:
		e.congested = false
		if e.loss < lowLoss && e.probe.end == 0 {
			if limit := growthCap * e.delivered; e.rate < limit {
				e.rate = min(limit, e.rate*(1+growth*dt.Seconds()))
			}
		}
	default:
		e.congested = false // between the two: hold
	}
	e.rate = min(MaxRate, max(MinRate, e.rate))
}

// Probe says that the packets sent from start to end (unix nanoseconds)
// probe the link at a rate above the estimate: the reports of them, taken
// together, are the evidence. If the link carried them without a queue
// or more loss than before, the estimate rises to the rate it delivered
// them at; if not, it falls under it. ProbeDone tells when they are in.
func (e *Estimator) Probe(start, end int64) {
	e.probe = probe{start: start, end: end, firstArrival: -1, lossBefore: e.loss}
}

// ProbeDone reports whether no probe is under way: the last one's
// reports are all in.
func (e *Estimator) ProbeDone() bool { return e.probe.end == 0 }

// probeReport gathers one report into the probe under way, and concludes
// it at the first report of packets sent after it.
func (e *Estimator) probeReport(r Report) {
	pr := &e.probe
	if r.Received+r.Lost > 0 && r.LastSent >= pr.start && r.FirstSent < pr.end {
		pr.received += r.Received
		pr.lost += r.Lost
		pr.maxQueue = max(pr.maxQueue, e.queue)
		// The rate counts only reports of packets all sent during the
		// probe: one that began before it would stretch the span with
		// media alone.
		if r.Received > 0 && r.FirstSent >= pr.start && r.LastSent <= pr.end {
			pr.bytes += r.Bytes
			if pr.firstArrival < 0 || r.FirstArrival < pr.firstArrival {
				pr.firstArrival = r.FirstArrival
				pr.bytes -= r.Bytes / r.Received // it came before the span
			}
			pr.lastArrival = max(pr.lastArrival, r.LastArrival)
		}
	}
	if r.FirstSent < pr.end {
		return
	}
	defer func() { e.probe = probe{} }()
	span := pr.lastArrival - pr.firstArrival
	if pr.firstArrival < 0 || pr.received < 4 || span < int64(20*time.Millisecond) {
		return
	}
	delivered := float64(pr.bytes*8) * 1e9 / float64(span)
	loss := float64(pr.lost) / float64(pr.received+pr.lost)
	queued := time.Duration(pr.maxQueue) >= underuseQueue
	switch {
	case !queued && loss <= 1.5*pr.lossBefore+lowLoss:
		e.rate = max(e.rate, delivered) // carried: no queue, no more loss than the link's own
	case queued:
		e.rate = min(e.rate, decrease*delivered) // the probe filled the link
	}
	// More loss without a queue: a policer, or chance on a lossy link;
	// the estimate holds.
	e.rate = min(MaxRate, max(MinRate, e.rate))
}

// trackDelay keeps the base delay and the queue over it, from one delay
// measured at at.
func (e *Estimator) trackDelay(delay, at int64) {
	if !e.haveBase {
		e.base = [2]int64{delay, delay}
		e.baseStart, e.haveBase = at, true
	}
	if at-e.baseStart >= int64(baseWindow) {
		e.base[0], e.base[1] = e.base[1], delay
		e.baseStart = at
	}
	e.base[1] = min(e.base[1], delay)
	e.queue = max(0, delay-min(e.base[0], e.base[1]))
}

// Rate is the estimate, in bits a second; Initial before any report.
func (e *Estimator) Rate() int {
	if e.rate == 0 {
		return e.initial()
	}
	return int(e.rate)
}

// initial is the estimate before any report.
func (e *Estimator) initial() int {
	if e.Initial > 0 {
		return e.Initial
	}
	return InitialRate
}

// Delivered is the smoothed rate the link delivered, bits a second; 0
// before it was measured.
func (e *Estimator) Delivered() int { return int(e.delivered) }

// Loss is the smoothed share of packets lost.
func (e *Estimator) Loss() float64 { return e.loss }

// Congested reports whether the last report showed a queue or loss.
func (e *Estimator) Congested() bool { return e.congested }

// Queue is the queue delay the last report showed.
func (e *Estimator) Queue() time.Duration { return time.Duration(e.queue) }
