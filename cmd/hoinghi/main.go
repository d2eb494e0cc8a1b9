// Command hoinghi runs the conference server: web pages, REST API, signaling
// and the SFU in one process. "hoinghi token" prints a signed join token.
//
// Usage:
//
//	hoinghi [-config file.yaml] [flags]
//	hoinghi token --conference ID --role ROLE [--point ID] [--ttl 30d] [--url]
//	hoinghi export --conference ID [--format xlsx|csv|pdf] [-o FILE]
//	hoinghi passwd [--name NAME --role ROLE] < password
//
// Run "hoinghi -h" for the flags; every one also has a HOINGHI_* variable.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	ossignal "os/signal"
	"strconv"
	"syscall"
	"time"
	_ "time/tzdata" // conference time zones work on hosts without zoneinfo

	"hoinghi/internal/conference"
	"hoinghi/internal/config"
	"hoinghi/internal/recording"
	"hoinghi/internal/server"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status, 2 for a bad
// command line or configuration.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "passwd" {
		return runPasswd(args[1:], os.Stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "export" {
		return runExport(args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("hoinghi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := config.LoadFlags(fs, args, getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "hoinghi:", err)
		return 2
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "hoinghi: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log := cfg.NewLogger(stderr)
	ctx, stop := ossignal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, stdout); err != nil {
		log.Error("hoinghi stopped", "err", err)
		return 1
	}
	return 0
}

// serve wires the parts together and serves until ctx ends, then shuts down
// in order: signaling connections, HTTP, media, store.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) (err error) {
	secret, err := cfg.TokenSecret()
	if err != nil {
		return err
	}
	issuer, err := token.NewIssuer(secret)
	if err != nil {
		return err
	}
	logins, err := newAuth(cfg, secret)
	if err != nil {
		return err
	}
	tlsConfig, fingerprint, err := loadTLS(cfg)
	if err != nil {
		return err
	}

	st, err := store.Open(ctx, store.Options{
		Addr:     cfg.Redis.Addr,
		DB:       cfg.Redis.DB,
		Password: cfg.Redis.Password,
		Prefix:   cfg.Redis.Prefix,
		DataDir:  cfg.DataDir,
		Logger:   log.With("component", "store"),
	})
	if err != nil {
		return err
	}
	defer closeLogged(log, "store", st.Close)
	// Close what a crashed run of this instance left, at its last
	// heartbeat, and only then start beating: the first beat replaces it.
	dropped, err := st.DropInstance(ctx, cfg.Instance, conference.LeftRestarted, time.Now())
	if err != nil {
		return err
	}
	if dropped > 0 {
		log.Info("closed connections left by the previous run", "instance", cfg.Instance, "count", dropped)
	}
	if err := st.StartHeartbeat(cfg.Instance); err != nil {
		return err
	}

	// The web port first: the media and TURN ports follow the address it
	// is bound to (config.Binding).
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	bind := cfg.Binding(ln.Addr().(*net.TCPAddr).AddrPort().Addr())
	media, err := startMedia(cfg, bind, log.With("component", "sfu"))
	if err != nil {
		ln.Close()
		return err
	}
	defer closeLogged(log, "sfu", media.Close)

	relay, err := startTURN(cfg, bind, secret, ln, tlsConfig, media.UDPPort(), log.With("component", "turn"))
	if err != nil {
		ln.Close()
		return err
	}
	if relay.server != nil {
		defer closeLogged(log, "turn", relay.server.Close)
	}

	loc, err := time.LoadLocation(cfg.Recording.Timezone)
	if err != nil {
		ln.Close()
		return fmt.Errorf("recording.timezone: %w", err)
	}
	var hub *signal.Hub
	recordings := recording.New(recording.Config{
		Dir:      cfg.RecordingDir(),
		MinFree:  int64(cfg.Recording.MinFreeMB) << 20,
		Media:    media,
		Log:      log.With("component", "recording"),
		Location: loc,
		OnChange: func(conf string) { hub.BroadcastingChanged(conf) },
	})
	defer recordings.Close()
	hub = signal.NewHub(signal.Deps{
		SFU:         media,
		Store:       st,
		Log:         log.With("component", "signal"),
		ICEServers:  relay.iceServers,
		Instance:    cfg.Instance,
		CheckOrigin: originCheck(cfg),

		HallConnectionsPerLink: cfg.Signal.HallConnectionsPerLink,
		MaxJoining:             cfg.Signal.MaxJoining,
		MaxViewers:             cfg.Signal.MaxViewers,
		VideoLayers:            cfg.Media.VideoLayers,
		Broadcasting:           recordings.Broadcasting,
	})
	handler := server.New(server.Deps{
		Store:      st,
		Issuer:     issuer,
		Hub:        hub,
		Stats:      media.Stats,
		BaseURL:    cfg.BaseURL(),
		LinkTTL:    time.Duration(cfg.Token.LinkTTL),
		ICEServers: relay.iceServers,
		Log:        log.With("component", "http"),
		Auth:       logins,
		Recordings: recordings,
	})

	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	// The demo's links are made before serving, so that nothing the store
	// logs comes after them.
	welcome, err := welcomeText(ctx, cfg, st, issuer, fingerprint, bind, media.ListenAddrs())
	if err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(relay.web, "", "")
		} else {
			errc <- srv.Serve(relay.web)
		}
	}()
	udp, tcp := mediaAddrs(media.ListenAddrs())
	log.Info("media listening", "udp", udp, "tcp", tcp, "local_only", bind.LocalOnly)
	log.Info("hoinghi serving", "listen", relay.web.Addr().String(), "url", cfg.BaseURL(),
		"media_udp_port", media.UDPPort(), "media_tcp_port", media.TCPPort(),
		"store", storeName(st, cfg), "data_dir", cfg.DataDir)
	// Every port is open now (web, media, TURN): the links come last, so
	// that they are what a newcomer sees at the bottom of the terminal.
	if _, err := io.WriteString(stdout, welcome); err != nil {
		srv.Close()
		return fmt.Errorf("print the links: %w", err)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub.Shutdown(shutdownCtx)
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}

