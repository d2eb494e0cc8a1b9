// Package rewrite maps the RTP sequence numbers and timestamps of a series
// of sources (one publisher's stream, then another's after a switch, or
// the same after a pause) onto one continuous stream, as a subscriber of a
// speaker slot must see it: no gap or jump in sequence numbers at a
// switch, and timestamps that advance with the time that passed. For VP8
// it does the same for the picture ids and TL0PICIDX of the payload
// descriptor.
//
// Within one source, the output keeps the source's spacing shifted by
// fixed offsets, so that a loss stays a gap the subscriber can ask to be
// resent (NACK), and a resent packet maps to the same output number. A
// packet the owner drops on purpose (Drop: a picture of a temporal layer
// the subscriber does not take) leaves no gap: the numbers after it shift
// down, and the rewriter keeps the last shifts, so that a resent packet
// still maps to the numbers it first went out with.
//
// A Rewriter is plain state with no lock; its owner serializes calls.
package rewrite

// maxSpan bounds how far back from the highest packet of a source a
// packet is still forwarded and resent: half the sequence space.
const maxSpan = 0x7fff

// historyLen is how many shifts of a source's offsets (runs of dropped
// packets) the rewriter remembers for resending: about two seconds of a
// stream that drops every other picture at 30 pictures a second.
const historyLen = 32

// Rewriter holds the mapping of the current source onto the output. The
// zero value is ready; set ClockRate before the first packet.
type Rewriter struct {
	// ClockRate is the RTP clock of the stream, in ticks a second; a new
	// source's timestamps continue from the last packet out advanced by
	// the time that passed at this rate.
	ClockRate uint32

	started bool // offsets are set for the current source
	// cur is what maps the newest packets of the current source; base
	// what mapped its first, before any shift.
	cur, base  Offsets
	picStarted bool   // the picture offsets of the current source are set
	lastSeq    uint16 // highest source sequence number forwarded or dropped
	span       uint16 // source sequence numbers from the start to lastSeq, at most maxSpan
	lastSrcPic uint16 // newest source picture id seen
	srcPicSeen bool
	lastOut    last // sent is set once a packet has gone out
	lastPic    lastPicture
	// prevOut and prevPic are lastOut and lastPic as they were before
	// the packet rewritten last, which Forget restores.
	prevOut last
	prevPic lastPicture
	// shifts are the changes of offsets within the current source,
	// allocated at its first Drop.
	shifts *history
}

// Picture is the numbering of a VP8 packet's picture, as its payload
// descriptor carries it; the zero value is a packet without.
type Picture struct {
	ID     uint16 // the picture id
	Bits   uint8  // the width of ID: 7 or 15, 0 when absent
	TL0    uint8  // TL0PICIDX
	HasTL0 bool
}

// Offsets is how the numbers of one source packet map onto the output.
type Offsets struct {
	seq uint16
	ts  uint32
	pic uint16
	tl0 uint8
}

// Timestamp returns the output timestamp of source timestamp ts.
func (o Offsets) Timestamp(ts uint32) uint32 { return ts + o.ts }

// Picture returns the output numbering of source picture p.
func (o Offsets) Picture(p Picture) Picture {
	if p.Bits != 0 {
		p.ID = (p.ID + o.pic) & mask(p.Bits)
	}
	if p.HasTL0 {
		p.TL0 += o.tl0
	}
	return p
}

// Packet is one rewritten packet.
type Packet struct {
	Seq       uint16  // output sequence number
	Timestamp uint32  // output timestamp
	Picture   Picture // output picture numbering
	// First is set on the first packet of a source (or of the same
	// source after Restart).
	First bool
}

// last is the last packet out, as Forget restores it.
type last struct {
	sent bool
	seq  uint16
	ts   uint32
	at   int64
}

// lastPicture is the numbering of the newest picture out.
type lastPicture struct {
	id      uint16
	idSent  bool
	tl0     uint8
	tl0Sent bool
}

// shift is one change of offsets within a source: from source sequence
// number start on, the packets map with offsets seq and pic.
type shift struct {
	start uint16
	seq   uint16
	pic   uint16
}

// history is a ring of the newest shifts of a source.
type history struct {
	ring [historyLen]shift
	n    int // shifts held, at most historyLen
	head int // index of the newest
	lost bool
}

func (h *history) push(s shift) {
	if h.n > 0 && h.ring[h.head].start == s.start-1 && h.ring[h.head].seq == s.seq+1 {
		h.ring[h.head] = s // the packet before was dropped too: one run
		return
	}
	h.head = (h.head + 1) % historyLen
	h.ring[h.head] = s
	if h.n < historyLen {
		h.n++
	} else {
		h.lost = true
	}
}

// Restart makes the next packet start a new source: it continues right
// after the last packet out.
func (r *Rewriter) Restart() { r.started = false }

