package sfu

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/layer"
	"hoinghi/internal/media/rewrite"
	"hoinghi/internal/media/vp8"
)

// binding is what a down-track learns when its PeerConnection binds it.
type binding struct {
	ssrc        uint32
	payloadType uint8
	// h264Type is the payload type of H.264 on a slot that may carry it
	// (the program's video), 0 when the subscriber did not negotiate it.
	h264Type uint8
	// twccExt is the id of the transport-wide sequence number
	// extension, 0 when it was not negotiated.
	twccExt uint8
	stream  webrtc.TrackLocalWriter
}

// downTrack is our webrtc.TrackLocal: one stream sent to one subscriber.
// A plain down-track carries one up-track; a speaker slot carries whoever
// holds the floor and switches between sources on a keyframe. Either way
// the subscriber sees one SSRC with continuous sequence numbers and
// timestamps, across switches and pauses.
type downTrack struct {
	sub      *Participant
	stats    *counters
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecParameters // the source's, or the slot's preferred one
	streamID string
	trackID  string
	slot     bool
	// h264 is set for a slot that may carry H.264 beside its VP8 (the
	// program's video): it takes an H.264 source once its subscriber
	// negotiated H.264 (carriesH264).
	h264 bool

	bound  atomic.Pointer[binding]
	rebase atomic.Bool // continue from the next packet as from a new source
	// writing counts the packets rewritten and not yet written.
	writing atomic.Int32
	// lastPLI is when the subscriber's last PLI of d that counted came
	// (unix nanoseconds).
	lastPLI atomic.Int64
	closed  atomic.Bool
	// rtt is the round trip (nanoseconds) of the subscriber's last
	// reception report of d that named one of our sender reports, rttAt
	// when it came (unix nanoseconds; 0: none yet). Only the reader of
	// d's RTCP writes them (its goroutine through pion, or the direct
	// path's sink under its lock); Quality reads them.
	rtt, rttAt atomic.Int64

	// need is the highest encoding of a simulcast source the subscriber
	// needs (needLow for a wall tile, needHigh otherwise); the link may
	// allow less.
	need int

	// switchMu serializes the changes of source and encoding, and the
	// attachments to the up-tracks that follow them (tidy); it is taken
	// before mu and never on the packet path.
	switchMu sync.Mutex
	attached []*upTrack // the up-tracks d is attached to; under switchMu

	// mu guards the source and the rewrite state. One goroutine at a
	// time writes (the source's reader or a writer of the pool), so it is
	// contended only by a switch or a NACK.
	mu sync.Mutex
	// pub is the track d shows (for simulcast, the head of its
	// encodings), nil for none; src is the encoding d forwards, nil
	// until the first keyframe of one; next is the encoding d goes over
	// to at its next keyframe, forwarding src until then, nil for none.
	pub, src, next *upTrack
	countedIn      *upTrack // the up-track whose waiting count includes d
	waitingKey     bool     // src lost its first keyframe: wait for another
	rw             rewrite.Rewriter
	// tWant is the highest temporal layer of src the subscriber's link
	// allows (layer.AllTemporal: all of them); temporal filters src's
	// pictures by it.
	tWant    int
	temporal layer.Temporal
	sent     sentCounters // for the sender reports
	// writer is the index, in the SFU's writer pool, of the writer of
	// the subscriber's down-tracks.
	writer int
}

// newDownTrack returns a down-track of up for sub, attached to up.
func newDownTrack(up *upTrack, sub *Participant) *downTrack {
	d := &downTrack{sub: sub, stats: up.stats, kind: up.kind, codec: up.codec, streamID: up.streamID, trackID: up.trackID,
		writer: sub.writerIndex(), need: needHigh, tWant: layer.AllTemporal}
	d.rw.ClockRate = up.codec.ClockRate
	d.stats.downTracks.Add(1)
	d.switchSource(up)
	return d
}

// newSpeakerSlot returns an empty slot of kind for sub, a track of stream
// streamID (a speaker slot or a wall slot) that needs the encoding need
// of a simulcast source; switchSource fills it.
func newSpeakerSlot(sub *Participant, stats *counters, codec webrtc.RTPCodecParameters, kind webrtc.RTPCodecType, streamID, trackID string, need int) *downTrack {
	stats.downTracks.Add(1)
	d := &downTrack{sub: sub, stats: stats, kind: kind, codec: codec, streamID: streamID, trackID: trackID, slot: true,
		writer: sub.writerIndex(), need: need, tWant: layer.AllTemporal}
	d.rw.ClockRate = codec.ClockRate
	return d
}

