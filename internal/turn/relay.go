package turn

import (
	"net"
	"sync/atomic"

	pionturn "github.com/pion/turn/v4"
)

// relayGenerator allocates relayed UDP transports in a port range, each
// filtered by the peer policy: a packet to or from a peer the policy does
// not pass (this host on a port other than the media ports) is dropped.
//
// When the SFU on this host announces public IPs that are not this host's
// own (1:1 NAT, as in most clouds), or loopback, it also keeps the relay's traffic with
// the SFU on the host rather than sending it out to the NAT and back, which
// many NATs refuse: a packet to a public IP goes to the relay IP instead,
// and a packet from one of this host's addresses appears to come from the
// first public IP, the peer address the client created its permission for.
type relayGenerator struct {
	*pionturn.RelayAddressGeneratorPortRange
	policy *peerPolicy
	public []net.IP        // public IPs that are not local, or loopback
	local  map[string]bool // this host's interface addresses
	to     net.IP          // where packets to a public IP go
	// dropped counts the relayed packets the policy stopped.
	dropped atomic.Uint64
}

func newRelayGenerator(base *pionturn.RelayAddressGeneratorPortRange, policy *peerPolicy, public []net.IP, local []net.IP) *relayGenerator {
	g := &relayGenerator{RelayAddressGeneratorPortRange: base, policy: policy, local: make(map[string]bool), to: base.RelayAddress}
	for _, ip := range local {
		g.local[ip.String()] = true
	}
	for _, ip := range public {
		// A loopback public IP (a container announcing the Docker host's
		// 127.0.0.1) is rewritten too: an SFU that announces public IPs
		// binds no loopback socket (see cmd/hoinghi).
		if ip != nil && (!g.local[ip.String()] || ip.IsLoopback()) {
			g.public = append(g.public, ip)
		}
	}
	return g
}

// AllocatePacketConn opens a relayed transport that the peer policy
// filters and, when the host has public IPs that are not local, whose
// addresses are rewritten as the type describes.
func (g *relayGenerator) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	c, addr, err := g.RelayAddressGeneratorPortRange.AllocatePacketConn(network, requestedPort)
	if err != nil {
		return nil, nil, err
	}
	return &relayConn{PacketConn: c, g: g}, addr, nil
}

// relayConn is a relayed transport: its packets pass the peer policy, and
// its peer addresses are rewritten for public IPs that are not local.
type relayConn struct {
	net.PacketConn
	g *relayGenerator
}

// ReadFrom reads the next packet from a peer the policy passes; a packet
// from this host appears to come from the first public IP, if any.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		ap, ok := udpAddrPort(addr)
		if !ok || !c.g.policy.pass(ap) {
			c.g.dropped.Add(1)
			continue
		}
		if ua := addr.(*net.UDPAddr); len(c.g.public) > 0 && c.g.local[ua.IP.String()] {
			addr = &net.UDPAddr{IP: c.g.public[0], Port: ua.Port}
		}
		return n, addr, nil
	}
}

// WriteTo sends a packet to a peer the policy passes and silently drops
// one to any other, as a firewall would; one to a public IP of this host
// goes to the relay IP.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ap, ok := udpAddrPort(addr)
	if !ok || !c.g.policy.pass(ap) {
		c.g.dropped.Add(1)
		return len(p), nil
	}
	ua := addr.(*net.UDPAddr)
	for _, ip := range c.g.public {
		if ua.IP.Equal(ip) {
			addr = &net.UDPAddr{IP: c.g.to, Port: ua.Port}
			break
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
