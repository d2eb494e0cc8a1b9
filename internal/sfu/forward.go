package sfu

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/layer"
	"hoinghi/internal/media/packetcache"
)

// cachedPackets is how many of a video track's last packets are kept to
// answer NACKs: 2 s at 128 packets a second (a 1 Mbit/s camera), far more
// than a retransmission needs. cachedAudioPackets is the same for a sound
// track whose fan-out goes through the writer pool (1.3 s at 50 packets a
// second); sound is not retransmitted.
const (
	cachedPackets      = 256
	cachedAudioPackets = 64
)

// keyframeThrottle is the least time between two keyframe requests to one
// publisher; keyframeRetry is how often a down-track still waiting for a
// keyframe asks again.
const (
	keyframeThrottle = 300 * time.Millisecond
	keyframeRetry    = 400 * time.Millisecond
)

// subscriberPLIThrottle is the least time between two of one down-track's
// PLIs that ask its source for a keyframe; those in between are merged
// into the one before.
const subscriberPLIThrottle = time.Second

// rtpReader is the part of webrtc.TrackRemote that forwarding reads.
type rtpReader interface {
	Read(b []byte) (int, interceptor.Attributes, error)
}

// upTrack is one track a participant publishes. Its run loop reads each
// packet once, keeps it in the track's packet cache and writes it to every
// down-track: itself for a small fan-out, and with the writer pool for a
// large one, each writer fed the packet's sequence number in the cache.
type upTrack struct {
	owner    *Participant
	stats    *counters
	pool     *writerPool // nil: the run loop writes every down-track
	remote   rtpReader
	ssrc     uint32
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecParameters
	streamID string // the publishing participant's id
	trackID  string
	// rid names the encoding of a simulcast track ("" without), rank its
	// place by quality among the encodings; layers is the set of the
	// encodings of a video track (nil for sound), set before u is known.
	rid    string
	rank   int
	layers *layerSet
	// lastArrival is when u's last packet came, resumedAt when its
	// publisher was last asked to send it again (unix nanoseconds);
	// bitrate is what it carries, in bits a second, as last measured.
	lastArrival atomic.Int64
	resumedAt   atomic.Int64
	bitrate     atomic.Int64
	chooser     layerState // the reporter's
	// temporal counts what arrives of each VP8 temporal layer;
	// temporalRates is what the layers up to each carry, in bits a
	// second, as last measured.
	temporal      temporalCounter
	temporalRates [layer.MaxTemporal]atomic.Int64
	readFrame     func(payload []byte) frameInfo
	in            inCounters // what arrives from the publisher
	// traffic counts what the run loop receives and writes itself.
	traffic traffic
	// rx counts what arrives for the feedback to the publisher; twccExt
	// is the id of the transport-wide sequence number header extension
	// (0: none), recorded into feedback, the owner's.
	rx       receiveStats
	twccExt  uint8
	feedback *transportFeedback
	// sc is the run loop's scratch space.
	sc *scratch
	// cache keeps the last packets of a video track, from its first
	// subscriber on, to answer every subscriber's NACKs from one copy,
	// and those of any track whose fan-out goes through the writer
	// pool, which read them from it; nil until then. Only the run loop
	// stores; it is set under mu, always before a plan that needs it,
	// and read without a lock.
	cache atomic.Pointer[packetcache.Cache]

	// gated holds back every packet: a point's audio while it does not
	// hold the floor.
	gated atomic.Bool
	// tap is the recording of the track while it is recorded (record.go),
	// nil otherwise; it takes what is forwarded, after the gate.
	tap atomic.Pointer[recordTap]

	// plan is replaced whole under mu (copy on write) and read without a
	// lock by the run loop.
	mu    sync.Mutex
	plan  atomic.Pointer[fanPlan]
	ended bool

	// waiting counts down-tracks that wait for a keyframe.
	waiting      atomic.Int32
	lastKeyReq   atomic.Int64 // unix nanoseconds
	keyReqQueued atomic.Bool
	sendPLI      func(ssrc uint32) error
}

