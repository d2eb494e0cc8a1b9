// Package sfu is the selective forwarding unit: it receives each
// participant's media over a publishing PeerConnection and forwards it, over
// one subscribing PeerConnection per participant, to those who receive it
// under the conference rules.
//
// Media of every participant shares one UDP port (ICE UDP mux) and one TCP
// port (ICE-TCP). Each published track is read by one goroutine, which
// keeps its packets in the track's packet cache and writes them to a small
// fan-out itself; a large fan-out is split over a pool of writers, one per
// core, each owning the down-tracks of its share of the subscribers. A
// down-track rewrites SSRC, payload type, sequence numbers and timestamps
// for its subscriber, and starts or switches video only on a keyframe.
package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
	"hoinghi/internal/media/srtpkeys"
)

// Config sets the network side of the SFU.
type Config struct {
	// UDPPort is the one UDP port for all media; 0 picks a free port.
	UDPPort int
	// TCPPort is the one ICE-TCP port; 0 picks a free port, -1 disables ICE-TCP.
	TCPPort int
	// TCPListener, when set, carries ICE-TCP in place of a listener of
	// TCPPort (a socket handed over by a supervisor, or a test's own);
	// the SFU closes it.
	TCPListener net.Listener
	// PublicIPs are announced as host candidates in place of the local
	// addresses, for a server behind 1:1 NAT.
	PublicIPs []string
	// ListenIPs, when set, are the only local addresses media uses: the
	// UDP sockets bind them and candidates are gathered on them alone
	// (loopback ones still need IncludeLoopback). Unset, media uses every
	// address but link-local ones (169.254.0.0/16, fe80::/10), which no point beyond
	// the server's own link can reach and which would cost each
	// PeerConnection two more candidates.
	ListenIPs []string
	// IncludeLoopback offers loopback candidates, needed when browsers and
	// server share one machine without other interfaces (tests, demos).
	IncludeLoopback bool
	// WallSlots is how many points' cameras a hall console receives at
	// once, on its wall; 0 means DefaultWallSlots.
	WallSlots int
	// Writers is the number of goroutines that share the fan-out of a
	// published track with many subscribers; 0 means one per core
	// (GOMAXPROCS).
	Writers int
	// MediaTimeout is how long a participant's PeerConnections may take to
	// connect after its first negotiation before its Signaler hears
	// MediaFailed; 0 means DefaultMediaTimeout.
	MediaTimeout time.Duration
}

// listenFilter returns a filter that keeps the addresses ips, or, for
// none, every address but the link-local ones.
func listenFilter(ips []string) (func(net.IP) bool, error) {
	if len(ips) == 0 {
		return func(ip net.IP) bool { return !ip.IsLinkLocalUnicast() }, nil
	}
	keep := make([]net.IP, 0, len(ips))
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("sfu: listen IP %q is not an IP address", s)
		}
		keep = append(keep, ip)
	}
	return func(ip net.IP) bool {
		for _, k := range keep {
			if k.Equal(ip) {
				return true
			}
		}
		return false
	}, nil
}

// tcpWriteBuffer bounds what waits to be written on one ICE-TCP
// connection: about 2 s of a 1 Mbit/s camera and its sound. pion writes it
// from a goroutine of the connection's own, so that a congested TCP
// connection never blocks the writer of its packets, and drops what does
// not fit: a point on a slow TCP link loses packets (and asks for them
// again, or for a keyframe) rather than falling ever further behind.
const tcpWriteBuffer = 256 << 10

// DefaultMediaTimeout is the MediaTimeout of a zero Config.
const DefaultMediaTimeout = 20 * time.Second

// Reasons of Signaler.MediaFailed.
const (
	MediaFailedTimeout = "timeout" // no PeerConnection connected in time
	MediaFailedICE     = "failed"  // ICE failed before any connected
)

