package sfu

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
	"hoinghi/internal/media/packetcache"
	"hoinghi/internal/media/srtpkeys"
)

// ErrBadSDP wraps every refusal of a client's SDP or ICE candidate.
var ErrBadSDP = errors.New("bad sdp")

// ErrNoOffer is returned for a subscribe answer when no offer is outstanding.
var ErrNoOffer = errors.New("no subscribe offer is outstanding")

// Participant is one client's pair of PeerConnections: pub receives its
// media, sub sends it what it receives.
type Participant struct {
	sfu  *SFU
	room *room
	info Info
	sig  Signaler
	log  *slog.Logger
	// pub is made at the first publish offer (publishPC), so that a
	// participant that only receives costs one PeerConnection, not two.
	pub atomic.Pointer[webrtc.PeerConnection]
	sub *webrtc.PeerConnection
	// keys learns the SRTP keys of sub's DTLS; direct, set once sub is
	// connected over UDP (openDirect), writes p's down-tracks.
	keys   *srtpkeys.Recorder
	direct atomic.Pointer[directPath]
	// rtcpBy is who reads the RTCP p sends about its down-tracks,
	// decided when sub connects; pendingRTCP are the down-tracks added
	// before. Under mu.
	rtcpBy      rtcpReader
	pendingRTCP []subscription

	// negState is who negotiates (negIdle, negRunning, negAgain);
	// negPending keeps a request until negReady (set by Join). answers
	// carries the client's answers to the offer that is out.
	negState   atomic.Int32
	negPending atomic.Bool
	negReady   atomic.Bool
	answers    chan answer
	muted      atomic.Bool // a technician muted the participant's audio
	// connected starts the join time; mediaSeen is set by the first
	// packet of the participant's media.
	connected time.Time
	mediaSeen atomic.Bool
	// wall is the video wall of a hall participant, nil for others;
	// prober carries the probes of its link (probe.go). Both are set
	// before Join makes the participant known.
	wall   *wall
	prober *downTrack
	// joinSeq orders the participants of a room by when they joined.
	joinSeq uint64
	// writer is the index of the writer of p's down-tracks in the SFU's
	// writer pool.
	writer int
	// rtcpSSRC is the sender SSRC of the RTCP the SFU sends p; feedback
	// records the transport-wide sequence numbers of what p publishes,
	// made with the publishing PeerConnection (under mu).
	rtcpSSRC uint32
	feedback *transportFeedback
	// scratch is the reporter's (runReports) copy of published; probe
	// its probes of p's link.
	scratch []*upTrack
	probe   probeState
	// downlinkState is what p was last told of its downlink
	// (SendDownlink), for its link quality.
	downlinkState atomic.Pointer[string]
	// mediaUp is set when the first of the PeerConnections connected;
	// mediaWatch fires MediaFailed if none does in time after the first
	// negotiation.
	mediaUp    atomic.Bool
	mediaWatch sync.Once
	// awaitingAnswer is set while an offer is out.
	awaitingAnswer atomic.Bool
	ctx            context.Context
	cancel         context.CancelFunc

	mu        sync.Mutex
	published []*upTrack // every encoding of every track
	// simulcasts are the encodings of p's simulcast tracks by receiver.
	simulcasts map[*webrtc.RTPReceiver]*layerSet
	slots      []*downTrack // speaker slots: video first, then audio
	program    []*downTrack // a point's hall program: video, then audio
	content    *downTrack   // the content slot (stream content), nil for a viewer
	// contentMid is the mid of the transceiver p shares content on, once
	// SetContent named it: its track is never taken for p's camera.
	contentMid string
	// programTold is what a hall participant was last told of the
	// program, once programSent; the room's applyFloor owns both.
	programTold Program
	programSent bool
	lastIn      map[*upTrack]inSnapshot
	closed      bool
	closeOnce   sync.Once
}

// answer is a client's subscribe answer with the channel for the result of
// applying it.
type answer struct {
	sdp    string
	result chan error
}

// subscription is one down-track of p's subscribing PeerConnection.
type subscription struct {
	down   *downTrack
	sender *webrtc.RTPSender
}

// peerConfig is the configuration of every PeerConnection.
var peerConfig = webrtc.Configuration{SDPSemantics: webrtc.SDPSemanticsUnifiedPlan}