// SpeakerStreamID is the MediaStream id of the speaker slots a point
// receives: the media of whoever holds the floor.
const SpeakerStreamID = "speaker"

// switchSource makes pub the track d shows (nil: none). Sound switches at
// once. Video goes over to the encoding of pub that d's subscriber needs
// and its link carries at that encoding's next keyframe, which is
// requested at once; until then d goes on forwarding what it forwarded.
func (d *downTrack) switchSource(pub *upTrack) {
	if pub != nil && !d.takes(pub.codec) {
		pub = nil // a slot bound to VP8 alone cannot carry H.264
	}
	d.switchMu.Lock()
	defer d.switchMu.Unlock()
	d.mu.Lock()
	if d.pub == pub || d.closed.Load() {
		d.mu.Unlock()
		return
	}
	d.pub = pub
	var key *upTrack
	switch {
	case pub == nil:
		d.src, d.next, d.waitingKey = nil, nil, false
		d.rw.Restart()
	case d.kind != webrtc.RTPCodecTypeVideo:
		d.src, d.next, d.waitingKey = pub, nil, false
		d.rw.Restart()
	default:
		// src goes on as it was (waiting for a keyframe of its own if it
		// lost its first) until next's keyframe.
		d.next, d.tWant = d.sub.chooseLayer(pub, d.need) // nil: pub is ending
		key = d.next
		if d.next == d.src {
			// Back to what d still forwards (the switch away had not
			// come to its keyframe): it goes on as it was.
			d.next, key = nil, nil
		}
	}
	d.updateWaiting()
	d.mu.Unlock()
	d.tidy()
	if key != nil {
		key.requestKeyframe()
	}
}

// takes reports whether d can carry media of codec: d's own, or H.264 on
// a slot whose subscriber negotiated it.
func (d *downTrack) takes(codec webrtc.RTPCodecParameters) bool {
	if strings.EqualFold(codec.MimeType, d.codec.MimeType) {
		return true
	}
	return strings.EqualFold(codec.MimeType, webrtc.MimeTypeH264) && d.carriesH264()
}

// carriesH264 reports whether d may carry H.264 and its subscriber
// negotiated it; false until d is bound.
func (d *downTrack) carriesH264() bool {
	if !d.h264 {
		return false
	}
	b := d.bound.Load()
	return b != nil && b.h264Type != 0
}

// payloadTypeOf returns the payload type of the packet fi describes at the
// subscriber of b, false when it did not negotiate the packet's codec.
func (b *binding) payloadTypeOf(fi *frameInfo) (uint8, bool) {
	if fi.h264 {
		return b.h264Type, b.h264Type != 0
	}
	return b.payloadType, true
}

// retarget makes enc, an encoding of the track d shows, the one d
// forwards from its next keyframe on, up to its temporal layer tid
// (layer.AllTemporal for all); nothing changes if d shows another track
// by now. A change of temporal layer alone needs no keyframe: d drops
// the pictures above tid from the next one on.
func (d *downTrack) retarget(enc *upTrack, tid int) {
	d.switchMu.Lock()
	defer d.switchMu.Unlock()
	d.mu.Lock()
	if d.pub == nil || enc == nil || enc.head() != d.pub || d.closed.Load() {
		d.mu.Unlock()
		return
	}
	d.tWant = tid
	var key *upTrack
	switch {
	case enc == d.src:
		d.next = nil
	case enc != d.next:
		d.next, key = enc, enc
	}
	d.updateWaiting()
	d.mu.Unlock()
	d.tidy()
	if key != nil {
		key.requestKeyframe()
	}
}

// suspend stops d forwarding video, keeping the track it shows: its
// subscriber's link does not carry even the lowest encoding. Its picture
// stays on the last frame until retarget gives it an encoding again.
func (d *downTrack) suspend() {
	d.switchMu.Lock()
	defer d.switchMu.Unlock()
	d.mu.Lock()
	if d.src == nil && d.next == nil {
		d.mu.Unlock()
		return
	}
	d.src, d.next, d.waitingKey = nil, nil, false
	d.updateWaiting()
	d.mu.Unlock()
	d.tidy()
}