// Stats are the SFU's running totals, read without locks.
type Stats struct {
	Participants, UpTracks, DownTracks          int64
	PacketsIn, PacketsForwarded, PacketsDropped uint64
	BytesIn, BytesForwarded                     uint64
	NACKs, PLIs, KeyframeRequests               uint64
	// Retransmits counts the packets resent from the packet caches in
	// answer to subscribers' NACKs.
	Retransmits uint64
	// ForwardedByWriters counts the packets of PacketsForwarded that the
	// writer pool wrote (the fan-outs too large for a track's reader).
	ForwardedByWriters uint64
	// NACKsSent counts the NACKs sent to publishers for packets that did
	// not arrive.
	NACKsSent uint64
	// NACKMisses counts the packets subscribers asked for again that
	// the packet caches no longer held (or never had).
	NACKMisses uint64
	// Probes counts the probes of subscribers' links held back
	// (probe.go), ProbePackets the packets they sent.
	Probes, ProbePackets uint64
	// DirectPaths is the number of subscribers whose media the SFU
	// encrypts and sends itself (directPath); the others' goes through
	// pion.
	DirectPaths int64
	// ByRole counts the participants of each role of conference.Roles.
	ByRole map[conference.Role]int64
	// FloorSwitches counts the times the floor passed to a new first
	// holder, whose picture the points' speaker slots show.
	FloorSwitches uint64
	// JoinTime runs from a participant's signaling connection opening
	// (Info.Connected) to the first packet of its media reaching the SFU.
	JoinTime Histogram
	// FloorSwitchTime runs from a floor switch being applied to the first
	// keyframe of the new holder written into a point's speaker slot.
	FloorSwitchTime Histogram
}

// counters are the atomics behind Stats, but for the packet counts of the
// forwarding path, which are per up-track and per writer (traffic).
type counters struct {
	participants, upTracks, downTracks         atomic.Int64
	nacks, plis, keyframeRequests, retransmits atomic.Uint64
	nacksSent                                  atomic.Uint64
	probes, probePackets, nackMisses           atomic.Uint64
	directPaths                                atomic.Int64
	byRole                                     [maxRoles]atomic.Int64
	floorSwitches                              atomic.Uint64
	joinTime, floorSwitchTime                  *histogram
}

// SFU owns the shared media ports and the rooms, one per conference.
type SFU struct {
	// pubAPI makes the PeerConnections that receive participants' media;
	// those that send it to them are made each with an API of its own
	// (subscribeAPI), from subSettings and subMedia.
	pubAPI *webrtc.API
	// ingestAPI makes the publishing PeerConnection of the mixer's WHIP
	// source: pubAPI's, that takes H.264 too (ingestCodecs).
	ingestAPI   *webrtc.API
	subSettings webrtc.SettingEngine
	subMedia    *webrtc.MediaEngine
	udpMux      ice.UDPMux
	// sockets are the UDP mux's sockets, on which the direct paths write.
	sockets *mediaSockets
	udpPort int
	tcp     net.Listener
	tcpMux  ice.TCPMux
	log     *slog.Logger
	stats   counters
	// wallSlots is the number of slots of a hall participant's wall.
	wallSlots    int
	mediaTimeout time.Duration
	// writers share the large fan-outs; traffic keeps the up-tracks'
	// packet counts. stop ends the writers.
	writers *writerPool
	traffic trafficBook
	stop    context.CancelFunc

	mu     sync.Mutex
	rooms  map[string]*room
	closed bool
}

// ErrClosed is returned by Join after Close.
var ErrClosed = errors.New("sfu closed")

