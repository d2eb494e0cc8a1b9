package turn

import (
	"net"

	pionturn "github.com/pion/turn/v4"
)

// relayGenerator allocates relayed UDP transports in a port range. When the
// SFU on this host announces public IPs that are not this host's own (1:1
// NAT, as in most clouds), it keeps the relay's traffic with the SFU on the
// host rather than sending it out to the NAT and back, which many NATs
// refuse: a packet to a public IP goes to the relay IP instead, and a packet
// from one of this host's addresses appears to come from the first public
// IP, the peer address the client created its permission for.
type relayGenerator struct {
	*pionturn.RelayAddressGeneratorPortRange
	public []net.IP        // public IPs that are not local
	local  map[string]bool // this host's addresses
	to     net.IP          // where packets to a public IP go
}

func newRelayGenerator(base *pionturn.RelayAddressGeneratorPortRange, public []net.IP, local []net.IP) *relayGenerator {
	g := &relayGenerator{RelayAddressGeneratorPortRange: base, local: make(map[string]bool), to: base.RelayAddress}
	for _, ip := range local {
		g.local[ip.String()] = true
	}
	for _, ip := range public {
		if ip != nil && !g.local[ip.String()] {
			g.public = append(g.public, ip)
		}
	}
	return g
}

// AllocatePacketConn opens a relayed transport, rewriting addresses as the
// type describes when the host has public IPs that are not local.
func (g *relayGenerator) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	c, addr, err := g.RelayAddressGeneratorPortRange.AllocatePacketConn(network, requestedPort)
	if err != nil || len(g.public) == 0 {
		return c, addr, err
	}
	return &hairpinConn{PacketConn: c, g: g}, addr, nil
}

// hairpinConn is a relayed transport whose peer addresses are rewritten.
type hairpinConn struct {
	net.PacketConn
	g *relayGenerator
}

// ReadFrom reads a packet; one from this host appears to come from the
// first public IP.
func (c *hairpinConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if ua, ok := addr.(*net.UDPAddr); ok && c.g.local[ua.IP.String()] {
		addr = &net.UDPAddr{IP: c.g.public[0], Port: ua.Port}
	}
	return n, addr, err
}

// WriteTo sends a packet; one to a public IP of this host goes to the
// relay IP.
func (c *hairpinConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); ok {
		for _, ip := range c.g.public {
			if ua.IP.Equal(ip) {
				addr = &net.UDPAddr{IP: c.g.to, Port: ua.Port}
				break
			}
		}
	}
	return c.PacketConn.WriteTo(p, addr)
}

// localIPs returns the addresses of this host's interfaces.
func localIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP)
		}
	}
	return out
}
