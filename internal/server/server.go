// Package server is the HTTP face of hoinghi: it serves the embedded web
// pages, the REST API, the signaling WebSocket, health and metrics, and
// admits every request by its signed join token.
package server

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hoinghi/internal/auth"
	"hoinghi/internal/protocol"
	"hoinghi/internal/recording"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
	"hoinghi/web"
)

// MaxBodyBytes is the largest request body the API reads.
const MaxBodyBytes = 64 << 10

// Hub serves an admitted signaling WebSocket; *signal.Hub is one.
type Hub interface {
	Serve(w http.ResponseWriter, r *http.Request, a signal.Admission)
	// RefuseIfLinkFull answers with the hub's refusal, and reports true,
	// when a's hall link holds as many connections as it may.
	RefuseIfLinkFull(w http.ResponseWriter, a signal.Admission) bool
	// VideoLayers are the simulcast encodings of a camera that welcome
	// tells, and /api/session too.
	VideoLayers() []protocol.VideoLayer
}

// Deps are what the server needs. Store, Issuer and Hub are required.
type Deps struct {
	Store  *store.Store
	Issuer *token.Issuer
	Hub    Hub
	// Stats reads the SFU's totals for /metrics; nil reports zeros.
	Stats func() sfu.Stats
	// BaseURL is the public base of links, without a trailing slash,
	// e.g. "https://hoinghi.example.vn".
	BaseURL string
	// LinkTTL is how long links issued by the links API stay valid.
	LinkTTL time.Duration
	// ICEServers gives the STUN and TURN servers of /api/session, by user
	// (the point id, or the role at the hall); nil gives none.
	ICEServers func(user string) []protocol.ICEServer
	Log        *slog.Logger
	// Auth logs in the hall's staff and admits requests by their session
	// cookie; nil turns logins off (only tokens admit).
	Auth *auth.Auth
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sessions opens the WHIP and WHEP sessions; nil takes Hub when it
	// is one (*signal.Hub is), else those endpoints answer 503
	// media_unavailable.
	Sessions MediaSessions
	// Recordings runs the conferences' recordings; nil: this server
	// does not record (the recording API answers 503).
	Recordings *recording.Manager
}

// Server routes HTTP requests. It is an http.Handler.
type Server struct {
	d       Deps
	mux     *http.ServeMux
	handler http.Handler // mux with the security headers
	static  fs.FS
	metrics *prometheus.Registry
}

// New returns a Server ready to serve with d.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Stats == nil {
		d.Stats = func() sfu.Stats { return sfu.Stats{} }
	}
	if d.ICEServers == nil {
		d.ICEServers = func(string) []protocol.ICEServer { return []protocol.ICEServer{} }
	}
	if d.Sessions == nil {
		d.Sessions, _ = d.Hub.(MediaSessions)
	}
	d.BaseURL = strings.TrimRight(d.BaseURL, "/")
	static, err := fs.Sub(web.Files, "static")
	if err != nil {
		// fs.Sub fails only on an invalid path name, which "static" is not.
		panic("server: web static files: " + err.Error())
	}
	s := &Server{d: d, mux: http.NewServeMux(), static: static, metrics: newRegistry(d)}
	s.routes()
	s.handler = securityHeaders(s.mux)
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /api/openapi.json", s.openAPI) // see openapi.go
	m.HandleFunc("GET /api/session", s.session)
	m.HandleFunc("PUT /api/conferences/{id}", s.putConference)
	m.HandleFunc("PUT /api/conferences/{id}/points/{pid}", s.putPoint)
	m.HandleFunc("GET /api/conferences/{id}/links", s.links)
	m.HandleFunc("GET /api/conferences/{id}/points", s.points)
	m.HandleFunc("GET /api/conferences/{id}/report", s.liveReport)
	m.HandleFunc("GET /api/conferences/{id}/export", s.exportReport)
	s.recordingRoutes()
	m.HandleFunc("/api/", s.apiNotFound)
	s.loginRoutes(m)
	s.adminRoutes(m) // see admin.go
	m.HandleFunc("GET /ws", s.websocket)
	s.mediaRoutes(m) // WHIP and WHEP; see whip.go
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", metricsHandler(s.metrics, s.d.Log))
	m.Handle("/", s.staticHandler())
}

// ServeHTTP routes r. Every answer carries the security headers (see
// securityHeaders): a strict Content-Security-Policy, no framing, no
// sniffing and no referrers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// staticHandler serves the embedded pages. A directory is served only
// through its index.html, never as a listing.
func (s *Server) staticHandler() http.Handler {
	files := http.FileServerFS(s.static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		fi, err := fs.Stat(s.static, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if fi.IsDir() {
			if _, err := fs.Stat(s.static, path.Join(name, "index.html")); err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					s.d.Log.Error("static files", "path", r.URL.Path, "err", err)
				}
				http.NotFound(w, r)
				return
			}
		}
		// Pages change with the binary; let browsers revalidate every time.
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