// newParticipant returns a participant of conference conf with its
// subscribing PeerConnection; Join puts it in its room and starts its
// negotiation.
func newParticipant(s *SFU, conf string, info Info, sig Signaler) (*Participant, error) {
	var keys *srtpkeys.Recorder
	var sub *webrtc.PeerConnection
	if info.Role != conference.RoleIngest {
		keys = &srtpkeys.Recorder{}
		var err error
		if sub, err = s.subscribeAPI(keys).NewPeerConnection(peerConfig); err != nil {
			return nil, fmt.Errorf("sfu: new subscribe PeerConnection: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if info.Connected.IsZero() {
		info.Connected = time.Now()
	}
	p := &Participant{
		sfu: s, info: info, sig: sig,
		log:        s.log.With("conference", conf, "participant", info.ID),
		sub:        sub,
		keys:       keys,
		answers:    make(chan answer),
		ctx:        ctx,
		cancel:     cancel,
		connected:  info.Connected,
		simulcasts: make(map[*webrtc.RTPReceiver]*layerSet),
		lastIn:     make(map[*upTrack]inSnapshot),
		writer:     s.writers.assign(),
		rtcpSSRC:   rand.Uint32(),
	}
	if sub != nil {
		p.watchState(sub, true)
	}
	return p, nil
}

// watchState follows the connection state of pc, p's subscribing
// (subscribe) or publishing PeerConnection: the first to connect tells
// the client's Signaler that media flows, a failure before that that it
// does not.
func (p *Participant) watchState(pc *webrtc.PeerConnection, subscribe bool) {
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		p.log.Debug("peer connection state", "state", st.String(), "subscribe", subscribe)
		switch {
		case st == webrtc.PeerConnectionStateFailed:
			p.log.Warn("peer connection failed", "subscribe", subscribe)
			if !p.mediaUp.Load() {
				p.sig.MediaFailed(MediaFailedICE)
			}
		case st == webrtc.PeerConnectionStateConnected:
			if p.mediaUp.CompareAndSwap(false, true) {
				p.sig.MediaConnected()
			}
		}
		if st == webrtc.PeerConnectionStateConnected && subscribe {
			p.decideRTCP(p.openDirect())
			// Packets written before now were dropped: ask every
			// publisher this participant's video slots show for a
			// keyframe.
			for _, d := range p.videoDownTracks(nil) {
				if u := d.target(); u != nil {
					u.requestKeyframe()
				}
			}
		}
	})
}

// ID is the participant's id.
func (p *Participant) ID() string { return p.info.ID }

// HandlePublishOffer applies the client's offer for its publishing
// PeerConnection and returns the answer, with all server candidates in it.
// An offer with an audio or video m-line naming no codec the SFU takes is
// refused (ErrBadSDP) before anything of it is applied.
func (p *Participant) HandlePublishOffer(ctx context.Context, sdp string) (string, error) {
	if !p.info.Role.Publishes() {
		return "", fmt.Errorf("role %s does not publish", p.info.Role)
	}
	if err := checkPublishOffer(sdp, p.publishCodecs()); err != nil {
		return "", err
	}
	pub, err := p.publishPC()
	if err != nil {
		return "", err
	}
	offer := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}
	if err := pub.SetRemoteDescription(offer); err != nil {
		return "", fmt.Errorf("%w: publish offer: %v", ErrBadSDP, err)
	}
	answer, err := pub.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: publish answer: %v", ErrBadSDP, err)
	}
	gathered := webrtc.GatheringCompletePromise(pub)
	if err := pub.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("sfu: set publish answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("sfu: gather candidates: %w", ctx.Err())
	}
	p.watchMedia()
	return pub.LocalDescription().SDP, nil
}

// HandleWatchOffer applies the offer of a viewer's client (WHEP: it
// receives audio and video) to its subscribing PeerConnection, which
// carries the hall program's two slots, and returns the answer, with all
// server candidates in it.
func (p *Participant) HandleWatchOffer(ctx context.Context, sdp string) (string, error) {
	if p.info.Role != conference.RoleViewer {
		return "", fmt.Errorf("role %s does not watch by its own offer", p.info.Role)
	}
	offer := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}
	if err := p.sub.SetRemoteDescription(offer); err != nil {
		return "", fmt.Errorf("%w: watch offer: %v", ErrBadSDP, err)
	}
	answer, err := p.sub.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: watch answer: %v", ErrBadSDP, err)
	}
	gathered := webrtc.GatheringCompletePromise(p.sub)
	if err := p.sub.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("sfu: set watch answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("sfu: gather candidates: %w", ctx.Err())
	}
	p.watchMedia()
	return p.sub.LocalDescription().SDP, nil
}