// Started reports whether a source is mapped (a packet was rewritten since
// the last Restart).
func (r *Rewriter) Started() bool { return r.started }

// Rewrite maps the packet with sequence number seq, timestamp ts and
// picture pic of the current source, arrived at now (unix nanoseconds),
// and notes it as the last packet out when it is the newest. ok is false
// for a packet older than where the source started, which must not be
// sent.
func (r *Rewriter) Rewrite(seq uint16, ts uint32, pic Picture, now int64) (p Packet, ok bool) {
	if !r.started {
		r.start(seq, ts, now)
		p.First = true
	}
	if pic.Bits != 0 && !r.picStarted {
		r.startPictures(pic)
	}
	o := &r.cur
	diff := int16(seq - r.lastSeq)
	if diff > 0 {
		r.lastSeq = seq
		r.span = min(r.span+uint16(diff), maxSpan)
	} else if uint16(-diff) > r.span {
		return Packet{}, false
	} else {
		old, found := r.offsetsAt(seq)
		if !found {
			return Packet{}, false
		}
		o = &old
	}
	p.Seq, p.Timestamp = seq+o.seq, ts+o.ts
	r.prevOut, r.prevPic = r.lastOut, r.lastPic
	if !r.lastOut.sent || int16(p.Seq-r.lastOut.seq) > 0 {
		r.lastOut.seq, r.lastOut.ts, r.lastOut.at, r.lastOut.sent = p.Seq, p.Timestamp, now, true
	}
	if pic != (Picture{}) {
		p.Picture = o.Picture(pic) // as the source numbers it unless it has offsets
		if pic.Bits != 0 {
			r.notePicture(pic, p.Picture)
		}
	}
	return p, true
}

// start maps a new source whose first packet is seq, of timestamp ts,
// arrived at now.
func (r *Rewriter) start(seq uint16, ts uint32, now int64) {
	r.started = true
	r.lastSeq = seq
	r.span = 0
	r.picStarted, r.srcPicSeen = false, false
	if r.shifts != nil {
		*r.shifts = history{}
	}
	r.cur = Offsets{}
	if r.lastOut.sent {
		r.cur.seq = r.lastOut.seq + 1 - seq
		ticks := uint32(max(1, (now-r.lastOut.at)*int64(r.ClockRate)/1e9))
		r.cur.ts = r.lastOut.ts + ticks - ts
	}
	r.base = r.cur
}

// startPictures sets the picture offsets of the current source from its
// first picture pic: it continues right after the last picture out.
func (r *Rewriter) startPictures(pic Picture) {
	r.picStarted = true
	if r.lastPic.idSent {
		r.cur.pic = r.lastPic.id + 1 - pic.ID
	}
	if pic.HasTL0 && r.lastPic.tl0Sent {
		r.cur.tl0 = r.lastPic.tl0 + 1 - pic.TL0
	}
	r.base.pic, r.base.tl0 = r.cur.pic, r.cur.tl0
}

// notePicture notes the source picture src, which went out as out: the
// newest seen, and the newest out.
func (r *Rewriter) notePicture(src, out Picture) {
	if !r.srcPicSeen || newer(src.ID, r.lastSrcPic, src.Bits) {
		r.lastSrcPic, r.srcPicSeen = src.ID, true
	}
	if !r.lastPic.idSent || newer(out.ID, r.lastPic.id, src.Bits) {
		r.lastPic.id, r.lastPic.idSent = out.ID, true
		if out.HasTL0 {
			r.lastPic.tl0, r.lastPic.tl0Sent = out.TL0, true
		}
	}
}

// Drop notes that the packet seq of the current source, of picture pic,
// is not forwarded: the packets after it take its number, and the
// pictures after a dropped picture its id. A packet older than the newest
// seen, or one before any source started, is left as it is: its number
// stays a gap.
func (r *Rewriter) Drop(seq uint16, pic Picture) {
	if !r.started {
		return
	}
	diff := int16(seq - r.lastSeq)
	if diff <= 0 {
		return
	}
	r.lastSeq = seq
	r.span = min(r.span+uint16(diff), maxSpan)
	r.cur.seq--
	if pic.Bits != 0 && (!r.srcPicSeen || newer(pic.ID, r.lastSrcPic, pic.Bits)) {
		r.lastSrcPic, r.srcPicSeen = pic.ID, true
		if r.picStarted {
			r.cur.pic--
		}
	}
	if r.shifts == nil {
		r.shifts = new(history)
	}
	r.shifts.push(shift{start: seq + 1, seq: r.cur.seq, pic: r.cur.pic})
}

