package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hoinghi/internal/auth"
	"hoinghi/internal/config"
)

// newAuth returns the logins of the staff listed in cfg, with session keys
// derived from the token secret.
func newAuth(cfg config.Config, secret []byte) (*auth.Auth, error) {
	users := make([]auth.User, len(cfg.Auth.Users))
	for i, u := range cfg.Auth.Users {
		users[i] = auth.User{Name: u.Name, Role: u.Role, PasswordHash: u.PasswordHash}
	}
	a, err := auth.New(auth.Options{
		Users:      users,
		Secret:     secret,
		SessionTTL: time.Duration(cfg.Auth.SessionTTL),
		Secure:     strings.HasPrefix(cfg.BaseURL(), "https://"),
	})
	if err != nil {
		return nil, fmt.Errorf("auth.users: %w", err)
	}
	return a, nil
}

// originCheck admits a signaling WebSocket opened by a page of this server:
// the request's own host, or the host of the public URL.
func originCheck(cfg config.Config) func(*http.Request) bool {
	host := ""
	if u, err := url.Parse(cfg.BaseURL()); err == nil {
		host = u.Host
	}
	return auth.SameOrigin(host)
}
