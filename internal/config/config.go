// Package config loads the settings of the hoinghi server from built-in
// defaults, an optional YAML file, HOINGHI_* environment variables and
// command-line flags, each overriding the one before.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	// The time zones of recording.timezone, on a host without a zone
	// database too.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
)

// Config holds every setting of the server. The yaml tags are the setting
// names used in the YAML file and in error messages.
type Config struct {
	// Listen is the TCP address the HTTP(S) server listens on. The media
	// and TURN ports follow its host (see Binding): the default,
	// 127.0.0.1, serves this machine alone; ":8080" opens the server to
	// every network of the host.
	Listen string `yaml:"listen"`
	// PublicURL is the base URL printed in join links. Empty means derived
	// from Listen (http://localhost:PORT, or https with TLS).
	PublicURL string `yaml:"public_url"`
	// DataDir holds the embedded store's log, the token secret and the
	// generated TLS pair.
	DataDir string `yaml:"data_dir"`
	// Instance names this server process in the store, so that its stale
	// connections can be dropped when it restarts.
	Instance string `yaml:"instance"`
	// Demo creates the demo conference at start-up and prints its links.
	Demo   bool   `yaml:"demo"`
	TLS    TLS    `yaml:"tls"`
	Media  Media  `yaml:"media"`
	Signal Signal `yaml:"signal"`
	// Recording is where and how conferences are recorded.
	Recording Recording `yaml:"recording"`
	TURN      TURN      `yaml:"turn"`
	Redis     Redis     `yaml:"redis"`
	Token     Token     `yaml:"token"`
	Auth      Auth      `yaml:"auth"`
	Log       Log       `yaml:"log"`
}

// TLS selects how the server serves HTTPS: certificate files, a generated
// self-signed pair, or neither (plain HTTP).
type TLS struct {
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	SelfSigned bool   `yaml:"self_signed"`
}

// Media configures the SFU's ports and the ICE candidates it announces.
type Media struct {
	// UDPPort carries all WebRTC media; 0 picks a free port.
	UDPPort int `yaml:"udp_port"`
	// TCPPort carries ICE-TCP media; 0 picks a free port, -1 turns it off.
	TCPPort int `yaml:"tcp_port"`
	// PublicIPs are announced in place of local addresses (1:1 NAT).
	PublicIPs []string `yaml:"public_ips"`
	// ListenIPs are the local addresses media is sent and received on;
	// empty means they follow listen (see Config.Binding): its address
	// when it is one, every address of the host but link-local ones when
	// it is every address. Each costs every participant's connection
	// readers and buffers of its own.
	ListenIPs []string `yaml:"listen_ips"`
	// IncludeLoopback announces loopback candidates, needed when browser
	// and server share a machine. With PublicIPs it is ignored: every
	// candidate is announced as a public IP then.
	IncludeLoopback bool `yaml:"include_loopback"`
	// ICEServers are extra STUN/TURN servers handed to clients.
	ICEServers []protocol.ICEServer `yaml:"ice_servers"`
	// WallSlots is how many points' cameras a hall console receives at
	// once: the tiles of one page of its wall.
	WallSlots int `yaml:"wall_slots"`
	// VideoLayers are the encodings the pages send their camera in, as
	// simulcast, lowest first, by RID q, h and f; an empty list sends one
	// encoding.
	VideoLayers []protocol.VideoLayer `yaml:"video_layers"`
}

// Recording says where recordings are kept and how much room they need.
type Recording struct {
	// Dir holds the recordings, one directory per conference; empty
	// means "recordings" in the data dir.
	Dir string `yaml:"dir"`
	// MinFreeMB is the free space (MiB) the disk must have for a
	// recording to start; a recording stops, its files closed, when less
	// than half of it is left.
	MinFreeMB int `yaml:"min_free_mb"`
	// Timezone (IANA name) is the one of the clock in the archive's
	// caption.
	Timezone string `yaml:"timezone"`
}

// RecordingDir is the directory of the recordings: Recording.Dir, else
// "recordings" in the data dir.
func (c Config) RecordingDir() string {
	if c.Recording.Dir != "" {
		return c.Recording.Dir
	}
	return filepath.Join(c.DataDir, "recordings")
}