// New opens the media ports and returns a ready SFU.
func New(cfg Config, log *slog.Logger) (*SFU, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &SFU{log: log, rooms: make(map[string]*room), wallSlots: cfg.WallSlots, mediaTimeout: cfg.MediaTimeout}
	if s.mediaTimeout <= 0 {
		s.mediaTimeout = DefaultMediaTimeout
	}
	if s.wallSlots <= 0 {
		s.wallSlots = DefaultWallSlots
	}
	ctx, stop := context.WithCancel(context.Background())
	s.writers, s.stop = newWriterPool(ctx, cfg.Writers), stop
	go s.runReports(ctx)
	s.stats.joinTime = newHistogram(joinTimeBounds)
	s.stats.floorSwitchTime = newHistogram(floorSwitchBounds)

	// One socket per local address, all on the same port: a single
	// socket shared by several host candidates would be read by several
	// goroutines and reorder packets.
	logs := &pionLogs{log: log}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithLogger(logs.NewLogger("udpmux")),
		ice.UDPMuxFromPortWithReadBufferSize(4 << 20),
		ice.UDPMuxFromPortWithWriteBufferSize(4 << 20),
	}
	if cfg.IncludeLoopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	ipFilter, err := listenFilter(cfg.ListenIPs)
	if err != nil {
		return nil, err
	}
	opts = append(opts, ice.UDPMuxFromPortWithIPFilter(ipFilter))
	system, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("sfu: the system's network: %w", err)
	}
	s.sockets = newMediaSockets(system, cfg.PublicIPs)
	opts = append(opts, ice.UDPMuxFromPortWithNet(s.sockets))
	udpMux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen on media UDP port %d: %w", cfg.UDPPort, err)
	}
	s.udpMux = udpMux
	for _, a := range udpMux.GetListenAddresses() {
		if ua, ok := a.(*net.UDPAddr); ok {
			s.udpPort = ua.Port
			break
		}
	}

	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetICEUDPMux(s.udpMux)
	// One view of the network for every PeerConnection: pion's default
	// lists the interfaces again for each one, and keeps the list.
	se.SetNet(s.sockets)
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if cfg.TCPPort >= 0 || cfg.TCPListener != nil {
		tcp := cfg.TCPListener
		if tcp == nil {
			// On a server with one IPv4 media address, ICE-TCP listens
			// on it alone, and pion offers no passive TCP candidate on
			// the others: one costs every PeerConnection two goroutines
			// and a read buffer, and ICE-TCP is the way in for points in
			// offices whose firewall blocks UDP, which are IPv4 networks.
			addr := &net.TCPAddr{Port: cfg.TCPPort}
			if v4, ok := s.sockets.onlyIPv4(); ok {
				addr.IP = v4.AsSlice()
			}
			if tcp, err = net.ListenTCP("tcp", addr); err != nil {
				udpMux.Close()
				return nil, fmt.Errorf("sfu: listen on ICE-TCP port %d: %w", cfg.TCPPort, err)
			}
		}
		s.tcp = tcp
		s.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{Listener: tcp, Logger: logs.NewLogger("tcpmux"),
			ReadBufferSize: 8, WriteBufferSize: tcpWriteBuffer})
		se.SetICETCPMux(s.tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(networks)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	se.SetIPFilter(ipFilter)
	if len(cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}

	// Each direction gets only the RTCP machinery it uses: every
	// interceptor of a PeerConnection runs a goroutine and a ticker of its
	// own, whatever it carries.
	if s.pubAPI, err = publishAPI(se, codecs()); err != nil {
		s.closePorts()
		return nil, err
	}
	if s.ingestAPI, err = publishAPI(se, ingestCodecs()); err != nil {
		s.closePorts()
		return nil, err
	}
	s.subSettings = se
	if s.subMedia, err = subscribeMedia(); err != nil {
		s.closePorts()
		return nil, err
	}
	return s, nil
}

// publishAPI returns the API of publishing PeerConnections. They accept
// video as simulcast, and negotiate
// transport-wide sequence numbers, for the congestion control feedback by
// which a browser adapts its sending rate, and run no interceptor: the
// NACKs, that feedback and the receiver reports are the SFU's one
// reporter's (runReports), from what each track's reader counts.
func publishAPI(se webrtc.SettingEngine, cs []webrtc.RTPCodecParameters) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me, cs); err != nil {
		return nil, err
	}
	// Simulcast: the publisher's encodings of one track are told apart
	// by the RID header extension.
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return nil, fmt.Errorf("sfu: register the simulcast header extensions: %w", err)
	}
	// The mid of audio too, so that a publisher that declares no SSRC in
	// its offer (some WHIP encoders) is still told apart by its m-line.
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.SDESMidURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register the mid header extension of audio: %w", err)
	}
	if err := registerTransportCC(me); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{})), nil
}

// subscribeMedia returns the codecs of subscribing PeerConnections, with
// transport-wide sequence numbers: the direct path writes them on every
// packet, and the subscriber's feedback on them tells what its link
// delivers (twcc).
func subscribeMedia() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me, subscribeCodecs()); err != nil {
		return nil, err
	}
	if err := registerTransportCC(me); err != nil {
		return nil, err
	}
	return me, nil
}

// registerTransportCC negotiates transport-wide sequence numbers and
// their feedback for audio and video.
func registerTransportCC(me *webrtc.MediaEngine) error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		me.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
			return fmt.Errorf("sfu: register the transport-wide sequence number: %w", err)
		}
	}
	return nil
}