func newUpTrack(owner *Participant, remote *webrtc.TrackRemote, twccExt uint8, feedback *transportFeedback) *upTrack {
	u := &upTrack{
		owner:    owner,
		stats:    &owner.sfu.stats,
		pool:     owner.sfu.writers,
		sc:       newScratch(),
		remote:   remote,
		ssrc:     uint32(remote.SSRC()),
		kind:     remote.Kind(),
		codec:    remote.Codec(),
		streamID: owner.info.ID,
		trackID:  remote.Kind().String() + "-" + remote.ID(),
		rid:      remote.RID(),
		twccExt:  twccExt,
		feedback: feedback,
		sendPLI: func(ssrc uint32) error {
			// A published track came over the publishing PeerConnection,
			// which exists from then on.
			return owner.pub.Load().WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		},
	}
	u.chooser = layerState{wantedAt: time.Now().UnixNano(), asked: true}
	u.readFrame = frameReader(u.codec.MimeType)
	u.rx.stream.ClockRate = u.codec.ClockRate
	u.plan.Store(&fanPlan{})
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

// forward parses one packet and writes it to every down-track, or hands
// the slices of a large fan-out to the writers and writes one itself.
func (u *upTrack) forward(h *rtp.Header, pkt []byte) {
	hl, err := h.Unmarshal(pkt)
	if err != nil {
		u.traffic.dropped.Add(1)
		return
	}
	payload := pkt[hl:]
	media := payload
	if h.Padding && len(media) > 0 {
		pad := int(media[len(media)-1])
		if pad > len(media) {
			u.traffic.dropped.Add(1)
			return
		}
		media = media[:len(media)-pad]
	}
	var fi frameInfo
	if u.kind == webrtc.RTPCodecTypeVideo {
		// Also for a packet of padding alone: it still belongs to its
		// codec (fi.h264), whose payload type it goes out with.
		fi = u.readFrame(media)
		if fi.vp8 && fi.desc.HasTID {
			u.temporal.count(fi.desc.TID, len(pkt))
		}
	}
	// The plan is loaded before the cache: a plan that hands packets to
	// writers is stored after the cache they read them from.
	plan := u.plan.Load()
	if c := u.cache.Load(); c != nil {
		c.Store(h.SequenceNumber, pkt)
	}
	u.traffic.packetsIn.Add(1)
	u.traffic.bytesIn.Add(uint64(len(pkt)))
	if u.in.add(h.SequenceNumber, len(pkt)) {
		u.firstMedia()
	}
	arrival := time.Now()
	u.received(h, arrival)
	now := arrival.UnixNano()
	u.lastArrival.Store(now)
	if u.gated.Load() {
		return
	}
	if t := u.tap.Load(); t != nil {
		t.offer(h.SequenceNumber, now)
	}

	if plan.byWriter == nil {
		writeAll(&u.traffic, u, plan.all, h, u.sc, payload, len(pkt), &fi, now)
	} else {
		u.fanOut(plan, h, payload, len(pkt), &fi, now)
	}
	if u.waiting.Load() > 0 && now-u.lastKeyReq.Load() > int64(keyframeRetry) {
		u.requestKeyframe()
	}
}

// fanOut gives each writer's slice of plan but one to that writer, then
// writes the remaining slice itself. The slice kept is chosen by the
// track's SSRC, so that the large tracks of a room keep different ones.
// A writer whose queue is full loses the packet for its slice (the cache
// answers the NACKs that follow).
func (u *upTrack) fanOut(plan *fanPlan, h *rtp.Header, payload []byte, size int, fi *frameInfo, now int64) {
	n := len(plan.byWriter)
	home := -1
	for k := range n {
		i := (int(u.ssrc%uint32(n)) + k) % n
		downs := plan.byWriter[i]
		if len(downs) == 0 {
			continue
		}
		if home < 0 {
			home = i
			continue
		}
		select {
		case u.pool.writers[i].jobs <- fanJob{up: u, downs: downs, seq: h.SequenceNumber, frame: *fi, now: now}:
		default:
			u.traffic.dropped.Add(uint64(len(downs)))
		}
	}
	if home >= 0 {
		writeAll(&u.traffic, u, plan.byWriter[home], h, u.sc, payload, size, fi, now)
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
		for _, d := range u.plan.Load().all {
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
	old := u.plan.Load().all
	next := make([]*downTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	plan := newFanPlan(next, u.pool.size())
	if u.cache.Load() == nil {
		switch {
		case u.kind == webrtc.RTPCodecTypeVideo:
			u.cache.Store(packetcache.New(cachedPackets))
		case plan.byWriter != nil:
			u.cache.Store(packetcache.New(cachedAudioPackets))
		}
	}
	u.plan.Store(plan)
}

// detach removes d from the down-tracks that the run loop writes to.
func (u *upTrack) detach(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	old := u.plan.Load().all
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	u.plan.Store(newFanPlan(next, u.pool.size()))
}

// end stops forwarding this encoding. For a track's head (or a track
// without simulcast) subscribers drop their down-tracks of the track, and
// speaker slots showing it go blank; for another encoding of a simulcast
// track, the down-tracks on it go over to another encoding.
func (u *upTrack) end() {
	u.mu.Lock()
	if u.ended {
		u.mu.Unlock()
		return
	}
	u.ended = true
	downs := slices.Clone(u.plan.Load().all)
	u.mu.Unlock()
	u.stopRecording()
	head := u.head()
	if u.layers != nil {
		u.layers.remove(u)
		if head == u {
			seen := make(map[*downTrack]bool, len(downs))
			for _, d := range downs {
				seen[d] = true
			}
			for _, l := range u.layers.encodings() {
				for _, d := range l.plan.Load().all {
					if !seen[d] {
						seen[d] = true
						downs = append(downs, d)
					}
				}
			}
		}
	}
	for _, d := range downs {
		shows := d.forget(u)
		switch {
		case !shows:
		case head != u:
			if l, tid := d.sub.chooseLayer(head, d.need); l != nil {
				d.retarget(l, tid)
			}
		case d.slot:
			d.switchSource(nil)
		default:
			d.close() // a down-track of this track alone
		}
	}
}
