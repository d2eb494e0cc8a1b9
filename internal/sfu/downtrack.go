package sfu

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/rewrite"
)

// binding is what a down-track learns when its PeerConnection binds it.
type binding struct {
	ssrc        uint32
	payloadType uint8
	stream      webrtc.TrackLocalWriter
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

	bound  atomic.Pointer[binding]
	rebase atomic.Bool // continue from the next packet as from a new source
	closed atomic.Bool

	// mu guards the source and the rewrite state. One goroutine at a
	// time writes (the source's reader or a writer of the pool), so it is
	// contended only by a source switch or a NACK.
	mu         sync.Mutex
	src        *upTrack
	countedIn  *upTrack // the up-track whose waiting count includes d
	waitingKey bool
	rw         rewrite.Rewriter
	sent       sentCounters // for the sender reports
	// writer is the index, in the SFU's writer pool, of the writer of
	// the subscriber's down-tracks.
	writer int
}

// newDownTrack returns a down-track of up for sub, attached to up.
func newDownTrack(up *upTrack, sub *Participant) *downTrack {
	d := &downTrack{sub: sub, stats: up.stats, kind: up.kind, codec: up.codec, streamID: up.streamID, trackID: up.trackID, writer: sub.writerIndex()}
	d.rw.ClockRate = up.codec.ClockRate
	d.stats.downTracks.Add(1)
	d.switchSource(up)
	return d
}

// newSpeakerSlot returns an empty slot of kind for sub, a track of stream
// streamID (a speaker slot or a wall slot); switchSource fills it.
func newSpeakerSlot(sub *Participant, stats *counters, codec webrtc.RTPCodecParameters, kind webrtc.RTPCodecType, streamID, trackID string) *downTrack {
	stats.downTracks.Add(1)
	d := &downTrack{sub: sub, stats: stats, kind: kind, codec: codec, streamID: streamID, trackID: trackID, slot: true, writer: sub.writerIndex()}
	d.rw.ClockRate = codec.ClockRate
	return d
}

// SpeakerStreamID is the MediaStream id of the speaker slots a point
// receives: the media of whoever holds the floor.
const SpeakerStreamID = "speaker"

// switchSource makes src the source of d (nil: none). Video waits for a
// keyframe of the new source, which is requested at once.
func (d *downTrack) switchSource(src *upTrack) {
	if src != nil && !strings.EqualFold(src.codec.MimeType, d.codec.MimeType) {
		src = nil // a slot bound to VP8 cannot carry H.264
	}
	d.mu.Lock()
	old := d.src
	if old == src || d.closed.Load() {
		d.mu.Unlock()
		return
	}
	d.src = src
	d.rw.Restart()
	d.setWaiting(src != nil && d.kind == webrtc.RTPCodecTypeVideo)
	d.mu.Unlock()
	if old != nil {
		old.detach(d)
	}
	if src != nil {
		src.attach(d)
		src.requestKeyframe()
	}
}

// setWaiting sets whether d waits for a keyframe of its source, keeping the
// source's count of waiting down-tracks. d.mu must be held.
func (d *downTrack) setWaiting(w bool) {
	d.waitingKey = w
	if d.countedIn != nil && (!w || d.countedIn != d.src) {
		d.countedIn.waiting.Add(-1)
		d.countedIn = nil
	}
	if w && d.countedIn == nil && d.src != nil {
		d.src.waiting.Add(1)
		d.countedIn = d.src
	}
}

// source returns the current source, or nil.
func (d *downTrack) source() *upTrack {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.src
}

// Bind is called by pion when the subscriber's PeerConnection negotiated
// the track; it picks the wanted codec among those negotiated.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.bound.Store(&binding{ssrc: uint32(ctx.SSRC()), payloadType: uint8(codec.PayloadType), stream: ctx.WriteStream()})
	if src := d.source(); src != nil {
		src.requestKeyframe()
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
// caller's scratch space) and sends it; now is the packet's arrival in
// unix nanoseconds. Video starts only on a keyframe. Within one source,
// sequence numbers and timestamps keep the publisher's spacing shifted by
// fixed offsets, so that losses stay visible to the subscriber's NACKs; a
// new source, or the same after a pause, continues right after the last
// packet sent, its timestamps advanced by the time that passed. The
// rewrite happens under d.mu, the network write after it is released.
func (d *downTrack) write(src *upTrack, h *rtp.Header, sc *scratch, payload []byte, keyframe bool, now int64) writeResult {
	b := d.bound.Load()
	if b == nil {
		return writeSkipped
	}
	d.mu.Lock()
	if d.src != src {
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
		d.setWaiting(false)
	}
	p, ok := d.rw.Rewrite(h.SequenceNumber, h.Timestamp, now)
	if !ok {
		d.mu.Unlock()
		return writeSkipped // older than where this source started
	}
	out := &sc.out
	*out = rtp.Header{
		Version:        2,
		Padding:        h.Padding,
		Marker:         h.Marker,
		PayloadType:    b.payloadType,
		SequenceNumber: p.Seq,
		Timestamp:      p.Timestamp,
		SSRC:           b.ssrc,
		CSRC:           h.CSRC,
	}
	first := keyframe && d.rw.AtStart()
	d.sent.packets++
	d.sent.octets += uint32(len(payload))
	d.mu.Unlock()

	if n, err := d.writeRTP(b, sc, payload); err != nil || n == 0 {
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
				d.setWaiting(true)
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
			return dp.writeRTP(&sc.out, payload, sc)
		}
	}
	return b.stream.WriteRTP(&sc.out, payload)
}

// resend writes again the packets with sequence numbers seqs, in the
// subscriber's numbering, that its current source's cache still holds,
// rewritten as they were the first time, and returns how many it sent.
// Packets from before the current source started on d are not sent. buf
// (packetcache.SlotSize bytes), h and sc are the caller's scratch space.
// The rewrite is read under d.mu; the writes happen after it is released.
func (d *downTrack) resend(seqs []uint16, buf []byte, h *rtp.Header, sc *scratch) int {
	b := d.bound.Load()
	if b == nil {
		return 0
	}
	d.mu.Lock()
	src, m := d.src, d.rw.Mapping()
	d.mu.Unlock()
	if src == nil {
		return 0
	}
	cache := src.cache.Load()
	if cache == nil {
		return 0
	}
	sent := 0
	for _, seq := range seqs {
		srcSeq, ok := m.Source(seq)
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
		sc.out = rtp.Header{Version: 2, Padding: h.Padding, Marker: h.Marker, PayloadType: b.payloadType,
			SequenceNumber: seq, Timestamp: m.Timestamp(h.Timestamp), SSRC: b.ssrc, CSRC: h.CSRC}
		if n, err := d.writeRTP(b, sc, buf[hl:n]); err == nil && n > 0 {
			sent++
		}
	}
	return sent
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
