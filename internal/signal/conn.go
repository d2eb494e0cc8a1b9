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
	sendQueue       = 64
)

// conn is one participant's signaling connection: a reader (the handler's
// goroutine) and a writer goroutine fed by the out queue.
type conn struct {
	hub  *Hub
	ws   *websocket.Conn
	adm  Admission
	conf string
	id   string
	role conference.Role
	name string
	log  *slog.Logger

	out     chan []byte
	done    chan struct{}
	limiter *rate.Limiter
	part    *sfu.Participant
	floor   *floor

	closeOnce sync.Once
	mu        sync.Mutex
	closing   *protocol.Closing // the reason sent before closing, if any
	att       connAttendance    // see attendance.go
}

func newConn(h *Hub, ws *websocket.Conn, a Admission) *conn {
	c := &conn{
		hub:     h,
		ws:      ws,
		adm:     a,
		conf:    a.Conference.ID,
		id:      participantID(a),
		role:    a.Claims.Role,
		name:    a.Name(),
		out:     make(chan []byte, sendQueue),
		done:    make(chan struct{}),
		limiter: rate.NewLimiter(messagesPerSec, messageBurst),
	}
	c.log = h.log.With("conference", c.conf, "participant", c.id, "role", string(c.role))
	return c
}

// run serves the connection until it ends, then cleans up after it.
func (c *conn) run(ctx context.Context) {
	opened := time.Now()
	go c.writeLoop()
	defer c.finish()

	if old := c.hub.register(c); old != nil {
		old.recordLeft(conference.LeftReplaced)
		old.closeWith(protocol.ReasonReplaced,
			"Đường dẫn này vừa được mở ở nơi khác. (This link was just opened elsewhere.)")
	}
	c.log.Info("participant connected", "remote", c.ws.RemoteAddr().String())

	c.send(protocol.Welcome{
		Type:            protocol.TypeWelcome,
		ParticipantID:   c.id,
		Role:            string(c.role),
		PointID:         c.adm.Point.ID,
		Name:            c.name,
		ConferenceID:    c.conf,
		ConferenceTitle: c.adm.Conference.Title,
		ICEServers:      c.hub.d.ICEServers(c.id),
	})
	c.recordJoined() // after welcome, which is the first message a client gets
	part, err := c.hub.d.SFU.Join(c.conf, sfu.Info{ID: c.id, Role: c.role, Name: c.name, Connected: opened}, c)
	if err != nil {
		c.log.Error("join media", "err", err)
		c.closeWith(protocol.ReasonShutdown, "Máy chủ không nhận thêm kết nối. (The server accepts no connections now.)")
		return
	}
	c.part = part
	if c.hub.isMuted(c.conf, c.id) {
		c.hub.d.SFU.SetMuted(c.conf, c.id, true)
		c.send(protocol.Muted{Type: protocol.TypeMuted, Muted: true})
	}
	c.floor = c.hub.floorOf(c.adm.Conference)
	if c.role == conference.RolePoint {
		c.floor.pointBack(c.adm.Point.ID)
	}
	c.hub.broadcastRoster(c.conf)
	// The floor is read from the store in the background, so that a slow
	// or absent Redis does not hold up this connection's signaling.
	go c.floor.reload(ctx)
	c.hub.attendanceOf(c.conf).greet(c)
	c.readLoop(ctx)
}

// finish releases what the connection held and tells the others.
func (c *conn) finish() {
	c.shut()
	if c.part != nil {
		c.part.Close()
	}
	if c.hub.unregister(c) {
		c.recordLeft(c.leftReason())
		c.hub.broadcastRoster(c.conf)
		if c.floor != nil && c.role == conference.RolePoint {
			c.floor.pointLeft(c.adm.Point.ID)
			c.floor.reload(context.Background())
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
		case protocol.TypeSubscribeAnswer:
			if err := c.part.HandleSubscribeAnswer(m.SDP); err != nil {
				return sdpError(m.Type, err)
			}
		}
	case *protocol.Floor:
		if err := c.floor.act(ctx, c, m); err != nil {
			return floorError(m.Action, err)
		}
	case *protocol.CheckIn, *protocol.RollCall, *protocol.Conference:
		return c.hub.attendanceOf(c.conf).handle(ctx, c, m)
	case *protocol.Control:
		return c.control(ctx, m)
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

// send queues a message for the writer. A client that does not keep up is
// disconnected rather than allowed to hold the server's memory.
func (c *conn) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.log.Error("encode signaling message", "err", err)
		return
	}
	select {
	case <-c.done:
	case c.out <- b:
	default:
		c.log.Warn("signaling queue full; disconnecting slow client")
		c.shut()
	}
}

// sendError queues an error message, dropping it rather than the
// connection when the queue is full.
func (c *conn) sendError(e protocol.Error) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	c.hub.stats.errorSent(e.Code)
	select {
	case c.out <- b:
	default:
	}
}

// writeLoop writes queued messages and pings until the connection ends.
func (c *conn) writeLoop() {
	defer c.ws.Close()
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case b := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.shut()
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.shut()
				return
			}
		case <-c.done:
			c.flushClosing()
			return
		}
	}
}

// flushClosing writes the queued messages, the closing reason if any and a
// close frame, then closes the socket.
func (c *conn) flushClosing() {
	deadline := time.Now().Add(time.Second)
	_ = c.ws.SetWriteDeadline(deadline)
	for {
		select {
		case b := <-c.out:
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.ws.Close()
				return
			}
			continue
		default:
		}
		break
	}
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing != nil {
		if b, err := json.Marshal(closing); err == nil {
			_ = c.ws.WriteMessage(websocket.TextMessage, b)
		}
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
	c.ws.Close()
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
