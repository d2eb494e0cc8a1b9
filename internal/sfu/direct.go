package sfu

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
	"hoinghi/internal/media/estimate"
	"hoinghi/internal/media/packetcache"
	"hoinghi/internal/media/rewrite"
	"hoinghi/internal/media/twcc"
	"hoinghi/internal/media/vp8"
)

// srtpTrailer is room enough after a packet for what SRTP adds to it: an
// authentication tag, a rollover counter, a key identifier.
const srtpTrailer = 64

// scratch is one writing goroutine's space for a packet on its way out:
// the header the subscriber gets, and the packet, marshalled and
// encrypted in place for the direct path.
type scratch struct {
	out rtp.Header
	enc rtp.Header
	buf []byte
	// sentAt is when the packet goes out (unix nanoseconds), read once
	// for all the down-tracks it goes to; ext and twcc hold its
	// transport-wide sequence number extension.
	sentAt int64
	ext    [1]rtp.Extension
	twcc   [2]byte
	// probe marks the packets of a probe, which mediaBytes leaves out.
	probe bool
	// renumbered is set when the VP8 packet being written, of
	// descriptor desc, goes out with the picture numbering picture
	// (renumber, patch).
	renumbered bool
	desc       vp8.Descriptor
	picture    rewrite.Picture
}

// newScratch returns the scratch space of one writing goroutine.
func newScratch() *scratch {
	return &scratch{buf: make([]byte, packetcache.SlotSize+srtpTrailer)}
}

// directPath writes a subscriber's RTP itself, beside pion: encrypted with
// the SRTP keys of the subscriber's DTLS connection (srtpkeys) and sent on
// the SFU's own UDP socket of the selected candidate pair, in one system
// call and without pion's SRTP session, mux and ICE connection on the way.
// Pion keeps carrying STUN and DTLS, and the SFU's RTCP to the subscriber,
// whose SRTCP context is its own; the subscriber's RTCP is read off the
// socket (rtcpSink). Only the encryption is under mu; the network write
// is not.
type directPath struct {
	conn *net.UDPConn
	to   netip.AddrPort
	sink *rtcpSink // the subscriber's RTCP, read off conn

	// mu covers the encryption, the transport-wide numbering and what
	// the subscriber's feedback says of it.
	mu  sync.Mutex
	ctx *srtp.Context
	// twccSeq is the next transport-wide sequence number; sent records
	// the packets numbered (numbered: any was); est follows what the
	// subscriber's feedback on them says of its link (estimated: since
	// the first).
	twccSeq  uint16
	sent     twcc.History
	numbered bool
	est      estimate.Estimator
	// mediaBytes counts what was sent but probes.
	mediaBytes uint64
	estimated  bool
}

// writeRTP encrypts the packet of h and payload in sc and sends it; with
// twccExt (the negotiated id, 0 for none) it numbers it on the transport.
func (d *directPath) writeRTP(h *rtp.Header, twccExt uint8, payload []byte, sc *scratch) (int, error) {
	d.mu.Lock()
	pkt, err := d.seal(h, twccExt, payload, sc)
	d.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return d.conn.WriteToUDPAddrPort(pkt, d.to)
}

// seal marshals and encrypts the packet into sc.buf. d.mu must be held.
func (d *directPath) seal(h *rtp.Header, twccExt uint8, payload []byte, sc *scratch) ([]byte, error) {
	if twccExt != 0 {
		binary.BigEndian.PutUint16(sc.twcc[:], d.twccSeq)
		h.Extensions = sc.ext[:0] // SetExtension appends here, not to a new slice
		if err := h.SetExtension(twccExt, sc.twcc[:]); err != nil {
			return nil, fmt.Errorf("sfu: transport-wide sequence number: %w", err)
		}
	}
	hl, err := h.MarshalTo(sc.buf)
	if err != nil {
		return nil, fmt.Errorf("sfu: marshal RTP header: %w", err)
	}
	n := hl + copy(sc.buf[hl:len(sc.buf)-srtpTrailer], payload)
	if n-hl < len(payload) {
		return nil, fmt.Errorf("sfu: RTP packet of %d bytes does not fit", hl+len(payload))
	}
	sc.patch(sc.buf[hl:n])
	pkt, err := d.ctx.EncryptRTP(sc.buf, sc.buf[:n], &sc.enc)
	if err != nil {
		return nil, fmt.Errorf("sfu: encrypt RTP: %w", err)
	}
	if twccExt != 0 {
		d.sent.Sent(d.twccSeq, sc.sentAt, len(pkt))
		d.twccSeq++
		d.numbered = true
	}
	if !sc.probe {
		d.mediaBytes += uint64(len(pkt))
	}
	return pkt, nil
}

// applyFeedback takes one transport-wide feedback of the subscriber's,
// at now (unix nanoseconds).
func (d *directPath) applyFeedback(fci []byte, now int64) {
	f, err := twcc.ParseFeedback(fci)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sent.Apply(&f)
	if s.Received+s.Lost == 0 {
		return
	}
	d.est.Update(estimate.Report{
		Received: s.Received, Lost: s.Lost, Bytes: s.Bytes,
		FirstArrival: s.FirstArrival * 1000, LastArrival: s.LastArrival * 1000,
		FirstSent: s.FirstSent, LastSent: s.LastSent, At: now,
	})
	d.estimated = true
}