// subscribeAPI returns the API of one subscribing PeerConnection, whose
// DTLS handshake shows its SRTP keys to keys, for the direct path. It runs
// no interceptor: the sender reports, by which a browser keeps sound and
// picture in step, are the SFU's one reporter's (runReports), and the
// subscribers' NACKs are answered from the packet caches. Each
// PeerConnection copies the media engine; the API itself is a few
// hundred bytes.
func (s *SFU) subscribeAPI(keys *srtpkeys.Recorder) *webrtc.API {
	se := s.subSettings
	se.SetDTLSServerHelloMessageHook(keys.ServerHello)
	se.SetDTLSKeyLogWriter(keys)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(s.subMedia),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
}

// codecs are the codecs the SFU takes from cameras and sends on every
// slot (docs/protocol.md, "Media profile"): Opus for audio and VP8 for
// video (speakerCodec); an offer's m-line without one of these is
// rejected. No RTX: retransmissions arrive on the media SSRC, which keeps
// the forwarding offsets simple. Video feedback is NACK, PLI and FIR, and
// transport-wide congestion control for both kinds (registerTransportCC);
// no REMB, which the SFU neither sends nor reads.
func codecs() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
			PayloadType: 111},
		vp8Codec(),
	}
}

// vp8Codec is VP8 as every video slot carries it (payload type 96).
func vp8Codec() webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback()},
		PayloadType: 96}
}

// videoFeedback is the RTCP feedback of every video codec.
func videoFeedback() []webrtc.RTCPFeedback {
	return []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
}

// H.264 fmtp lines: packetization mode 1 (FU-A and STAP-A, what OBS and
// hardware encoders send) of the constrained baseline and the baseline
// profile, level 3.1.
const (
	h264ConstrainedBaseline = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	h264Baseline            = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"
)

// programCodec is H.264 as the hall program slots offer it beside VP8
// (payload type 102, constrained baseline, packetization mode 1), for a
// program picture that comes from a mixer in H.264.
func programCodec() webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264ConstrainedBaseline, RTCPFeedback: videoFeedback()},
		PayloadType: 102}
}

// ingestCodecs are the codecs the SFU takes from the mixer's WHIP source
// (role ingest): those of codecs, and H.264 in packetization mode 1 of
// the constrained baseline (payload type 102) or the baseline profile
// (104), which the program slots carry as programCodec.
func ingestCodecs() []webrtc.RTPCodecParameters {
	baseline := programCodec()
	baseline.SDPFmtpLine, baseline.PayloadType = h264Baseline, 104
	return append(codecs(), programCodec(), baseline)
}

// subscribeCodecs are the codecs of subscribing PeerConnections: those of
// codecs, and programCodec, which only the program's video slot offers.
func subscribeCodecs() []webrtc.RTPCodecParameters {
	return append(codecs(), programCodec())
}

// registerCodecs registers cs with me.
func registerCodecs(me *webrtc.MediaEngine, cs []webrtc.RTPCodecParameters) error {
	for _, c := range cs {
		kind := webrtc.RTPCodecTypeVideo
		if strings.HasPrefix(c.MimeType, "audio/") {
			kind = webrtc.RTPCodecTypeAudio
		}
		if err := me.RegisterCodec(c, kind); err != nil {
			return fmt.Errorf("sfu: register codec %s/%d: %w", c.MimeType, c.PayloadType, err)
		}
	}
	return nil
}

// UDPPort is the media UDP port actually bound.
// With port 0 in the config, each local address may have its own port;
// this is the first one.
func (s *SFU) UDPPort() int { return s.udpPort }

// TCPPort is the ICE-TCP port actually bound, or 0 when ICE-TCP is off.
func (s *SFU) TCPPort() int {
	if s.tcp == nil {
		return 0
	}
	return s.tcp.Addr().(*net.TCPAddr).Port
}