// forget stops d forwarding or waiting for the encoding u, which ended,
// and, when u heads its track, any encoding of that track; it reports
// whether d shows u's track.
func (d *downTrack) forget(u *upTrack) bool {
	d.switchMu.Lock()
	defer d.switchMu.Unlock()
	gone := func(x *upTrack) bool { return x != nil && (x == u || u.head() == u && x.head() == u) }
	d.mu.Lock()
	if gone(d.src) {
		d.src = nil
		d.waitingKey = false
	}
	if gone(d.next) {
		d.next = nil
	}
	d.updateWaiting()
	shows := d.pub == u.head()
	d.mu.Unlock()
	d.tidy()
	return shows
}

// target returns the encoding d forwards, or is to forward from its next
// keyframe: the one its subscriber's choice rests on.
func (d *downTrack) target() *upTrack {
	enc, _ := d.targets()
	return enc
}

// targets returns the encoding target returns and the highest temporal
// layer of it d takes.
func (d *downTrack) targets() (*upTrack, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.next != nil {
		return d.next, d.tWant
	}
	return d.src, d.tWant
}

// tidy attaches d to the up-tracks it forwards or waits for (src and
// next) and detaches it from the others. Every change of src or next is
// followed by a tidy; d.switchMu serializes them.
func (d *downTrack) tidy() {
	d.mu.Lock()
	src, next := d.src, d.next
	d.mu.Unlock()
	keep := d.attached[:0]
	for _, u := range d.attached {
		if u == src || u == next {
			keep = append(keep, u)
		} else {
			u.detach(d)
		}
	}
	d.attached = keep
	for _, u := range []*upTrack{src, next} {
		if u != nil && !slices.Contains(d.attached, u) {
			u.attach(d)
			d.attached = append(d.attached, u)
		}
	}
}

// tidyLater runs tidy on its own goroutine, for the packet path, which
// must not wait for switchMu.
func (d *downTrack) tidyLater() {
	go func() {
		d.switchMu.Lock()
		defer d.switchMu.Unlock()
		d.tidy()
	}()
}

// updateWaiting keeps the count of down-tracks waiting for a keyframe of
// the up-track d waits for (next, or src that lost its first keyframe).
// d.mu must be held.
func (d *downTrack) updateWaiting() {
	var w *upTrack
	switch {
	case d.next != nil:
		w = d.next
	case d.waitingKey:
		w = d.src
	}
	if d.countedIn == w {
		return
	}
	if d.countedIn != nil {
		d.countedIn.waiting.Add(-1)
	}
	if w != nil {
		w.waiting.Add(1)
	}
	d.countedIn = w
}

// source returns the encoding d forwards, or nil.
func (d *downTrack) source() *upTrack {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.src
}

// shown returns the track d shows (the head of a simulcast source), or nil.
func (d *downTrack) shown() *upTrack {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pub
}

// newBinding returns d's binding to a subscriber's SSRC and the payload
// type pt of d's codec there; when that codec is H.264, its packets go
// out with pt too.
func (d *downTrack) newBinding(ssrc uint32, pt uint8, stream webrtc.TrackLocalWriter) *binding {
	b := &binding{ssrc: ssrc, payloadType: pt, stream: stream}
	if strings.EqualFold(d.codec.MimeType, webrtc.MimeTypeH264) {
		b.h264Type = pt
	}
	return b
}

// Bind is called by pion when the subscriber's PeerConnection negotiated
// the track; it picks the wanted codec among those negotiated.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := d.newBinding(uint32(ctx.SSRC()), uint8(codec.PayloadType), ctx.WriteStream())
	if d.h264 {
		if c, ok := matchCodec(programCodec(), ctx.CodecParameters()); ok {
			b.h264Type = uint8(c.PayloadType)
		}
	}
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == sdp.TransportCCURI && e.ID > 0 && e.ID < 15 {
			b.twccExt = uint8(e.ID)
		}
	}
	d.bound.Store(b)
	if d.h264 && b.h264Type != 0 && d.sub != nil && d.sub.room != nil {
		// The program's picture may be an H.264 source's now; pion
		// calls Bind with the subscriber's negotiation under way, which
		// applyFloor must not wait for.
		go d.sub.room.applyFloor()
	}
	if t := d.target(); t != nil {
		t.requestKeyframe()
	}
	return codec, nil
}

// ssrc is the SSRC the subscriber knows d by; 0 until d is bound.
func (d *downTrack) ssrc() uint32 {
	if b := d.bound.Load(); b != nil {
		return b.ssrc
	}
	return 0
}

// Unbind stops writes to the subscriber.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bound.Store(nil)
	return nil
}

// ID is the track id the subscriber sees.
func (d *downTrack) ID() string { return d.trackID }

// RID is empty: the down-track is one plain stream.
func (d *downTrack) RID() string { return "" }

