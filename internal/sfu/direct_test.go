package sfu

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// srtpPair returns a sender's and a receiver's context of the same keys.
func srtpPair(t testing.TB) (enc, dec *srtp.Context) {
	t.Helper()
	key, salt := bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 12)
	enc, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	dec, err = srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readSRTP reads the next packet on sub, within 2 s, and returns it
// decrypted with dec.
func readSRTP(t *testing.T, sub *net.UDPConn, dec *srtp.Context) rtp.Packet {
	t.Helper()
	buf := make([]byte, 1500)
	sub.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := sub.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := dec.DecryptRTP(nil, buf[:n], nil)
	if err != nil {
		t.Fatalf("the packet does not decrypt: %v", err)
	}
	var got rtp.Packet
	if err := got.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestDirectPathWritesWhatTheSubscriberDecrypts: a packet written on a
// direct path arrives at the subscriber's address and decrypts with the
// subscriber's keys to the header and payload given.
func TestDirectPathWritesWhatTheSubscriberDecrypts(t *testing.T) {
	enc, dec := srtpPair(t)
	server, sub := listenLoopback(t), listenLoopback(t)
	dp := &directPath{conn: server, to: sub.LocalAddr().(*net.UDPAddr).AddrPort(), ctx: enc}
	sc := newScratch()
	payload := bytes.Repeat([]byte{0xab}, 1100)
	for seq := uint16(65530); seq != 5; seq++ { // across a rollover
		sc.out = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: 90 * uint32(seq), SSRC: 42, Marker: seq%2 == 0}
		if n, err := dp.writeRTP(&sc.out, 0, payload, sc); err != nil || n == 0 {
			t.Fatalf("write %d: %d, %v", seq, n, err)
		}
		got := readSRTP(t, sub, dec)
		if got.SequenceNumber != seq || got.SSRC != 42 || got.Marker != sc.out.Marker || !bytes.Equal(got.Payload, payload) {
			t.Fatalf("packet %d arrived as %+v", seq, got.Header)
		}
	}
}

// TestDirectPathRefusesWhatDoesNotFit: a payload larger than the scratch
// space is an error, not a cut packet.
func TestDirectPathRefusesWhatDoesNotFit(t *testing.T) {
	enc, _ := srtpPair(t)
	server, sub := listenLoopback(t), listenLoopback(t)
	dp := &directPath{conn: server, to: sub.LocalAddr().(*net.UDPAddr).AddrPort(), ctx: enc}
	sc := newScratch()
	sc.out = rtp.Header{Version: 2, SSRC: 1}
	if _, err := dp.writeRTP(&sc.out, 0, make([]byte, len(sc.buf)), sc); err == nil {
		t.Fatal("an oversized packet was written")
	}
}

// TestTappedConnTakesTheSubscribersRTCP: the SRTCP of a tapped address is
// handled off the socket (a PLI becomes a keyframe request); RTP, STUN-like
// packets, RTCP from another address and SRTCP that the sink's keys do not
// open reach the reader, in order.
func TestTappedConnTakesTheSubscribersRTCP(t *testing.T) {
	system, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	m := newMediaSockets(system, nil)
	c, err := m.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tapped := c.(*tappedConn)
	sub, other := listenLoopback(t), listenLoopback(t)

	s, err := New(Config{IncludeLoopback: true, TCPPort: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	p := &Participant{sfu: s}
	d := newDownTrack(u, p)
	d.bound.Store(&binding{ssrc: 5000})
	p.slots = []*downTrack{d}
	enc, dec := srtpPair(t)
	m.tap(sub.LocalAddr().(*net.UDPAddr).AddrPort(), &rtcpSink{p: p, ctx: dec, plain: make([]byte, 1500)})

	pli, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 5000}})
	sealed, err := enc.EncryptRTCP(nil, pli, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, _ := srtp.CreateContext(bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 12), srtp.ProtectionProfileAeadAes128Gcm)
	foreign, _ := otherKeys.EncryptRTCP(nil, pli, nil)
	rtpPkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 9}, Payload: []byte{1}}).Marshal()
	to := c.LocalAddr()
	send := func(from *net.UDPConn, b []byte) {
		if _, err := from.WriteTo(b, to); err != nil {
			t.Fatal(err)
		}
	}
	send(sub, sealed)       // taken
	send(sub, rtpPkt)       // passes: RTP
	send(sub, foreign)      // passes: not the sink's keys
	send(other, sealed)     // passes: not a tapped address
	send(sub, []byte{0, 1}) // passes: too short to be RTCP
	send(sub, sealed)       // taken (a replay is not refused here; pion's own has no replay check for it either)
	want := [][]byte{rtpPkt, foreign, sealed, {0, 1}}
	buf := make([]byte, 1500)
	for i, w := range want {
		tapped.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := tapped.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !bytes.Equal(buf[:n], w) {
			t.Fatalf("read %d: %x, want %x", i, buf[:n], w)
		}
	}
	// The last sealed PLI is taken on the next read, which then times out.
	tapped.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := tapped.ReadFromUDPAddrPort(buf); err == nil {
		t.Fatal("a packet passed after the last one expected")
	}
	if n := s.Stats().PLIs; n != 2 {
		t.Fatalf("%d PLIs handled, want the 2 tapped", n)
	}
}

