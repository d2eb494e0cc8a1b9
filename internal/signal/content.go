package signal

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
)

// keyContent is the key of content_state in the outboxes.
const keyContent = "content_state"

// share is the content one participant shares in a conference.
type share struct {
	id, name, mid string
	role          conference.Role
	since         time.Time
}

// contents holds the content shared in each conference of this process,
// with the version of its last content_state. Its lock is held across the
// SFU's change and the broadcast, so that every page sees the changes in
// the order the SFU made them.
type contents struct {
	mu      sync.Mutex
	by      map[string]share // conference id -> its content; absent: none
	version map[string]int64 // conference id -> version of its last content_state
}

// content carries out a content message of c: start sharing the track of
// its publishing transceiver m.Mid as the conference's content, or stop.
// A hall console may share and stop any content; a point may share while
// it holds the floor, unless the hall shares, and stop its own.
func (c *conn) content(m *protocol.Content) *protocol.Error {
	fail := func(code, reason, format string, args ...any) *protocol.Error {
		return &protocol.Error{Code: code, Reason: reason, Request: protocol.TypeContent, Message: fmt.Sprintf(format, args...)}
	}
	if m.Action != protocol.ContentStart && m.Action != protocol.ContentStop {
		return fail(protocol.CodeBadRequest, protocol.UnknownAction, "%q is not a content action: use start or stop", m.Action)
	}
	if !c.role.AtHall() && c.role != conference.RolePoint {
		return fail(protocol.CodeForbidden, "", "role %s may not share content", c.role)
	}
	h := &c.hub.content
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, sharing := h.by[c.conf]
	if m.Action == protocol.ContentStop {
		if !sharing {
			return nil
		}
		if c.role == conference.RolePoint && cur.id != c.id {
			return fail(protocol.CodeConflict, protocol.ReasonNotSharing, "a point may stop only its own content; %s shares", cur.name)
		}
		c.hub.setContentLocked(c.conf, nil, protocol.ContentReasonStopped)
		c.log.Info("content stopped", "sharer", cur.id)
		return nil
	}
	if m.Mid == "" || len(m.Mid) > 32 {
		return fail(protocol.CodeBadRequest, "", "content start names the mid of the transceiver that carries the content")
	}
	if c.role == conference.RolePoint {
		holds := c.floor != nil && slices.ContainsFunc(c.floor.newest().Holders, func(h conference.FloorHolder) bool {
			return h.PointID == c.adm.Point.ID
		})
		if !holds {
			return fail(protocol.CodeForbidden, "not_holding", "a point may share content only while it holds the floor")
		}
		if sharing && cur.role.AtHall() {
			return fail(protocol.CodeConflict, protocol.ReasonHallContent, "the hall shares content; a point may not replace it")
		}
	}
	reason := ""
	if sharing && cur.id != c.id {
		reason = protocol.ContentReasonReplaced
	}
	s := share{id: c.id, name: c.name, mid: m.Mid, role: c.role, since: time.Now().UTC()}
	if !c.hub.setContentLocked(c.conf, &s, reason) {
		return fail(protocol.CodeConflict, "", "the connection's media is not there")
	}
	c.log.Info("content started", "mid", m.Mid, "replaced", cur.id)
	return nil
}

// setContentLocked makes s the content of conf (nil: none) in the SFU and
// tells everyone, with reason why the content before ended. It reports
// false, changing nothing, when s's participant is not in the SFU.
// h.content.mu must be held.
func (h *Hub) setContentLocked(conf string, s *share, reason string) bool {
	id, mid := "", ""
	if s != nil {
		id, mid = s.id, s.mid
	}
	if !h.d.SFU.SetContent(conf, id, mid) {
		return false
	}
	if h.content.by == nil {
		h.content.by, h.content.version = map[string]share{}, map[string]int64{}
	}
	if s != nil {
		h.content.by[conf] = *s
	} else {
		delete(h.content.by, conf)
	}
	h.content.version[conf]++
	msg := contentState(s)
	msg.Reason = reason
	m, err := encode(&h.stats, msg, classState, keyContent)
	if err != nil {
		h.log.Error("encode content state", "conference", conf, "err", err)
		return true
	}
	m.version = h.content.version[conf]
	if r := h.room(conf); r != nil {
		r.broadcast(m, nil)
	}
	return true
}

// contentState is the content_state message of s (nil: nobody shares).
func contentState(s *share) protocol.ContentState {
	msg := protocol.ContentState{Type: protocol.TypeContentState}
	if s != nil {
		msg.ParticipantID, msg.Name, msg.Role, msg.Since = s.id, s.name, string(s.role), s.since
	}
	return msg
}

// greetContent tells c, which just joined, who shares content. A content
// of c's own participant id, left by its previous connection, ends: a
// new connection shares anew.
func (c *conn) greetContent() {
	h := &c.hub.content
	h.mu.Lock()
	defer h.mu.Unlock()
	cur, sharing := h.by[c.conf]
	if sharing && cur.id == c.id {
		c.hub.setContentLocked(c.conf, nil, protocol.ContentReasonLeft)
		return
	}
	var s *share
	if sharing {
		s = &cur
	}
	m, err := encode(&c.hub.stats, contentState(s), classState, keyContent)
	if err != nil {
		c.log.Error("encode content state", "err", err)
		return
	}
	m.version = h.version[c.conf]
	c.deliver(m)
}

// contentLeft ends the content of participant id of conf, which left.
func (h *Hub) contentLeft(conf, id string) {
	h.content.mu.Lock()
	defer h.content.mu.Unlock()
	if cur, ok := h.content.by[conf]; ok && cur.id == id {
		h.setContentLocked(conf, nil, protocol.ContentReasonLeft)
	}
}

// contentFloorChanged ends the content of a point of conf that no longer
// holds the floor (holders, by point id): its turn ended. The SFU already
// stopped forwarding it with SetFloor.
func (h *Hub) contentFloorChanged(conf string, holders []string) {
	h.content.mu.Lock()
	defer h.content.mu.Unlock()
	if cur, ok := h.content.by[conf]; ok && cur.role == conference.RolePoint && !slices.Contains(holders, cur.id) {
		h.setContentLocked(conf, nil, protocol.ContentReasonTaken)
	}
}