// OnEnd calls f, once, on its own goroutine, when p's media ends: p was
// closed, or the PeerConnection that carries its media failed or closed.
// It is for the sessions without a signaling connection (WHIP, WHEP),
// whose end nothing else notices when the client vanishes.
func (p *Participant) OnEnd(f func()) {
	var once sync.Once
	end := func() { once.Do(func() { go f() }) }
	context.AfterFunc(p.ctx, end)
	watch := func(pc *webrtc.PeerConnection) {
		if pc == nil {
			return
		}
		pc.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) {
			if st == webrtc.ICEConnectionStateFailed || st == webrtc.ICEConnectionStateClosed {
				end()
			}
		})
	}
	if p.info.Role == conference.RoleIngest {
		pc, err := p.publishPC()
		if err != nil {
			end()
			return
		}
		watch(pc)
		return
	}
	watch(p.sub)
}

// publishCodecs are the codecs the SFU takes from p: those of the cameras
// (codecs), and H.264 too from the mixer's WHIP source (ingestCodecs).
func (p *Participant) publishCodecs() []webrtc.RTPCodecParameters {
	if p.info.Role == conference.RoleIngest {
		return ingestCodecs()
	}
	return codecs()
}

// publishPC returns p's publishing PeerConnection, made at the first call.
func (p *Participant) publishPC() (*webrtc.PeerConnection, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if pc := p.pub.Load(); pc != nil {
		return pc, nil
	}
	api := p.sfu.pubAPI
	if p.info.Role == conference.RoleIngest {
		api = p.sfu.ingestAPI
	}
	pc, err := api.NewPeerConnection(peerConfig)
	if err != nil {
		return nil, fmt.Errorf("sfu: new publish PeerConnection: %w", err)
	}
	pc.OnTrack(p.onTrack)
	p.watchState(pc, false)
	p.feedback = newTransportFeedback(p.rtcpSSRC)
	p.pub.Store(pc)
	return pc, nil
}

// watchMedia starts, once, the wait for a PeerConnection to connect,
// after which the participant's Signaler hears MediaFailed.
func (p *Participant) watchMedia() {
	p.mediaWatch.Do(func() {
		t := time.AfterFunc(p.sfu.mediaTimeout, func() {
			if !p.mediaUp.Load() && p.ctx.Err() == nil {
				p.log.Warn("media did not connect", "after", p.sfu.mediaTimeout)
				p.sig.MediaFailed(MediaFailedTimeout)
			}
		})
		context.AfterFunc(p.ctx, func() { t.Stop() })
	})
}

// HandleSubscribeAnswer applies the client's answer to the outstanding
// subscribe offer.
func (p *Participant) HandleSubscribeAnswer(sdp string) error {
	if !p.awaitingAnswer.Load() {
		return ErrNoOffer
	}
	a := answer{sdp: sdp, result: make(chan error, 1)}
	select {
	case p.answers <- a:
		return <-a.result
	case <-p.ctx.Done():
		return ErrClosed
	}
}

// AddCandidate adds a trickled candidate of the client's publishing
// (publish=true) or subscribing PeerConnection.
func (p *Participant) AddCandidate(publish bool, c webrtc.ICECandidateInit) error {
	pc := p.sub
	if publish {
		if pc = p.pub.Load(); pc == nil {
			return fmt.Errorf("%w: publish candidate before the publish offer", ErrBadSDP)
		}
	}
	if pc == nil {
		return fmt.Errorf("%w: a participant that only publishes has no subscribe PeerConnection", ErrBadSDP)
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: candidate: %v", ErrBadSDP, err)
	}
	return nil
}

// RequestKeyframes asks every video track p publishes for a keyframe, of
// each of its encodings.
func (p *Participant) RequestKeyframes() {
	p.mu.Lock()
	published := slices.Clone(p.published)
	p.mu.Unlock()
	for _, up := range published {
		up.requestKeyframe()
	}
}

// Close ends both PeerConnections and removes p and its tracks from the room.
func (p *Participant) Close() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		published := p.published
		p.published = nil
		slots := slices.Concat(p.slots, p.program)
		if p.content != nil {
			slots = append(slots, p.content)
		}
		p.mu.Unlock()

		p.cancel()
		for _, up := range published {
			up.end()
		}
		for _, d := range slots {
			d.close()
		}
		if p.wall != nil {
			for _, d := range p.wall.slots {
				d.close()
			}
		}
		if p.prober != nil {
			p.prober.close()
		}
		p.closeDirect()
		p.closePeerConnections()
		p.sfu.leave(p)
		if p.info.Role.AtHall() || p.info.Role == conference.RoleIngest {
			p.room.applyFloor() // the program may come from another source now
		}
	})
}

