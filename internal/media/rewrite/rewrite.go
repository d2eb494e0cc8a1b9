// Package rewrite maps the RTP sequence numbers and timestamps of a series
// of sources (one publisher's stream, then another's after a switch, or
// the same after a pause) onto one continuous stream, as a subscriber of a
// speaker slot must see it: no gap or jump in sequence numbers at a
// switch, and timestamps that advance with the time that passed.
//
// Within one source, the output keeps the source's spacing shifted by
// fixed offsets, so that a loss stays a gap the subscriber can ask to be
// resent (NACK), and a resent packet maps to the same output number.
//
// A Rewriter is plain state with no lock; its owner serializes calls.
package rewrite

// maxSpan bounds how far back from the highest packet of a source a
// packet is still forwarded and resent: half the sequence space.
const maxSpan = 0x7fff

// Rewriter holds the mapping of the current source onto the output. The
// zero value is ready; set ClockRate before the first packet.
type Rewriter struct {
	// ClockRate is the RTP clock of the stream, in ticks a second; a new
	// source's timestamps continue from the last packet out advanced by
	// the time that passed at this rate.
	ClockRate uint32

	started    bool   // offsets are set for the current source
	sent       bool   // a packet has gone out
	seqOffset  uint16 // added to the source's sequence numbers
	tsOffset   uint32 // added to the source's timestamps
	lastSeq    uint16 // highest source sequence number forwarded
	span       uint16 // source sequence numbers from the start to lastSeq, at most maxSpan
	lastOutSeq uint16
	lastOutTS  uint32
	lastOutAt  int64 // unix nanoseconds of the packet that carried lastOutTS
}

// Packet is one rewritten packet.
type Packet struct {
	Seq       uint16 // output sequence number
	Timestamp uint32 // output timestamp
	// First is set on the first packet of a source (or of the same
	// source after Restart).
	First bool
	// undo is what Forget restores.
	undo last
}

// last is the last packet out, as Forget restores it.
type last struct {
	sent bool
	seq  uint16
	ts   uint32
	at   int64
}

// Restart makes the next packet start a new source: it continues right
// after the last packet out.
func (r *Rewriter) Restart() { r.started = false }

// Started reports whether a source is mapped (a packet was rewritten since
// the last Restart).
func (r *Rewriter) Started() bool { return r.started }

// Rewrite maps the packet with sequence number seq and timestamp ts of the
// current source, arrived at now (unix nanoseconds), and notes it as the
// last packet out when it is the newest. ok is false for a packet older
// than where the source started, which must not be sent.
func (r *Rewriter) Rewrite(seq uint16, ts uint32, now int64) (p Packet, ok bool) {
	if !r.started {
		r.started = true
		r.lastSeq = seq
		r.span = 0
		if r.sent {
			r.seqOffset = r.lastOutSeq + 1 - seq
			ticks := uint32(max(1, (now-r.lastOutAt)*int64(r.ClockRate)/1e9))
			r.tsOffset = r.lastOutTS + ticks - ts
		}
		p.First = true
	}
	if diff := int16(seq - r.lastSeq); diff > 0 {
		r.lastSeq = seq
		r.span = min(r.span+uint16(diff), maxSpan)
	} else if uint16(-diff) > r.span {
		return Packet{}, false
	}
	p.Seq, p.Timestamp = seq+r.seqOffset, ts+r.tsOffset
	p.undo = last{r.sent, r.lastOutSeq, r.lastOutTS, r.lastOutAt}
	if !r.sent || int16(p.Seq-r.lastOutSeq) > 0 {
		r.lastOutSeq, r.lastOutTS, r.lastOutAt = p.Seq, p.Timestamp, now
	}
	r.sent = true
	return p, true
}

// Forget undoes the note of p as the last packet out, when p could not be
// sent and nothing was rewritten after it, so that the next source
// continues from the packet before it.
func (r *Rewriter) Forget(p Packet) {
	if r.lastOutSeq != p.Seq {
		return
	}
	r.sent, r.lastOutSeq, r.lastOutTS, r.lastOutAt = p.undo.sent, p.undo.seq, p.undo.ts, p.undo.at
}

// LastOut returns the timestamp of the newest packet out and when it was
// rewritten (unix nanoseconds); ok is false before the first.
func (r *Rewriter) LastOut() (ts uint32, at int64, ok bool) {
	return r.lastOutTS, r.lastOutAt, r.sent
}

// LastSeq returns the sequence number of the newest packet out; ok is
// false before the first.
func (r *Rewriter) LastSeq() (seq uint16, ok bool) {
	return r.lastOutSeq, r.sent
}

// Pad takes the next output sequence number for a packet of padding
// only, which carries the timestamp of the last packet out (0 and 1 on a
// stream that has carried nothing yet): a probe of the subscriber's link
// while no source is forwarded. The next source continues after it.
func (r *Rewriter) Pad() (seq uint16, ts uint32) {
	r.lastOutSeq++
	r.sent = true
	r.started = false // a source must not map onto the number taken
	return r.lastOutSeq, r.lastOutTS
}

// AtStart reports whether the newest packet rewritten is the first of its
// source: nothing after it went out yet.
func (r *Rewriter) AtStart() bool { return r.span == 0 }

// Mapping is the map of the current source onto the output, for resending
// packets outside the owner's lock.
type Mapping struct {
	ok        bool
	seqOffset uint16
	tsOffset  uint32
	lastSeq   uint16
	span      uint16
}

// Mapping returns the map of the current source; it maps nothing before
// the first packet of a source.
func (r *Rewriter) Mapping() Mapping {
	return Mapping{ok: r.started, seqOffset: r.seqOffset, tsOffset: r.tsOffset, lastSeq: r.lastSeq, span: r.span}
}

// Source returns the source sequence number that became output sequence
// number seq; ok is false for a number the current source did not send
// (from before it started, or not yet).
func (m Mapping) Source(seq uint16) (src uint16, ok bool) {
	if !m.ok {
		return 0, false
	}
	src = seq - m.seqOffset
	if back := m.lastSeq - src; int16(back) < 0 || back > m.span {
		return 0, false
	}
	return src, true
}

// Timestamp returns the output timestamp of source timestamp ts.
func (m Mapping) Timestamp(ts uint32) uint32 { return ts + m.tsOffset }
