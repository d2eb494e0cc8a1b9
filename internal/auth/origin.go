package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// SameOrigin returns a WebSocket origin check: a request without an Origin
// header (not a browser) passes; a browser's passes when the Origin's host
// (with port) is the request's Host or one of hosts, e.g. the host of
// public_url when a reverse proxy rewrites Host. This stops a page of
// another site from opening the signaling WebSocket with the staff's
// session cookie.
func SameOrigin(hosts ...string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" {
			return false
		}
		if strings.EqualFold(u.Host, r.Host) {
			return true
		}
		for _, h := range hosts {
			if h != "" && strings.EqualFold(u.Host, h) {
				return true
			}
		}
		return false
	}
}
