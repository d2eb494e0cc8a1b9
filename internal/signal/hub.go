// Package signal serves the signaling WebSocket: it admits a participant
// with a checked link, relays SDP between the client and the SFU, and tells
// everyone in a conference who is there. docs/protocol.md describes the
// messages.
package signal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
)

// Admission is what the HTTP layer checked before the upgrade: the link's
// claims, the conference and, for a point, the point.
type Admission struct {
	Claims     *token.Claims
	Conference conference.Conference
	Point      conference.Point // zero unless the role is point
}

// Name is what the others see for the participant.
func (a Admission) Name() string {
	if a.Claims == nil {
		return ""
	}
	return conference.DisplayName(a.Claims.Role, a.Point.Name)
}

// Deps are the parts the hub works with.
type Deps struct {
	SFU   *sfu.SFU
	Store *store.Store
	Log   *slog.Logger
	// ICEServers gives each joining participant, by id, the STUN and TURN
	// servers of its welcome, with credentials of its own; nil gives none.
	ICEServers func(participantID string) []protocol.ICEServer
	// Instance names this server process in the store's connection records.
	Instance string
	// CheckOrigin decides whether a WebSocket may be opened from the
	// request's Origin; nil allows only the same host.
	CheckOrigin func(*http.Request) bool
}

// Hub holds every open signaling connection, by conference.
type Hub struct {
	d        Deps
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu       sync.Mutex
	confs    map[string]map[string]*conn // conference id -> participant id -> conn
	floors   map[string]*floor           // conference id -> its floor
	atts     map[string]*attendance      // conference id -> its attendance; see attendance.go
	muted    map[string]map[string]bool  // conference id -> participant ids a technician muted
	shutdown bool
	wg       sync.WaitGroup
	done     chan struct{} // closed by Shutdown
	stats    hubStats      // see stats.go
	reports  statsReports  // participants' own stats reports and quality alerts; see stats_report.go
}

// NewHub returns a hub ready to serve connections.
func NewHub(d Deps) *Hub {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.ICEServers == nil {
		d.ICEServers = func(string) []protocol.ICEServer { return []protocol.ICEServer{} }
	}
	h := &Hub{d: d, log: d.Log, confs: make(map[string]map[string]*conn), floors: make(map[string]*floor),
		muted: make(map[string]map[string]bool), done: make(chan struct{})}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     d.CheckOrigin,
	}
	d.Store.OnAttendanceWritten(h.attendanceWritten)
	go h.qualityLoop()
	return h
}

// Serve upgrades the request to the signaling WebSocket of the admitted
// participant and serves it until it closes.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, a Admission) {
	h.mu.Lock()
	if h.shutdown {
		h.mu.Unlock()
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.log.Info("websocket upgrade refused", "err", err, "remote", r.RemoteAddr)
		return
	}
	h.stats.opened()
	defer h.stats.closed()
	c := newConn(h, ws, a)
	c.run(r.Context())
}

// participantID is the point id for a point, so that a reconnecting point
// keeps its identity, and a fresh id for the hall roles.
func participantID(a Admission) string {
	if a.Claims.Role == conference.RolePoint {
		return a.Point.ID
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return string(a.Claims.Role) + "-" + hex.EncodeToString(b[:])
}

// register adds c to its conference and returns the connection it
// replaces, if the same participant was connected.
func (h *Hub) register(c *conn) (old *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.confs[c.conf]
	if m == nil {
		m = make(map[string]*conn)
		h.confs[c.conf] = m
	}
	old = m[c.id]
	m[c.id] = c
	return old
}

// unregister removes c unless a newer connection replaced it, and reports
// whether it did.
func (h *Hub) unregister(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.confs[c.conf]
	if m[c.id] != c {
		return false
	}
	delete(m, c.id)
	if len(m) == 0 {
		delete(h.confs, c.conf)
	}
	return true
}

// conns returns the connections of conf that match selects, by
// participant id.
func (h *Hub) conns(conf string, match func(*conn) bool) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.confs[conf]))
	for _, c := range h.confs[conf] {
		if match == nil || match(c) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// broadcast sends msg to every connection of conf.
func (h *Hub) broadcast(conf string, msg any) { h.broadcastTo(conf, nil, msg) }

// broadcastTo sends msg to the connections of conf that match selects.
func (h *Hub) broadcastTo(conf string, match func(*conn) bool, msg any) {
	for _, c := range h.conns(conf, match) {
		c.send(msg)
	}
}

// broadcastRoster sends every connection of conf the list of who is there.
func (h *Hub) broadcastRoster(conf string) {
	conns := h.conns(conf, nil)
	roster := protocol.Roster{Type: protocol.TypeRoster, Participants: make([]protocol.Participant, len(conns))}
	for i, c := range conns {
		roster.Participants[i] = protocol.Participant{ID: c.id, Role: string(c.role), PointID: c.adm.Point.ID, Name: c.name,
			Muted: h.isMuted(conf, c.id)}
	}
	h.broadcast(conf, roster)
}

// pointNames returns the names of the points connected to conf, and which
// are connected.
func (h *Hub) pointNames(conf string) (names map[string]string, online map[string]bool) {
	names, online = make(map[string]string), make(map[string]bool)
	for _, c := range h.conns(conf, func(c *conn) bool { return c.role == conference.RolePoint }) {
		names[c.adm.Point.ID] = c.name
		online[c.adm.Point.ID] = true
	}
	return names, online
}

// closeWhere ends every connection that match selects, after telling it why,
// and returns how many it ended.
func (h *Hub) closeWhere(match func(*conn) bool, reason, message string) int {
	h.mu.Lock()
	var conns []*conn
	for _, m := range h.confs {
		for _, c := range m {
			if match(c) {
				conns = append(conns, c)
			}
		}
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.closeWith(reason, message)
	}
	return len(conns)
}

// Shutdown tells every connection that the server is stopping, closes them
// and waits until their handlers return or ctx ends.
func (h *Hub) Shutdown(ctx context.Context) {
	h.mu.Lock()
	if !h.shutdown {
		close(h.done)
	}
	h.shutdown = true
	h.mu.Unlock()
	h.closeWhere(func(*conn) bool { return true }, protocol.ReasonShutdown,
		"Máy chủ đang khởi động lại; trang sẽ tự kết nối lại. (The server is restarting; the page reconnects by itself.)")
	h.mu.Lock()
	for _, f := range h.floors {
		f.stop()
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// storeTimeout bounds each store call made for a connection, so that a
// Redis that went away delays nobody for long.
const storeTimeout = 2 * time.Second
