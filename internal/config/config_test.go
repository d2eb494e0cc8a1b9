package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/protocol"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hoinghi.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if got, want := c.BaseURL(), "http://localhost:8080"; got != want {
		t.Errorf("BaseURL() = %q, want %q", got, want)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
listen: "0.0.0.0:9000"
data_dir: /var/lib/hoinghi
media:
  udp_port: 51000
  public_ips: [203.0.113.7]
  ice_servers:
    - urls: ["stun:stun.example.org:3478"]
redis:
  addr: "file-redis:6379"
token:
  link_ttl: 7d
log:
  format: json
`)
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c Config) {
				if !reflect.DeepEqual(c, Default()) {
					t.Errorf("got %+v, want defaults %+v", c, Default())
				}
			},
		},
		{
			name: "file over defaults",
			args: []string{"-config", file},
			check: func(t *testing.T, c Config) {
				want := Default()
				want.Listen = "0.0.0.0:9000"
				want.DataDir = "/var/lib/hoinghi"
				want.Media.UDPPort = 51000
				want.Media.PublicIPs = []string{"203.0.113.7"}
				want.Media.ICEServers = c.Media.ICEServers
				want.Redis.Addr = "file-redis:6379"
				want.Token.LinkTTL = Duration(7 * 24 * time.Hour)
				want.Log.Format = "json"
				if !reflect.DeepEqual(c, want) {
					t.Errorf("got %+v\nwant %+v", c, want)
				}
				if len(c.Media.ICEServers) != 1 || c.Media.ICEServers[0].URLs[0] != "stun:stun.example.org:3478" {
					t.Errorf("ice_servers = %+v", c.Media.ICEServers)
				}
			},
		},
		{
			name: "config file named by env",
			env:  map[string]string{"HOINGHI_CONFIG": file},
			check: func(t *testing.T, c Config) {
				if c.Listen != "0.0.0.0:9000" {
					t.Errorf("listen = %q, want the file's", c.Listen)
				}
			},
		},
		{
			name: "env over file",
			args: []string{"-config", file},
			env: map[string]string{
				"HOINGHI_LISTEN":           ":8443",
				"HOINGHI_MEDIA_UDP_PORT":   "52000",
				"HOINGHI_MEDIA_PUBLIC_IPS": "198.51.100.1, 198.51.100.2",
				"HOINGHI_REDIS_ADDR":       "env-redis:6379",
				"HOINGHI_REDIS_PASSWORD":   "pw",
				"HOINGHI_DEMO":             "false",
				"HOINGHI_TOKEN_LINK_TTL":   "12h",
			},
			check: func(t *testing.T, c Config) {
				if c.Listen != ":8443" || c.Media.UDPPort != 52000 || c.Redis.Addr != "env-redis:6379" ||
					c.Redis.Password != "pw" || c.Demo || c.Token.LinkTTL != Duration(12*time.Hour) {
					t.Errorf("env not applied: %+v", c)
				}
				if want := []string{"198.51.100.1", "198.51.100.2"}; !reflect.DeepEqual(c.Media.PublicIPs, want) {
					t.Errorf("public_ips = %q, want %q", c.Media.PublicIPs, want)
				}
				if c.DataDir != "/var/lib/hoinghi" || c.Log.Format != "json" {
					t.Errorf("file settings lost: %+v", c)
				}
			},
		},
		{
			name: "flags over env",
			args: []string{"-config", file, "-listen", "127.0.0.1:7000", "-udp-port", "53000",
				"-public-ip", "192.0.2.1", "-public-ip", "192.0.2.2", "-demo", "-redis", "",
				"-tls-self-signed", "-log-level", "debug"},
			env: map[string]string{
				"HOINGHI_LISTEN":         ":8443",
				"HOINGHI_MEDIA_UDP_PORT": "52000",
				"HOINGHI_DEMO":           "false",
				"HOINGHI_REDIS_ADDR":     "env-redis:6379",
				"HOINGHI_MEDIA_TCP_PORT": "52001",
			},
			check: func(t *testing.T, c Config) {
				if c.Listen != "127.0.0.1:7000" || c.Media.UDPPort != 53000 || !c.Demo ||
					c.Redis.Addr != "" || !c.TLS.SelfSigned || c.Log.Level != "debug" {
					t.Errorf("flags not applied: %+v", c)
				}
				if want := []string{"192.0.2.1", "192.0.2.2"}; !reflect.DeepEqual(c.Media.PublicIPs, want) {
					t.Errorf("public_ips = %q, want %q", c.Media.PublicIPs, want)
				}
				if c.Media.TCPPort != 52001 {
					t.Errorf("tcp_port = %d, want env's 52001", c.Media.TCPPort)
				}
				if got, want := c.BaseURL(), "https://localhost:7000"; got != want {
					t.Errorf("BaseURL() = %q, want %q", got, want)
				}
			},
		},
		{
			name: "bool flag with value",
			args: []string{"-demo=false", "--include-loopback=false"},
			check: func(t *testing.T, c Config) {
				if c.Demo || c.Media.IncludeLoopback {
					t.Errorf("demo = %v, include_loopback = %v; want false", c.Demo, c.Media.IncludeLoopback)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string
	}{
		{name: "udp port out of range", args: []string{"-udp-port", "70000"}, want: "media.udp_port: 70000 is not a port"},
		{name: "tcp port negative", env: map[string]string{"HOINGHI_MEDIA_TCP_PORT": "-2"}, want: "media.tcp_port: -2 is not a port"},
		{name: "udp port negative", env: map[string]string{"HOINGHI_MEDIA_UDP_PORT": "-1"}, want: "media.udp_port: -1 is not a port"},
		{name: "port not a number", env: map[string]string{"HOINGHI_MEDIA_UDP_PORT": "abc"}, want: `HOINGHI_MEDIA_UDP_PORT: "abc" is not a whole number`},
		{name: "flag not a number", args: []string{"-udp-port", "abc"}, want: `invalid value "abc" for flag -udp-port`},
		{name: "listen", args: []string{"-listen", "8080"}, want: `listen: "8080" is not host:port`},
		{name: "listen port", args: []string{"-listen", ":http2"}, want: `listen: ":http2": "http2" is not a port`},
		{name: "public url scheme", args: []string{"-public-url", "ftp://x"}, want: "public_url: \"ftp://x\" must start with http:// or https://"},
		{name: "public url host", args: []string{"-public-url", "https://"}, want: "public_url: \"https://\" has no host"},
		{name: "public url query", args: []string{"-public-url", "https://h/?a=1"}, want: "public_url: \"https://h/?a=1\" must not have a query or fragment"},
		{name: "data dir", args: []string{"-data-dir", ""}, want: "data_dir: is empty"},
		{name: "instance", env: map[string]string{"HOINGHI_INSTANCE": ""}, file: "instance: \"\"\n", want: "instance: is empty"},
		{name: "tls cert without key", args: []string{"-tls-cert", "c.pem"}, want: "tls.cert: tls.cert and tls.key must be given together"},
		{name: "tls both", args: []string{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-tls-self-signed"}, want: "tls.self_signed: cannot be combined"},
		{name: "public ip", args: []string{"-public-ip", "example.org"}, want: `media.public_ips: "example.org" is not an IP address`},
		{name: "media ip", args: []string{"-media-ip", "eth0"}, want: `media.listen_ips: "eth0" is not an IP address`},
		{name: "ice server url", file: "media:\n  ice_servers:\n    - urls: [\"http://x\"]\n", want: `media.ice_servers[0]: "http://x" is not a stun:, turn: or turns: URL`},
		{name: "ice server no url", file: "media:\n  ice_servers:\n    - username: u\n", want: "media.ice_servers[0]: urls is empty"},
		{name: "turn port", args: []string{"-turn-port", "-2"}, want: "turn.port: -2 is not a port"},
		{name: "turn tls port", env: map[string]string{"HOINGHI_TURN_TLS_PORT": "70000"}, want: "turn.tls_port: 70000 is not a port"},
		{name: "turn tls without certificate", args: []string{"-turn-tls-port", "5349"}, want: "turn.tls_port: needs a certificate"},
		{name: "turn no port", args: []string{"-turn-port", "-1", "-turn-web-port=false"}, want: "turn.port: -1 with turn.web_port false"},
		{name: "turn relay ports", args: []string{"-turn-relay-ports", "49200-49160"}, want: `turn.relay_ports: "49200-49160" is not a port range`},
		{name: "turn relay ports syntax", file: "turn:\n  relay_ports: \"49160\"\n", want: `turn.relay_ports: "49160" is not a port range`},
		{name: "turn credential ttl", args: []string{"-turn-credential-ttl", "0s"}, want: "turn.credential_ttl: 0s is not positive"},
		{name: "turn relay allow", args: []string{"-turn-relay-allow", "192.168.10.0/33"}, want: `turn.relay_allow: "192.168.10.0/33" is not a network`},
		{name: "turn relay allow name", env: map[string]string{"HOINGHI_TURN_RELAY_ALLOW": "lan.example.vn"}, want: `turn.relay_allow: "lan.example.vn" is not a network`},
		{name: "turn relay allow mapped", file: "turn:\n  relay_allow: [\"::ffff:10.0.0.0/104\"]\n", want: "turn.relay_allow: \"::ffff:10.0.0.0/104\": write IPv4 networks as such"},
		{name: "redis addr", args: []string{"-redis", "redis"}, want: `redis.addr: "redis" is not host:port`},
		{name: "redis db", args: []string{"-redis-db", "-1"}, want: "redis.db: -1 is negative"},
		{name: "short secret", env: map[string]string{"HOINGHI_TOKEN_SECRET": "short"}, want: "token.secret: is 5 characters; at least 32 are needed"},
		{name: "link ttl", args: []string{"-link-ttl", "0s"}, want: "token.link_ttl: 0s is not positive"},
		{name: "link ttl syntax", env: map[string]string{"HOINGHI_TOKEN_LINK_TTL": "month"}, want: `HOINGHI_TOKEN_LINK_TTL: "month" is not a duration`},
		{name: "log format", args: []string{"-log-format", "xml"}, want: `log.format: "xml" is not text or json`},
		{name: "log level", env: map[string]string{"HOINGHI_LOG_LEVEL": "loud"}, want: `log.level: "loud" is not debug, info, warn or error`},
		{name: "bool env", env: map[string]string{"HOINGHI_DEMO": "maybe"}, want: `HOINGHI_DEMO: "maybe" is not true or false`},
		{name: "unknown file setting", file: "media:\n  udp_prot: 1\n", want: "field udp_prot not found"},
		{name: "file type", file: "media:\n  udp_port: many\n", want: "cannot unmarshal"},
		{name: "missing file", args: []string{"-config", "/nonexistent/hoinghi.yaml"}, want: "config file: open /nonexistent/hoinghi.yaml"},
		{name: "unknown flag", args: []string{"-nope"}, want: "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{"-config", writeFile(t, tt.file)}, args...)
			}
			fs := flag.NewFlagSet("hoinghi", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			_, err := LoadFlags(fs, args, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	fs := flag.NewFlagSet("hoinghi", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	_, err := LoadFlags(fs, []string{"-h"}, env(nil))
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-udp-port", "HOINGHI_MEDIA_UDP_PORT", "-config"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

func TestExtraFlags(t *testing.T) {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	conf := fs.String("conference", "", "")
	c, err := LoadFlags(fs, []string{"--conference", "demo", "-data-dir", "/tmp/x", "rest"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if *conf != "demo" || c.DataDir != "/tmp/x" || !reflect.DeepEqual(fs.Args(), []string{"rest"}) {
		t.Errorf("conference = %q, data_dir = %q, args = %q", *conf, c.DataDir, fs.Args())
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		listen, public string
		tls            bool
		want           string
	}{
		{listen: "127.0.0.1:8080", want: "http://localhost:8080"},
		{listen: ":8080", want: "http://localhost:8080"},
		{listen: "[::]:8080", want: "http://localhost:8080"},
		{listen: "0.0.0.0:443", tls: true, want: "https://localhost"},
		{listen: "192.0.2.5:8443", tls: true, want: "https://192.0.2.5:8443"},
		{listen: ":8080", public: "https://hoinghi.example.vn/", want: "https://hoinghi.example.vn"},
	}
	for _, tt := range tests {
		c := Default()
		c.Listen, c.PublicURL, c.TLS.SelfSigned = tt.listen, tt.public, tt.tls
		if got := c.BaseURL(); got != tt.want {
			t.Errorf("BaseURL(listen %q, public %q, tls %v) = %q, want %q", tt.listen, tt.public, tt.tls, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"30d", 30 * 24 * time.Hour, "30d"},
		{"36h", 36 * time.Hour, "36h0m0s"},
		{"48h", 48 * time.Hour, "2d"},
		{"90m", 90 * time.Minute, "1h30m0s"},
	}
	for _, tt := range tests {
		var d Duration
		if err := d.UnmarshalText([]byte(tt.in)); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", tt.in, err)
		}
		if time.Duration(d) != tt.want || d.String() != tt.out {
			t.Errorf("%q: got %v (%s), want %v (%s)", tt.in, time.Duration(d), d, tt.want, tt.out)
		}
	}
}

func TestTokenSecret(t *testing.T) {
	c := Default()
	c.DataDir = filepath.Join(t.TempDir(), "data")
	first, err := c.TokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 32 {
		t.Fatalf("secret is %d bytes", len(first))
	}
	fi, err := os.Stat(filepath.Join(c.DataDir, SecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := c.TokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Error("secret changed between calls; want it reused")
	}

	c.Token.Secret = strings.Repeat("s", 32)
	configured, err := c.TokenSecret()
	if err != nil || string(configured) != c.Token.Secret {
		t.Errorf("TokenSecret() = %q, %v; want the configured secret", configured, err)
	}

	c.Token.Secret = ""
	if err := os.WriteFile(filepath.Join(c.DataDir, SecretFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TokenSecret(); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("short secret file: err = %v", err)
	}
}

// The example file documents the defaults; loading it must change nothing.
func TestExampleFileShowsDefaults(t *testing.T) {
	c, err := Load([]string{"-config", "../../configs/hoinghi.example.yaml"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Media.PublicIPs = []string{}
	want.Media.ListenIPs = []string{}
	want.TURN.RelayAllow = []string{}
	want.Media.ICEServers = c.Media.ICEServers
	if len(c.Media.ICEServers) != 0 || !reflect.DeepEqual(c, want) {
		t.Errorf("example file gives %+v\nwant defaults %+v", c, want)
	}
}

func TestTURNSettings(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantHost string
		wantPort int
	}{
		{name: "defaults", wantHost: "localhost", wantPort: 8080},
		{name: "public url", args: []string{"-public-url", "https://hoinghi.example.vn"}, wantHost: "hoinghi.example.vn", wantPort: 443},
		{name: "public ip on loopback", args: []string{"-listen", ":8443", "-tls-self-signed", "-public-ip", "192.0.2.10"}, wantHost: "192.0.2.10", wantPort: 8443},
		{name: "turn host", args: []string{"-turn-host", "turn.example.vn", "-public-url", "http://h:81"}, wantHost: "turn.example.vn", wantPort: 81},
		{name: "turn off ignores its settings", args: []string{"-turn=false", "-turn-relay-ports", "x"}, wantHost: "localhost", wantPort: 8080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.TURNHost(); got != tt.wantHost {
				t.Errorf("TURNHost() = %q, want %q", got, tt.wantHost)
			}
			if got := c.BasePort(); got != tt.wantPort {
				t.Errorf("BasePort() = %d, want %d", got, tt.wantPort)
			}
		})
	}
	c := Default()
	if lo, hi, err := c.TURN.RelayPortRange(); err != nil || lo != 49160 || hi != 49200 {
		t.Errorf("default relay ports = %d-%d, %v", lo, hi, err)
	}
}

// TestTURNRelayAllow reads the relay allow-list from each source: none by
// default, so that relays reach only this host's media port.
func TestTURNRelayAllow(t *testing.T) {
	file := writeFile(t, "turn:\n  relay_allow: [\"10.20.0.0/16\", \"fd00:1::/64\"]\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "default", want: ""},
		{name: "file", args: []string{"-config", file}, want: "10.20.0.0/16 fd00:1::/64"},
		{name: "env over file", args: []string{"-config", file}, env: map[string]string{"HOINGHI_TURN_RELAY_ALLOW": "192.168.10.0/24, 10.1.2.3"},
			want: "192.168.10.0/24 10.1.2.3/32"},
		{name: "flags over env", args: []string{"-turn-relay-allow", "192.168.10.7/24", "-turn-relay-allow", "2001:db8::1"},
			env: map[string]string{"HOINGHI_TURN_RELAY_ALLOW": "10.0.0.0/8"}, want: "192.168.10.0/24 2001:db8::1/128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			prefixes, err := c.TURN.RelayAllowPrefixes()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range prefixes {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("relay allow = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVideoLayersValidation(t *testing.T) {
	layer := func(rid string, scale float64, bps int) protocol.VideoLayer {
		return protocol.VideoLayer{RID: rid, ScaleDownBy: scale, MaxBitrate: bps}
	}
	tests := []struct {
		name   string
		layers []protocol.VideoLayer
		ok     bool
	}{
		{"the defaults", protocol.DefaultVideoLayers(), true},
		{"none: one encoding", nil, true},
		{"two", []protocol.VideoLayer{layer("q", 2, 200_000), layer("f", 1, 1_000_000)}, true},
		{"four", append(protocol.DefaultVideoLayers(), layer("f", 1, 1_000_000)), false},
		{"an unknown rid", []protocol.VideoLayer{layer("x", 1, 500_000)}, false},
		{"highest first", []protocol.VideoLayer{layer("f", 1, 1_000_000), layer("q", 4, 150_000)}, false},
		{"a scale that grows", []protocol.VideoLayer{layer("q", 2, 150_000), layer("h", 4, 500_000)}, false},
		{"a scale under 1", []protocol.VideoLayer{layer("f", 0.5, 1_000_000)}, false},
		{"a bitrate too small", []protocol.VideoLayer{layer("q", 4, 1_000)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Media.VideoLayers = tt.layers
			if err := c.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
