package signal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
)

// Connection limits; docs/protocol.md states them for clients.
const (
	maxFrameBytes   = 1 << 20 // a larger frame closes the connection
	messagesPerSec  = 20
	messageBurst    = 50
	maxRefusedInRow = 200
	pingInterval    = 20 * time.Second
	pongWait        = 45 * time.Second
	writeWait       = 10 * time.Second
	// joinWait is the longest a connection counts as joining (see
	// Deps.MaxJoining) when it negotiates nothing.
	joinWait = 5 * time.Second
)

// conn is one participant's signaling connection: a reader (the handler's
// goroutine) and a writer goroutine fed by the out queue.
type conn struct {
	hub  *Hub
	ws   *websocket.Conn
	adm  Admission
	conf string
	id   string
	// version is the protocol version the client asked for (v), else
	// protocol.Version.
	version int
	role    conference.Role
	name    string
	log     *slog.Logger

	out      *outbox
	done     chan struct{}
	limiter  *rate.Limiter
	part     *sfu.Participant
	floor    *floor
	joinSlot *joinSlot // given back once the media is negotiated

	// room is set by register. entry (the connection's roster entry) and
	// awaitingRoster (its first roster is still to be sent) are guarded
	// by room.mu.
	room           *room
	entry          protocol.Participant
	awaitingRoster bool

	closeOnce sync.Once
	mu        sync.Mutex
	closing   *protocol.Closing // the reason sent before closing, if any
	att       connAttendance    // see attendance.go
}

func newConn(h *Hub, ws *websocket.Conn, a Admission, id string, version int) *conn {
	c := &conn{
		hub:            h,
		ws:             ws,
		adm:            a,
		conf:           a.Conference.ID,
		id:             id,
		version:        version,
		role:           a.Claims.Role,
		name:           a.Name(),
		out:            newOutbox(&h.stats.shed),
		done:           make(chan struct{}),
		limiter:        newLinkLimits().messages, // Serve gives it its link's
		awaitingRoster: true,
	}
	c.log = h.log.With("conference", c.conf, "participant", c.id, "role", string(c.role))
	return c
}

// run serves the connection until it ends, then cleans up after it.
func (c *conn) run(ctx context.Context) {
	opened := time.Now()
	go c.writeLoop()
	defer c.finish()

	// welcome is the first message; the roster follows with the room's
	// next flush after register.
	c.send(protocol.Welcome{
		Type:            protocol.TypeWelcome,
		ParticipantID:   c.id,
		Role:            string(c.role),
		PointID:         c.adm.Point.ID,
		Name:            c.name,
		ConferenceID:    c.conf,
		ProtocolVersion: c.version,
		ConferenceTitle: c.adm.Conference.Title,
		ICEServers:      c.hub.d.ICEServers(c.id),
		VideoLayers:     c.hub.d.VideoLayers,
	})
	// Whatever is sent from now on waits for the connection's first
	// roster, which the room flushes within rosterDelay: a client gets
	// welcome, then roster, then the rest (docs/protocol.md, "Flow").
	c.out.hold()
	if old := c.hub.register(c); old != nil {
		old.recordLeft(conference.LeftReplaced)
		old.closeWith(protocol.ReasonReplaced,
			"Đường dẫn này vừa được mở ở nơi khác. (This link was just opened elsewhere.)")
	}
	c.log.Info("participant connected", "remote", c.ws.RemoteAddr().String())
	if c.role != conference.RolePoint {
		// A point is present once its media connected (MediaConnected):
		// a connection that never carried media is no presence.
		c.recordJoined() // after welcome, which is the first message a client gets
	}
	if c.role.Publishes() {
		t := time.AfterFunc(joinWait, c.joinSlot.release)
		defer t.Stop()
	} else {
		c.joinSlot.release()
	}
	part, err := c.hub.d.SFU.Join(c.conf, sfu.Info{ID: c.id, Role: c.role, Name: c.name, Connected: opened}, c)
	if err != nil {
		c.log.Error("join media", "err", err)
		c.closeWith(protocol.ReasonShutdown, "Máy chủ không nhận thêm kết nối. (The server accepts no connections now.)")
		return
	}
	c.part = part
	if c.hub.isMuted(c.conf, c.id) {
		c.hub.d.SFU.SetMuted(c.conf, c.id, true)
		c.sendState(protocol.Muted{Type: protocol.TypeMuted, Muted: true}, keyMuted)
	}
	c.floor = c.hub.floorOf(c.adm.Conference)
	if c.role == conference.RolePoint {
		c.floor.pointBack(c.adm.Point.ID)
	}
	// The floor is read from the store in the background, so that a slow
	// or absent Redis does not hold up this connection's signaling.
	go c.floor.greet(ctx, c)
	c.hub.attendanceOf(c.conf).greet(c)
	c.greetContent()
	c.readLoop(ctx)
}