// downlink returns what the subscriber's feedback says its link delivers:
// bits a second and the share of packets lost; ok is false before any.
func (d *directPath) downlink() (bps, lost float64, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return float64(d.est.Delivered()), d.est.Loss(), d.estimated
}

// probe tells the estimate that the packets sent from start to end (unix
// nanoseconds) probe the link (estimate.Estimator.Probe).
func (d *directPath) probe(start, end int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.est.Probe(start, end)
}

// sentMedia returns the bytes sent so far, probes left out.
func (d *directPath) sentMedia() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mediaBytes
}

// probeDone reports whether the feedback on the last probe is all in.
func (d *directPath) probeDone() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.est.ProbeDone()
}

// estimate returns what the subscriber's link is estimated to carry, in
// bits a second, and whether the last feedback showed congestion; ok is
// false when the subscriber gives no transport-wide feedback (nothing
// sent was numbered), and the link is taken to carry anything.
func (d *directPath) estimate() (bps int, congested, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.numbered {
		return 0, false, false
	}
	return d.est.Rate(), d.est.Congested(), true
}

// Initial estimates of a subscriber's downlink, before its first feedback:
// a console at the provincial hall, on its fibre, receives a wall of
// tiles and the speaker at once; a point starts with room for the program
// in its middle encoding and climbs from there if its link allows.
const (
	hallInitialEstimate  = 8_000_000
	pointInitialEstimate = 1_500_000
)

// initialEstimate returns the estimate of the downlink of a subscriber of
// role before its first feedback.
func initialEstimate(role conference.Role) int {
	if role.AtHall() {
		return hallInitialEstimate
	}
	return pointInitialEstimate
}

// mediaSockets is the network of the SFU's UDP mux: the system's, keeping
// the socket it opens for each local address so that a direct path can
// write on the one of its candidate pair.
type mediaSockets struct {
	transport.Net
	// nat maps the addresses announced for 1:1 NAT (media.public_ips)
	// to the local ones they stand for.
	nat map[netip.Addr]netip.Addr

	mu    sync.Mutex
	conns map[netip.Addr]*net.UDPConn

	// sinks are the subscribers whose RTCP the sockets read themselves,
	// by the address it comes from.
	sinkMu sync.RWMutex
	sinks  map[netip.AddrPort]*rtcpSink
}

// newMediaSockets returns the network of the UDP mux, over the system's.
// publicIPs are the 1:1 NAT mappings ("public" or "public/local").
func newMediaSockets(system transport.Net, publicIPs []string) *mediaSockets {
	m := &mediaSockets{Net: system, nat: make(map[netip.Addr]netip.Addr), conns: make(map[netip.Addr]*net.UDPConn),
		sinks: make(map[netip.AddrPort]*rtcpSink)}
	for _, p := range publicIPs {
		pub, local, ok := strings.Cut(p, "/")
		a, err := netip.ParseAddr(pub)
		if err != nil {
			continue
		}
		if ok {
			if l, err := netip.ParseAddr(local); err == nil {
				m.nat[a.Unmap()] = l.Unmap()
			}
			continue
		}
		m.nat[a.Unmap()] = netip.Addr{} // any local address of its family
	}
	return m
}

// ListenUDP opens the socket as the system does and keeps it; the mux
// reads it through tappedConn.
func (m *mediaSockets) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := m.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UDPConn)
	if !ok {
		return c, nil
	}
	if a, ok := netip.AddrFromSlice(uc.LocalAddr().(*net.UDPAddr).IP); ok {
		m.mu.Lock()
		m.conns[a.Unmap()] = uc
		m.mu.Unlock()
	}
	return &tappedConn{UDPConn: uc, m: m}, nil
}

// tappedConn is a media socket as pion's UDP mux reads it: the SRTCP of a
// subscriber with a direct path is taken out on the way and handled at
// once (rtcpSink); everything else goes on to pion.
type tappedConn struct {
	*net.UDPConn
	m *mediaSockets
}

// ReadFromUDPAddrPort returns the next packet that is not a direct path's
// RTCP.
func (c *tappedConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		n, from, err := c.UDPConn.ReadFromUDPAddrPort(b)
		if err != nil || !isRTCP(b[:n]) || !c.m.takeRTCP(b[:n], from) {
			return n, from, err
		}
	}
}

