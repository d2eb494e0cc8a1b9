// Package signal serves the signaling WebSocket: it admits a participant
// with a checked link, relays SDP between the client and the SFU, and tells
// everyone in a conference who is there. docs/protocol.md describes the
// messages.
package signal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
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
	// HallConnectionsPerLink is how many connections one hall link
	// (technician, chair or secretariat; a token or a login) may hold at
	// once; further ones are refused with CodeTooManyConnections. Zero
	// means DefaultHallConnectionsPerLink. A point's link holds one: a
	// second connection replaces the first.
	HallConnectionsPerLink int
	// MaxJoining is how many connections may be joining at once (from the
	// upgrade until their first publish offer is answered or their first
	// subscribe answer applied, or joinWait); further ones are refused
	// with CodeServerBusy and a Retry-After, so that a join storm is served
	// in waves rather than timing out. Zero means DefaultMaxJoining.
	MaxJoining int
	// VideoLayers are the encodings of a camera sent as simulcast, told
	// every participant in its welcome; empty: one encoding.
	VideoLayers []protocol.VideoLayer
	// MaxViewers is how many WHEP viewers one conference may have at
	// once; one more is refused with ErrTooManyViewers. Zero means
	// DefaultMaxViewers.
	MaxViewers int
	// Frames, when set, is told of every text frame of every connection:
	// each message the server wrote (the closing message too) and each
	// one it read, with the error it answered. It is called on the
	// connection's own reader and writer goroutines with no lock held,
	// must return quickly and must not keep Frame.Data. Tests set it to
	// check the traffic against the protocol's schema; nil, as in
	// production, costs nothing.
	Frames func(Frame)
	// Broadcasting tells whether a conference is being recorded or
	// broadcast live, for the conference_state of its pages; nil: never.
	Broadcasting func(conf string) Broadcasting
}

// Broadcasting is whether a conference is being recorded and broadcast.
type Broadcasting struct {
	Recording      bool
	RecordingSince time.Time
	Livestream     bool
}

// Frame is one text frame of a signaling connection, as Deps.Frames sees
// it.
type Frame struct {
	Conference  string
	Participant string
	// Received is true for a frame the client sent, false for one the
	// server wrote.
	Received bool
	Data     []byte
	// Refused is, for a received frame, the error the server answered it
	// with (the message was dropped or not carried out); nil when the
	// server accepted it.
	Refused *protocol.Error
}

// Defaults of Deps.
const (
	DefaultHallConnectionsPerLink = 4
	DefaultMaxJoining             = 128
	DefaultMaxViewers             = 200
)

// Hub holds every open signaling connection, by conference.
type Hub struct {
	d        Deps
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu       sync.Mutex
	rooms    map[string]*room           // conference id -> its connections and roster
	floors   map[string]*floor          // conference id -> its floor
	atts     map[string]*attendance     // conference id -> its attendance; see attendance.go
	muted    map[string]map[string]bool // conference id -> participant ids a technician muted
	limits   map[string]*linkLimits     // link key -> its connections and rate limits; see linklimit.go
	empty    map[string]time.Time       // conference id -> when its room emptied; see sweep
	joining  int                        // connections between upgrade and negotiated media
	shutdown bool
	wg       sync.WaitGroup
	done     chan struct{} // closed by Shutdown
	stats    hubStats      // see stats.go
	reports  statsReports  // participants' own stats reports and quality alerts; see stats_report.go
	sessions sessions      // WHIP and WHEP sessions; see whip.go
	content  contents      // the content shared in each conference; see content.go
}

// VideoLayers returns the simulcast encodings of a camera that every
// participant is told (Deps.VideoLayers).
func (h *Hub) VideoLayers() []protocol.VideoLayer { return h.d.VideoLayers }