// closePeerConnections closes both PeerConnections.
func (p *Participant) closePeerConnections() {
	if pub := p.pub.Load(); pub != nil {
		if err := pub.Close(); err != nil {
			p.log.Warn("close publish PeerConnection", "err", err)
		}
	}
	if p.sub == nil {
		return
	}
	if err := p.sub.Close(); err != nil {
		p.log.Warn("close subscribe PeerConnection", "err", err)
	}
}

// publishedTracks returns the tracks p publishes, each simulcast track by
// its head, but for its content (contentTrack): its camera and its sound.
// The videos come in the order of their transceivers, so that the camera,
// negotiated before a content transceiver, is the first whichever sent
// first.
func (p *Participant) publishedTracks() []*upTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*upTrack, 0, len(p.published))
	for _, u := range p.published {
		if u.head() == u && !p.isContentLocked(u) {
			out = append(out, u)
		}
	}
	slices.SortStableFunc(out, func(a, b *upTrack) int { return compareMids(midOfTrack(a), midOfTrack(b)) })
	return out
}

// midOfTrack is the transceiver of a video track, "" for a sound (which
// sorts first).
func midOfTrack(u *upTrack) string {
	if u.layers == nil {
		return ""
	}
	return u.layers.mid
}

// compareMids orders media ids as numbers when both are (pion and the
// browsers number them), else as strings.
func compareMids(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(a, b)
}

// contentTrack returns the video track p publishes on the transceiver
// mid, nil for none.
func (p *Participant) contentTrack(mid string) *upTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.published {
		if u.head() == u && u.kind == webrtc.RTPCodecTypeVideo && u.layers != nil && u.layers.mid == mid {
			return u
		}
	}
	return nil
}

// isContentLocked reports whether u is p's content. p.mu must be held.
func (p *Participant) isContentLocked(u *upTrack) bool {
	return p.contentMid != "" && u.kind == webrtc.RTPCodecTypeVideo && u.layers != nil && u.layers.mid == p.contentMid
}

// onTrack starts forwarding a track the client published, or one more
// encoding of a simulcast track.
func (p *Participant) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := p.midOf(recv)
	p.mu.Lock()
	up := newUpTrack(p, remote, transportCCExtension(recv), p.feedback)
	if p.closed {
		p.mu.Unlock()
		return
	}
	head := true
	if up.kind == webrtc.RTPCodecTypeVideo {
		ls := p.simulcasts[recv]
		if ls == nil || up.rid == "" {
			ls = &layerSet{head: up, mid: mid}
			ls.list.Store(&[]*upTrack{})
			if up.rid != "" {
				p.simulcasts[recv] = ls
			}
		} else {
			head = false
		}
		rank, ok := ridRank(up.rid)
		if !ok {
			rank = len(ls.encodings())
		}
		up.rank, up.layers = rank, ls
		if !ls.add(up) {
			p.mu.Unlock()
			p.log.Warn("more simulcast encodings than forwarded; ignored", "rid", up.rid, "at most", maxLayers)
			return
		}
	}
	p.published = append(p.published, up)
	p.mu.Unlock()
	p.sfu.stats.upTracks.Add(1)
	p.sfu.traffic.open(&up.traffic)
	up.gated.Store(up.kind == webrtc.RTPCodecTypeAudio && !p.hearable(p.room.floorHolders()))
	p.log.Info("track published", "kind", remote.Kind().String(), "codec", remote.Codec().MimeType, "ssrc", uint32(remote.SSRC()), "rid", up.rid)

	go up.readReceiverRTCP(recv)
	go func() {
		up.run()
		p.sfu.stats.upTracks.Add(-1)
		p.sfu.traffic.retire(&up.traffic)
		p.mu.Lock()
		for i, t := range p.published {
			if t == up {
				p.published = append(p.published[:i], p.published[i+1:]...)
				break
			}
		}
		if up.layers != nil && p.simulcasts[recv] == up.layers && up.layers.head == up {
			delete(p.simulcasts, recv)
		}
		p.mu.Unlock()
		up.end()
		if up.kind == webrtc.RTPCodecTypeVideo && head {
			p.room.refreshWalls()
		}
	}()
	if !head {
		// Its track's subscribers choose among its encodings; a
		// recording keeps the best.
		p.room.mu.Lock()
		recording := p.room.recorder != nil
		p.room.mu.Unlock()
		if recording {
			p.room.applyFloor()
		}
		return
	}
	p.room.applyFloor()
	if up.kind == webrtc.RTPCodecTypeVideo {
		p.room.refreshWalls()
	}
}

