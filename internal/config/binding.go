package config

import (
	"net"
	"net/netip"
	"net/url"
)

// Binding is where the server's ports other than the web port listen:
// the media ports (UDP and ICE-TCP) and TURN's own ports and relays. It
// follows the web port, so that a server that serves its pages to this
// machine alone opens no other port to the network either.
type Binding struct {
	// LocalOnly tells that the server is for this machine alone: the web
	// port is on a loopback address and nothing handed to browsers names
	// another host.
	LocalOnly bool
	// MediaIPs are the local addresses of the media ports; empty means
	// every address of the host but link-local ones.
	MediaIPs []string
	// IncludeLoopback offers loopback ICE candidates.
	IncludeLoopback bool
	// TURNHost is the address TURN's UDP, TCP and TLS ports listen on;
	// empty means every address.
	TURNHost string
	// RelayIP is the local address TURN relays are bound to; it is one of
	// MediaIPs, as relays must reach the media sockets on it. The zero
	// Addr means the host's first IPv4 address that is not loopback
	// (turn.DefaultRelayIP), for media on every address.
	RelayIP netip.Addr
}

// Binding chooses where media and TURN listen, given web, the address the
// web port is bound to (the host of listen, resolved):
//
//   - media.listen_ips, when set, are the media addresses;
//   - else, with web on every address (listen ":8080", "0.0.0.0:8080" or
//     "[::]:8080"), media is on every address but link-local ones;
//   - with web on a loopback address, media is on that address alone,
//     unless media.public_ips, public_url or turn.host name another host:
//     then the web port is behind a reverse proxy on this machine, and
//     points reach media from elsewhere, on every address;
//   - with web on one other address (a LAN address), media is on it.
//
// TURN's ports listen where the web port does, or on every address when
// media is there for a reverse proxy; relays bind the first IPv4 media
// address.
func (c *Config) Binding(web netip.Addr) Binding {
	web = web.Unmap().WithZone("")
	b := Binding{LocalOnly: c.localOnly(web)}
	switch {
	case len(c.Media.ListenIPs) > 0:
		b.MediaIPs = append([]string(nil), c.Media.ListenIPs...)
	case !web.IsValid() || web.IsUnspecified():
	case web.IsLoopback() && !b.LocalOnly:
	default:
		b.MediaIPs = []string{web.String()}
	}

	// With public IPs every candidate is announced as one of them, and a
	// loopback socket's candidate would be announced so too: pion keeps
	// one candidate per address and port, the first socket's, and packets
	// arriving at the others (from the NAT, or from a TURN relay) would
	// find no connection. Media on loopback alone needs its candidates.
	b.IncludeLoopback = c.Media.IncludeLoopback && len(c.Media.PublicIPs) == 0
	if len(b.MediaIPs) > 0 && allLoopback(b.MediaIPs) {
		b.IncludeLoopback = true
	}

	switch {
	case !web.IsValid() || web.IsUnspecified():
	case web.IsLoopback() && !b.LocalOnly:
	default:
		b.TURNHost = web.String()
	}
	b.RelayIP = relayIP(b.MediaIPs)
	return b
}

// localOnly reports whether web is loopback and no setting that browsers
// are handed (media.public_ips, public_url, turn.host) names another host.
func (c *Config) localOnly(web netip.Addr) bool {
	if !web.IsValid() || !web.IsLoopback() || len(c.Media.PublicIPs) > 0 {
		return false
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || !loopbackHost(u.Hostname()) {
			return false
		}
	}
	return c.TURN.Host == "" || loopbackHost(c.TURN.Host)
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func allLoopback(ips []string) bool {
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// relayIP returns the first IPv4 address of ips, 127.0.0.1 when ips are
// all loopback (IPv6 ones), or the zero Addr.
func relayIP(ips []string) netip.Addr {
	for _, s := range ips {
		if a, err := netip.ParseAddr(s); err == nil && a.Unmap().Is4() {
			return a.Unmap()
		}
	}
	if len(ips) > 0 && allLoopback(ips) {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.Addr{}
}
