package turn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v4"

	"hoinghi/internal/protocol"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func TestCredentials(t *testing.T) {
	creds, err := NewCredentials(testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCredentials([]byte("another secret, another server!!"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	user, pass := creds.Issue("bien-hoa", now)
	if user != "1800003600:bien-hoa" {
		t.Errorf("username = %q", user)
	}
	if u, _ := creds.Issue("a:b", now); u != "1800003600:a_b" {
		t.Errorf("username with a colon = %q", u)
	}
	otherUser, otherPass := other.Issue("bien-hoa", now)

	tests := []struct {
		name     string
		username string
		password string
		at       time.Time
		wantErr  error
		wantOK   bool // the password matches
	}{
		{"valid", user, pass, now, nil, true},
		{"valid until the expiry second", user, pass, now.Add(time.Hour), nil, true},
		{"expired", user, pass, now.Add(time.Hour + time.Second), ErrExpired, false},
		{"forged expiry", "1900000000:bien-hoa", pass, now, nil, false},
		{"forged user", "1800003600:long-thanh", pass, now, nil, false},
		{"another server's secret", otherUser, otherPass, now, nil, false},
		{"no expiry", "bien-hoa", pass, now, ErrMalformed, false},
		{"bad expiry", "soon:bien-hoa", pass, now, ErrMalformed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := creds.Password(tt.username, tt.at)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if (err == nil && got == tt.password) != tt.wantOK {
				t.Errorf("password matches = %v, want %v", got == tt.password, tt.wantOK)
			}
		})
	}

	if _, err := NewCredentials(nil, time.Hour); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := NewCredentials(testSecret, 0); err == nil {
		t.Error("zero lifetime accepted")
	}
}

func TestEndpointsURLs(t *testing.T) {
	tests := []struct {
		e    Endpoints
		want string
	}{
		{Endpoints{Host: "hoinghi.example.vn", UDPPort: 3478, TCPPort: 3478, WebPort: 443},
			"turn:hoinghi.example.vn:3478?transport=udp turn:hoinghi.example.vn:3478?transport=tcp turn:hoinghi.example.vn:443?transport=tcp"},
		{Endpoints{Host: "2001:db8::1", WebPort: 8443, TLSPort: 5349},
			"turn:[2001:db8::1]:8443?transport=tcp turns:[2001:db8::1]:5349?transport=tcp"},
		{Endpoints{Host: "h", UDPPort: 3478, TCPPort: 3478, WebPort: 3478}, "turn:h:3478?transport=udp turn:h:3478?transport=tcp"},
		{Endpoints{Host: "h"}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.e.URLs(), " "); got != tt.want {
			t.Errorf("%+v: URLs = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestICEServersIssuesPerUser(t *testing.T) {
	creds, err := NewCredentials(testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	static := []protocol.ICEServer{{URLs: []string{"stun:stun.example.vn:3478"}}}
	f := ICEServers(static, creds, []string{"turn:h:3478?transport=udp"}, func() time.Time { return now })
	a, b := f("bien-hoa"), f("long-thanh")
	if len(a) != 2 || a[0].URLs[0] != "stun:stun.example.vn:3478" || a[1].Username != "1800003600:bien-hoa" || b[1].Username != "1800003600:long-thanh" {
		t.Fatalf("ice servers = %+v, %+v", a, b)
	}
	if p, err := creds.Password(a[1].Username, now); err != nil || p != a[1].Credential {
		t.Errorf("issued credential does not check: %v", err)
	}
	if got := ICEServers(nil, nil, nil, nil)("x"); got == nil || len(got) != 0 {
		t.Errorf("no servers = %#v, want an empty list", got)
	}
}

func TestWebMuxRoutesByFirstBytes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewWebMux(l, slog.New(slog.DiscardHandler))
	defer m.Close()
	go http.Serve(m.Web(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "web "+r.URL.Path)
	}))
	go func() {
		for {
			c, err := m.TURN().Accept()
			if err != nil {
				return
			}
			go func() { // echo with a marker
				defer c.Close()
				b := make([]byte, 20)
				if _, err := io.ReadFull(c, b); err == nil {
					c.Write(append([]byte("turn "), b...))
				}
			}()
		}
	}()

	res, err := http.Get("http://" + l.Addr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "web /x" {
		t.Errorf("HTTP got %q", body)
	}

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A STUN binding request header: type, length 0, cookie, transaction id.
	msg := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	if want := "turn " + string(msg); string(got) != want {
		t.Errorf("STUN got %q, want %q", got, want)
	}
}

// TestTURNAllocateOverWebPort allocates a relay through the web port with
// issued, expired and forged credentials, as a point behind a firewall
// would.
func TestTURNAllocateOverWebPort(t *testing.T) {
	creds, err := NewCredentials(testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := NewWebMux(l, nil)
	defer m.Close()
	go http.Serve(m.Web(), http.NotFoundHandler())
	srv, err := New(Config{Port: -1, Listeners: []net.Listener{m.TURN()}, RelayIP: net.IPv4(127, 0, 0, 1),
		RelayMinPort: 49160, RelayMaxPort: 49200}, creds, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	user, pass := creds.Issue("bien-hoa", time.Now())
	expUser, expPass := creds.Issue("bien-hoa", time.Now().Add(-2*time.Hour))
	tests := []struct {
		name, user, pass string
		ok               bool
	}{
		{"issued", user, pass, true},
		{"expired", expUser, expPass, false},
		{"forged", user, strings.Repeat("A", len(pass)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := allocate(l.Addr().String(), tt.user, tt.pass)
			if (err == nil) != tt.ok {
				t.Errorf("allocate: err = %v, want success %v", err, tt.ok)
			}
		})
	}
}

func allocate(addr, user, pass string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	c, err := pionturn.NewClient(&pionturn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: pionturn.NewSTUNConn(conn),
		Username: user, Password: pass, Realm: Realm,
	})
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		return err
	}
	relay, err := c.Allocate()
	if err != nil {
		return err
	}
	defer relay.Close()
	if a, ok := relay.LocalAddr().(*net.UDPAddr); !ok || a.Port < 49160 || a.Port > 49200 {
		return fmt.Errorf("relay address %v outside the range", relay.LocalAddr())
	}
	return nil
}

// With a public IP that is not local (1:1 NAT), relayed packets to it stay
// on the host and replies appear to come from it.
func TestRelayHairpin(t *testing.T) {
	public := net.ParseIP("203.0.113.10")
	lo := net.IPv4(127, 0, 0, 1)
	sfu, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sfu.Close()
	sfuPort := sfu.LocalAddr().(*net.UDPAddr).Port
	policy := newPeerPolicy([]net.IP{lo, public}, []int{sfuPort}, nil)
	g := newRelayGenerator(&pionturn.RelayAddressGeneratorPortRange{
		RelayAddress: lo, Address: "127.0.0.1", MinPort: 49160, MaxPort: 49200,
	}, policy, []net.IP{public, lo}, []net.IP{lo})
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	relay, _, err := g.AllocatePacketConn("udp4", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	if _, err := relay.WriteTo([]byte("check"), &net.UDPAddr{IP: public, Port: sfuPort}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := sfu.ReadFrom(b)
	if err != nil || string(b[:n]) != "check" {
		t.Fatalf("SFU read %q, %v", b[:n], err)
	}
	if _, err := sfu.WriteTo([]byte("reply"), from); err != nil {
		t.Fatal(err)
	}
	relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err = relay.ReadFrom(b)
	if err != nil || string(b[:n]) != "reply" {
		t.Fatalf("relay read %q, %v", b[:n], err)
	}
	if want := (&net.UDPAddr{IP: public, Port: sfuPort}).String(); from.String() != want {
		t.Errorf("reply from %v, want %s", from, want)
	}

	// A loopback public IP (Docker's default) is rewritten as well.
	if g := newRelayGenerator(g.RelayAddressGeneratorPortRange, policy, []net.IP{lo}, []net.IP{lo}); len(g.public) != 1 {
		t.Errorf("loopback public IP: rewritten %v, want it", g.public)
	}
	// Without a foreign public IP, addresses are left as they are.
	plain := newRelayGenerator(g.RelayAddressGeneratorPortRange, policy, nil, []net.IP{lo})
	c, _, err := plain.AllocatePacketConn("udp4", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteTo([]byte("plain"), sfu.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, from, err = sfu.ReadFrom(b); err != nil || string(b[:n]) != "plain" {
		t.Fatalf("SFU read %q, %v", b[:n], err)
	}
	sfu.WriteTo([]byte("reply"), from)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, from, err = c.ReadFrom(b); err != nil || string(b[:n]) != "reply" || from.String() != sfu.LocalAddr().String() {
		t.Errorf("plain relay read %q from %v, %v; want reply from %v", b[:n], from, err, sfu.LocalAddr())
	}
}
