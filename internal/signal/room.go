package signal

import (
	"slices"
	"strings"
	"sync"
	"time"

	"hoinghi/internal/protocol"
)

// rosterDelay is the longest a roster change waits to be sent, so that the
// changes of a join storm go out together, each batch encoded once.
const rosterDelay = 50 * time.Millisecond

// room is the signaling side of one conference in this process: its
// connections and its roster. Its lock covers membership and the order of
// roster messages to each connection, so that every connection gets a
// whole roster and then every change after it, in order.
type room struct {
	hub *Hub
	id  string

	mu    sync.Mutex
	dead  bool // removed from the hub when it emptied; a new room replaces it
	conns map[string]*conn
	// extras are the roster entries of participants without a
	// connection: the mixer's WHIP source (see whip.go).
	extras map[string]protocol.Participant
	// entries is the roster as last sent: participant id -> entry.
	entries map[string]protocol.Participant
	version uint64
	// base is the whole roster at some version and updates the changes
	// after it, all encoded: together they bring a newcomer up to date.
	// When the updates outgrow base, base is encoded anew, so that the
	// bytes encoded stay linear in the number of changes.
	base        *message
	updates     []*message
	updateBytes int
	// pending holds the changes not sent yet (nil: the participant left);
	// joiners the connections that wait for their first roster.
	pending   map[string]*protocol.Participant
	joiners   []*conn
	timer     *time.Timer
	lastFlush time.Time
}

func newRoom(h *Hub, id string) *room {
	return &room{hub: h, id: id, conns: make(map[string]*conn), extras: make(map[string]protocol.Participant),
		entries: make(map[string]protocol.Participant),
		pending: make(map[string]*protocol.Participant)}
}

// add makes c a member, replacing and returning the connection of the
// same participant, if any. c gets the whole roster with the next flush.
// r.mu must be held.
func (r *room) add(c *conn) (old *conn) {
	old = r.conns[c.id]
	if old != nil {
		r.dropJoiner(old)
	}
	r.conns[c.id] = c
	e := c.entry
	r.pending[c.id] = &e
	r.joiners = append(r.joiners, c)
	r.schedule()
	return old
}

// remove takes c out unless a newer connection replaced it, and reports
// whether it did. r.mu must be held.
func (r *room) remove(c *conn) bool {
	if r.conns[c.id] != c {
		return false
	}
	delete(r.conns, c.id)
	r.dropJoiner(c)
	r.pending[c.id] = nil
	r.schedule()
	return true
}

// addExtra puts e, the entry of a participant without a connection, in
// the roster with the next flush. r.mu must be held.
func (r *room) addExtra(e protocol.Participant) {
	r.extras[e.ID] = e
	r.pending[e.ID] = &e
	r.schedule()
}

// removeExtra takes the entry of id, added by addExtra, out of the roster
// with the next flush. r.mu must be held.
func (r *room) removeExtra(id string) {
	if _, ok := r.extras[id]; !ok {
		return
	}
	delete(r.extras, id)
	r.pending[id] = nil
	r.schedule()
}

// dropJoiner forgets that c waits for its first roster. r.mu must be held.
func (r *room) dropJoiner(c *conn) {
	if i := slices.Index(r.joiners, c); i >= 0 {
		r.joiners = slices.Delete(r.joiners, i, i+1)
	}
}

// setMuted changes the muted mark of participant id's entry. r.mu must be
// held.
func (r *room) setMuted(id string, muted bool) {
	c := r.conns[id]
	if c == nil || c.entry.Muted == muted {
		return
	}
	c.entry.Muted = muted
	e := c.entry
	r.pending[id] = &e
	r.schedule()
}

// schedule arranges a flush: at once when none happened for rosterDelay,
// else when rosterDelay has passed since the last. r.mu must be held.
func (r *room) schedule() {
	if r.timer != nil {
		return
	}
	wait := rosterDelay - time.Since(r.lastFlush)
	if wait <= 0 {
		r.flush()
		return
	}
	r.timer = time.AfterFunc(wait, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.timer = nil
		r.flush()
	})
}

// flush sends the pending changes as one update, encoded once, to every
// member that has its roster, and the whole roster to the joiners. r.mu
// must be held.
func (r *room) flush() {
	if r.dead {
		return
	}
	r.lastFlush = time.Now()
	if upd, ok := r.apply(); ok {
		m, err := encode(&r.hub.stats, upd, classRoster, "")
		if err != nil {
			r.hub.log.Error("encode roster update", "conference", r.id, "err", err)
			return
		}
		r.updates = append(r.updates, m)
		r.updateBytes += len(m.data)
		for _, c := range r.conns {
			if !c.awaitingRoster {
				c.deliver(m)
			}
		}
	}
	if r.base == nil || r.updateBytes > len(r.base.data) {
		r.rebase()
	}
	for _, c := range r.joiners {
		c.awaitingRoster = false
		for _, m := range r.catchUp() {
			c.deliver(m)
		}
		c.out.release() // what waited for the roster follows it
	}
	r.joiners = r.joiners[:0]
}

// apply moves the pending changes into entries and returns them as the
// update of the next version, if anything changed. r.mu must be held.
func (r *room) apply() (protocol.RosterUpdate, bool) {
	upd := protocol.RosterUpdate{Type: protocol.TypeRosterUpdate}
	for id, e := range r.pending {
		if e != nil {
			r.entries[id] = *e
			upd.Set = append(upd.Set, *e)
		} else if _, ok := r.entries[id]; ok {
			delete(r.entries, id)
			upd.Removed = append(upd.Removed, id)
		}
	}
	clear(r.pending)
	if len(upd.Set) == 0 && len(upd.Removed) == 0 {
		return upd, false
	}
	slices.SortFunc(upd.Set, func(a, b protocol.Participant) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(upd.Removed)
	r.version++
	upd.Version = r.version
	return upd, true
}

// rebase encodes the whole roster at the current version and forgets the
// updates before it. r.mu must be held.
func (r *room) rebase() {
	msg := protocol.Roster{Type: protocol.TypeRoster, Version: r.version, Participants: make([]protocol.Participant, 0, len(r.entries))}
	for _, e := range r.entries {
		msg.Participants = append(msg.Participants, e)
	}
	slices.SortFunc(msg.Participants, func(a, b protocol.Participant) int { return strings.Compare(a.ID, b.ID) })
	m, err := encode(&r.hub.stats, msg, classRoster, "")
	if err != nil {
		r.hub.log.Error("encode roster", "conference", r.id, "err", err)
		return
	}
	r.base, r.updates, r.updateBytes = m, nil, 0
}

// catchUp returns the messages that bring a connection to the current
// roster: the whole roster and the updates after it. r.mu must be held.
func (r *room) catchUp() []*message {
	if r.base == nil {
		return nil
	}
	out := make([]*message, 0, 1+len(r.updates))
	return append(append(out, r.base), r.updates...)
}

// rosterNow returns the messages that bring a connection whose roster
// updates were shed up to date.
func (r *room) rosterNow() []*message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.catchUp()
}

// broadcast queues m for every member that match selects (nil: every
// member).
func (r *room) broadcast(m *message, match func(*conn) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		if match == nil || match(c) {
			c.deliver(m)
		}
	}
}

// members returns the connections that match selects, by participant id.
func (r *room) members(match func(*conn) bool) []*conn {
	r.mu.Lock()
	out := make([]*conn, 0, len(r.conns))
	for _, c := range r.conns {
		if match == nil || match(c) {
			out = append(out, c)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *conn) int { return strings.Compare(a.id, b.id) })
	return out
}