// Stats returns the running totals.
func (s *SFU) Stats() Stats {
	c := &s.stats
	t := s.traffic.totals()
	var byWriters trafficTotals
	s.writers.add(&byWriters)
	t.merge(byWriters)
	st := Stats{
		Participants: c.participants.Load(), UpTracks: c.upTracks.Load(), DownTracks: c.downTracks.Load(),
		PacketsIn: t.packetsIn, PacketsForwarded: t.forwarded, PacketsDropped: t.dropped,
		BytesIn: t.bytesIn, BytesForwarded: t.bytesForwarded,
		NACKs: c.nacks.Load(), PLIs: c.plis.Load(), KeyframeRequests: c.keyframeRequests.Load(),
		Retransmits:        c.retransmits.Load(),
		ForwardedByWriters: byWriters.forwarded,
		NACKsSent:          c.nacksSent.Load(),
		NACKMisses:         c.nackMisses.Load(),
		Probes:             c.probes.Load(),
		ProbePackets:       c.probePackets.Load(),
		DirectPaths:        c.directPaths.Load(),
		FloorSwitches:      c.floorSwitches.Load(),
		JoinTime:           c.joinTime.snapshot(),
		FloorSwitchTime:    c.floorSwitchTime.snapshot(),
	}
	st.ByRole = make(map[conference.Role]int64, len(conference.Roles))
	for _, r := range conference.Roles {
		if i := roleIndex(r); i >= 0 {
			st.ByRole[r] = c.byRole[i].Load()
		}
	}
	return st
}

// Open reports whether the SFU still accepts participants: it does until
// Close.
func (s *SFU) Open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

// Info identifies a participant to the SFU.
type Info struct {
	ID   string
	Role conference.Role
	Name string
	// Connected is when the participant's signaling connection opened,
	// the start of its join time; zero means the call to Join.
	Connected time.Time
}

// Signaler carries the SFU's messages to the participant's client: offers of
// the subscribing PeerConnection and the assignment of its wall. It must
// not block.
type Signaler interface {
	SendSubscribeOffer(sdp string)
	// SendWall tells a hall participant which point each slot of its
	// wall shows (by participant id, "" for none), whenever that changes.
	SendWall(slots []string)
	// MediaConnected says, once, that the first of the participant's
	// PeerConnections connected: media can flow.
	MediaConnected()
	// MediaFailed says that none connected: ICE failed, or none connected
	// within Config.MediaTimeout of the first negotiation (reason
	// MediaFailedICE or MediaFailedTimeout). It may come more than once.
	MediaFailed(reason string)
	// SendLayers asks a publisher to send, of its video track on the
	// transceiver mid, the encodings active (by RID; "" is the one
	// encoding of a track sent without simulcast) and to pause those
	// paused, which nobody receives; encodings the SFU has not received
	// are in neither. It comes whenever that changes; until the first,
	// the publisher sends all.
	SendLayers(mid string, active, paused []string)
	// SendDownlink tells a subscriber how its link fares with what it
	// receives: DownlinkGood, DownlinkReduced (lower encodings than it
	// needs) or DownlinkAudioOnly (no video fits: its pictures stay on
	// their last frame until the link recovers). It comes whenever that
	// changes, the first time at the first choice of its encodings.
	SendDownlink(state string)
	// SendProgram tells a hall participant where the hall program's
	// picture and sound come from; at join and whenever that changes.
	SendProgram(pr Program)
}

// Program is where the hall program comes from: the hall participants
// (a console, or the mixer's WHIP source) whose picture and sound it is,
// by id ("" for none), and whether each is the technician's choice
// (SetProgramVideo, SetProgramAudio) rather than the default.
type Program struct {
	Video, Audio             string
	VideoChosen, AudioChosen bool
}

// Join adds a participant to the room of conf and creates its two
// PeerConnections. A participant with the same id already there is
// replaced and closed (the same link connected again). An ingest (role
// conference.RoleIngest, the WHIP source) gets no subscribing
// PeerConnection: it only publishes. A viewer (conference.RoleViewer, of
// WHEP) gets only the hall program, on a subscribing PeerConnection whose
// offer comes from its client (HandleWatchOffer); its Signaler is never
// sent a subscribe offer.
func (s *SFU) Join(conf string, info Info, sig Signaler) (*Participant, error) {
	p, err := newParticipant(s, conf, info, sig)
	if err != nil {
		return nil, err
	}
	if err := p.addSlots(); err != nil {
		p.cancel()
		p.closePeerConnections()
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		p.cancel()
		p.closePeerConnections()
		return nil, ErrClosed
	}
	r := s.roomLocked(conf)
	r.mu.Lock()
	old := r.participants[info.ID]
	r.participants[info.ID] = p
	p.room = r
	r.joins++
	p.joinSeq = r.joins
	r.mu.Unlock()
	s.mu.Unlock()
	s.stats.participants.Add(1)
	s.stats.countRole(info.Role, 1)
	p.negReady.Store(true)
	if p.negPending.Swap(false) {
		p.startNegotiation()
	}
	if p.wall != nil {
		go p.wall.run(p.ctx)
		p.wall.refresh()
	}
	if old != nil {
		old.Close()
	}
	r.applyFloor()
	return p, nil
}