// Signal bounds the signaling connections.
type Signal struct {
	// HallConnectionsPerLink is how many connections one hall link (or
	// staff login) may hold at once.
	HallConnectionsPerLink int `yaml:"hall_connections_per_link"`
	// MaxJoining is how many connections may be joining at once; more are
	// told to retry (server_busy).
	MaxJoining int `yaml:"max_joining"`
	// MaxViewers is how many WHEP viewers one conference may have at
	// once; more are refused with 503 too_many_viewers.
	MaxViewers int `yaml:"max_viewers"`
}

// TURN configures the embedded TURN server, which relays media for points
// whose network lets through only TCP to the server.
type TURN struct {
	// Enabled runs the TURN server and hands every joining participant
	// credentials of its own.
	Enabled bool `yaml:"enabled"`
	// Port is the UDP and TCP port of TURN; 0 picks free ports, -1 opens
	// neither (TURN then runs only on the web port).
	Port int `yaml:"port"`
	// WebPort also accepts TURN over TCP on the listen port, beside the
	// web pages, for points that can reach only that port.
	WebPort bool `yaml:"web_port"`
	// TLSPort, when above 0, accepts TURN over TLS with the web certificate.
	TLSPort int `yaml:"tls_port"`
	// RelayPorts is the range of UDP ports of relayed transports, "MIN-MAX".
	RelayPorts string `yaml:"relay_ports"`
	// Host is the name or IP in the turn: URLs; empty means the host of
	// public_url, or the first of media.public_ips when that is loopback.
	Host string `yaml:"host"`
	// CredentialTTL is how long the credentials of one join stay valid.
	CredentialTTL Duration `yaml:"credential_ttl"`
	// RelayAllow lists networks (CIDRs, or single addresses) beyond this
	// host that relays may reach. Empty, the default, means relays reach
	// only this host's media port, as a conference needs.
	RelayAllow []string `yaml:"relay_allow"`
}