// NewHub returns a hub ready to serve connections.
func NewHub(d Deps) *Hub {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.ICEServers == nil {
		d.ICEServers = func(string) []protocol.ICEServer { return []protocol.ICEServer{} }
	}
	if d.HallConnectionsPerLink <= 0 {
		d.HallConnectionsPerLink = DefaultHallConnectionsPerLink
	}
	if d.MaxJoining <= 0 {
		d.MaxJoining = DefaultMaxJoining
	}
	if d.MaxViewers <= 0 {
		d.MaxViewers = DefaultMaxViewers
	}
	h := &Hub{d: d, log: d.Log, rooms: make(map[string]*room), floors: make(map[string]*floor),
		muted: make(map[string]map[string]bool), limits: make(map[string]*linkLimits), empty: make(map[string]time.Time),
		done: make(chan struct{})}
	// A connection reads into the HTTP server's own buffer, and takes a
	// write buffer from a shared pool only while it writes: at hundreds
	// of mostly idle connections, that is 8 KB less for each.
	h.upgrader = websocket.Upgrader{
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     d.CheckOrigin,
	}
	d.Store.OnAttendanceWritten(h.attendanceWritten)
	go h.qualityLoop()
	return h
}

// Serve upgrades the request to the signaling WebSocket of the admitted
// participant and serves it until it closes. A hall link over its limit of
// connections, or a server with too many joins under way, is refused over
// HTTP before the upgrade (see refuse).
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, a Admission) {
	p, bad := connectParams(r)
	if bad != nil {
		h.stats.refused(bad.Error)
		refuse(w, *bad)
		return
	}
	link := linkKey(a)
	id := participantID(a, link, p.instance)
	h.mu.Lock()
	if h.shutdown {
		h.mu.Unlock()
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	limits := h.limitsLocked(link)
	if a.Claims.Role != conference.RolePoint && limits.conns >= h.d.HallConnectionsPerLink && !h.connectedLocked(a.Conference.ID, id) {
		h.mu.Unlock()
		h.stats.refused(CodeTooManyConnections)
		refuse(w, errTooManyConnections(h.d.HallConnectionsPerLink))
		return
	}
	if r := limits.connects.Reserve(); r.Delay() > 0 {
		r.Cancel()
		h.mu.Unlock()
		h.stats.refused(CodeTooManyReconnects)
		refuse(w, errTooManyReconnects(limits.connects))
		return
	}
	if h.joining >= h.d.MaxJoining {
		h.mu.Unlock()
		h.stats.refused(CodeServerBusy)
		refuse(w, errServerBusy())
		return
	}
	limits.conns++
	h.joining++
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	defer h.releaseLink(link)
	j := &joinSlot{h: h}
	defer j.release()

	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.log.Info("websocket upgrade refused", "err", err, "remote", r.RemoteAddr)
		return
	}
	h.stats.opened()
	defer h.stats.closed()
	c := newConn(h, ws, a, id, p.version)
	c.joinSlot = j
	c.limiter = limits.messages
	c.run(r.Context())
}

// RefuseIfLinkFull answers the request with the too_many_connections
// refusal, and reports true, when a is a hall link that holds as many
// connections as it may; a page asks through /api/session before it
// reconnects, and so learns why its WebSocket is refused.
func (h *Hub) RefuseIfLinkFull(w http.ResponseWriter, a Admission) bool {
	if a.Claims == nil || a.Claims.Role == conference.RolePoint {
		return false
	}
	h.mu.Lock()
	l := h.limits[linkKey(a)]
	full := l != nil && l.conns >= h.d.HallConnectionsPerLink
	h.mu.Unlock()
	if full {
		refuse(w, errTooManyConnections(h.d.HallConnectionsPerLink))
	}
	return full
}

// releaseLink counts one connection of link as ended.
func (h *Hub) releaseLink(link string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.limits[link]; l != nil {
		if l.conns--; l.conns == 0 {
			l.idle = time.Now()
		}
	}
}

// joinSlot is a connection's place among those joining; release gives it
// back, once, when the connection's media is negotiated or it ends.
type joinSlot struct {
	h    *Hub
	once sync.Once
}

func (j *joinSlot) release() {
	j.once.Do(func() {
		j.h.mu.Lock()
		j.h.joining--
		j.h.mu.Unlock()
	})
}

// linkKey names the link that admitted a: the same token (or the same
// login session, for the same conference) gives the same key. Tokens are
// signed, so equal claims are the same link.
func linkKey(a Admission) string {
	c := a.Claims
	var iat, exp int64
	if c.IssuedAt != nil {
		iat = c.IssuedAt.Unix()
	}
	if c.ExpiresAt != nil {
		exp = c.ExpiresAt.Unix()
	}
	return fmt.Sprintf("%s|%s|%s|%d|%s|%s|%s|%d|%d", c.Conference, c.Role, c.Point, c.Version, c.Issuer, c.Subject, c.ID, iat, exp)
}