func TestMediaSocketsOfAnnouncedAddresses(t *testing.T) {
	v4a, v4b, v6 := &net.UDPConn{}, &net.UDPConn{}, &net.UDPConn{}
	tests := []struct {
		name   string
		public []string
		conns  map[string]*net.UDPConn
		ask    string
		want   *net.UDPConn
	}{
		{"a local address", nil, map[string]*net.UDPConn{"10.0.0.5": v4a}, "10.0.0.5", v4a},
		{"unknown", nil, map[string]*net.UDPConn{"10.0.0.5": v4a}, "10.0.0.6", nil},
		{"public/local", []string{"203.0.113.7/10.0.0.6"}, map[string]*net.UDPConn{"10.0.0.5": v4a, "10.0.0.6": v4b}, "203.0.113.7", v4b},
		{"public for the one IPv4", []string{"203.0.113.7"}, map[string]*net.UDPConn{"10.0.0.5": v4a, "2001:db8::5": v6, "127.0.0.1": v4b}, "203.0.113.7", v4a},
		{"public for two IPv4", []string{"203.0.113.7"}, map[string]*net.UDPConn{"10.0.0.5": v4a, "10.0.0.6": v4b}, "203.0.113.7", nil},
		{"an IPv4-mapped address", nil, map[string]*net.UDPConn{"10.0.0.5": v4a}, "::ffff:10.0.0.5", v4a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMediaSockets(nil, tt.public)
			for a, c := range tt.conns {
				m.conns[netip.MustParseAddr(a)] = c
			}
			if got := m.socket(netip.MustParseAddr(tt.ask)); got != tt.want {
				t.Errorf("socket of %s: %p, want %p", tt.ask, got, tt.want)
			}
		})
	}
}

// BenchmarkDirectPath is one packet of 1 100 bytes rewritten onto a
// subscriber's direct path: numbered on the transport, marshalled,
// encrypted (AES-GCM), recorded and sent on a loopback socket whose reader
// drains it.
func BenchmarkDirectPath(b *testing.B) {
	enc, _ := srtpPair(b)
	server, sub := listenLoopback(b), listenLoopback(b)
	sub.SetReadBuffer(4 << 20)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := sub.Read(buf); err != nil {
				return
			}
		}
	}()
	dp := &directPath{conn: server, to: sub.LocalAddr().(*net.UDPAddr).AddrPort(), ctx: enc}
	sc := newScratch()
	payload := make([]byte, 1100)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	seq := uint16(0)
	for b.Loop() {
		seq++
		sc.out = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: 42}
		if _, err := dp.writeRTP(&sc.out, 3, payload, sc); err != nil { // with the transport-wide number
			b.Fatal(err)
		}
	}
}

