package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"hoinghi/internal/config"
	"hoinghi/internal/server"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
)

// printWelcome prints where the server is and, with the demo on, the demo
// conference's links: the consoles at the hall, then every point.
func printWelcome(ctx context.Context, w io.Writer, cfg config.Config, st *store.Store, iss *token.Issuer, fingerprint string) error {
	base := cfg.BaseURL()
	fmt.Fprintf(w, "\nhoinghi đang chạy tại / is running at %s\n", base)
	if fingerprint != "" {
		fmt.Fprintf(w, "Chứng chỉ tự ký / self-signed certificate, SHA-256: %s\n", fingerprint)
	}
	if !cfg.Demo {
		fmt.Fprintf(w, "\nTạo đường dẫn / issue a link: hoinghi token --conference ID --role technician --url\n\n")
		return nil
	}
	conf, _, err := server.Demo(ctx, st)
	if err != nil {
		return err
	}
	now := time.Now()
	// The stored links, so that a point whose link was reissued gets the
	// current one here too.
	links, err := server.ConferenceLinks(ctx, st, iss, base, conf, now, time.Duration(cfg.Token.LinkTTL))
	if err != nil {
		return err
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
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Role, l.Name, l.URL)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print links: %w", err)
	}
	fmt.Fprintln(w)
	return nil
}