// startMedia starts the SFU on the media addresses of bind. With one
// address, ICE-TCP listens on it alone, IPv6 too (the SFU does so by
// itself for one IPv4 address only).
func startMedia(cfg config.Config, bind config.Binding, log *slog.Logger) (*sfu.SFU, error) {
	udpPort := cfg.Media.UDPPort
	if udpPort == 0 {
		// The SFU binds each address on its own when given port 0; pick one
		// port for all of them, so that TURN knows the one its relays
		// may reach.
		var err error
		if udpPort, err = freeUDPPort(); err != nil {
			return nil, err
		}
	}
	var tcp net.Listener
	if len(bind.MediaIPs) == 1 && cfg.Media.TCPPort >= 0 {
		addr := net.JoinHostPort(bind.MediaIPs[0], strconv.Itoa(cfg.Media.TCPPort))
		var err error
		if tcp, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("media.tcp_port: listen on %s: %w", addr, err)
		}
	}
	media, err := sfu.New(sfu.Config{
		UDPPort:         udpPort,
		TCPPort:         cfg.Media.TCPPort,
		TCPListener:     tcp,
		PublicIPs:       cfg.Media.PublicIPs,
		ListenIPs:       bind.MediaIPs,
		IncludeLoopback: bind.IncludeLoopback,
		WallSlots:       cfg.Media.WallSlots,
	}, log)
	if err != nil {
		if tcp != nil {
			tcp.Close()
		}
		return nil, err
	}
	return media, nil
}

// mediaAddrs returns the media sockets' addresses, UDP and TCP apart.
func mediaAddrs(addrs []net.Addr) (udp, tcp []string) {
	for _, a := range addrs {
		switch a.(type) {
		case *net.UDPAddr:
			udp = append(udp, a.String())
		case *net.TCPAddr:
			tcp = append(tcp, a.String())
		}
	}
	return udp, tcp
}

// loadTLS returns the TLS configuration the settings ask for, or nil for
// plain HTTP, and the fingerprint of a generated certificate.
func loadTLS(cfg config.Config) (*tls.Config, string, error) {
	switch {
	case cfg.TLS.Cert != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			return nil, "", fmt.Errorf("tls.cert: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}}, "", nil
	case cfg.TLS.SelfSigned:
		extra := append([]string{}, cfg.Media.PublicIPs...)
		if u, err := url.Parse(cfg.BaseURL()); err == nil {
			extra = append(extra, u.Hostname())
		}
		hosts, err := server.SelfSignedHosts(extra...)
		if err != nil {
			return nil, "", err
		}
		cert, err := server.SelfSigned(cfg.DataDir, hosts, time.Now())
		if err != nil {
			return nil, "", err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}}, server.Fingerprint(cert), nil
	}
	return nil, "", nil
}

func storeName(st *store.Store, cfg config.Config) string {
	if st.Embedded() {
		return "embedded"
	}
	return "redis " + cfg.Redis.Addr
}

func closeLogged(log *slog.Logger, what string, fn func() error) {
	if err := fn(); err != nil {
		log.Error("close "+what, "err", err)
	}
}