// BenchmarkDirectPathEncrypt is the same without the system call.
func BenchmarkDirectPathEncrypt(b *testing.B) {
	enc, _ := srtpPair(b)
	dp := &directPath{ctx: enc}
	sc := newScratch()
	payload := make([]byte, 1100)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	seq := uint16(0)
	for b.Loop() {
		seq++
		sc.out = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: 42}
		dp.mu.Lock()
		_, err := dp.seal(&sc.out, 3, payload, sc) // with the transport-wide number
		dp.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestNoDirectPathAsDTLSClient: a subscriber whose answer makes the server
// the DTLS client (its key log does not show the server's random) gets no
// direct path, and its media comes through pion all the same; one that
// leaves the server the DTLS server gets one.
func TestNoDirectPathAsDTLSClient(t *testing.T) {
	s, err := New(Config{IncludeLoopback: true, TCPPort: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tt := range []struct {
		name   string
		role   webrtc.DTLSRole
		direct bool
	}{
		{"subscriber as DTLS client", webrtc.DTLSRoleClient, true},
		{"subscriber as DTLS server", webrtc.DTLSRoleServer, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
			u.stats = &s.stats
			var h rtp.Header
			seq := uint16(0)
			pkt := append(vp8Packet(0, 0, true, true), make([]byte, 500)...)
			send := func() {
				seq++
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				u.forward(&h, pkt)
			}
			d := newDownTrack(u, nil)
			// connectDownTrack returns once the receiver got media.
			p := connectDownTrack(t, s, d, send, true, func(se *webrtc.SettingEngine) {
				if err := se.SetAnsweringDTLSRole(tt.role); err != nil {
					t.Fatal(err)
				}
			})
			if tt.direct {
				waitDirect(p, 5*time.Second)
			}
			if got := p.direct.Load() != nil; got != tt.direct {
				t.Fatalf("direct path %v, want %v", got, tt.direct)
			}
		})
	}
}

// TestDirectPathNumbersPacketsOnTheTransport: with the transport-wide
// sequence number negotiated, every packet carries the next number, and
// the subscriber's feedback on them gives the rate its link delivered and
// the share lost.
func TestDirectPathNumbersPacketsOnTheTransport(t *testing.T) {
	enc, dec := srtpPair(t)
	server, sub := listenLoopback(t), listenLoopback(t)
	dp := &directPath{conn: server, to: sub.LocalAddr().(*net.UDPAddr).AddrPort(), ctx: enc}
	const ext = 5
	sc := newScratch()
	payload := make([]byte, 1000)
	for i := range 20 {
		sc.out = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(100 + i), SSRC: 42}
		sc.sentAt = int64(i) * 1e6
		if _, err := dp.writeRTP(&sc.out, ext, payload, sc); err != nil {
			t.Fatal(err)
		}
		got := readSRTP(t, sub, dec)
		e := got.GetExtension(ext)
		if len(e) != 2 || int(e[0])<<8|int(e[1]) != i {
			t.Fatalf("packet %d carries transport-wide number %x", i, e)
		}
		if !bytes.Equal(got.Payload, payload) {
			t.Fatalf("packet %d: payload changed", i)
		}
	}
	if _, _, ok := dp.downlink(); ok {
		t.Fatal("an estimate before any feedback")
	}
	// 18 of the 20 arrived, 1 ms apart.
	fb := &rtcp.TransportLayerCC{MediaSSRC: 42, BaseSequenceNumber: 0, PacketStatusCount: 20, PacketChunks: []rtcp.PacketStatusChunk{
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 9},
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketNotReceived, RunLength: 2},
		&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 9},
	}}
	for range 18 {
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 1000})
	}
	fb.Header = rtcp.Header{Count: rtcp.FormatTCC, Type: rtcp.TypeTransportSpecificFeedback, Length: uint16(fb.MarshalSize()/4 - 1)}
	raw, err := fb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	it := feedbackIter{pkt: raw}
	f, ok := it.next()
	if !ok || f.kind != feedbackTWCC {
		t.Fatalf("feedback read as %+v", f)
	}
	dp.applyFeedback(f.nacks, time.Now().UnixNano())
	bps, lost, ok := dp.downlink()
	if !ok || lost < 0.09 || lost > 0.11 {
		t.Fatalf("downlink %.0f bit/s, %.2f lost, %v; want 0.10 lost", bps, lost, ok)
	}
	// 18 packets of about 1 030 bytes over 17 ms: about 8.7 Mbit/s.
	if bps < 8e6 || bps > 9.5e6 {
		t.Fatalf("delivered %.0f bit/s, want about 8.7 Mbit/s", bps)
	}
}