// midOf returns the media id of the transceiver of recv on p's publishing
// PeerConnection, "" when not found.
func (p *Participant) midOf(recv *webrtc.RTPReceiver) string {
	pc := p.pub.Load()
	if pc == nil {
		return ""
	}
	for _, t := range pc.GetTransceivers() {
		if t.Receiver() == recv {
			return t.Mid()
		}
	}
	return ""
}

// rtcpReader is who reads a participant's RTCP about its down-tracks.
type rtcpReader uint8

const (
	rtcpUndecided rtcpReader = iota // its subscribing PeerConnection is not connected yet
	rtcpBySocket                    // its direct path's socket (rtcpSink)
	rtcpByPion                      // a goroutine per down-track, through pion
)

// readRTCP makes sure the RTCP p sends about d, sent on sender, is read.
func (p *Participant) readRTCP(sender *webrtc.RTPSender, d *downTrack) {
	p.mu.Lock()
	by := p.rtcpBy
	if by == rtcpUndecided {
		p.pendingRTCP = append(p.pendingRTCP, subscription{down: d, sender: sender})
	}
	p.mu.Unlock()
	if by == rtcpByPion {
		go p.readSenderRTCP(sender, d)
	}
}

// decideRTCP settles, once, who reads p's RTCP: the socket of its direct
// path or, without one, pion.
func (p *Participant) decideRTCP(direct bool) {
	p.mu.Lock()
	if p.rtcpBy != rtcpUndecided {
		p.mu.Unlock()
		return
	}
	p.rtcpBy = rtcpByPion
	if direct {
		p.rtcpBy = rtcpBySocket
	}
	pending := p.pendingRTCP
	p.pendingRTCP = nil
	p.mu.Unlock()
	if !direct {
		for _, s := range pending {
			go p.readSenderRTCP(s.sender, s.down)
		}
	}
}

// readSenderRTCP drains, through pion, the RTCP a subscriber sends about
// one down-track, for a subscriber without a direct path.
func (p *Participant) readSenderRTCP(sender *webrtc.RTPSender, d *downTrack) {
	var st feedbackState
	// One read buffer for the life of the down-track: pion's ReadRTCP
	// makes one per call.
	raw := make([]byte, 1500)
	for {
		n, _, err := sender.Read(raw)
		if err != nil {
			return
		}
		p.handleFeedback(raw[:n], d, &st)
	}
}

// feedbackState is the scratch space of one reader of a subscriber's RTCP.
type feedbackState struct {
	seqs []uint16
	buf  []byte // for resent packets, made on the first NACK
	h    rtp.Header
	sc   *scratch
}

// handleFeedback carries out the requests of one compound RTCP packet
// from p: PLI and FIR become keyframe requests to the source, NACKs are
// answered from the source's packet cache, and reception reports that name
// one of our sender reports give the round trip of the down-track they
// are about. Each request goes to the down-track of its SSRC; d, if not
// nil, is the one the packet is most likely about.
func (p *Participant) handleFeedback(pkt []byte, d *downTrack, st *feedbackState) {
	stats := &p.sfu.stats
	it := feedbackIter{pkt: pkt}
	for f, ok := it.next(); ok; f, ok = it.next() {
		if f.kind == feedbackTWCC {
			// About the transport, whatever stream it names.
			if dp := p.direct.Load(); dp != nil {
				dp.applyFeedback(f.nacks, time.Now().UnixNano())
			}
			continue
		}
		if f.ssrc == 0 {
			continue // no down-track is known by 0
		}
		if f.kind == feedbackReport && d != nil && d.ssrc() != f.ssrc {
			// pion hands a compound packet to the reader of every
			// stream its reports name: each keeps its own.
			continue
		}
		to := d
		if to == nil || to.ssrc() != f.ssrc {
			if to = p.downTrackBySSRC(f.ssrc); to == nil {
				continue
			}
		}
		switch f.kind {
		case feedbackKeyframe:
			stats.plis.Add(1)
			// One subscriber asks for at most one keyframe a
			// subscriberPLIThrottle: a lossy point must not make every
			// other point receive keyframe after keyframe.
			now := time.Now().UnixNano()
			if last := to.lastPLI.Load(); now-last < int64(subscriberPLIThrottle) || !to.lastPLI.CompareAndSwap(last, now) {
				continue
			}
			if src := to.source(); src != nil {
				src.requestKeyframe()
			}
		case feedbackNACK:
			stats.nacks.Add(1)
			if st.buf == nil {
				st.buf, st.sc = make([]byte, packetcache.SlotSize), newScratch()
			}
			st.seqs = appendNacked(st.seqs[:0], f.nacks)
			sent, _ := to.resend(st.seqs, st.buf, &st.h, st.sc)
			stats.retransmits.Add(uint64(sent))
			if miss := len(st.seqs) - sent; miss > 0 {
				stats.nackMisses.Add(uint64(miss))
			}
		case feedbackReport:
			to.noteReport(f.lsr, f.dlsr, time.Now())
		}
	}
}

