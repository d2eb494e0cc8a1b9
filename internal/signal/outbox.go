package signal

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Limits of a connection's outbox, in bytes of queued messages. Over
// outboxSoftLimit the outbox sheds what a client can do without: roster
// updates (replaced by one whole roster when the writer gets to it),
// error replies and all but the newest attendance nudge. Over
// outboxHardLimit a point is disconnected as too slow; the hall roles
// never are, since what they can be sent beyond droppable state is
// bounded (one SDP offer at a time, the answers to their own requests).
const (
	outboxSoftLimit = 256 << 10
	outboxHardLimit = 4 << 20
)

// class says how an outbox may treat a message while it waits.
type class uint8

const (
	// classKeep is never dropped: SDP, welcome, answers to requests.
	classKeep class = iota
	// classState is state of which only the newest matters: a newer
	// message of the same key supersedes a waiting one at once.
	classState
	// classNudge may be coalesced to the newest of its key, but only
	// while the outbox is over its soft limit.
	classNudge
	// classRoster is one link of the roster chain (a whole roster or an
	// update); under pressure the waiting links give way to one resync.
	classRoster
	// classError is an error reply, dropped under pressure.
	classError
)

// Keys of the state and nudge messages: a newer message of a key
// supersedes a waiting one (see class).
const (
	keyFloor        = "floor_state"
	keyRollCall     = "roll_call_state"
	keyConference   = "conference_state"
	keyLinkQuality  = "link_quality"
	keyQualityAlert = "quality_alert:" // followed by the participant id
	keyMuted        = "muted"
	keyWall         = "wall_state"
	keyProgram      = "program"
	keyMediaState   = "media_state"
	// keyPublishLayers, followed by a transceiver's mid, keeps the last
	// publish_layers of one track.
	keyPublishLayers = "publish_layers:"
	keyDownlink      = "downlink"
	keyAttendance    = "attendance_changed"
)

// message is one encoded server message. A broadcast is encoded once and
// the same message is queued for every recipient.
type message struct {
	data  []byte
	class class
	key   string // for classState and classNudge
	// version orders the states of a key that carry one (floor_state): a
	// waiting state is superseded only by one of the same version or
	// newer, so that states queued in a race never go back in time.
	version int64
}

// encode marshals v into a message of class c and key, and counts its
// bytes in stats.
func encode(stats *hubStats, v any, c class, key string) (*message, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	stats.encoded(len(b))
	return &message{data: b, class: c, key: key}, nil
}

// entry is a message waiting in an outbox; dead entries were superseded
// or shed and are skipped.
type entry struct {
	m    *message
	dead bool
	// resync marks the place of shed roster links: the writer sends the
	// conference's whole roster there.
	resync bool
}

// outbox is the queue of one connection's messages, bounded in bytes. push
// never blocks; the writer goroutine takes messages in order with pop.
type outbox struct {
	mu     sync.Mutex
	items  []*entry
	head   int // items[:head] were taken
	bytes  int
	keyed  map[string]*entry // the waiting entry of each state or nudge key
	resync *entry            // the waiting resync, if any
	closed bool
	// holdAt, while not negative, is the index in items where the
	// writer stops: what is queued from there on waits until release.
	// Roster links pushed meanwhile go in at holdAt, ahead of what
	// waits, so that a joining client gets welcome, then its roster,
	// then the rest (see hold).
	holdAt  int
	wake    chan struct{}  // signalled when something is pushed
	shedded *atomic.Uint64 // counts messages shed or superseded
}

// newOutbox returns an empty outbox that counts what it sheds in shed.
func newOutbox(shed *atomic.Uint64) *outbox {
	return &outbox{keyed: make(map[string]*entry), holdAt: -1, wake: make(chan struct{}, 1), shedded: shed}
}

// pushResult says what became of a pushed message.
type pushResult uint8

const (
	pushQueued pushResult = iota
	pushDropped
	pushOverflow // over the hard limit after shedding
)