// finish releases what the connection held and tells the others.
func (c *conn) finish() {
	c.shut()
	if c.part != nil {
		c.part.Close()
	}
	if c.hub.unregister(c) {
		c.hub.contentLeft(c.conf, c.id)
		c.recordLeft(c.leftReason())
		if c.floor != nil && c.role == conference.RolePoint {
			c.floor.pointLeft(c.adm.Point.ID)
			c.floor.presenceChanged(context.Background(), c.adm.Point.ID)
		}
	}
	c.log.Info("participant disconnected")
}

// readLoop reads and handles messages until the connection fails.
func (c *conn) readLoop(ctx context.Context) {
	c.ws.SetReadLimit(maxFrameBytes)
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	refused := 0
	for {
		kind, r, err := c.ws.NextReader()
		if err != nil {
			c.noteReadEnd(err)
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) && !c.isClosing() {
				c.log.Info("read signaling", "err", err)
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		data, err := io.ReadAll(io.LimitReader(r, protocol.MaxMessageBytes+1))
		if err == nil && len(data) > protocol.MaxMessageBytes {
			_, err = io.Copy(io.Discard, r)
			if err == nil {
				err = errTooLarge
			}
		}
		var perr *protocol.Error
		switch {
		case errors.Is(err, errTooLarge):
			perr = &protocol.Error{Code: protocol.CodeTooLarge,
				Message: fmt.Sprintf("message exceeds %d bytes and was discarded", protocol.MaxMessageBytes)}
		case err != nil:
			c.noteReadEnd(err)
			c.log.Info("read signaling message", "err", err)
			return
		case !c.limiter.Allow():
			perr = &protocol.Error{Code: protocol.CodeRateLimited,
				Message: fmt.Sprintf("more than %d messages a second; message dropped", messagesPerSec)}
		case kind != websocket.TextMessage:
			perr = &protocol.Error{Code: protocol.CodeBadJSON, Message: "binary frames are not accepted; send JSON text"}
		default:
			perr = c.handle(ctx, data)
		}
		if see := c.hub.d.Frames; see != nil && kind == websocket.TextMessage {
			see(Frame{Conference: c.conf, Participant: c.id, Received: true, Data: data, Refused: perr})
		}
		if perr == nil {
			refused = 0
			continue
		}
		perr.Type = protocol.TypeError
		c.sendError(*perr)
		if refused++; refused >= maxRefusedInRow {
			c.log.Warn("closing abusive connection", "refused", refused)
			c.closeWith(protocol.ReasonAbuse, "Quá nhiều thông điệp không hợp lệ. (Too many invalid messages.)")
			return
		}
	}
}

var errTooLarge = errors.New("message too large")

// handle carries out one client message and returns the error to send back,
// if any.
func (c *conn) handle(ctx context.Context, data []byte) *protocol.Error {
	msg, perr := protocol.Decode(data)
	if perr != nil {
		return perr
	}
	switch m := msg.(type) {
	case *protocol.SDP:
		switch m.Type {
		case protocol.TypePublishOffer:
			if !c.role.Publishes() {
				return &protocol.Error{Code: protocol.CodeForbidden, Request: m.Type,
					Message: fmt.Sprintf("role %s does not publish media", c.role)}
			}
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			answer, err := c.part.HandlePublishOffer(ctx, m.SDP)
			if err != nil {
				return sdpError(m.Type, err)
			}
			c.send(protocol.SDP{Type: protocol.TypePublishAnswer, SDP: answer})
			c.joinSlot.release()
		case protocol.TypeSubscribeAnswer:
			if err := c.part.HandleSubscribeAnswer(m.SDP); err != nil {
				return sdpError(m.Type, err)
			}
			c.joinSlot.release()
		}
	case *protocol.Floor:
		if err := c.floor.act(ctx, c, m); err != nil {
			return floorError(m.Action, err)
		}
	case *protocol.Wall:
		return c.wall(m)
	case *protocol.CheckIn, *protocol.RollCall, *protocol.Conference:
		return c.hub.attendanceOf(c.conf).handle(ctx, c, m)
	case *protocol.Control:
		return c.control(ctx, m)
	case *protocol.Content:
		return c.content(m)
	case *protocol.Stats:
		return c.stats(m)
	case *protocol.Candidate:
		if m.Candidate.Candidate == "" {
			return nil // end of candidates
		}
		if m.PC != protocol.PCPublish && m.PC != protocol.PCSubscribe {
			return &protocol.Error{Code: protocol.CodeBadJSON, Request: m.Type,
				Message: fmt.Sprintf("pc must be %q or %q", protocol.PCPublish, protocol.PCSubscribe)}
		}
		init := webrtc.ICECandidateInit{
			Candidate:        m.Candidate.Candidate,
			SDPMid:           m.Candidate.SDPMid,
			SDPMLineIndex:    m.Candidate.SDPMLineIndex,
			UsernameFragment: m.Candidate.UsernameFragment,
		}
		if err := c.part.AddCandidate(m.PC == protocol.PCPublish, init); err != nil {
			return sdpError(m.Type, err)
		}
	}
	return nil
}

func sdpError(request string, err error) *protocol.Error {
	code := protocol.CodeInternal
	if errors.Is(err, sfu.ErrBadSDP) || errors.Is(err, sfu.ErrNoOffer) {
		code = protocol.CodeBadSDP
	}
	return &protocol.Error{Code: code, Request: request, Message: err.Error()}
}

// SendSubscribeOffer passes the SFU's offer to the client.
func (c *conn) SendSubscribeOffer(sdp string) {
	c.send(protocol.SDP{Type: protocol.TypeSubscribeOffer, SDP: sdp})
}

// MediaConnected records a point as joined: its media reached the server.
func (c *conn) MediaConnected() {
	if c.role == conference.RolePoint {
		c.recordJoined()
	}
	c.sendState(protocol.MediaState{Type: protocol.TypeMediaState, State: protocol.MediaConnected}, keyMediaState)
}

// MediaFailed tells the client that its media did not connect.
func (c *conn) MediaFailed(reason string) {
	c.log.Warn("media did not connect", "reason", reason)
	c.sendState(protocol.MediaState{Type: protocol.TypeMediaState, State: protocol.MediaFailed, Reason: reason}, keyMediaState)
}

// SendWall tells a hall console which point each of its wall slots shows.
func (c *conn) SendWall(slots []string) {
	c.sendState(protocol.WallState{Type: protocol.TypeWallState, Slots: slots}, keyWall)
}

// SendLayers asks a publisher to send the encodings active of its video
// track on transceiver mid, and to pause those paused. A newer request
// for the same track replaces one not yet sent.
func (c *conn) SendLayers(mid string, active, paused []string) {
	c.sendState(protocol.PublishLayers{Type: protocol.TypePublishLayers, Mid: mid, Active: active, Paused: paused}, keyPublishLayers+mid)
}

// SendProgram tells a hall console where the hall program comes from.
func (c *conn) SendProgram(pr sfu.Program) {
	c.sendState(protocol.Program{Type: protocol.TypeProgram, Video: pr.Video, Audio: pr.Audio,
		Chosen: pr.AudioChosen, VideoChosen: pr.VideoChosen}, keyProgram)
}

// SendDownlink tells a subscriber how its link fares with what it
// receives.
func (c *conn) SendDownlink(state string) {
	c.sendState(protocol.Downlink{Type: protocol.TypeDownlink, State: state}, keyDownlink)
}

// wall carries out a hall console's choice of the cameras on its wall.
func (c *conn) wall(m *protocol.Wall) *protocol.Error {
	fail := func(code, format string, args ...any) *protocol.Error {
		return &protocol.Error{Code: code, Request: protocol.TypeWall, Message: fmt.Sprintf(format, args...)}
	}
	if !conference.WatchesWall(c.role) {
		return fail(protocol.CodeForbidden, "role %s has no video wall", c.role)
	}
	if len(m.Participants) > protocol.MaxWallParticipants {
		return fail(protocol.CodeBadRequest, "%d participants; at most %d", len(m.Participants), protocol.MaxWallParticipants)
	}
	for _, id := range m.Participants {
		if len(id) > 128 {
			return fail(protocol.CodeBadRequest, "participant id of %d bytes; at most 128", len(id))
		}
	}
	if err := c.hub.d.SFU.SetWall(c.conf, c.id, m.Participants, m.Auto); err != nil {
		return fail(protocol.CodeInternal, "wall: %v", err)
	}
	return nil
}

// send queues a message for this connection alone.
func (c *conn) send(v any) { c.sendAs(v, classKeep, "") }

// sendState queues state of which only the newest of key matters.
func (c *conn) sendState(v any, key string) { c.sendAs(v, classState, key) }

func (c *conn) sendAs(v any, cl class, key string) {
	m, err := encode(&c.hub.stats, v, cl, key)
	if err != nil {
		c.log.Error("encode signaling message", "err", err)
		return
	}
	c.deliver(m)
}

// sendError queues an error message, which is dropped rather than the
// connection when the connection is behind.
func (c *conn) sendError(e protocol.Error) {
	c.hub.stats.errorSent(e.Code)
	c.sendAs(e, classError, "")
}

// deliver queues m for the writer; it never blocks. A point that lets its
// outbox grow over the hard limit is disconnected rather than allowed to
// hold the server's memory; a hall role never is (see outboxHardLimit).
func (c *conn) deliver(m *message) {
	if c.out.push(m) != pushOverflow || c.role.AtHall() || c.role == conference.RoleSecretariat {
		return
	}
	if !c.isClosing() {
		c.hub.stats.slow.Add(1)
		bytes, n := c.out.size()
		c.log.Warn("signaling outbox over its limit; disconnecting slow client", "bytes", bytes, "messages", n)
	}
	c.shut()
}

// writeDeadline is how long one write may take before the connection is
// given up: as long as a client that still answers pings may need, for the
// hall roles, which are never disconnected for being slow.
func (c *conn) writeDeadline() time.Duration {
	if c.role == conference.RolePoint {
		return writeWait
	}
	return pongWait
}

// writeLoop writes queued messages and pings until the connection ends.
func (c *conn) writeLoop() {
	defer c.ws.Close()
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.out.wake:
			if err := c.writeQueued(time.Time{}, ping.C); err != nil {
				c.shut()
				return
			}
		case <-ping.C:
			if err := c.ping(); err != nil {
				c.shut()
				return
			}
		case <-c.done:
			c.flushClosing()
			return
		}
	}
}

