package turn

import (
	"net"
	"net/netip"
)

// peerPolicy decides where relayed transports may send, so that TURN
// credentials, which every join hands out, cannot be used to reach this
// host's other services or the networks behind it.
//
// A conference needs one destination: the SFU's media port on this host.
// So a peer on this host (any of its interface addresses, every loopback
// address, the relay IP, or an announced public IP) is permitted, but its
// packets pass only to and from the media ports; a peer in the allow-list
// is permitted with any port; every other peer (other loopback, private,
// link-local, multicast, unspecified and public addresses) is refused.
// TURN permissions are per IP address (RFC 8656, section 9), so the port
// is checked on every packet by relayConn.
type peerPolicy struct {
	host  map[netip.Addr]bool // this host's addresses
	media map[uint16]bool     // UDP ports of the SFU on this host
	allow []netip.Prefix
}

func newPeerPolicy(host []net.IP, mediaPorts []int, allow []netip.Prefix) *peerPolicy {
	p := &peerPolicy{host: make(map[netip.Addr]bool), media: make(map[uint16]bool)}
	for _, ip := range host {
		if a, ok := netip.AddrFromSlice(ip); ok {
			p.host[a.Unmap()] = true
		}
	}
	for _, port := range mediaPorts {
		if port > 0 && port <= 65535 {
			p.media[uint16(port)] = true
		}
	}
	for _, pre := range allow {
		p.allow = append(p.allow, pre.Masked())
	}
	return p
}

// permit decides a CreatePermission or ChannelBind request for ip, and
// says why.
func (p *peerPolicy) permit(ip netip.Addr) (ok bool, reason string) {
	ip = ip.Unmap().WithZone("")
	switch {
	case !ip.IsValid() || ip.IsUnspecified():
		return false, "unspecified"
	case p.thisHost(ip):
		if len(p.media) == 0 {
			return false, "this host, which has no media port"
		}
		return true, "this host, media port only"
	case p.allowed(ip):
		return true, "allow-list"
	}
	return false, addrClass(ip)
}

// pass reports whether a relayed packet may go to, or come from, ap.
func (p *peerPolicy) pass(ap netip.AddrPort) bool {
	ip := ap.Addr().Unmap().WithZone("")
	switch {
	case !ip.IsValid() || ip.IsUnspecified():
		return false
	case p.thisHost(ip):
		return p.media[ap.Port()]
	}
	return p.allowed(ip)
}

// thisHost reports whether ip reaches this host.
func (p *peerPolicy) thisHost(ip netip.Addr) bool { return ip.IsLoopback() || p.host[ip] }

func (p *peerPolicy) allowed(ip netip.Addr) bool {
	for _, pre := range p.allow {
		if pre.Contains(ip) {
			return true
		}
	}
	return false
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// addrClass names the kind of an address that is not on this host, for
// the log of a refusal.
func addrClass(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate() || cgnat.Contains(ip):
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case ip.IsGlobalUnicast():
		return "not this host"
	}
	return "reserved"
}

// udpAddrPort returns a as an address and port, and whether it is UDP.
func udpAddrPort(a net.Addr) (netip.AddrPort, bool) {
	ua, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	return ua.AddrPort(), true
}