// ReadFrom is ReadFromUDPAddrPort with a net.Addr.
func (c *tappedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// isRTCP tells whether a packet on a media socket is RTCP: RTP version 2
// (RFC 7983) with a packet type of 192 to 223 (RFC 5761).
func isRTCP(b []byte) bool {
	return len(b) >= 8 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223
}

// takeRTCP hands pkt, from from, to its sink and tells whether it took it.
func (m *mediaSockets) takeRTCP(pkt []byte, from netip.AddrPort) bool {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	m.sinkMu.RLock()
	s := m.sinks[from]
	m.sinkMu.RUnlock()
	return s != nil && s.receive(pkt)
}

// tap makes the sockets read the RTCP from addr into s.
func (m *mediaSockets) tap(addr netip.AddrPort, s *rtcpSink) {
	m.sinkMu.Lock()
	m.sinks[addr] = s
	m.sinkMu.Unlock()
}

// untap stops what tap started, if s is still the sink of addr.
func (m *mediaSockets) untap(addr netip.AddrPort, s *rtcpSink) {
	m.sinkMu.Lock()
	if m.sinks[addr] == s {
		delete(m.sinks, addr)
	}
	m.sinkMu.Unlock()
}

// rtcpSink reads the RTCP of a subscriber with a direct path: decrypted
// with the keys of its DTLS, on the goroutine that reads the socket, in
// place of the reader goroutine per down-track it would take through pion.
// What does not decrypt with them (another connection from the same
// address) is left to pion.
type rtcpSink struct {
	p *Participant

	mu    sync.Mutex
	ctx   *srtp.Context
	plain []byte
	st    feedbackState
}

// receive handles one SRTCP packet and tells whether it was the sink's.
// The lock covers the decryption and the requests it carries, resends
// included: those are UDP writes, which never block, and only the reader
// of the socket the subscriber's pair uses ever takes it.
func (s *rtcpSink) receive(pkt []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	plain, err := s.ctx.DecryptRTCP(s.plain, pkt, nil)
	if err != nil {
		return false
	}
	s.p.handleFeedback(plain, nil, &s.st)
	return true
}

// onlyIPv4 returns the IPv4 address of the sockets if there is exactly one.
func (m *mediaSockets) onlyIPv4() (netip.Addr, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var v4 netip.Addr
	for a := range m.conns {
		if a.Is4() {
			if v4.IsValid() {
				return netip.Addr{}, false
			}
			v4 = a
		}
	}
	return v4, v4.IsValid()
}

// socket returns the SFU's UDP socket of a local candidate address, as
// announced; nil if there is none, or no single one.
func (m *mediaSockets) socket(announced netip.Addr) *net.UDPConn {
	a := announced.Unmap()
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.conns[a]; c != nil {
		return c
	}
	local, ok := m.nat[a]
	if !ok {
		return nil
	}
	if local.IsValid() {
		return m.conns[local]
	}
	var found *net.UDPConn
	for l, c := range m.conns {
		if l.Is4() == a.Is4() && !l.IsLoopback() && !l.IsLinkLocalUnicast() {
			if found != nil {
				return nil // several: which one the public address stands for is unknown
			}
			found = c
		}
	}
	return found
}

// openDirect gives p's down-tracks a direct path, once p's subscribing
// PeerConnection is connected over UDP on one of the SFU's sockets and its
// keys are known, and reads p's RTCP off that socket; it tells whether it
// did. Otherwise they keep going through pion (ICE-TCP, a DTLS client
// role, an address the SFU does not know).
func (p *Participant) openDirect() bool {
	if p.keys == nil || p.sfu.sockets == nil {
		return false
	}
	if p.direct.Load() != nil {
		return true
	}
	pair, err := p.sub.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return false
	}
	if pair.Local.Protocol != webrtc.ICEProtocolUDP || pair.Remote.Protocol != webrtc.ICEProtocolUDP {
		return false
	}
	local, err := netip.ParseAddr(pair.Local.Address)
	if err != nil {
		return false
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return false
	}
	conn := p.sfu.sockets.socket(local)
	if conn == nil {
		p.log.Debug("no direct path: no socket of the local candidate", "address", pair.Local.Address)
		return false
	}
	profile, keys, err := p.keys.Keys()
	if err != nil {
		p.log.Debug("no direct path", "err", err)
		return false
	}
	enc, err := srtp.CreateContext(keys.LocalMasterKey, keys.LocalMasterSalt, profile)
	if err != nil {
		p.log.Warn("no direct path: SRTP context", "err", err)
		return false
	}
	dec, err := srtp.CreateContext(keys.RemoteMasterKey, keys.RemoteMasterSalt, profile)
	if err != nil {
		p.log.Warn("no direct path: SRTCP context", "err", err)
		return false
	}
	dp := &directPath{conn: conn, to: netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port), ctx: enc,
		sink: &rtcpSink{p: p, ctx: dec, plain: make([]byte, 1500)}}
	dp.est.Initial = initialEstimate(p.info.Role)
	p.direct.Store(dp)
	p.sfu.sockets.tap(dp.to, dp.sink)
	p.sfu.stats.directPaths.Add(1)
	if p.ctx != nil && p.ctx.Err() != nil {
		p.closeDirect() // closed meanwhile: Close may have missed it
		return false
	}
	return true
}

// closeDirect stops reading p's RTCP off the socket.
func (p *Participant) closeDirect() {
	if dp := p.direct.Swap(nil); dp != nil {
		p.sfu.sockets.untap(dp.to, dp.sink)
		p.sfu.stats.directPaths.Add(-1)
	}
}
