package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/packetcache"
)

// cachedPackets is how many of a video track's last packets are kept to
// answer NACKs: 2 s at 128 packets a second (a 1 Mbit/s camera), far more
// than a retransmission needs.
const cachedPackets = 256

// keyframeThrottle is the least time between two keyframe requests to one
// publisher; keyframeRetry is how often a down-track still waiting for a
// keyframe asks again.
const (
	keyframeThrottle = 300 * time.Millisecond
	keyframeRetry    = 400 * time.Millisecond
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
	in       inCounters // what arrives from the publisher
	// cache keeps the last packets of a video track, from its first
	// subscriber on, to answer every subscriber's NACKs from one copy;
	// nil until then, and for audio. Only the run loop stores; it is set
	// under mu and read without a lock through an atomic pointer.
	cache atomic.Pointer[packetcache.Cache]

	// gated holds back every packet: a point's audio while it does not
	// hold the floor.
	gated atomic.Bool

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
	if c := u.cache.Load(); c != nil {
		c.Store(h.SequenceNumber, pkt)
	}
	u.stats.packetsIn.Add(1)
	u.stats.bytesIn.Add(uint64(len(pkt)))
	if u.in.add(h.SequenceNumber, len(pkt)) {
		u.firstMedia()
	}
	if u.gated.Load() {
		return
	}

	now := time.Now().UnixNano()
	var sent uint64
	for _, d := range *u.downs.Load() {
		if d.write(u, h, payload, keyframe, now) {
			sent++
		}
	}
	if sent > 0 {
		u.stats.packetsForwarded.Add(sent)
		u.stats.bytesForwarded.Add(sent * uint64(len(pkt)))
	}
	if u.waiting.Load() > 0 && now-u.lastKeyReq.Load() > int64(keyframeRetry) {
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

// setGated holds back or lets through the track's packets. Down-tracks
// continue after a pause with no gap in sequence numbers.
func (u *upTrack) setGated(gated bool) {
	if u.gated.Swap(gated) && !gated {
		for _, d := range *u.downs.Load() {
			d.rebase.Store(true)
		}
	}
}

// attach adds d to the down-tracks that the run loop writes to.
func (u *upTrack) attach(d *downTrack) {
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
	if u.kind == webrtc.RTPCodecTypeVideo && u.cache.Load() == nil {
		u.cache.Store(packetcache.New(cachedPackets))
	}
}

// detach removes d from the down-tracks that the run loop writes to.
func (u *upTrack) detach(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	old := *u.downs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	u.downs.Store(&next)
}

// end stops forwarding this track: subscribers drop their down-tracks of
// it, and speaker slots showing it go blank.
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
		if d.slot {
			d.switchSource(nil)
		} else {
			d.sub.unsubscribe(u)
		}
	}
}
