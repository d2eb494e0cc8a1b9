package turn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	pionturn "github.com/pion/turn/v4"
)

// Config sets the TURN server's ports and relay addresses.
type Config struct {
	// Host is the address the TURN and TLS ports listen on; empty means
	// every address.
	Host string
	// Port is the UDP and TCP port of TURN (3478 by convention); 0 picks
	// free ports, -1 opens neither.
	Port int
	// TLSPort, when above 0, accepts TURN over TLS (turns:) with TLSConfig.
	TLSPort   int
	TLSConfig *tls.Config
	// Listeners carry more TURN over TCP, such as a WebMux's TURN side. The
	// server closes them.
	Listeners []net.Listener
	// RelayIP is the local address relayed transports are bound to; the
	// SFU on this host reaches them there.
	RelayIP net.IP
	// PublicIPs are the addresses the SFU on this host announces in place
	// of its own (1:1 NAT); relayed media to them stays on the host.
	PublicIPs []net.IP
	// RelayMinPort and RelayMaxPort bound the UDP ports of relayed
	// transports, inclusive.
	RelayMinPort, RelayMaxPort int
	// MediaPorts are the UDP ports of the SFU on this host: the only ports
	// of this host that relayed transports reach. Without any, relays
	// reach nothing on this host.
	MediaPorts []int
	// RelayAllow lists the networks beyond this host that relayed
	// transports may reach (any port), e.g. a LAN whose SFU is elsewhere.
	// Everything else is refused: loopback, private, link-local,
	// multicast, unspecified and public addresses.
	RelayAllow []netip.Prefix
}

// Server is a running TURN server.
type Server struct {
	srv *pionturn.Server
	udp net.PacketConn
	tcp net.Listener
	tls net.Listener
	log *slog.Logger

	relay   *relayGenerator
	refused atomic.Uint64 // permissions and channel binds refused
}

// New starts a TURN server that admits the credentials creds issues.
func New(cfg Config, creds *Credentials, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if creds == nil {
		return nil, errors.New("turn: no credentials")
	}
	if cfg.RelayIP == nil {
		return nil, errors.New("turn: no relay IP")
	}
	if cfg.RelayMinPort < 1 || cfg.RelayMaxPort > 65535 || cfg.RelayMinPort > cfg.RelayMaxPort {
		return nil, fmt.Errorf("turn: relay ports %d-%d are not a port range", cfg.RelayMinPort, cfg.RelayMaxPort)
	}
	s := &Server{log: log}
	listeners := append([]net.Listener(nil), cfg.Listeners...)
	fail := func(err error) (*Server, error) {
		for _, l := range listeners {
			l.Close()
		}
		if s.udp != nil {
			s.udp.Close()
		}
		return nil, err
	}
	if cfg.Port >= 0 {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
		if err != nil {
			return fail(fmt.Errorf("turn: listen on UDP port %d: %w", cfg.Port, err))
		}
		s.udp = udp
		// With port 0, TCP takes the port UDP got when it is free, else any.
		port := cfg.Port
		if port == 0 {
			port = udp.LocalAddr().(*net.UDPAddr).Port
		}
		tcp, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(port)))
		if err != nil && cfg.Port == 0 {
			tcp, err = net.Listen("tcp", net.JoinHostPort(cfg.Host, "0"))
		}
		if err != nil {
			return fail(fmt.Errorf("turn: listen on TCP port %d: %w", port, err))
		}
		s.tcp = tcp
		listeners = append(listeners, tcp)
	}
	if cfg.TLSPort > 0 {
		if cfg.TLSConfig == nil {
			return fail(errors.New("turn: a TLS port needs a certificate"))
		}
		l, err := tls.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.TLSPort)), cfg.TLSConfig)
		if err != nil {
			return fail(fmt.Errorf("turn: listen on TLS port %d: %w", cfg.TLSPort, err))
		}
		s.tls = l
		listeners = append(listeners, l)
	}
	if s.udp == nil && len(listeners) == 0 {
		return nil, errors.New("turn: no port to listen on")
	}

	// This host: its interfaces, the relay IP and the announced public
	// IPs, all reaching the SFU's media port.
	local := localIPs()
	host := append(append(append([]net.IP(nil), local...), cfg.RelayIP), cfg.PublicIPs...)
	policy := newPeerPolicy(host, cfg.MediaPorts, cfg.RelayAllow)
	relay := newRelayGenerator(&pionturn.RelayAddressGeneratorPortRange{
		RelayAddress: cfg.RelayIP,
		// Bound to the relay IP, so that the SFU sees packets come from
		// the relay candidate it was given and knows the link is relayed.
		Address:    cfg.RelayIP.String(),
		MinPort:    uint16(cfg.RelayMinPort),
		MaxPort:    uint16(cfg.RelayMaxPort),
		MaxRetries: 30,
	}, policy, cfg.PublicIPs, local)
	s.relay = relay
	permission := s.permissionHandler(policy)
	sc := pionturn.ServerConfig{
		Realm:         Realm,
		AuthHandler:   s.authHandler(creds),
		LoggerFactory: slogFactory{log},
	}
	if s.udp != nil {
		sc.PacketConnConfigs = []pionturn.PacketConnConfig{{PacketConn: s.udp, RelayAddressGenerator: relay,
			PermissionHandler: permission}}
	}
	for _, l := range listeners {
		sc.ListenerConfigs = append(sc.ListenerConfigs, pionturn.ListenerConfig{Listener: l, RelayAddressGenerator: relay,
			PermissionHandler: permission})
	}
	srv, err := pionturn.NewServer(sc)
	if err != nil {
		return fail(fmt.Errorf("turn: start: %w", err))
	}
	s.srv = srv
	return s, nil
}

