package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// keyframeThrottle is the least time between two keyframe requests to one
// publisher; keyframeRetry is how often a down-track still waiting for a
// keyframe asks again.
const (
	keyframeThrottle = 300 * time.Millisecond
	keyframeRetry    = time.Second
)

// rtpReader is the part of webrtc.TrackRemote that forwarding reads.
type rtpReader interface {
	Read(b []byte) (int, interceptor.Attributes, error)
}

// upTrack is one track a participant publishes. Its run loop reads each
// packet once and writes it to every down-track.
type upTrack struct {
	owner    *Participant
	stats    *counters
	remote   rtpReader
	ssrc     uint32
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecParameters
	streamID string // the publishing participant's id
	trackID  string
	keyframe func(payload []byte) bool

	// downs is replaced whole under mu (copy on write) and read without a
	// lock by the run loop.
	mu    sync.Mutex
	downs atomic.Pointer[[]*downTrack]
	ended bool

	// waiting counts down-tracks that wait for a keyframe.
	waiting      atomic.Int32
	lastKeyReq   atomic.Int64 // unix nanoseconds
	keyReqQueued atomic.Bool
	sendPLI      func(ssrc uint32) error
}

func newUpTrack(owner *Participant, remote *webrtc.TrackRemote) *upTrack {
	u := &upTrack{
		owner:    owner,
		stats:    &owner.sfu.stats,
		remote:   remote,
		ssrc:     uint32(remote.SSRC()),
		kind:     remote.Kind(),
		codec:    remote.Codec(),
		streamID: owner.info.ID,
		trackID:  remote.Kind().String() + "-" + remote.ID(),
		sendPLI: func(ssrc uint32) error {
			return owner.pub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		},
	}
	u.keyframe = keyframeDetector(u.codec.MimeType)
	u.downs.Store(&[]*downTrack{})
	return u
}

// run forwards packets until the remote track ends. It reads into one
// reused buffer and allocates nothing per packet.
func (u *upTrack) run() {
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, _, err := u.remote.Read(buf)
		if err != nil {
			return
		}
		u.forward(&h, buf[:n])
	}
}

// forward parses one packet and writes it to every down-track.
func (u *upTrack) forward(h *rtp.Header, pkt []byte) {
	hl, err := h.Unmarshal(pkt)
	if err != nil {
		u.stats.packetsDropped.Add(1)
		return
	}
	payload := pkt[hl:]
	media := payload
	if h.Padding && len(media) > 0 {
		pad := int(media[len(media)-1])
		if pad > len(media) {
			u.stats.packetsDropped.Add(1)
			return
		}
		media = media[:len(media)-pad]
	}
	keyframe := u.kind == webrtc.RTPCodecTypeVideo && len(media) > 0 && u.keyframe(media)
	u.stats.packetsIn.Add(1)

	var sent uint64
	for _, d := range *u.downs.Load() {
		if d.write(h, payload, keyframe) {
			sent++
		}
	}
	if sent > 0 {
		u.stats.packetsForwarded.Add(sent)
		u.stats.bytesForwarded.Add(sent * uint64(len(pkt)))
	}
	if u.waiting.Load() > 0 && time.Now().UnixNano()-u.lastKeyReq.Load() > int64(keyframeRetry) {
		u.requestKeyframe()
	}
}

// requestKeyframe sends the publisher a PLI now, or once the throttle allows.
func (u *upTrack) requestKeyframe() {
	if u.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := u.lastKeyReq.Load()
	if wait := time.Duration(last + int64(keyframeThrottle) - now); wait > 0 {
		if u.keyReqQueued.CompareAndSwap(false, true) {
			time.AfterFunc(wait, func() {
				u.keyReqQueued.Store(false)
				u.requestKeyframe()
			})
		}
		return
	}
	if !u.lastKeyReq.CompareAndSwap(last, now) {
		return // another caller just sent one
	}
	u.stats.keyframeRequests.Add(1)
	if err := u.sendPLI(u.ssrc); err != nil {
		u.owner.log.Debug("send PLI", "err", err)
	}
}

