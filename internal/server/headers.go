package server

import "net/http"

// ContentSecurityPolicy is sent with every answer. The pages load their
// scripts, styles and images from this server only, with no inline script
// or style and no event-handler attributes; images also come as data: URLs
// (the QR codes of the link sheet); fetch and the signaling WebSocket go to
// this origin ('self' covers ws: and wss: there). WebRTC media and
// getUserMedia are not governed by the policy, and a <video> shown through
// srcObject loads no URL. Nothing may frame a page (frame-ancestors), since
// page URLs carry join tokens and the console has buttons worth
// clickjacking.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the security headers on every answer of h: pages,
// API, errors, health and metrics alike, before h writes anything. A
// WebSocket upgrade passes unchanged: the headers are set on the writer,
// which the upgrade bypasses when it hijacks the connection.
//
//   - Content-Security-Policy: ContentSecurityPolicy.
//   - X-Frame-Options: DENY, for browsers without frame-ancestors.
//   - X-Content-Type-Options: nosniff, so that an answer is only what its
//     Content-Type says.
//   - Referrer-Policy: no-referrer, since page URLs carry join tokens.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
