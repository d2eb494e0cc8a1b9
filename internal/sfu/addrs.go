package sfu

import "net"

// ListenAddrs returns the local addresses the media ports are bound to:
// one UDP socket's per address, then the ICE-TCP listener's, if any.
func (s *SFU) ListenAddrs() []net.Addr {
	var out []net.Addr
	if s.udpMux != nil {
		out = append(out, s.udpMux.GetListenAddresses()...)
	}
	if s.tcp != nil {
		out = append(out, s.tcp.Addr())
	}
	return out
}