// StreamID is the publishing participant's id, or SpeakerStreamID for a
// speaker slot, so the subscriber can tell whose media a track is.
func (d *downTrack) StreamID() string { return d.streamID }

// Kind is audio or video.
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.kind }

// close detaches d from its source for good.
func (d *downTrack) close() {
	d.switchSource(nil)
	if d.closed.CompareAndSwap(false, true) {
		d.stats.downTracks.Add(-1)
	}
}

// writeResult is what became of one packet on one down-track.
type writeResult int8

const (
	writeSkipped writeResult = iota // not for this down-track (not bound, another source, waiting for a keyframe)
	writeSent                       // written to the subscriber
	writeDropped                    // the write failed or the subscriber's queue was full
)

// writerIndex is the writer of the subscriber's down-tracks in the SFU's
// writer pool; p may be nil (a down-track of a test).
func (p *Participant) writerIndex() int {
	if p == nil {
		return 0
	}
	return p.writer
}

// write rewrites one packet of src for the subscriber into sc (the
// caller's scratch space) and sends it; fi is what src's reader learned
// of it, now its arrival in unix nanoseconds. Video starts only on a
// keyframe. Within one source, sequence numbers and timestamps keep the
// publisher's spacing shifted by fixed offsets, so that losses stay
// visible to the subscriber's NACKs; a new source, or the same after a
// pause, continues right after the last packet sent, its timestamps
// advanced by the time that passed. VP8 pictures of temporal layers above
// what the subscriber takes are dropped without a gap in the numbers,
// and picture ids continue across sources and drops. The rewrite happens
// under d.mu, the network write after it is released.
func (d *downTrack) write(src *upTrack, h *rtp.Header, sc *scratch, payload []byte, fi *frameInfo, now int64) writeResult {
	keyframe := fi.keyframe
	b := d.bound.Load()
	if b == nil {
		return writeSkipped
	}
	d.mu.Lock()
	promoted := false
	switch {
	case src == d.next:
		if !keyframe {
			d.mu.Unlock()
			return writeSkipped // forward src until next's keyframe
		}
		d.src, d.next, promoted = src, nil, true
		d.waitingKey = false
		d.rw.Restart()
		d.updateWaiting()
	case src != d.src:
		d.mu.Unlock()
		return writeSkipped // switched away while this packet was on its way
	}
	if d.rebase.Load() {
		d.rebase.Store(false)
		d.rw.Restart()
	}
	if d.waitingKey {
		if !keyframe {
			d.mu.Unlock()
			return writeSkipped
		}
		d.waitingKey = false
		d.updateWaiting()
	}
	if fi.vp8 && fi.desc.HasTID {
		limit := d.tWant
		if d.next != nil && d.next.rank < src.rank {
			limit = 0 // stepping down: src's base layer until the lower encoding's keyframe
		}
		d.temporal.SetTarget(limit)
		if !d.temporal.Take(fi.desc.TID, fi.desc.Start, fi.desc.Sync, keyframe) {
			d.rw.Drop(h.SequenceNumber, fi.pic)
			d.mu.Unlock()
			return writeSkipped
		}
	}
	pt, ok := b.payloadTypeOf(fi)
	if !ok {
		d.mu.Unlock()
		return writeSkipped // H.264 to a subscriber that did not negotiate it
	}
	p, ok := d.rw.Rewrite(h.SequenceNumber, h.Timestamp, fi.pic, now)
	if !ok {
		d.mu.Unlock()
		return writeSkipped // older than where this source started
	}
	sc.renumber(fi, p.Picture)
	out := &sc.out
	*out = rtp.Header{
		Version:        2,
		Padding:        h.Padding,
		Marker:         h.Marker,
		PayloadType:    pt,
		SequenceNumber: p.Seq,
		Timestamp:      p.Timestamp,
		SSRC:           b.ssrc,
		CSRC:           h.CSRC,
	}
	first := keyframe && d.rw.AtStart()
	d.sent.packets++
	d.sent.octets += uint32(len(payload))
	d.writing.Add(1)
	d.mu.Unlock()
	if promoted {
		d.tidyLater() // detach from the encoding left
		// A packet of the encoding left, rewritten before this one by
		// another goroutine, goes out before it: the new encoding
		// starts on its keyframe at the subscriber too.
		for d.writing.Load() > 1 {
			runtime.Gosched()
		}
	}

	n, err := d.writeRTP(b, sc, payload)
	d.writing.Add(-1)
	if err != nil || n == 0 {
		// pion drops packets silently (n == 0) until the subscriber's
		// DTLS is up; video that lost its first keyframe waits for the next.
		d.mu.Lock()
		restart := false
		d.sent.packets--
		d.sent.octets -= uint32(len(payload))
		if d.src == src {
			d.rw.Forget(p)
			if restart = first && d.rw.AtStart(); restart {
				d.rw.Restart()
				d.waitingKey = true
				d.updateWaiting()
			}
		}
		d.mu.Unlock()
		if restart {
			src.requestKeyframe() // the next one, as soon as the throttle allows
		}
		return writeDropped
	}
	if p.First && d.slot {
		d.slotStarted(now)
	}
	return writeSent
}

