package sfu

import (
	"io"
	"log/slog"
	"net"
	"testing"
)

// TestListenAddrsAreTheBoundSockets: with ListenIPs of 127.0.0.1 alone,
// ListenAddrs names one UDP and one TCP address, both 127.0.0.1 on the
// ports the SFU reports.
func TestListenAddrsAreTheBoundSockets(t *testing.T) {
	s, err := New(Config{IncludeLoopback: true, ListenIPs: []string{"127.0.0.1"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var udp, tcp int
	for _, a := range s.ListenAddrs() {
		switch a := a.(type) {
		case *net.UDPAddr:
			udp++
			if !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port != s.UDPPort() {
				t.Errorf("UDP socket on %v, want 127.0.0.1:%d", a, s.UDPPort())
			}
		case *net.TCPAddr:
			tcp++
			if !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port != s.TCPPort() {
				t.Errorf("ICE-TCP on %v, want 127.0.0.1:%d", a, s.TCPPort())
			}
		default:
			t.Errorf("address %v of type %T", a, a)
		}
	}
	if udp != 1 || tcp != 1 {
		t.Errorf("%d UDP and %d TCP addresses, want one of each", udp, tcp)
	}
}