// roomLocked returns the room of conf, creating it. s.mu must be held.
func (s *SFU) roomLocked(conf string) *room {
	r := s.rooms[conf]
	if r == nil {
		r = &room{sfu: s, id: conf, participants: make(map[string]*Participant)}
		s.rooms[conf] = r
	}
	return r
}

// participant returns participant id of conf, or nil.
func (s *SFU) participant(conf, id string) *Participant {
	s.mu.Lock()
	r := s.rooms[conf]
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.participants[id]
}

// leave removes p from its room, and the room when it is empty, in one
// step with the room's membership, so that a participant who joins at the
// same moment is never put into a room that is gone.
func (s *SFU) leave(p *Participant) {
	s.mu.Lock()
	r := p.room
	r.mu.Lock()
	if r.participants[p.info.ID] == p {
		delete(r.participants, p.info.ID)
	}
	s.dropIfEmptyLocked(r)
	r.mu.Unlock()
	s.mu.Unlock()
	s.stats.participants.Add(-1)
	s.stats.countRole(p.info.Role, -1)
}

// dropIfEmptyLocked forgets r when nobody is in it and it is neither
// recorded nor broadcast live (which a room keeps between participants).
// s.mu and r.mu must be held.
func (s *SFU) dropIfEmptyLocked(r *room) {
	if len(r.participants) == 0 && r.recorder == nil && r.live == nil && s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
}

// dropIfEmpty is dropIfEmptyLocked, taking the locks.
func (s *SFU) dropIfEmpty(r *room) {
	s.mu.Lock()
	r.mu.Lock()
	s.dropIfEmptyLocked(r)
	r.mu.Unlock()
	s.mu.Unlock()
}

// Close ends every participant and releases the media ports.
func (s *SFU) Close() error {
	s.mu.Lock()
	s.closed = true
	var all []*Participant
	for _, r := range s.rooms {
		r.mu.Lock()
		for _, p := range r.participants {
			all = append(all, p)
		}
		r.mu.Unlock()
	}
	s.mu.Unlock()
	for _, p := range all {
		p.Close()
	}
	s.stop()
	return s.closePorts()
}

func (s *SFU) closePorts() error {
	var errs []error
	if s.udpMux != nil {
		errs = append(errs, s.udpMux.Close())
	}
	if s.tcpMux != nil {
		errs = append(errs, s.tcpMux.Close())
	} else if s.tcp != nil {
		errs = append(errs, s.tcp.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sfu: close media ports: %w", err)
	}
	return nil
}

// room is the set of participants of one conference. Its lock covers the
// membership and the floor; the SFU's lock, taken before it, covers the
// map of rooms.
type room struct {
	sfu *SFU
	id  string

	// applyMu serializes applyFloor, which owns what the participants
	// below were last told of the program (programTold).
	applyMu sync.Mutex

	mu           sync.Mutex
	participants map[string]*Participant
	holders      []string // floor holders
	floorVersion int64    // of the holders set last
	programAudio string   // the hall participant whose sound the technician chose for the program
	programVideo string   // the hall participant whose picture the technician chose for the program
	contentID    string   // the participant whose content everyone sees ("": none); see content.go
	contentMid   string   // the transceiver it shares its content on
	// recorder takes the conference's recording, nil when it is not
	// recorded; recordedState is what it was last told of the program.
	recorder      Recorder
	recordedState *ProgramState
	// live is the conference's live program, nil when none runs.
	live *Live

	joins uint64 // participants joined so far, for their joinSeq
	// switchAt is when the floor last passed to a new first holder (unix
	// nanoseconds), until a speaker slot shows that holder's video; 0
	// otherwise.
	switchAt atomic.Int64
}

// others returns the participants of r other than p.
func (r *room) others(p *Participant) []*Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Participant, 0, len(r.participants))
	for _, q := range r.participants {
		if q != p {
			out = append(out, q)
		}
	}
	return out
}
