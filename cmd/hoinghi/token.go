package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/config"
	"hoinghi/internal/server"
	"hoinghi/internal/token"
)

// runToken implements "hoinghi token": it prints a join token signed with
// the configured secret, or with --url the whole link.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hoinghi token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	confID := fs.String("conference", "", "conference id (required)")
	role := fs.String("role", "", "technician, chair, point, secretariat, ingest (WHIP) or viewer (WHEP) (required)")
	point := fs.String("point", "", "point id, for role point only")
	ttl := fs.String("ttl", "", "how long the token stays valid, e.g. 30d or 2h (default token.link_ttl)")
	asURL := fs.Bool("url", false, "print the join link rather than the bare token")
	cfg, err := config.LoadFlags(fs, args, getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "hoinghi token:", err)
		return 2
	}
	out, err := issueToken(cfg, *confID, conference.Role(*role), *point, *ttl, *asURL)
	if err != nil {
		fmt.Fprintln(stderr, "hoinghi token:", err)
		return 2
	}
	fmt.Fprintln(stdout, out)
	return 0
}

func issueToken(cfg config.Config, confID string, role conference.Role, point, ttl string, asURL bool) (string, error) {
	if err := conference.ValidateID(confID); err != nil {
		return "", fmt.Errorf("--conference: %w", err)
	}
	if !role.Valid() {
		return "", fmt.Errorf("--role: %q is not technician, chair, point, secretariat, ingest or viewer", role)
	}
	if (role == conference.RolePoint) != (point != "") {
		return "", errors.New("--point: give a point id with --role point, and only then")
	}
	if point != "" {
		if err := conference.ValidateID(point); err != nil {
			return "", fmt.Errorf("--point: %w", err)
		}
	}
	validity := time.Duration(cfg.Token.LinkTTL)
	if ttl != "" {
		d, err := config.ParseDuration(ttl)
		if err != nil {
			return "", fmt.Errorf("--ttl: %w", err)
		}
		if d <= 0 {
			return "", fmt.Errorf("--ttl: %s is not positive", ttl)
		}
		validity = d
	}
	secret, err := cfg.TokenSecret()
	if err != nil {
		return "", err
	}
	iss, err := token.NewIssuer(secret)
	if err != nil {
		return "", err
	}
	tok, err := iss.Issue(confID, role, point, time.Now().Add(validity))
	if err != nil {
		return "", err
	}
	if !asURL {
		return tok, nil
	}
	page := server.ConsolePage
	switch role {
	case conference.RolePoint:
		page = server.PointPage
	case conference.RoleIngest, conference.RoleViewer:
		// A media endpoint: the URL for the mixer or the player, the
		// token for its Bearer field, one to a line.
		endpoint := server.WHIPPath
		if role == conference.RoleViewer {
			endpoint = server.WHEPPath
		}
		return cfg.BaseURL() + endpoint + confID + "\n" + tok, nil
	}
	return cfg.BaseURL() + page + "?t=" + tok, nil
}
