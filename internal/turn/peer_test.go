package turn

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v4"
)

func TestPeerPolicyPermit(t *testing.T) {
	host := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.250.3.1"),
		net.ParseIP("192.168.1.10"), net.ParseIP("fe80::1"), net.ParseIP("203.0.113.77")}
	allow := []netip.Prefix{netip.MustParsePrefix("192.168.50.0/24"), netip.MustParsePrefix("2001:db8:1::/48"),
		netip.MustParsePrefix("192.168.1.0/24")}
	strict := newPeerPolicy(host, []int{50000}, nil)
	lan := newPeerPolicy(host, []int{50000}, allow)
	noMedia := newPeerPolicy(host, nil, allow)

	tests := []struct {
		policy *peerPolicy
		peer   string
		ok     bool
		reason string
	}{
		// This host: permitted, packets pass to the media port only.
		{strict, "127.0.0.1", true, "this host, media port only"},
		{strict, "127.0.0.2", true, "this host, media port only"},
		{strict, "::1", true, "this host, media port only"},
		{strict, "::ffff:127.0.0.1", true, "this host, media port only"},
		{strict, "10.250.3.1", true, "this host, media port only"},
		{strict, "fe80::1", true, "this host, media port only"},
		{strict, "203.0.113.77", true, "this host, media port only"}, // announced public IP
		{noMedia, "10.250.3.1", false, "this host, which has no media port"},
		// Elsewhere: refused unless allow-listed.
		{strict, "10.0.0.1", false, "private"},
		{strict, "172.16.5.4", false, "private"},
		{strict, "192.168.1.20", false, "private"},
		{strict, "100.64.1.1", false, "private"},
		{strict, "fd00::1", false, "private"},
		{strict, "169.254.169.254", false, "link-local"},
		{strict, "::ffff:169.254.169.254", false, "link-local"},
		{strict, "fe80::2", false, "link-local"},
		{strict, "224.0.0.251", false, "multicast"},
		{strict, "ff02::1", false, "multicast"},
		{strict, "0.0.0.0", false, "unspecified"},
		{strict, "::", false, "unspecified"},
		{strict, "255.255.255.255", false, "reserved"},
		{strict, "8.8.8.8", false, "not this host"},
		{strict, "2606:4700::1111", false, "not this host"},
		{strict, "192.168.50.7", false, "private"},
		{lan, "192.168.50.7", true, "allow-list"},
		{lan, "192.168.1.20", true, "allow-list"},
		{lan, "2001:db8:1::5", true, "allow-list"},
		{lan, "2001:db8:2::5", false, "not this host"},
		{lan, "10.0.0.1", false, "private"},
		{lan, "0.0.0.0", false, "unspecified"},
	}
	for _, tt := range tests {
		name := tt.peer
		if tt.policy == lan {
			name += " (allow-list)"
		}
		t.Run(name, func(t *testing.T) {
			ok, reason := tt.policy.permit(netip.MustParseAddr(tt.peer))
			if ok != tt.ok || reason != tt.reason {
				t.Errorf("permit = %v, %q; want %v, %q", ok, reason, tt.ok, tt.reason)
			}
		})
	}
}

func TestPeerPolicyPass(t *testing.T) {
	host := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.250.3.1"), net.ParseIP("192.168.1.10"), net.ParseIP("203.0.113.77")}
	p := newPeerPolicy(host, []int{50000, 50002}, []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")})
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:50000", true},
		{"127.0.0.1:50002", true},
		{"127.0.0.1:6379", false}, // Redis
		{"127.0.0.9:50000", true},
		{"[::ffff:127.0.0.1]:6379", false},
		{"[::1]:22", false},
		{"10.250.3.1:50000", true},
		{"10.250.3.1:22", false},
		{"203.0.113.77:50000", true},
		{"203.0.113.77:3478", false},
		{"192.168.1.10:22", false}, // this host, though its LAN is allow-listed
		{"192.168.1.20:22", true},  // allow-listed: any port
		{"10.0.0.1:50000", false},
		{"8.8.8.8:53", false},
		{"0.0.0.0:50000", false},
	}
	for _, tt := range tests {
		if got := p.pass(netip.MustParseAddrPort(tt.addr)); got != tt.ok {
			t.Errorf("pass(%s) = %v, want %v", tt.addr, got, tt.ok)
		}
	}
}