// participantID is the point id for a point, so that a reconnecting point
// keeps its identity. A hall participant is one page (or client) of one
// link: when the client names its instance, its id is its role and a
// digest of the link (its key, link) and the instance, the same for every
// connection of both and telling nothing of the token; a connection that
// names none gets a fresh id, as in protocol version 1.
func participantID(a Admission, link, instance string) string {
	if a.Claims.Role == conference.RolePoint {
		return a.Point.ID
	}
	if instance == "" {
		var b [4]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		return string(a.Claims.Role) + "-" + hex.EncodeToString(b[:])
	}
	sum := sha256.Sum256([]byte(link + "\x00" + instance))
	return string(a.Claims.Role) + "-" + hex.EncodeToString(sum[:4])
}

// connectedLocked reports whether participant id of conference conf is
// connected now. h.mu must be held.
func (h *Hub) connectedLocked(conf, id string) bool {
	r := h.rooms[conf]
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns[id] != nil
}

// register adds c to its conference's room and returns the connection it
// replaces, if the same participant was connected. c gets the whole
// roster, and everyone else the change, with the room's next flush.
func (h *Hub) register(c *conn) (old *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[c.conf]
	if r == nil {
		r = newRoom(h, c.conf)
		h.rooms[c.conf] = r
	}
	c.entry = protocol.Participant{ID: c.id, Role: string(c.role), PointID: c.adm.Point.ID, Name: c.name,
		Muted: h.muted[c.conf][c.id]}
	c.room = r
	delete(h.empty, c.conf)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.add(c)
}

// unregister removes c unless a newer connection replaced it, and reports
// whether it did. A room left empty is removed.
func (h *Hub) unregister(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := c.room
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.remove(c) {
		return false
	}
	if len(r.conns) == 0 && len(r.extras) == 0 && h.rooms[r.id] == r {
		delete(h.rooms, r.id)
		h.empty[r.id] = time.Now()
		r.dead = true
		if r.timer != nil {
			r.timer.Stop()
		}
	}
	return true
}

// forgetAfter is how long a conference stays empty before the hub forgets
// its floor controller, attendance state and mutes (the store keeps the
// floor and the attendance; mutes are this process's own).
const forgetAfter = 10 * time.Minute

// sweep forgets what the hub keeps of conferences empty for forgetAfter
// before now, once their timers are done, so that the hub's memory does
// not grow with every conference ever held.
func (h *Hub) sweep(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweepLimitsLocked(now)
	for conf, since := range h.empty {
		if h.rooms[conf] != nil {
			delete(h.empty, conf)
			continue
		}
		if now.Sub(since) < forgetAfter {
			continue
		}
		if f := h.floors[conf]; f != nil && !f.idle() {
			continue
		}
		if a := h.atts[conf]; a != nil && !a.idle() {
			continue
		}
		delete(h.floors, conf)
		delete(h.atts, conf)
		delete(h.muted, conf)
		delete(h.empty, conf)
	}
}

// room returns the room of conf, or nil when no one is connected to it.
func (h *Hub) room(conf string) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[conf]
}

// conns returns the connections of conf that match selects, by
// participant id.
func (h *Hub) conns(conf string, match func(*conn) bool) []*conn {
	r := h.room(conf)
	if r == nil {
		return nil
	}
	return r.members(match)
}

// broadcast sends msg to every connection of conf.
func (h *Hub) broadcast(conf string, msg any, c class, key string) {
	h.broadcastTo(conf, nil, msg, c, key)
}

// broadcastTo sends msg, encoded once, to the connections of conf that
// match selects.
func (h *Hub) broadcastTo(conf string, match func(*conn) bool, msg any, c class, key string) {
	r := h.room(conf)
	if r == nil {
		return
	}
	m, err := encode(&h.stats, msg, c, key)
	if err != nil {
		h.log.Error("encode broadcast", "conference", conf, "err", err)
		return
	}
	r.broadcast(m, match)
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
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	var conns []*conn
	for _, r := range rooms {
		conns = append(conns, r.members(match)...)
	}
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