// push queues m. It reports pushOverflow when the outbox stays over its
// hard limit after shedding what it may; the message is queued anyway.
func (o *outbox) push(m *message) pushResult {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return pushDropped
	}
	over := o.bytes+len(m.data) > outboxSoftLimit
	switch m.class {
	case classRoster:
		if o.resync != nil {
			o.shedded.Add(1)
			return pushDropped // the resync to come covers it
		}
	case classError:
		if over {
			o.shedded.Add(1)
			return pushDropped
		}
	case classState:
		if w := o.keyed[m.key]; w != nil && w.m.version > m.version {
			o.shedded.Add(1)
			return pushDropped
		}
		o.supersede(m.key)
	case classNudge:
		if over {
			o.supersede(m.key)
		}
	}
	e := &entry{m: m}
	if m.class == classRoster && o.holdAt >= 0 {
		o.items = slices.Insert(o.items, o.holdAt, e)
		o.holdAt++
	} else {
		o.items = append(o.items, e)
	}
	o.bytes += len(m.data)
	if m.class == classState || m.class == classNudge {
		o.keyed[m.key] = e
	}
	if o.bytes > outboxSoftLimit {
		o.shed()
	}
	o.signal()
	if o.bytes > outboxHardLimit {
		return pushOverflow
	}
	return pushQueued
}

// hold makes the writer stop after what is queued now: later messages
// wait, except roster links, which go ahead of them, until release.
func (o *outbox) hold() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.holdAt = len(o.items)
}

// release lets the writer take what hold kept waiting.
func (o *outbox) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.holdAt >= 0 {
		o.holdAt = -1
		o.signal()
	}
}

// supersede drops the waiting entry of key. o.mu must be held.
func (o *outbox) supersede(key string) {
	if e := o.keyed[key]; e != nil {
		o.kill(e)
		delete(o.keyed, key)
	}
}

// kill marks e dead and takes its bytes off. o.mu must be held.
func (o *outbox) kill(e *entry) {
	if e.dead {
		return
	}
	e.dead = true
	if e.m != nil {
		o.bytes -= len(e.m.data)
	}
	o.shedded.Add(1)
}

// shed drops what a client can do without: the waiting roster links give
// way to one resync in the place of the first, error replies go, and
// every nudge but the newest of its key. o.mu must be held.
func (o *outbox) shed() {
	for i := o.head; i < len(o.items); i++ {
		e := o.items[i]
		if e.dead || e.resync {
			continue
		}
		switch e.m.class {
		case classRoster:
			// While a resync waits no roster link is queued, so the
			// first link found is the earliest.
			o.kill(e)
			if o.resync == nil {
				e.dead, e.resync, e.m = false, true, nil
				o.resync = e
			}
		case classError:
			o.kill(e)
		case classNudge:
			if o.keyed[e.m.key] != e {
				o.kill(e)
			}
		}
	}
}

// signal wakes the writer. o.mu must be held.
func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// pop takes the next waiting message. resync is true in the place where
// the conference's whole roster is to be sent; ok is false when nothing
// waits.
func (o *outbox) pop() (m *message, resync, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.head < len(o.items) && (o.holdAt < 0 || o.head < o.holdAt) {
		e := o.items[o.head]
		o.items[o.head] = nil
		o.head++
		if e.dead {
			continue
		}
		if e.resync {
			o.resync = nil
			o.compact()
			return nil, true, true
		}
		o.bytes -= len(e.m.data)
		if o.keyed[e.m.key] == e {
			delete(o.keyed, e.m.key)
		}
		o.compact()
		return e.m, false, true
	}
	o.compact()
	return nil, false, false
}

// compact reuses the slice once every waiting item was taken, and moves
// the waiting ones to the front when most of the slice is taken. o.mu must
// be held.
func (o *outbox) compact() {
	switch {
	case o.head == len(o.items):
		o.items, o.head = o.items[:0], 0
		if o.holdAt >= 0 {
			o.holdAt = 0
		}
	case o.head > 64 && o.head > len(o.items)/2:
		if o.holdAt >= 0 {
			o.holdAt -= o.head
		}
		n := copy(o.items, o.items[o.head:])
		clear(o.items[n:])
		o.items, o.head = o.items[:n], 0
	}
}

// close makes later pushes drop their message; what waits can still be
// taken.
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
}

// size returns the bytes and messages waiting.
func (o *outbox) size() (bytes, messages int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.items[o.head:] {
		if !e.dead {
			messages++
		}
	}
	return o.bytes, messages
}