// RelayAllowPrefixes returns RelayAllow as prefixes; a single address is
// a prefix of its full length.
func (t *TURN) RelayAllowPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(t.RelayAllow))
	for _, s := range t.RelayAllow {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a network such as 192.168.10.0/24", s)
		}
		if p.Addr().Is4In6() {
			return netip.Prefix{}, fmt.Errorf("%q: write IPv4 networks as such, e.g. 192.168.10.0/24", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a network such as 192.168.10.0/24 or an IP address", s)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// RelayPortRange returns the bounds of RelayPorts, inclusive.
func (t *TURN) RelayPortRange() (lo, hi int, err error) {
	a, b, ok := strings.Cut(t.RelayPorts, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("%q is not a port range such as 49160-49200", t.RelayPorts)
	}
	return lo, hi, nil
}

// Redis locates the Redis server. An empty Addr selects the embedded store.
type Redis struct {
	Addr     string `yaml:"addr"`
	DB       int    `yaml:"db"`
	Password string `yaml:"password"`
	Prefix   string `yaml:"prefix"`
}

// Token configures the signed join links.
type Token struct {
	// Secret signs the links; empty means read or create DATA_DIR/token-secret.
	Secret string `yaml:"secret"`
	// LinkTTL is how long a printed or issued link stays valid.
	LinkTTL Duration `yaml:"link_ttl"`
}

// Auth configures the logins of the hall's staff (package auth). Points
// never log in; they use their join links.
type Auth struct {
	// Users may log in at /login/ and then act in their role on every
	// conference.
	Users []User `yaml:"users"`
	// SessionTTL is how long a login lasts.
	SessionTTL Duration `yaml:"session_ttl"`
}

// User is one member of the hall's staff who may log in.
type User struct {
	Name string `yaml:"name"`
	// Role is technician, chair or secretariat.
	Role conference.Role `yaml:"role"`
	// PasswordHash is a bcrypt hash, as "hoinghi passwd" prints it.
	PasswordHash string `yaml:"password_hash"`
}

// Log configures the server's log output on stderr.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn or error
}

// Default returns the configuration used when nothing overrides it: a local
// server on http://localhost:8080 with the embedded store in ./data.
func Default() Config {
	return Config{
		Listen:   "127.0.0.1:8080",
		DataDir:  "./data",
		Instance: "hoinghi",
		Demo:     true,
		Media: Media{
			UDPPort:         50000,
			TCPPort:         50000,
			IncludeLoopback: true,
			WallSlots:       16,
			VideoLayers:     protocol.DefaultVideoLayers(),
		},
		Signal:    Signal{HallConnectionsPerLink: 4, MaxJoining: 128, MaxViewers: 200},
		Recording: Recording{MinFreeMB: 2048, Timezone: "Asia/Ho_Chi_Minh"},
		TURN: TURN{
			Enabled:       true,
			Port:          3478,
			WebPort:       true,
			RelayPorts:    "49160-49200",
			CredentialTTL: Duration(12 * time.Hour),
		},
		Redis: Redis{Prefix: "hn"},
		Token: Token{LinkTTL: Duration(30 * 24 * time.Hour)},
		Auth:  Auth{SessionTTL: Duration(12 * time.Hour)},
		Log:   Log{Format: "text", Level: "info"},
	}
}

// Load builds the configuration from args (without the program name) and the
// environment read through getenv. It validates the result.
func Load(args []string, getenv func(string) string) (Config, error) {
	return LoadFlags(flag.NewFlagSet("hoinghi", flag.ContinueOnError), args, getenv)
}

// LoadFlags is Load with a caller's flag set, so that a subcommand can add its
// own flags beside the configuration flags. fs is parsed with args; its
// remaining arguments are left in fs.Args(). A request for help returns an
// error wrapping flag.ErrHelp.
func LoadFlags(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	configPath := fs.String("config", "", "YAML configuration file (env HOINGHI_CONFIG)")
	given := make([]*flagValue, 0, len(settings))
	for i := range settings {
		s := &settings[i]
		if s.flag == "" {
			continue
		}
		v := &flagValue{s: s}
		given = append(given, v)
		fs.Var(v, s.flag, s.usage+" (env "+s.env()+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}

	c := Default()
	path := *configPath
	if path == "" {
		path = getenv("HOINGHI_CONFIG")
	}
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return Config{}, err
		}
	}
	for i := range settings {
		s := &settings[i]
		if raw := getenv(s.env()); raw != "" {
			if err := s.set(&c, raw); err != nil {
				return Config{}, fmt.Errorf("%s: %w", s.env(), err)
			}
		}
	}
	for _, v := range given {
		if !v.seen {
			continue
		}
		if err := v.s.set(&c, strings.Join(v.values, ",")); err != nil {
			return Config{}, fmt.Errorf("-%s: %w", v.s.flag, err)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// loadFile overlays the YAML file at path on c. Unknown settings are errors,
// so that a misspelt name does not silently fall back to the default.
func (c *Config) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// Validate reports the first setting that cannot work, naming it as in the
// YAML file, e.g. "media.udp_port: 70000 is not a port".
func (c *Config) Validate() error {
	if err := validateHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil:
			return fmt.Errorf("public_url: %w", err)
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("public_url: %q must start with http:// or https://", c.PublicURL)
		case u.Host == "":
			return fmt.Errorf("public_url: %q has no host", c.PublicURL)
		case u.RawQuery != "" || u.Fragment != "":
			return fmt.Errorf("public_url: %q must not have a query or fragment", c.PublicURL)
		}
	}
	if c.DataDir == "" {
		return errors.New("data_dir: is empty")
	}
	if c.Instance == "" {
		return errors.New("instance: is empty")
	}
	if c.Recording.MinFreeMB < 0 {
		return fmt.Errorf("recording.min_free_mb: %d must not be negative", c.Recording.MinFreeMB)
	}
	if _, err := time.LoadLocation(c.Recording.Timezone); err != nil {
		return fmt.Errorf("recording.timezone: %w", err)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return errors.New("tls.cert: tls.cert and tls.key must be given together")
	}
	if c.TLS.SelfSigned && c.TLS.Cert != "" {
		return errors.New("tls.self_signed: cannot be combined with tls.cert and tls.key")
	}
	if p := c.Media.UDPPort; p < 0 || p > 65535 {
		return fmt.Errorf("media.udp_port: %d is not a port (0 picks a free one)", p)
	}
	if p := c.Media.TCPPort; p < -1 || p > 65535 {
		return fmt.Errorf("media.tcp_port: %d is not a port (0 picks a free one, -1 turns ICE-TCP off)", p)
	}
	if n := c.Media.WallSlots; n < 1 || n > 64 {
		return fmt.Errorf("media.wall_slots: %d; use 1 to 64", n)
	}
	if err := validVideoLayers(c.Media.VideoLayers); err != nil {
		return fmt.Errorf("media.video_layers: %w", err)
	}
	if n := c.Signal.HallConnectionsPerLink; n < 1 || n > 100 {
		return fmt.Errorf("signal.hall_connections_per_link: %d; use 1 to 100", n)
	}
	if n := c.Signal.MaxViewers; n < 1 || n > 100000 {
		return fmt.Errorf("signal.max_viewers: %d; use 1 to 100000", n)
	}
	if n := c.Signal.MaxJoining; n < 1 || n > 100000 {
		return fmt.Errorf("signal.max_joining: %d; use 1 to 100000", n)
	}
	for _, ip := range c.Media.PublicIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("media.public_ips: %q is not an IP address", ip)
		}
	}
	for _, ip := range c.Media.ListenIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("media.listen_ips: %q is not an IP address", ip)
		}
	}
	for i, s := range c.Media.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("media.ice_servers[%d]: urls is empty", i)
		}
		for _, u := range s.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				return fmt.Errorf("media.ice_servers[%d]: %q is not a stun:, turn: or turns: URL", i, u)
			}
		}
	}
	if err := c.validateTURN(); err != nil {
		return err
	}
	if c.Redis.Addr != "" {
		if err := validateHostPort(c.Redis.Addr); err != nil {
			return fmt.Errorf("redis.addr: %w", err)
		}
	}
	if c.Redis.DB < 0 {
		return fmt.Errorf("redis.db: %d is negative", c.Redis.DB)
	}
	if c.Token.Secret != "" && len(c.Token.Secret) < 32 {
		return fmt.Errorf("token.secret: is %d characters; at least 32 are needed", len(c.Token.Secret))
	}
	if c.Token.LinkTTL <= 0 {
		return fmt.Errorf("token.link_ttl: %s is not positive", c.Token.LinkTTL)
	}
	if err := c.validateAuth(); err != nil {
		return err
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	return nil
}