// TestTURNRelayPeers relays with valid credentials, as anyone holding a
// join link could, and checks where the relay reaches: the SFU's media
// port on this host both ways; not another port of this host (a local
// service), not the cloud metadata address, a private or a public address,
// unless allow-listed.
func TestTURNRelayPeers(t *testing.T) {
	creds, err := NewCredentials(testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	listenUDP := func() net.PacketConn {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	sfu, service := listenUDP(), listenUDP() // the SFU's media port; a local service such as DNS
	sfuAddr, serviceAddr := sfu.LocalAddr().(*net.UDPAddr), service.LocalAddr().(*net.UDPAddr)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	start := func(allow ...netip.Prefix) *Server {
		srv, err := New(Config{Host: "127.0.0.1", Port: 0, RelayIP: net.IPv4(127, 0, 0, 1), RelayMinPort: 49160, RelayMaxPort: 49200,
			MediaPorts: []int{sfuAddr.Port}, RelayAllow: allow}, creds, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	strict := start()
	lan := start(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("198.51.100.0/24"))

	udp := func(s string) *net.UDPAddr { return net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	for _, tt := range []struct {
		name string
		srv  *Server
		peer *net.UDPAddr
		ok   bool
	}{
		{"SFU media port", strict, sfuAddr, true},
		{"loopback, other port (permission is per IP)", strict, serviceAddr, true},
		{"cloud metadata", strict, udp("169.254.169.254:80"), false},
		{"private", strict, udp("10.0.0.1:53"), false},
		{"public", strict, udp("198.51.100.7:53"), false},
		{"IPv6 loopback", strict, udp("[::1]:22"), true},
		{"IPv6 link-local", strict, udp("[fe80::1]:22"), false},
		{"multicast", strict, udp("239.255.255.250:1900"), false},
		{"unspecified", strict, udp("0.0.0.0:22"), false},
		{"allow-listed private", lan, udp("10.0.0.1:53"), true},
		{"allow-listed public", lan, udp("198.51.100.7:53"), true},
		{"cloud metadata, not allow-listed", lan, udp("169.254.169.254:80"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, relay := dialRelay(t, creds, tt.srv)
			defer relay.Close()
			err := c.CreatePermission(tt.peer)
			if (err == nil) != tt.ok {
				t.Errorf("CreatePermission(%v): err = %v, want success %v", tt.peer, err, tt.ok)
			}
		})
	}
	if perms, _ := strict.Refused(); perms != 6 {
		t.Errorf("strict server refused %d permissions, want 6", perms)
	}

	// The relay reaches the SFU's media port and back, but not the local
	// service: neither to it nor from it.
	_, relay := dialRelay(t, creds, strict)
	defer relay.Close()
	b := make([]byte, 100)
	if _, err := relay.WriteTo([]byte("to service"), serviceAddr); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.WriteTo([]byte("to sfu"), sfuAddr); err != nil {
		t.Fatal(err)
	}
	sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, relayed, err := sfu.ReadFrom(b)
	if err != nil || string(b[:n]) != "to sfu" {
		t.Fatalf("SFU read %q, %v", b[:n], err)
	}
	service.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := service.ReadFrom(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the local service got %q through the relay (err %v)", b[:n], err)
	}
	if _, err := service.WriteTo([]byte("from service"), relayed); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the service's packet arrives first
	if _, err := sfu.WriteTo([]byte("from sfu"), relayed); err != nil {
		t.Fatal(err)
	}
	relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := relay.ReadFrom(b)
	if err != nil || string(b[:n]) != "from sfu" || from.String() != sfuAddr.String() {
		t.Errorf("relay read %q from %v, %v; want \"from sfu\" from %v", b[:n], from, err, sfuAddr)
	}
	perms, packets := strict.Refused()
	if packets != 2 {
		t.Errorf("dropped %d relayed packets, want 2", packets)
	}
	t.Logf("relay permissions refused: %d; relayed packets to or from this host's other ports dropped: %d", perms, packets)
}

// dialRelay allocates a relay on srv's UDP port with fresh credentials.
func dialRelay(t *testing.T, creds *Credentials, srv *Server) (*pionturn.Client, net.PacketConn) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.UDPPort()))
	user, pass := creds.Issue("bien-hoa", time.Now())
	c, err := pionturn.NewClient(&pionturn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: Realm,
		LoggerFactory: slogFactory{slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	return c, relay
}