// authHandler returns the key of a username that creds issued and that has
// not expired; the server checks the message integrity with it.
func (s *Server) authHandler(creds *Credentials) pionturn.AuthHandler {
	return func(username, realm string, src net.Addr) ([]byte, bool) {
		password, err := creds.Password(username, time.Now())
		if err != nil {
			s.log.Info("turn: credentials refused", "username", username, "remote", src.String(), "err", err)
			return nil, false
		}
		return pionturn.GenerateAuthKey(username, realm, password), true
	}
}

// permissionHandler decides each CreatePermission and ChannelBind request
// by policy, and logs and counts a refusal.
func (s *Server) permissionHandler(policy *peerPolicy) pionturn.PermissionHandler {
	return func(client net.Addr, peer net.IP) bool {
		ip, _ := netip.AddrFromSlice(peer)
		ok, reason := policy.permit(ip)
		if !ok {
			s.refused.Add(1)
			s.log.Info("turn: relay to peer refused", "client", client.String(), "peer", peer.String(), "reason", reason)
		}
		return ok
	}
}

// Refused returns how many relay permissions (CreatePermission and
// ChannelBind) were refused, and how many relayed packets were dropped
// because their peer was this host on a port other than the media ports.
func (s *Server) Refused() (permissions, packets uint64) {
	return s.refused.Load(), s.relay.dropped.Load()
}

// UDPPort is the UDP port of TURN, or 0 when it has none.
func (s *Server) UDPPort() int {
	if s.udp == nil {
		return 0
	}
	return s.udp.LocalAddr().(*net.UDPAddr).Port
}

// TCPPort is the TCP port of TURN, or 0 when it has none.
func (s *Server) TCPPort() int { return listenerPort(s.tcp) }

// TLSPort is the port of TURN over TLS, or 0 when it has none.
func (s *Server) TLSPort() int { return listenerPort(s.tls) }

func listenerPort(l net.Listener) int {
	if l == nil {
		return 0
	}
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Allocations is the number of relayed transports open now.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }

// Close stops the server and closes its ports and listeners.
func (s *Server) Close() error {
	if err := s.srv.Close(); err != nil {
		return fmt.Errorf("turn: close: %w", err)
	}
	return nil
}

// DefaultRelayIP returns the first IPv4 address of an interface that is up
// and not loopback, or 127.0.0.1 when there is none. The SFU runs on the
// same host, so any local address reaches it.
func DefaultRelayIP() net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return net.IPv4(127, 0, 0, 1)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip4 := n.IP.To4(); ip4 != nil && !ip4.IsLinkLocalUnicast() {
					return ip4
				}
			}
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

// slogFactory sends pion's TURN logs to slog: errors and warnings as
// warnings, the rest at debug level.
type slogFactory struct{ log *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{f.log.With("scope", scope)}
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Trace(string)          {}
func (l slogLogger) Tracef(string, ...any) {}
func (l slogLogger) Debug(msg string)      { l.log.Debug(msg) }
func (l slogLogger) Debugf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}
func (l slogLogger) Info(msg string) { l.log.Debug(msg) }
func (l slogLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}
func (l slogLogger) Warn(msg string) { l.log.Warn(msg) }
func (l slogLogger) Warnf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}
func (l slogLogger) Error(msg string) { l.log.Warn(msg) }
func (l slogLogger) Errorf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}