func (c *Config) validateAuth() error {
	seen := make(map[string]bool, len(c.Auth.Users))
	for i, u := range c.Auth.Users {
		switch {
		case u.Name == "":
			return fmt.Errorf("auth.users[%d].name: is empty", i)
		case seen[u.Name]:
			return fmt.Errorf("auth.users[%d].name: %q is listed twice", i, u.Name)
		case !u.Role.Staff():
			return fmt.Errorf("auth.users[%d].role: %q is not technician, chair or secretariat", i, u.Role)
		}
		if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			return fmt.Errorf("auth.users[%d].password_hash: not a bcrypt hash; make one with \"hoinghi passwd\"", i)
		}
		seen[u.Name] = true
	}
	if c.Auth.SessionTTL <= 0 {
		return fmt.Errorf("auth.session_ttl: %s is not positive", c.Auth.SessionTTL)
	}
	return nil
}

func (c *Config) validateTURN() error {
	t := &c.TURN
	if !t.Enabled {
		return nil
	}
	if p := t.Port; p < -1 || p > 65535 {
		return fmt.Errorf("turn.port: %d is not a port (0 picks a free one, -1 opens none)", p)
	}
	if p := t.TLSPort; p < 0 || p > 65535 {
		return fmt.Errorf("turn.tls_port: %d is not a port (0 turns TURN over TLS off)", p)
	}
	if t.TLSPort > 0 && !c.TLSEnabled() {
		return errors.New("turn.tls_port: needs a certificate: set tls.cert and tls.key, or tls.self_signed")
	}
	if t.Port == -1 && !t.WebPort && t.TLSPort == 0 {
		return errors.New("turn.port: -1 with turn.web_port false and no turn.tls_port leaves TURN no port; set turn.enabled false instead")
	}
	if _, _, err := t.RelayPortRange(); err != nil {
		return fmt.Errorf("turn.relay_ports: %w", err)
	}
	if t.CredentialTTL <= 0 {
		return fmt.Errorf("turn.credential_ttl: %s is not positive", t.CredentialTTL)
	}
	if _, err := t.RelayAllowPrefixes(); err != nil {
		return fmt.Errorf("turn.relay_allow: %w", err)
	}
	return nil
}