// downTrackBySSRC returns p's down-track that is bound with ssrc, or nil.
func (p *Participant) downTrackBySSRC(ssrc uint32) *downTrack {
	if p.wall != nil {
		for _, d := range p.wall.slots {
			if d.ssrc() == ssrc {
				return d
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ds := range [...][]*downTrack{p.slots, p.program} {
		for _, d := range ds {
			if d.ssrc() == ssrc {
				return d
			}
		}
	}
	if p.content != nil && p.content.ssrc() == ssrc {
		return p.content
	}
	return nil
}

// requestNegotiation asks for a new subscribe offer: at once, or after
// the offer that is out has its answer. Before Join it is kept for then.
func (p *Participant) requestNegotiation() {
	p.negPending.Store(true)
	if p.negReady.Load() && p.negPending.Swap(false) {
		p.startNegotiation()
	}
}

// Negotiation states: no goroutine negotiates, one does, one does and must
// go round again when done.
const (
	negIdle int32 = iota
	negRunning
	negAgain
)

// startNegotiation makes sure one goroutine negotiates: it starts one, or
// tells the running one to go round again.
func (p *Participant) startNegotiation() {
	for {
		switch p.negState.Load() {
		case negIdle:
			if p.negState.CompareAndSwap(negIdle, negRunning) {
				go p.negotiate()
				return
			}
		case negRunning:
			if p.negState.CompareAndSwap(negRunning, negAgain) {
				return
			}
		default:
			return
		}
	}
}

// negotiate sends one subscribe offer at a time and waits for its answer
// before the next, so offers never cross, until no new one is asked for;
// then it ends, so that an idle participant has no goroutine waiting here.
func (p *Participant) negotiate() {
	for {
		p.negState.Store(negRunning)
		if !p.negotiateOnce() {
			return
		}
		if p.negState.CompareAndSwap(negRunning, negIdle) {
			return
		}
	}
}

// negotiateOnce sends a subscribe offer and applies its answer; it reports
// false when p is closed.
func (p *Participant) negotiateOnce() bool {
	offer, err := p.sub.CreateOffer(nil)
	if err != nil {
		if p.ctx.Err() != nil || p.sub.ConnectionState() == webrtc.PeerConnectionStateClosed {
			return false
		}
		p.log.Error("create subscribe offer", "err", err)
		return true
	}
	gathered := webrtc.GatheringCompletePromise(p.sub)
	if err := p.sub.SetLocalDescription(offer); err != nil {
		p.log.Error("set subscribe offer", "err", err)
		return true
	}
	select {
	case <-gathered:
	case <-p.ctx.Done():
		return false
	}
	p.awaitingAnswer.Store(true)
	p.sig.SendSubscribeOffer(p.sub.LocalDescription().SDP)
	select {
	case a := <-p.answers:
		p.awaitingAnswer.Store(false)
		err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.sdp})
		if err != nil {
			a.result <- fmt.Errorf("%w: subscribe answer: %v", ErrBadSDP, err)
			p.log.Warn("bad subscribe answer; offering again", "err", err)
			if rbErr := p.sub.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); rbErr != nil {
				p.log.Error("roll back subscribe offer", "err", rbErr)
			}
			p.requestNegotiation()
			return true
		}
		a.result <- nil
		p.watchMedia()
		return true
	case <-p.ctx.Done():
		return false
	}
}
