package config

import (
	"fmt"
	"strconv"
	"strings"
)

// setting is one scalar setting reachable from the environment and, when
// flag is set, from the command line. Its environment variable is HOINGHI_
// followed by the YAML name in upper case with dots as underscores.
type setting struct {
	name  string // YAML path, e.g. "media.udp_port"
	flag  string // command-line flag without the dash; empty for none
	usage string
	kind  kind
	set   func(c *Config, raw string) error
}

type kind int

const (
	kindString kind = iota
	kindBool
	kindList
)

func (s *setting) env() string {
	return "HOINGHI_" + strings.ToUpper(strings.ReplaceAll(s.name, ".", "_"))
}

// settings lists every setting that the environment and flags can change.
// Secrets (redis.password, token.secret) have no flag, so that they do not
// show in the process list.
var settings = []setting{
	{name: "listen", flag: "listen", usage: "HTTP(S) listen address", set: str(func(c *Config) *string { return &c.Listen })},
	{name: "public_url", flag: "public-url", usage: "base URL of printed links", set: str(func(c *Config) *string { return &c.PublicURL })},
	{name: "data_dir", flag: "data-dir", usage: "directory for the embedded store, token secret and TLS pair", set: str(func(c *Config) *string { return &c.DataDir })},
	{name: "instance", flag: "instance", usage: "name of this server process in the store", set: str(func(c *Config) *string { return &c.Instance })},
	{name: "demo", flag: "demo", usage: "create the demo conference and print its links", kind: kindBool, set: boolean(func(c *Config) *bool { return &c.Demo })},
	{name: "tls.cert", flag: "tls-cert", usage: "TLS certificate file (PEM)", set: str(func(c *Config) *string { return &c.TLS.Cert })},
	{name: "tls.key", flag: "tls-key", usage: "TLS private key file (PEM)", set: str(func(c *Config) *string { return &c.TLS.Key })},
	{name: "tls.self_signed", flag: "tls-self-signed", usage: "serve HTTPS with a generated self-signed pair kept in the data dir", kind: kindBool, set: boolean(func(c *Config) *bool { return &c.TLS.SelfSigned })},
	{name: "media.udp_port", flag: "udp-port", usage: "UDP port of all WebRTC media", set: integer(func(c *Config) *int { return &c.Media.UDPPort })},
	{name: "media.tcp_port", flag: "tcp-port", usage: "TCP port of ICE-TCP media", set: integer(func(c *Config) *int { return &c.Media.TCPPort })},
	{name: "media.public_ips", flag: "public-ip", usage: "public IP to announce in ICE candidates (NAT 1:1); comma-separated or repeated", kind: kindList, set: list(func(c *Config) *[]string { return &c.Media.PublicIPs })},
	{name: "media.listen_ips", flag: "media-ip", usage: "local IP the media ports use (default: the listen address, or every address of the host but link-local ones when listen is every address); comma-separated or repeated", kind: kindList, set: list(func(c *Config) *[]string { return &c.Media.ListenIPs })},
	{name: "media.include_loopback", flag: "include-loopback", usage: "announce loopback ICE candidates", kind: kindBool, set: boolean(func(c *Config) *bool { return &c.Media.IncludeLoopback })},
	{name: "media.wall_slots", flag: "wall-slots", usage: "points' cameras a hall console receives at once (one page of its wall)", set: integer(func(c *Config) *int { return &c.Media.WallSlots })},
	{name: "recording.dir", flag: "recording-dir", usage: "directory of the recordings (default: recordings in the data dir)", set: str(func(c *Config) *string { return &c.Recording.Dir })},
	{name: "recording.min_free_mb", flag: "recording-min-free-mb", usage: "free disk space (MiB) a recording needs to start; it stops below half of it", set: integer(func(c *Config) *int { return &c.Recording.MinFreeMB })},
	{name: "recording.timezone", flag: "recording-timezone", usage: "time zone (IANA name) of the archive's clock caption", set: str(func(c *Config) *string { return &c.Recording.Timezone })},
	{name: "signal.hall_connections_per_link", flag: "hall-connections-per-link", usage: "connections one hall link may hold at once", set: integer(func(c *Config) *int { return &c.Signal.HallConnectionsPerLink })},
	{name: "signal.max_viewers", flag: "max-viewers", usage: "WHEP viewers of one conference at once", set: integer(func(c *Config) *int { return &c.Signal.MaxViewers })},
	{name: "signal.max_joining", flag: "max-joining", usage: "connections joining at once before more are told to retry", set: integer(func(c *Config) *int { return &c.Signal.MaxJoining })},
	{name: "turn.enabled", flag: "turn", usage: "run the embedded TURN server", kind: kindBool, set: boolean(func(c *Config) *bool { return &c.TURN.Enabled })},
	{name: "turn.port", flag: "turn-port", usage: "UDP and TCP port of TURN (-1: none)", set: integer(func(c *Config) *int { return &c.TURN.Port })},
	{name: "turn.web_port", flag: "turn-web-port", usage: "also accept TURN over TCP on the listen port", kind: kindBool, set: boolean(func(c *Config) *bool { return &c.TURN.WebPort })},
	{name: "turn.tls_port", flag: "turn-tls-port", usage: "port of TURN over TLS with the web certificate (0: off)", set: integer(func(c *Config) *int { return &c.TURN.TLSPort })},
	{name: "turn.relay_ports", flag: "turn-relay-ports", usage: "UDP port range of TURN relays, MIN-MAX", set: str(func(c *Config) *string { return &c.TURN.RelayPorts })},
	{name: "turn.host", flag: "turn-host", usage: "host name or IP in the TURN URLs handed to clients", set: str(func(c *Config) *string { return &c.TURN.Host })},
	{name: "turn.credential_ttl", flag: "turn-credential-ttl", usage: "how long the TURN credentials of one join stay valid", set: duration(func(c *Config) *Duration { return &c.TURN.CredentialTTL })},
	{name: "turn.relay_allow", flag: "turn-relay-allow", usage: "network (CIDR) beyond this host that TURN relays may reach, e.g. a LAN; comma-separated or repeated", kind: kindList, set: list(func(c *Config) *[]string { return &c.TURN.RelayAllow })},
	{name: "redis.addr", flag: "redis", usage: "Redis host:port; empty selects the embedded store", set: str(func(c *Config) *string { return &c.Redis.Addr })},
	{name: "redis.db", flag: "redis-db", usage: "Redis database number", set: integer(func(c *Config) *int { return &c.Redis.DB })},
	{name: "redis.password", usage: "Redis password", set: str(func(c *Config) *string { return &c.Redis.Password })},
	{name: "redis.prefix", flag: "redis-prefix", usage: "prefix of every Redis key", set: str(func(c *Config) *string { return &c.Redis.Prefix })},
	{name: "token.secret", usage: "secret that signs join links", set: str(func(c *Config) *string { return &c.Token.Secret })},
	{name: "token.link_ttl", flag: "link-ttl", usage: "how long join links stay valid (e.g. 30d, 12h)", set: duration(func(c *Config) *Duration { return &c.Token.LinkTTL })},
	{name: "auth.session_ttl", flag: "session-ttl", usage: "how long a staff login lasts (e.g. 12h)", set: duration(func(c *Config) *Duration { return &c.Auth.SessionTTL })},
	{name: "log.format", flag: "log-format", usage: "log format: text or json", set: str(func(c *Config) *string { return &c.Log.Format })},
	{name: "log.level", flag: "log-level", usage: "log level: debug, info, warn or error", set: str(func(c *Config) *string { return &c.Log.Level })},
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, raw string) error {
		*field(c) = raw
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, raw string) error {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		*field(c) = v
		return nil
	}
}

func integer(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, raw string) error {
		v, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		*field(c) = v
		return nil
	}
}

func list(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, raw string) error {
		var out []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		*field(c) = out
		return nil
	}
}

func duration(field func(*Config) *Duration) func(*Config, string) error {
	return func(c *Config, raw string) error {
		d, err := ParseDuration(raw)
		if err != nil {
			return err
		}
		*field(c) = Duration(d)
		return nil
	}
}

// flagValue collects the values a flag was given; they are applied after the
// file and the environment, so that flags win.
type flagValue struct {
	s      *setting
	values []string
	seen   bool
}

func (v *flagValue) String() string { return strings.Join(v.values, ",") }

func (v *flagValue) Set(raw string) error {
	// Check the value now so that the flag package reports it with usage.
	if err := v.s.set(&Config{}, raw); err != nil {
		return err
	}
	if v.s.kind != kindList {
		v.values = v.values[:0]
	}
	v.values = append(v.values, raw)
	v.seen = true
	return nil
}

// IsBoolFlag lets a boolean setting be given as a bare flag, e.g. -demo.
func (v *flagValue) IsBoolFlag() bool { return v.s.kind == kindBool }