// TURNHost returns the host clients reach the TURN server at: turn.host,
// else the host of the base URL, else the first public IP when that host is
// loopback.
func (c *Config) TURNHost() string {
	if c.TURN.Host != "" {
		return c.TURN.Host
	}
	host := "localhost"
	if u, err := url.Parse(c.BaseURL()); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	if ip := net.ParseIP(host); (host == "localhost" || (ip != nil && ip.IsLoopback())) && len(c.Media.PublicIPs) > 0 {
		return c.Media.PublicIPs[0]
	}
	return host
}

// BasePort returns the port of the base URL, as clients reach the web
// server: explicit, or 443 for https and 80 for http.
func (c *Config) BasePort() int {
	u, err := url.Parse(c.BaseURL())
	if err != nil {
		return 0
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// TLSEnabled reports whether the server serves HTTPS.
func (c *Config) TLSEnabled() bool { return c.TLS.Cert != "" || c.TLS.SelfSigned }

// BaseURL returns the base of printed links without a trailing slash:
// PublicURL when set, else derived from Listen. An unspecified or loopback
// listen host becomes "localhost", which browsers treat as a secure context.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	scheme := "http"
	if c.TLSEnabled() {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return scheme + "://localhost"
	}
	if ip := net.ParseIP(host); host == "" || host == "localhost" || (ip != nil && (ip.IsUnspecified() || ip.IsLoopback())) {
		host = "localhost"
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// NewLogger returns a logger writing to w in the configured format and level.
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.Log.Level) // Validate has checked it
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		if err := l.UnmarshalText([]byte(s)); err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		return l, nil
	}
	return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
}

func validateHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: %q is not a port", addr, port)
	}
	return nil
}

// Duration is a time.Duration that also accepts a number of days ("30d") and
// prints itself that way when it is a whole number of days.
type Duration time.Duration

// ParseDuration parses s as time.ParseDuration does, and also "Nd" for N days.
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 30d, 12h, 90m)", s)
	}
	return d, nil
}

// UnmarshalText parses a duration such as "30d" or "12h".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats d as UnmarshalText reads it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String formats d as "30d" when it is a whole number of days.
func (d Duration) String() string {
	const day = 24 * time.Hour
	if v := time.Duration(d); v != 0 && v%day == 0 {
		return strconv.FormatInt(int64(v/day), 10) + "d"
	}
	return time.Duration(d).String()
}

// validVideoLayers checks the simulcast encodings: at most three, each
// with its own RID of q, h and f in that order, a scale of 1 to 16 that
// does not grow, and a bitrate of 30 kbit/s to 10 Mbit/s.
func validVideoLayers(layers []protocol.VideoLayer) error {
	if len(layers) > 3 {
		return fmt.Errorf("%d encodings; at most 3", len(layers))
	}
	order := map[string]int{"q": 0, "h": 1, "f": 2}
	last, lastScale := -1, 17.0
	for i, l := range layers {
		rank, ok := order[l.RID]
		if !ok || rank <= last {
			return fmt.Errorf("encoding %d: rid %q; use q, h and f, lowest first", i+1, l.RID)
		}
		if l.ScaleDownBy < 1 || l.ScaleDownBy > 16 || l.ScaleDownBy > lastScale {
			return fmt.Errorf("encoding %d: scale_down_by %g; use 1 to 16, no larger than the encoding before", i+1, l.ScaleDownBy)
		}
		if l.MaxBitrate < 30_000 || l.MaxBitrate > 10_000_000 {
			return fmt.Errorf("encoding %d: max_bitrate %d; use 30000 to 10000000 bits a second", i+1, l.MaxBitrate)
		}
		last, lastScale = rank, l.ScaleDownBy
	}
	return nil
}