func (u *upTrack) addDown(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ended {
		return
	}
	old := *u.downs.Load()
	next := make([]*downTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	u.downs.Store(&next)
}

func (u *upTrack) removeDown(d *downTrack) {
	u.mu.Lock()
	old := *u.downs.Load()
	next := make([]*downTrack, 0, len(old))
	found := false
	for _, x := range old {
		if x == d {
			found = true
			continue
		}
		next = append(next, x)
	}
	u.downs.Store(&next)
	u.mu.Unlock()
	if found {
		d.close()
	}
}

// end stops forwarding this track and removes it from every subscriber.
func (u *upTrack) end() {
	u.mu.Lock()
	if u.ended {
		u.mu.Unlock()
		return
	}
	u.ended = true
	downs := *u.downs.Load()
	u.mu.Unlock()
	for _, d := range downs {
		d.sub.unsubscribe(u)
	}
}

// binding is what a down-track learns when its PeerConnection binds it.
type binding struct {
	ssrc        uint32
	payloadType uint8
	stream      webrtc.TrackLocalWriter
}

// downTrack is our webrtc.TrackLocal: the copy of one up-track sent to one
// subscriber. Bind and Unbind come from pion's goroutines; write only from
// the up-track's run loop, so the rewrite state needs no lock.
type downTrack struct {
	up    *upTrack
	sub   *Participant
	bound atomic.Pointer[binding]

	// Rewrite state, touched only by write.
	started    bool
	waitingKey bool
	seqOffset  uint16
	tsOffset   uint32
	lastSeq    uint16 // highest sequence number forwarded
	span       uint16 // sequence numbers from the start to lastSeq, at most 0x7fff
	hdr        rtp.Header
	closed     atomic.Bool
	counted    atomic.Bool // whether it is counted in up.waiting
}

func newDownTrack(up *upTrack, sub *Participant) *downTrack {
	d := &downTrack{up: up, sub: sub}
	if up.kind == webrtc.RTPCodecTypeVideo {
		d.waitingKey = true
	}
	return d
}

// Bind is called by pion when the subscriber's PeerConnection negotiated
// the track; it picks the publisher's codec among those negotiated.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.up.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.bound.Store(&binding{ssrc: uint32(ctx.SSRC()), payloadType: uint8(codec.PayloadType), stream: ctx.WriteStream()})
	if d.up.kind == webrtc.RTPCodecTypeVideo && d.counted.CompareAndSwap(false, true) {
		d.up.waiting.Add(1)
		d.up.requestKeyframe()
	}
	return codec, nil
}

// Unbind stops writes to the subscriber.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bound.Store(nil)
	return nil
}

// ID is the track id the subscriber sees.
func (d *downTrack) ID() string { return d.up.trackID }

// RID is empty: the down-track is one plain stream.
func (d *downTrack) RID() string { return "" }

// StreamID is the publishing participant's id, so the subscriber can tell
// whose media a track is.
func (d *downTrack) StreamID() string { return d.up.streamID }

// Kind is audio or video, as the up-track.
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.up.kind }

func (d *downTrack) close() {
	if d.closed.CompareAndSwap(false, true) {
		if d.counted.CompareAndSwap(true, false) {
			d.up.waiting.Add(-1)
		}
		d.up.stats.downTracks.Add(-1)
	}
}

// write rewrites one packet for the subscriber and sends it. It reports
// whether the packet was sent. Video starts only on a keyframe; from then on
// sequence numbers and timestamps keep the publisher's spacing, shifted by
// fixed offsets, so that losses stay visible to the subscriber's NACKs.
func (d *downTrack) write(h *rtp.Header, payload []byte, keyframe bool) bool {
	b := d.bound.Load()
	if b == nil {
		return false
	}
	if d.waitingKey {
		if !keyframe {
			return false
		}
		d.waitingKey = false
		if d.counted.CompareAndSwap(true, false) {
			d.up.waiting.Add(-1)
		}
	}
	if !d.started {
		d.started = true
		d.lastSeq = h.SequenceNumber
		d.span = 0
		// Offsets are zero for the first source: the publisher's own
		// random start values are as good as ours.
		d.seqOffset = 0
		d.tsOffset = 0
	}
	if diff := int16(h.SequenceNumber - d.lastSeq); diff > 0 {
		d.lastSeq = h.SequenceNumber
		d.span = min(d.span+uint16(diff), 0x7fff)
	} else if uint16(-diff) > d.span {
		return false // older than where this down-track started
	}
	d.hdr = rtp.Header{
		Version:        2,
		Padding:        h.Padding,
		Marker:         h.Marker,
		PayloadType:    b.payloadType,
		SequenceNumber: h.SequenceNumber + d.seqOffset,
		Timestamp:      h.Timestamp + d.tsOffset,
		SSRC:           b.ssrc,
		CSRC:           h.CSRC,
	}
	n, err := b.stream.WriteRTP(&d.hdr, payload)
	if err != nil || n == 0 {
		// pion drops packets silently (n == 0) until the subscriber's
		// DTLS is up; video that lost its first keyframe waits for the next.
		d.up.stats.packetsDropped.Add(1)
		if keyframe && d.up.kind == webrtc.RTPCodecTypeVideo && d.span == 0 {
			d.started = false
			d.waitingKey = true
			if d.counted.CompareAndSwap(false, true) {
				d.up.waiting.Add(1)
			}
		}
		return false
	}
	return true
}

// matchCodec finds the negotiated codec that carries the publisher's media:
// the same MIME type and, for H.264, the same fmtp line where there is one.
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
