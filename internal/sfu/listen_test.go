package sfu

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/srtpkeys"
)

// TestListenIPsBoundTheMediaAddresses: with ListenIPs, the media sockets
// bind those addresses only, and a PeerConnection's candidates name no
// other.
func TestListenIPsBoundTheMediaAddresses(t *testing.T) {
	s, err := New(Config{IncludeLoopback: true, ListenIPs: []string{"127.0.0.1"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addrs := s.udpMux.GetListenAddresses()
	if len(addrs) != 1 || !addrs[0].(*net.UDPAddr).IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("media sockets on %v, want 127.0.0.1 alone", addrs)
	}
	pc, err := s.subscribeAPI(&srtpkeys.Recorder{}).NewPeerConnection(peerConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	var udp, tcp int
	for _, line := range strings.Split(pc.LocalDescription().SDP, "\n") {
		if !strings.HasPrefix(line, "a=candidate:") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 6 || f[4] != "127.0.0.1" {
			t.Errorf("candidate on another address: %s", strings.TrimSpace(line))
			continue
		}
		switch strings.ToLower(f[2]) {
		case "udp":
			udp++
		case "tcp":
			tcp++
		}
	}
	if udp == 0 || tcp == 0 {
		t.Errorf("%d UDP and %d TCP candidates on 127.0.0.1, want both", udp, tcp)
	}
}

func TestListenFilterRefusesANonAddress(t *testing.T) {
	if _, err := listenFilter([]string{"eth0"}); err == nil {
		t.Error("a listen IP of eth0 accepted")
	}
	keep, err := listenFilter([]string{"192.0.2.10", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{"192.0.2.10": true, "2001:db8::1": true, "192.0.2.11": false, "::1": false} {
		if keep(net.ParseIP(ip)) != want {
			t.Errorf("filter keeps %s: %v, want %v", ip, !want, want)
		}
	}
}

func TestListenFilterLeavesOutLinkLocalByDefault(t *testing.T) {
	keep, err := listenFilter(nil)
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{"192.0.2.10": true, "2001:db8::1": true, "fd00::2": true, "127.0.0.1": true, "::1": true, "fe80::1": false, "169.254.1.1": false} {
		if keep(net.ParseIP(ip)) != want {
			t.Errorf("filter keeps %s: %v, want %v", ip, !want, want)
		}
	}
}