// offsetsAt returns the offsets that map source packet seq, within the
// span of the current source; ok is false when its shift is forgotten.
func (r *Rewriter) offsetsAt(seq uint16) (Offsets, bool) {
	m := Mapping{ok: r.started, base: r.base, cur: r.cur, lastSeq: r.lastSeq, span: r.span}
	if r.shifts != nil {
		m.shifts = *r.shifts
	}
	_, o, ok := m.find(seq, false)
	return o, ok
}

// Forget undoes the note of p as the last packet out, when p could not be
// sent and nothing was rewritten after it (p is the packet Rewrite
// returned last), so that the next source
// continues from the packet before it, and its pictures after the
// picture before it.
func (r *Rewriter) Forget(p Packet) {
	if r.lastOut.seq != p.Seq {
		return // another is the newest out by now
	}
	r.lastOut, r.lastPic = r.prevOut, r.prevPic
}

// LastOut returns the timestamp of the newest packet out and when it was
// rewritten (unix nanoseconds); ok is false before the first.
func (r *Rewriter) LastOut() (ts uint32, at int64, ok bool) {
	return r.lastOut.ts, r.lastOut.at, r.lastOut.sent
}

// LastSeq returns the sequence number of the newest packet out; ok is
// false before the first.
func (r *Rewriter) LastSeq() (seq uint16, ok bool) {
	return r.lastOut.seq, r.lastOut.sent
}

// Pad takes the next output sequence number for a packet of padding
// only, which carries the timestamp of the last packet out (0 and 1 on a
// stream that has carried nothing yet): a probe of the subscriber's link
// while no source is forwarded. The next source continues after it.
func (r *Rewriter) Pad() (seq uint16, ts uint32) {
	r.lastOut.seq++
	r.lastOut.sent = true
	r.started = false // a source must not map onto the number taken
	return r.lastOut.seq, r.lastOut.ts
}

// AtStart reports whether the newest packet rewritten is the first of its
// source: nothing after it went out yet.
func (r *Rewriter) AtStart() bool { return r.span == 0 }

// Mapping is the map of the current source onto the output, for resending
// packets outside the owner's lock.
type Mapping struct {
	ok        bool
	base, cur Offsets
	lastSeq   uint16
	span      uint16
	shifts    history
}

// Mapping returns the map of the current source; it maps nothing before
// the first packet of a source.
func (r *Rewriter) Mapping() Mapping {
	m := Mapping{ok: r.started, base: r.base, cur: r.cur, lastSeq: r.lastSeq, span: r.span}
	if r.shifts != nil {
		m.shifts = *r.shifts
	}
	return m
}

// Source returns the source sequence number that became output sequence
// number seq, and the offsets it went out with; ok is false for a number
// the current source did not send (from before it started, or not yet,
// or from a shift too old to be remembered).
func (m *Mapping) Source(seq uint16) (src uint16, o Offsets, ok bool) {
	return m.find(seq, true)
}

// find returns the offsets of the packet with number n: an output number
// when out is set, a source number otherwise, and its source number.
func (m *Mapping) find(n uint16, out bool) (src uint16, o Offsets, ok bool) {
	if !m.ok {
		return 0, Offsets{}, false
	}
	inSpan := func(s uint16) bool {
		back := m.lastSeq - s
		return int16(back) >= 0 && back <= m.span
	}
	// end is the first source number after the packets a shift maps: the
	// newest maps up to lastSeq, an older one up to the run of dropped
	// packets that starts the next.
	end := m.lastSeq + 1
	h := &m.shifts
	for k := 0; k < h.n; k++ {
		s := h.ring[(h.head-k+historyLen)%historyLen]
		if k > 0 {
			next := h.ring[(h.head-k+1+historyLen)%historyLen]
			end = next.start - (s.seq - next.seq)
		}
		src = n
		if out {
			src = n - s.seq
		}
		if int16(src-s.start) >= 0 && int16(end-src) > 0 {
			if !inSpan(src) {
				return 0, Offsets{}, false
			}
			o = m.cur
			o.seq, o.pic = s.seq, s.pic
			return src, o, true
		}
	}
	if h.lost {
		return 0, Offsets{}, false
	}
	if h.n > 0 {
		oldest := h.ring[(h.head-h.n+1+historyLen)%historyLen]
		end = oldest.start - (m.base.seq - oldest.seq)
	}
	src = n
	if out {
		src = n - m.base.seq
	}
	if int16(end-src) <= 0 || !inSpan(src) {
		return 0, Offsets{}, false
	}
	return src, m.base, true
}

// newer reports whether picture id a comes after b in the id space of the
// given width.
func newer(a, b uint16, bits uint8) bool {
	d := (a - b) & mask(bits)
	return d != 0 && d <= mask(bits)/2
}

// mask is the mask of a picture id of the given width.
func mask(bits uint8) uint16 {
	if bits == 7 {
		return 0x7f
	}
	return 0x7fff
}
