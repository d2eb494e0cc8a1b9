package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"hoinghi/internal/config"
	"hoinghi/internal/protocol"
	"hoinghi/internal/turn"
)

// turnSetup carries what the TURN set-up gives the rest of the server: the
// listener to serve the web on, each join's ICE servers, and how to stop.
type turnSetup struct {
	web        net.Listener
	iceServers func(participantID string) []protocol.ICEServer
	server     *turn.Server // nil when TURN is off
}

// startTURN starts the embedded TURN server when the settings ask for it,
// on the addresses of bind, sharing the web listener ln when
// turn.web_port is on. Its relays reach this host only on mediaPort, the
// SFU's UDP port.
func startTURN(cfg config.Config, bind config.Binding, secret []byte, ln net.Listener, tlsConfig *tls.Config, mediaPort int, log *slog.Logger) (turnSetup, error) {
	static := turn.ICEServers(cfg.Media.ICEServers, nil, nil, nil)
	if !cfg.TURN.Enabled {
		return turnSetup{web: ln, iceServers: static}, nil
	}
	creds, err := turn.NewCredentials(secret, time.Duration(cfg.TURN.CredentialTTL))
	if err != nil {
		return turnSetup{}, err
	}
	lo, hi, err := cfg.TURN.RelayPortRange()
	if err != nil {
		return turnSetup{}, fmt.Errorf("turn.relay_ports: %w", err)
	}
	allow, err := cfg.TURN.RelayAllowPrefixes()
	if err != nil {
		return turnSetup{}, fmt.Errorf("turn.relay_allow: %w", err)
	}
	relayIP := turn.DefaultRelayIP()
	if bind.RelayIP.IsValid() {
		relayIP = bind.RelayIP.AsSlice()
	}
	tc := turn.Config{
		Host:         bind.TURNHost,
		Port:         cfg.TURN.Port,
		TLSPort:      cfg.TURN.TLSPort,
		TLSConfig:    tlsConfig,
		RelayIP:      relayIP,
		RelayMinPort: lo,
		RelayMaxPort: hi,
		MediaPorts:   []int{mediaPort},
		RelayAllow:   allow,
	}
	for _, ip := range cfg.Media.PublicIPs {
		tc.PublicIPs = append(tc.PublicIPs, net.ParseIP(ip))
	}
	web := ln
	var mux *turn.WebMux
	if cfg.TURN.WebPort {
		mux = turn.NewWebMux(ln, log)
		web = mux.Web()
		tc.Listeners = []net.Listener{mux.TURN()}
	}
	srv, err := turn.New(tc, creds, log)
	if err != nil {
		if mux != nil {
			mux.Close()
		}
		return turnSetup{}, err
	}
	ep := turn.Endpoints{Host: cfg.TURNHost(), UDPPort: srv.UDPPort(), TCPPort: srv.TCPPort(), TLSPort: srv.TLSPort()}
	if mux != nil {
		ep.WebPort = cfg.BasePort()
	}
	urls := ep.URLs()
	log.Info("turn serving", "urls", urls, "relay_ip", tc.RelayIP.String(), "relay_ports", cfg.TURN.RelayPorts,
		"relay_to_media_port", mediaPort, "relay_allow", cfg.TURN.RelayAllow)
	return turnSetup{web: web, iceServers: turn.ICEServers(cfg.Media.ICEServers, creds, urls, nil), server: srv}, nil
}

// freeUDPPort returns a UDP port that is free on every address now: one
// bound on the unspecified address conflicts with any other binding.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		return 0, fmt.Errorf("media.udp_port 0: find a free port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
