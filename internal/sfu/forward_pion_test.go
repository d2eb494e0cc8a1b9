package sfu

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/srtpkeys"
)

// connectDownTrack puts d on a new subscribing PeerConnection of s, connects
// it over loopback to a pion receiver that discards the media, and waits
// until d is bound and the receiver gets packets. With direct, d gets a
// participant (returned), which opens a direct path once connected as a
// participant does; receiver adjusts the receiver's settings.
func connectDownTrack(tb testing.TB, s *SFU, d *downTrack, prime func(), direct bool, receiver ...func(*webrtc.SettingEngine)) *Participant {
	tb.Helper()
	keys := &srtpkeys.Recorder{}
	sub, err := s.subscribeAPI(keys).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sub.Close() })
	var p *Participant
	if direct {
		p = &Participant{sfu: s, sub: sub, keys: keys, log: s.log}
		d.sub = p
		sub.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			if st == webrtc.PeerConnectionStateConnected {
				p.openDirect()
			}
		})
	}
	sender, err := sub.AddTrack(d)
	if err != nil {
		tb.Fatal(err)
	}
	go func() {
		for {
			if _, _, err := sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()

	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	for _, f := range receiver {
		f(&se)
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		tb.Fatal(err)
	}
	recv, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { recv.Close() })
	got := make(chan struct{})
	recv.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		close(got)
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
		}
	})

	offer, err := sub.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(sub)
	if err := sub.SetLocalDescription(offer); err != nil {
		tb.Fatal(err)
	}
	<-gathered
	if err := recv.SetRemoteDescription(*sub.LocalDescription()); err != nil {
		tb.Fatal(err)
	}
	answer, err := recv.CreateAnswer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(recv)
	if err := recv.SetLocalDescription(answer); err != nil {
		tb.Fatal(err)
	}
	<-gathered
	if err := sub.SetRemoteDescription(*recv.LocalDescription()); err != nil {
		tb.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-got:
			return p
		case <-tick.C:
			prime()
		case <-deadline:
			tb.Fatal("receiver got no media")
			return nil
		}
	}
}

// waitDirect reports whether p's direct path opens within timeout: the
// connection-state callback that opens it may come after the first
// packets went through pion.
func waitDirect(p *Participant, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); p.direct.Load() == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// BenchmarkForwardSRTP measures one incoming packet forwarded to n
// subscribers over real pion PeerConnections on loopback: our rewrite plus
// pion's interceptors, SRTP encryption and the UDP send. The receivers run
// in the same process and share the machine's cores.
func BenchmarkForwardSRTP(b *testing.B) {
	for _, bc := range []struct {
		path string
		n    int
	}{{"pion", 1}, {"pion", 10}, {"pion", 100}, {"direct", 1}, {"direct", 10}, {"direct", 100}} {
		n := bc.n
		b.Run(fmt.Sprintf("path=%s/downtracks=%d", bc.path, n), func(b *testing.B) {
			s, err := New(Config{IncludeLoopback: true, TCPPort: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
			u.stats = &s.stats
			seq := uint16(0)
			var h rtp.Header
			pkt := append(vp8Packet(0, 0, true, true), make([]byte, 1000)...)
			send := func() {
				seq++
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				u.forward(&h, pkt)
			}
			for range n {
				d := newDownTrack(u, nil)
				if p := connectDownTrack(b, s, d, send, bc.path == "direct"); p != nil && !waitDirect(p, 5*time.Second) {
					b.Fatal("no direct path on a UDP connection")
				}
			}
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				send()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/downtrack")
		})
	}
}