// writeRTP writes the packet of sc.out and payload to the subscriber: on
// the subscriber's direct path where it has one, through pion otherwise.
// It never blocks: over UDP the socket takes it or drops it, over ICE-TCP
// it goes into the connection's bounded write buffer (tcpWriteBuffer),
// which drops it when full.
func (d *downTrack) writeRTP(b *binding, sc *scratch, payload []byte) (int, error) {
	if d.sub != nil {
		if dp := d.sub.direct.Load(); dp != nil {
			return dp.writeRTP(&sc.out, b.twccExt, payload, sc)
		}
	}
	if sc.renumbered {
		// pion marshals a copy of its own: renumber the payload in ours.
		n := copy(sc.buf, payload)
		sc.patch(sc.buf[:n])
		payload = sc.buf[:n]
	}
	return b.stream.WriteRTP(&sc.out, payload)
}

// renumber notes in sc that the packet described by fi goes out with the
// picture numbering pic, when that differs from the packet's own: the
// copy of its payload that is written is patched (patch).
func (sc *scratch) renumber(fi *frameInfo, pic rewrite.Picture) {
	sc.renumbered = fi.vp8 && pic != fi.pic
	if sc.renumbered {
		sc.picture, sc.desc = pic, fi.desc
	}
}

// patch writes the picture numbering noted by renumber into b, the copy
// of the payload that goes out.
func (sc *scratch) patch(b []byte) {
	if !sc.renumbered {
		return
	}
	vp8.SetPictureID(b, &sc.desc, sc.picture.ID)
	vp8.SetTL0PicIdx(b, &sc.desc, sc.picture.TL0)
}

// resend writes again the packets with sequence numbers seqs, in the
// subscriber's numbering, that its current source's cache still holds,
// rewritten as they were the first time, and returns how many it sent.
// Packets from before the current source started on d are not sent. buf
// (packetcache.SlotSize bytes), h and sc are the caller's scratch space.
// The rewrite is read under d.mu; the writes happen after it is released.
func (d *downTrack) resend(seqs []uint16, buf []byte, h *rtp.Header, sc *scratch) (sent, bytes int) {
	b := d.bound.Load()
	if b == nil {
		return 0, 0
	}
	d.mu.Lock()
	src, m := d.src, d.rw.Mapping()
	d.mu.Unlock()
	if src == nil {
		return 0, 0
	}
	cache := src.cache.Load()
	if cache == nil {
		return 0, 0
	}
	sc.sentAt = time.Now().UnixNano()
	var fi frameInfo
	for _, seq := range seqs {
		srcSeq, o, ok := m.Source(seq)
		if !ok {
			continue // not sent from this source
		}
		n, ok := cache.Get(srcSeq, buf)
		if !ok {
			continue
		}
		hl, err := h.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		fi = frameInfo{}
		if d.kind == webrtc.RTPCodecTypeVideo {
			fi = src.readFrame(buf[hl:n])
		}
		pt, ok := b.payloadTypeOf(&fi)
		if !ok {
			continue
		}
		sc.renumber(&fi, o.Picture(fi.pic))
		sc.out = rtp.Header{Version: 2, Padding: h.Padding, Marker: h.Marker, PayloadType: pt,
			SequenceNumber: seq, Timestamp: o.Timestamp(h.Timestamp), SSRC: b.ssrc, CSRC: h.CSRC}
		if w, err := d.writeRTP(b, sc, buf[hl:n]); err == nil && w > 0 {
			sent++
			bytes += n
		}
	}
	return sent, bytes
}

// matchCodec finds the negotiated codec that carries the wanted media: the
// same MIME type and, for H.264, the same fmtp line where there is one.
func matchCodec(want webrtc.RTPCodecParameters, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var fallback *webrtc.RTPCodecParameters
	for i := range have {
		c := have[i]
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			return c, true
		}
		if fallback == nil {
			fallback = &have[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}
