package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"hoinghi/internal/config"
	"hoinghi/internal/server"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
	"hoinghi/internal/turn"
)

// welcomeText returns what the server prints on stdout once every port is
// open: where it is, where media is reachable (and, for this machine
// alone, how to open it to the LAN) and, with the demo on, the demo
// conference's links: the consoles at the hall, then every point. It
// creates the demo conference when it is missing.
func welcomeText(ctx context.Context, cfg config.Config, st *store.Store, iss *token.Issuer, fingerprint string, bind config.Binding, media []net.Addr) (string, error) {
	var b strings.Builder
	w := &b
	base := cfg.BaseURL()
	fmt.Fprintf(w, "\nhoinghi đang chạy tại / is running at %s\n", base)
	if fingerprint != "" {
		fmt.Fprintf(w, "Chứng chỉ tự ký / self-signed certificate, SHA-256: %s\n", fingerprint)
	}
	udp, tcp := mediaAddrs(media)
	fmt.Fprintf(w, "Hình và tiếng / media: UDP %s", strings.Join(udp, " "))
	if len(tcp) > 0 {
		fmt.Fprintf(w, ", TCP %s", strings.Join(tcp, " "))
	}
	fmt.Fprintln(w)
	if bind.LocalOnly {
		fmt.Fprintf(w, "Chỉ máy này vào được / this machine only. Mở cho mạng LAN / to open it to the LAN: %s\n", lanHint(cfg))
	}
	if !cfg.Demo {
		fmt.Fprintf(w, "\nTạo đường dẫn / issue a link: hoinghi token --conference ID --role technician --url\n\n")
		return b.String(), nil
	}
	conf, _, err := server.Demo(ctx, st)
	if err != nil {
		return "", err
	}
	now := time.Now()
	// The stored links, so that a point whose link was reissued gets the
	// current one here too.
	links, err := server.ConferenceLinks(ctx, st, iss, base, conf, now, time.Duration(cfg.Token.LinkTTL))
	if err != nil {
		return "", err
	}
	expiry := now.Add(time.Duration(cfg.Token.LinkTTL))
	for _, l := range links {
		if l.ExpiresAt.Before(expiry) {
			expiry = l.ExpiresAt
		}
	}
	loc, err := time.LoadLocation(conf.TimeZone)
	if err != nil {
		loc = time.Local
	}
	fmt.Fprintf(w, "\n%s (%s): mở các đường dẫn sau trong trình duyệt / open these links in a browser\n", conf.Title, conf.ID)
	fmt.Fprintf(w, "hiệu lực đến / valid until %s\n\n", expiry.In(loc).Format("02/01/2006 15:04 MST"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range links {
		if l.Token != "" {
			continue // a media endpoint (WHIP, WHEP): its token goes apart, from the links API
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Role, l.Name, l.URL)
	}
	if err := tw.Flush(); err != nil {
		return "", fmt.Errorf("format the links: %w", err)
	}
	fmt.Fprintln(w)
	return b.String(), nil
}

// lanHint returns the flags that open a server for this machine alone to
// the LAN, with this host's first LAN address in the links: every address,
// and HTTPS, without which the points' browsers refuse the camera.
func lanHint(cfg config.Config) string {
	_, port, _ := net.SplitHostPort(cfg.Listen) // Validate has checked it
	host := "LAN-IP"
	if ip := turn.DefaultRelayIP(); !ip.IsLoopback() {
		host = ip.String()
	}
	flags := "-listen 0.0.0.0:" + port
	if !cfg.TLSEnabled() {
		flags += " -tls-self-signed"
	}
	return flags + " -public-url https://" + net.JoinHostPort(host, port)
}
