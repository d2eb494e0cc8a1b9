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
	"syscall"
	"time"
	_ "time/tzdata" // conference time zones work on hosts without zoneinfo

	"hoinghi/internal/conference"
	"hoinghi/internal/config"
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

	udpPort := cfg.Media.UDPPort
	if udpPort == 0 {
		// The SFU binds each address on its own when given port 0; pick one
		// port for all of them, so that TURN knows the one its relays
		// may reach.
		if udpPort, err = freeUDPPort(); err != nil {
			return err
		}
	}
	// With public IPs, a loopback socket's candidate would be announced as
	// the public IP too; pion keeps one candidate per address and port, the
	// first socket's, and packets arriving at the others (from the NAT, or
	// from a TURN relay) would find no connection.
	loopback := cfg.Media.IncludeLoopback && len(cfg.Media.PublicIPs) == 0
	media, err := sfu.New(sfu.Config{
		UDPPort:         udpPort,
		TCPPort:         cfg.Media.TCPPort,
		PublicIPs:       cfg.Media.PublicIPs,
		ListenIPs:       cfg.Media.ListenIPs,
		IncludeLoopback: loopback,
		WallSlots:       cfg.Media.WallSlots,
	}, log.With("component", "sfu"))
	if err != nil {
		return err
	}
	defer closeLogged(log, "sfu", media.Close)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	relay, err := startTURN(cfg, secret, ln, tlsConfig, media.UDPPort(), log.With("component", "turn"))
	if err != nil {
		ln.Close()
		return err
	}
	if relay.server != nil {
		defer closeLogged(log, "turn", relay.server.Close)
	}

	hub := signal.NewHub(signal.Deps{
		SFU:         media,
		Store:       st,
		Log:         log.With("component", "signal"),
		ICEServers:  relay.iceServers,
		Instance:    cfg.Instance,
		CheckOrigin: originCheck(cfg),

		HallConnectionsPerLink: cfg.Signal.HallConnectionsPerLink,
		MaxJoining:             cfg.Signal.MaxJoining,
		VideoLayers:            cfg.Media.VideoLayers,
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
	})

	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(relay.web, "", "")
		} else {
			errc <- srv.Serve(relay.web)
		}
	}()
	log.Info("hoinghi serving", "listen", relay.web.Addr().String(), "url", cfg.BaseURL(),
		"media_udp_port", media.UDPPort(), "media_tcp_port", media.TCPPort(),
		"store", storeName(st, cfg), "data_dir", cfg.DataDir)

	if err := printWelcome(ctx, stdout, cfg, st, issuer, fingerprint); err != nil {
		srv.Close()
		return err
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
