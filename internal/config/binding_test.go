package config

import (
	"net/netip"
	"slices"
	"testing"
)

func TestBinding(t *testing.T) {
	tests := []struct {
		name string
		web  string // the address the web port is bound to
		args []string
		want Binding
	}{
		{
			name: "default: this machine only",
			web:  "127.0.0.1",
			want: Binding{LocalOnly: true, MediaIPs: []string{"127.0.0.1"}, IncludeLoopback: true,
				TURNHost: "127.0.0.1", RelayIP: netip.MustParseAddr("127.0.0.1")},
		},
		{
			name: "another loopback address",
			web:  "127.0.0.2",
			args: []string{"-listen", "127.0.0.2:8080"},
			want: Binding{LocalOnly: true, MediaIPs: []string{"127.0.0.2"}, IncludeLoopback: true,
				TURNHost: "127.0.0.2", RelayIP: netip.MustParseAddr("127.0.0.2")},
		},
		{
			name: "IPv6 loopback: relays on IPv4 loopback",
			web:  "::1",
			args: []string{"-listen", "[::1]:8080"},
			want: Binding{LocalOnly: true, MediaIPs: []string{"::1"}, IncludeLoopback: true,
				TURNHost: "::1", RelayIP: netip.MustParseAddr("127.0.0.1")},
		},
		{
			name: "loopback with include_loopback off still offers its candidates",
			web:  "127.0.0.1",
			args: []string{"-include-loopback=false"},
			want: Binding{LocalOnly: true, MediaIPs: []string{"127.0.0.1"}, IncludeLoopback: true,
				TURNHost: "127.0.0.1", RelayIP: netip.MustParseAddr("127.0.0.1")},
		},
		{
			name: "public_url on localhost is still this machine",
			web:  "127.0.0.1",
			args: []string{"-public-url", "http://localhost:9000"},
			want: Binding{LocalOnly: true, MediaIPs: []string{"127.0.0.1"}, IncludeLoopback: true,
				TURNHost: "127.0.0.1", RelayIP: netip.MustParseAddr("127.0.0.1")},
		},
		{
			name: "behind a reverse proxy on this machine (public_url)",
			web:  "127.0.0.1",
			args: []string{"-public-url", "https://hoinghi.example.vn"},
			want: Binding{IncludeLoopback: true},
		},
		{
			name: "behind a reverse proxy on this machine (public_ips)",
			web:  "127.0.0.1",
			args: []string{"-public-ip", "203.0.113.7"},
			want: Binding{},
		},
		{
			name: "behind a reverse proxy on this machine (turn.host)",
			web:  "127.0.0.1",
			args: []string{"-turn-host", "turn.example.vn"},
			want: Binding{IncludeLoopback: true},
		},
		{
			name: "every address (IPv4 wildcard)",
			web:  "0.0.0.0",
			args: []string{"-listen", "0.0.0.0:8080"},
			want: Binding{IncludeLoopback: true},
		},
		{
			name: "every address (no host)",
			web:  "::",
			args: []string{"-listen", ":8443", "-tls-self-signed"},
			want: Binding{IncludeLoopback: true},
		},
		{
			name: "every address behind 1:1 NAT: no loopback candidates",
			web:  "::",
			args: []string{"-listen", ":443", "-public-ip", "203.0.113.7"},
			want: Binding{},
		},
		{
			name: "a LAN address",
			web:  "192.168.10.5",
			args: []string{"-listen", "192.168.10.5:8443"},
			want: Binding{MediaIPs: []string{"192.168.10.5"}, IncludeLoopback: true,
				TURNHost: "192.168.10.5", RelayIP: netip.MustParseAddr("192.168.10.5")},
		},
		{
			name: "a LAN address behind 1:1 NAT",
			web:  "10.0.0.5",
			args: []string{"-listen", "10.0.0.5:443", "-public-ip", "203.0.113.7"},
			want: Binding{MediaIPs: []string{"10.0.0.5"}, TURNHost: "10.0.0.5", RelayIP: netip.MustParseAddr("10.0.0.5")},
		},
		{
			name: "an IPv6 LAN address: relays on the host's default",
			web:  "fd00::5",
			args: []string{"-listen", "[fd00::5]:8443"},
			want: Binding{MediaIPs: []string{"fd00::5"}, IncludeLoopback: true, TURNHost: "fd00::5"},
		},
		{
			name: "an IPv4-mapped address is IPv4",
			web:  "::ffff:192.168.10.5",
			args: []string{"-listen", "192.168.10.5:8443"},
			want: Binding{MediaIPs: []string{"192.168.10.5"}, IncludeLoopback: true,
				TURNHost: "192.168.10.5", RelayIP: netip.MustParseAddr("192.168.10.5")},
		},
		{
			name: "media.listen_ips win over a loopback listen",
			web:  "127.0.0.1",
			args: []string{"-media-ip", "fd00::2,192.0.2.2"},
			want: Binding{LocalOnly: true, MediaIPs: []string{"fd00::2", "192.0.2.2"}, IncludeLoopback: true,
				TURNHost: "127.0.0.1", RelayIP: netip.MustParseAddr("192.0.2.2")},
		},
		{
			name: "media.listen_ips win over every address",
			web:  "::",
			args: []string{"-listen", ":8080", "-media-ip", "192.0.2.2"},
			want: Binding{MediaIPs: []string{"192.0.2.2"}, IncludeLoopback: true, RelayIP: netip.MustParseAddr("192.0.2.2")},
		},
		{
			name: "media.listen_ips behind a reverse proxy",
			web:  "127.0.0.1",
			args: []string{"-public-url", "https://hoinghi.example.vn", "-media-ip", "192.0.2.2"},
			want: Binding{MediaIPs: []string{"192.0.2.2"}, IncludeLoopback: true, RelayIP: netip.MustParseAddr("192.0.2.2")},
		},
		{
			name: "media.listen_ips of loopback alone",
			web:  "::",
			args: []string{"-listen", ":8080", "-media-ip", "127.0.0.1", "-include-loopback=false"},
			want: Binding{MediaIPs: []string{"127.0.0.1"}, IncludeLoopback: true, RelayIP: netip.MustParseAddr("127.0.0.1")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			got := c.Binding(netip.MustParseAddr(tt.web))
			if got.LocalOnly != tt.want.LocalOnly || !slices.Equal(got.MediaIPs, tt.want.MediaIPs) ||
				got.IncludeLoopback != tt.want.IncludeLoopback || got.TURNHost != tt.want.TURNHost || got.RelayIP != tt.want.RelayIP {
				t.Errorf("Binding(%s) with %q\n got %+v\nwant %+v", tt.web, tt.args, got, tt.want)
			}
		})
	}
}

// TestBindingOfAnUnknownAddress: a web address that is not known (the
// zero Addr) is taken as every address, as the system binds it.
func TestBindingOfAnUnknownAddress(t *testing.T) {
	c := Default()
	got := c.Binding(netip.Addr{})
	if got.LocalOnly || got.MediaIPs != nil || got.TURNHost != "" || got.RelayIP.IsValid() {
		t.Errorf("Binding of no address = %+v, want every address", got)
	}
}