// ping sends a ping, which the client answers to keep the connection.
func (c *conn) ping() error {
	return c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
}

// writeQueued writes what waits in the outbox; a zero deadline gives each
// write the connection's own. A resync in the queue is written as the
// conference's whole roster and the updates after it. A ping due on
// pings goes out between two messages, so that a long backlog does not
// hold it up.
func (c *conn) writeQueued(deadline time.Time, pings <-chan time.Time) error {
	for {
		select {
		case <-pings:
			if err := c.ping(); err != nil {
				return err
			}
		default:
		}
		m, resync, ok := c.out.pop()
		if !ok {
			return nil
		}
		msgs := []*message{m}
		if resync {
			msgs = c.room.rosterNow() // set before any roster message was queued
		}
		for _, m := range msgs {
			d := deadline
			if d.IsZero() {
				d = time.Now().Add(c.writeDeadline())
			}
			_ = c.ws.SetWriteDeadline(d)
			if err := c.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
				return err
			}
			c.wrote(m.data)
		}
	}
}

// flushClosing writes the queued messages, the closing reason if any and a
// close frame, then closes the socket.
func (c *conn) flushClosing() {
	deadline := time.Now().Add(time.Second)
	c.out.close()
	if err := c.writeQueued(deadline, nil); err != nil {
		c.ws.Close()
		return
	}
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing != nil {
		if b, err := json.Marshal(closing); err == nil {
			_ = c.ws.SetWriteDeadline(deadline)
			if c.ws.WriteMessage(websocket.TextMessage, b) == nil {
				c.wrote(b)
			}
		}
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
	c.ws.Close()
}

// wrote tells Deps.Frames, if set, of a message the server wrote.
func (c *conn) wrote(data []byte) {
	if see := c.hub.d.Frames; see != nil {
		see(Frame{Conference: c.conf, Participant: c.id, Data: data})
	}
}

// closeWith ends the connection after telling the client why.
func (c *conn) closeWith(reason, message string) {
	c.mu.Lock()
	if c.closing == nil {
		c.closing = &protocol.Closing{Type: protocol.TypeClosing, Reason: reason, Message: message}
	}
	c.mu.Unlock()
	c.shut()
}

func (c *conn) isClosing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// shut starts closing: the writer flushes and closes the socket, which ends
// the reader.
func (c *conn) shut() {
	c.closeOnce.Do(func() { close(c.done) })
}
