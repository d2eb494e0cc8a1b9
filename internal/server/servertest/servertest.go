// Package servertest runs a whole hoinghi server on loopback for tests:
// HTTP pages and API, signaling, SFU and a store, wired as cmd/hoinghi does.
package servertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/auth"
	"hoinghi/internal/conference"
	"hoinghi/internal/contract"
	"hoinghi/internal/protocol"
	"hoinghi/internal/recording"
	"hoinghi/internal/server"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
)

// Secret is the token secret of every test server, so that links stay
// valid across a restart.
var Secret = []byte("0123456789abcdef0123456789abcdef")

// Stack is a running server. URL is its base URL, e.g. http://127.0.0.1:port.
type Stack struct {
	t      testing.TB
	URL    string
	Addr   string
	Store  *store.Store
	SFU    *sfu.SFU
	Hub    *signal.Hub
	Issuer *token.Issuer
	// Auth logs in the users of Options.Users; nil when there are none.
	Auth *auth.Auth
	// Recordings runs the conferences' recordings.
	Recordings *recording.Manager
	http       *http.Server
	done       chan struct{}
	// stopFrames ends the check of the signaling frames (checkFrames).
	stopFrames func()
}

// Start runs a server over st on a free loopback port; it stops when the
// test ends.
func Start(t testing.TB, st *store.Store) *Stack {
	return StartAt(t, st, "127.0.0.1:0")
}

// StartAt runs a server over st listening on addr, for example the address
// of a stack stopped before, to test a restart.
func StartAt(t testing.TB, st *store.Store, addr string) *Stack {
	t.Helper()
	return StartWith(t, st, Options{Addr: addr})
}

// Options are the optional parts of a test server.
type Options struct {
	// Addr is the address to listen on; "" picks a free loopback port.
	Addr string
	// Users may log in with their passwords, as the configuration's
	// auth.users do; none turns logins off, as in Start. Their hashes may
	// use bcrypt.MinCost to keep tests quick.
	Users []auth.User
	// HallConnectionsPerLink and MaxJoining set the hub's limits of the
	// same names (signal.Deps); zero keeps its defaults.
	HallConnectionsPerLink int
	MaxJoining             int
	// WallSlots sets the SFU's slots of a hall wall, and MediaTimeout its
	// wait for a participant's media to connect; zero keeps their
	// defaults.
	WallSlots    int
	MediaTimeout time.Duration
	// TCPListener carries the SFU's ICE-TCP in place of a listener of its
	// own (sfu.Config.TCPListener).
	TCPListener net.Listener
	// VideoLayers are the simulcast encodings told in welcome
	// (signal.Deps.VideoLayers); none, the default here, has pages send
	// one encoding.
	VideoLayers []protocol.VideoLayer
	// MaxViewers sets the hub's bound of WHEP viewers per conference
	// (signal.Deps.MaxViewers); zero keeps its default.
	MaxViewers int
	// RecordingDir holds the recordings ("": a directory of the test's
	// own); RecordingMinFree is the free space they need (0: none).
	RecordingDir     string
	RecordingMinFree int64
}

// StartWith runs a server over st as o says; it stops when the test ends.
// With users it admits requests by their login cookie and checks the
// WebSocket's Origin, as cmd/hoinghi does.
func StartWith(t testing.TB, st *store.Store, o Options) *Stack {
	t.Helper()
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	media, err := sfu.New(sfu.Config{IncludeLoopback: true, WallSlots: o.WallSlots, MediaTimeout: o.MediaTimeout,
		TCPListener: o.TCPListener}, log)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := token.NewIssuer(Secret)
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	for try := 0; ; try++ { // a restarted server may wait for its old port
		l, err = net.Listen("tcp", addr)
		if err == nil || try == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		media.Close()
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	var logins *auth.Auth
	if len(o.Users) > 0 {
		logins, err = auth.New(auth.Options{Users: o.Users, Secret: Secret})
		if err != nil {
			l.Close()
			media.Close()
			t.Fatal(err)
		}
	}
	frames, stopFrames := checkFrames(t)
	recDir := o.RecordingDir
	if recDir == "" {
		recDir = t.TempDir()
	}
	var hub *signal.Hub
	recordings := recording.New(recording.Config{Dir: recDir, MinFree: o.RecordingMinFree, Media: media, Log: log,
		Location: time.UTC, OnChange: func(conf string) { hub.BroadcastingChanged(conf) }})
	hub = signal.NewHub(signal.Deps{SFU: media, Store: st, Log: log, Instance: "test", Broadcasting: recordings.Broadcasting,
		CheckOrigin:            auth.SameOrigin(l.Addr().String()),
		HallConnectionsPerLink: o.HallConnectionsPerLink, MaxJoining: o.MaxJoining, VideoLayers: o.VideoLayers,
		MaxViewers: o.MaxViewers, Frames: frames})
	srv := server.New(server.Deps{Store: st, Issuer: issuer, Hub: hub, Stats: media.Stats, Log: log,
		BaseURL: base, LinkTTL: time.Hour, Auth: logins, Recordings: recordings})
	s := &Stack{t: t, URL: base, Addr: l.Addr().String(), Store: st, SFU: media, Hub: hub, Issuer: issuer,
		Auth: logins, Recordings: recordings, http: &http.Server{Handler: contract.CheckedAPI(t, srv)}, done: make(chan struct{}), stopFrames: stopFrames}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(l); err != nil && err != http.ErrServerClosed {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down as the binary does on SIGTERM: every page is
// told why, then the listener and media ports close. It may be called twice.
func (s *Stack) Stop() {
	if s.http == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Hub.Shutdown(ctx)
	if err := s.http.Shutdown(ctx); err != nil {
		s.http.Close()
	}
	<-s.done
	s.Recordings.Close()
	s.SFU.Close()
	s.stopFrames()
	s.http = nil
}

// Token signs a link token for role in conf, valid for ttl (negative for
// an expired one).
func (s *Stack) Token(conf string, role conference.Role, point string, ttl time.Duration) string {
	s.t.Helper()
	tok, err := s.Issuer.Issue(conf, role, point, time.Now().Add(ttl))
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// Seed creates conference conf with n points named "Điểm cầu số i" (ids
// diem-1 ... diem-n) and returns the point ids.
func Seed(t testing.TB, st *store.Store, conf string, n int) []string {
	t.Helper()
	ctx := context.Background()
	if err := st.PutConference(ctx, conference.Conference{ID: conf, Title: "Hội nghị kiểm thử " + conf, TechnicianPhone: "0251 3822 123"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("diem-%d", i+1)
		if err := st.PutPoint(ctx, conf, conference.Point{ID: id, Name: fmt.Sprintf("Điểm cầu số %d", i+1)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
