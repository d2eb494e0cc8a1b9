package signal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store"
)

// floor runs the floor of one conference in this process: it carries out
// floor actions through the store (which makes each one atomic), then tells
// the SFU whose audio to forward, tells every page the new state, and keeps
// the timers of time limits and of grace periods for points that went away.
type floor struct {
	hub  *Hub
	conf string
	log  *slog.Logger

	mu       sync.Mutex
	settings conference.Conference
	version  int64                  // of the last state applied
	applied  bool                   // a state was applied
	state    conference.FloorState  // the last state applied
	limits   map[string]*time.Timer // turn id -> time limit
	graces   map[string]*time.Timer // point id -> end of its grace period
}

// floorOf returns the floor controller of conf, creating it with the
// conference's settings.
func (h *Hub) floorOf(c conference.Conference) *floor {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.floors[c.ID]
	if f == nil {
		f = &floor{hub: h, conf: c.ID, log: h.log.With("conference", c.ID), limits: map[string]*time.Timer{}, graces: map[string]*time.Timer{}}
		h.floors[c.ID] = f
	}
	f.mu.Lock()
	f.settings = c
	f.mu.Unlock()
	return f
}

// floorError turns an error of a floor action into the message for the
// client.
func floorError(action string, err error) *protocol.Error {
	e := &protocol.Error{Request: protocol.TypeFloor, Message: fmt.Sprintf("%s: %v", action, err)}
	switch {
	case errors.Is(err, conference.ErrForbidden):
		e.Code = protocol.CodeForbidden
	case errors.Is(err, conference.ErrInvalidSubject), errors.Is(err, conference.ErrInvalidLimit),
		errors.Is(err, store.ErrNotInvited), errors.Is(err, errBadFloorRequest), errors.Is(err, conference.ErrUnknownAction):
		e.Code = protocol.CodeBadRequest
	case errors.Is(err, store.ErrAlreadyQueued), errors.Is(err, store.ErrAlreadyHolding), errors.Is(err, store.ErrNotQueued),
		errors.Is(err, store.ErrNotHolding), errors.Is(err, store.ErrQueueEmpty), errors.Is(err, store.ErrNoSuchTurn),
		errors.Is(err, errNotRunning):
		e.Code = protocol.CodeConflict
	case store.Unavailable(err):
		e.Code = protocol.CodeStoreUnavailable
		e.Message = fmt.Sprintf("%s: the conference's data cannot be reached for a moment; nothing changed, try again", action)
	default:
		e.Code = protocol.CodeInternal
	}
	for _, r := range floorReasons {
		if errors.Is(err, r.err) {
			e.Reason = r.reason
			break
		}
	}
	return e
}

// floorReasons name the floor's refusals for pages to translate.
var floorReasons = []struct {
	err    error
	reason string
}{
	{store.ErrAlreadyQueued, "already_queued"},
	{store.ErrAlreadyHolding, "already_holding"},
	{store.ErrNotQueued, "not_queued"},
	{store.ErrNotHolding, "not_holding"},
	{store.ErrQueueEmpty, "queue_empty"},
	{store.ErrNoSuchTurn, "no_such_turn"},
	{store.ErrNotInvited, "not_invited"},
	{conference.ErrInvalidSubject, "invalid_subject"},
	{conference.ErrInvalidLimit, "invalid_limit"},
	{errNotRunning, "not_running"},
	{conference.ErrUnknownAction, protocol.UnknownAction},
}

var errBadFloorRequest = errors.New("bad floor request")

// errNotRunning refuses a request for the floor outside the running
// conference: before its start, while testing, or after its end.
var errNotRunning = errors.New("the conference is not running: the floor can be asked for only while it runs")

// act carries out a floor action of connection c.
func (f *floor) act(ctx context.Context, c *conn, m *protocol.Floor) error {
	action := conference.FloorAction(m.Action)
	if err := conference.CheckFloor(c.role, action, c.adm.Point.ID, m.PointID); err != nil {
		return err
	}
	target := m.PointID
	if target == "" && c.role == conference.RolePoint {
		target = c.adm.Point.ID
	}
	f.mu.Lock()
	settings := f.settings
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	st, by, now := f.hub.d.Store, c.id, time.Now().UTC()

	var state conference.FloorState
	var err error
	switch action {
	case conference.FloorAsk:
		var subject string
		if subject, err = conference.CleanSubject(m.Subject); err != nil {
			return err
		}
		running, rerr := f.hub.attendanceOf(f.conf).running(ctx)
		if rerr != nil {
			return rerr
		}
		if !running {
			return errNotRunning
		}
		state, err = st.Ask(ctx, f.conf, target, subject, now)
	case conference.FloorWithdraw:
		reason := conference.WithdrawnByPoint
		if c.role != conference.RolePoint {
			reason = conference.WithdrawnByChair
		}
		if target == "" {
			return fmt.Errorf("%w: withdraw needs point_id", errBadFloorRequest)
		}
		state, err = st.Withdraw(ctx, f.conf, target, by, reason, now)
	case conference.FloorGive:
		var limit time.Duration
		switch {
		case m.Seconds == 0:
			limit = settings.SpeakingTime()
		case m.Seconds > 0:
			limit = time.Duration(m.Seconds) * time.Second
		case m.Seconds < -1:
			return fmt.Errorf("%w: %d s: use -1 (no limit), 0 (the conference's default) or 1 to %d", conference.ErrInvalidLimit,
				m.Seconds, int(conference.MaxSpeakingLimit.Seconds()))
		}
		if err = conference.CheckLimit(limit); err != nil {
			return err
		}
		if target == "" {
			_, state, err = st.GiveNext(ctx, f.conf, limit, by, now)
		} else {
			_, state, err = st.Give(ctx, f.conf, target, limit, by, now)
		}
	case conference.FloorExtend:
		extra := time.Duration(m.Seconds) * time.Second
		if err = conference.CheckExtension(extra); err != nil {
			return err
		}
		var h conference.FloorHolder
		if h, err = f.holder(ctx, target); err == nil {
			_, state, err = st.Extend(ctx, f.conf, h.TurnID, extra, by, now)
		}
	case conference.FloorTakeBack:
		state, err = st.TakeBack(ctx, f.conf, target, by, now)
	case conference.FloorFinish:
		var h conference.FloorHolder
		if h, err = f.holder(ctx, target); err == nil {
			state, err = st.EndTurn(ctx, f.conf, h.TurnID, conference.EndFinished, by, now)
		}
	case conference.FloorOpenDiscussion, conference.FloorCloseDiscussion:
		state, err = st.SetDiscussion(ctx, f.conf, action == conference.FloorOpenDiscussion, by, now)
	}
	if err != nil {
		return err
	}
	f.log.Info("floor changed", "action", m.Action, "by", by, "point", target, "version", state.Version)
	f.apply(state)
	return nil
}

// holder returns the turn point holds; an empty point means the only
// holder.
func (f *floor) holder(ctx context.Context, point string) (conference.FloorHolder, error) {
	if point != "" {
		return f.hub.d.Store.Holder(ctx, f.conf, point)
	}
	state, err := f.hub.d.Store.Floor(ctx, f.conf)
	if err != nil {
		return conference.FloorHolder{}, err
	}
	if len(state.Holders) != 1 {
		return conference.FloorHolder{}, fmt.Errorf("%w: name the point: %d points hold the floor", errBadFloorRequest, len(state.Holders))
	}
	return state.Holders[0], nil
}

// greet sends a connection that just joined the floor as the store has
// it: after a restart of the server the store is where the floor is. A
// newer state than the one applied is applied everywhere; a point that
// waits for the floor or holds it is online again for everyone.
func (f *floor) greet(ctx context.Context, c *conn) {
	read, ok := f.read(ctx)
	if !ok {
		return
	}
	newer := f.applyIfNewer(read)
	state := f.newest()
	if newer || (c.role == conference.RolePoint && state.Concerns(c.adm.Point.ID)) {
		f.broadcastState(state)
		return
	}
	if m := f.encode(state); m != nil {
		c.deliver(m)
	}
}

// presenceChanged tells everyone of the floor when point, which connected
// or left, waits for it or holds it: its online mark changed.
func (f *floor) presenceChanged(ctx context.Context, point string) {
	read, ok := f.read(ctx)
	if !ok {
		return
	}
	newer := f.applyIfNewer(read)
	if state := f.newest(); newer || state.Concerns(point) {
		f.broadcastState(state)
	}
}

// newest returns the newest state applied.
func (f *floor) newest() conference.FloorState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// read reads the floor from the store.
func (f *floor) read(ctx context.Context) (conference.FloorState, bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	state, err := f.hub.d.Store.Floor(ctx, f.conf)
	if err != nil {
		f.log.Error("read floor", "err", err)
		return state, false
	}
	return state, true
}

// apply makes state the floor everywhere: in the SFU, in every page and in
// the timers. A state older than the last applied one is ignored, so that
// concurrent actions settle on the newest.
func (f *floor) apply(state conference.FloorState) {
	if f.applyIfNewer(state) {
		f.broadcastState(state)
	}
}

// applyIfNewer makes state the floor of the timers and the SFU unless a
// newer one was applied, and reports whether it did. The SFU keeps the
// newest version it is given, so that states applied concurrently settle
// on the newest there too, with no lock held across its work.
func (f *floor) applyIfNewer(state conference.FloorState) bool {
	f.mu.Lock()
	if state.Version < f.version || (state.Version == f.version && f.applied) {
		f.mu.Unlock()
		return false
	}
	f.version, f.applied, f.state = state.Version, true, state
	f.armLimits(state)
	f.mu.Unlock()
	holders := make([]string, len(state.Holders))
	for i, h := range state.Holders {
		holders[i] = h.PointID
	}
	f.hub.d.SFU.SetFloor(f.conf, state.Version, holders)
	f.hub.contentFloorChanged(f.conf, holders)
	return true
}

// broadcastState sends state to everyone in the conference.
func (f *floor) broadcastState(state conference.FloorState) {
	if r, m := f.hub.room(f.conf), f.encode(state); r != nil && m != nil {
		r.broadcast(m, nil)
	}
}

// encode returns the floor_state message of state, ordered by its
// version in the outboxes, or nil when it cannot be encoded.
func (f *floor) encode(state conference.FloorState) *message {
	m, err := encode(&f.hub.stats, f.message(state), classState, keyFloor)
	if err != nil {
		f.log.Error("encode floor state", "err", err)
		return nil
	}
	m.version = state.Version
	return m
}

// message is the floor_state message for state, with names and whether
// each point is connected.
func (f *floor) message(state conference.FloorState) protocol.FloorState {
	names, online := f.hub.pointNames(f.conf)
	name := func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if p, err := f.hub.d.Store.Point(ctx, f.conf, id); err == nil {
			return p.Name
		}
		return id
	}
	msg := protocol.FloorState{Type: protocol.TypeFloorState, Version: state.Version, Discussion: state.Discussion,
		Queue: make([]protocol.FloorRequest, len(state.Queue)), Holders: make([]protocol.FloorHolder, len(state.Holders)),
		ServerTime: time.Now().UTC(), DefaultSeconds: int(f.defaultSpeakingTime().Seconds())}
	for i, r := range state.Queue {
		msg.Queue[i] = protocol.FloorRequest{PointID: r.PointID, Name: name(r.PointID), Subject: r.Subject,
			AskedAt: r.AskedAt, Position: i + 1, Online: online[r.PointID]}
	}
	for i, h := range state.Holders {
		msg.Holders[i] = protocol.FloorHolder{TurnID: h.TurnID, PointID: h.PointID, Name: name(h.PointID), Subject: h.Subject,
			GivenBy: h.GivenBy, Since: h.Since, Deadline: h.Deadline(), Online: online[h.PointID]}
	}
	return msg
}

// defaultSpeakingTime is the conference's limit of a turn given without one.
func (f *floor) defaultSpeakingTime() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings.SpeakingTime()
}

// armLimits sets a timer for every turn with a time limit and stops those
// of turns that ended. f.mu must be held.
func (f *floor) armLimits(state conference.FloorState) {
	live := make(map[string]bool)
	for _, h := range state.Holders {
		live[h.TurnID] = true
		if t := f.limits[h.TurnID]; t != nil {
			t.Stop()
		}
		deadline := h.Deadline()
		if deadline.IsZero() {
			delete(f.limits, h.TurnID)
			continue
		}
		h := h
		f.limits[h.TurnID] = time.AfterFunc(time.Until(deadline), func() { f.timeUp(h) })
	}
	for id, t := range f.limits {
		if !live[id] {
			t.Stop()
			delete(f.limits, id)
		}
	}
}

// timeUp alerts the hall that h's time ran out and, if the conference says
// so, takes the floor back.
func (f *floor) timeUp(h conference.FloorHolder) {
	f.mu.Lock()
	auto := f.settings.AutoTakeBack
	delete(f.limits, h.TurnID) // it fired
	f.mu.Unlock()
	names, _ := f.hub.pointNames(f.conf)
	alert := protocol.FloorAlert{Type: protocol.TypeFloorAlert, TurnID: h.TurnID, PointID: h.PointID, Name: names[h.PointID], TakenBack: auto}
	f.hub.broadcastTo(f.conf, func(c *conn) bool { return c.role.AtHall() || c.adm.Point.ID == h.PointID }, alert, classKeep, "")
	if !auto {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	state, err := f.hub.d.Store.EndTurn(ctx, f.conf, h.TurnID, conference.EndTimeOut, "server", time.Now().UTC())
	if err != nil {
		if !errors.Is(err, store.ErrNoSuchTurn) {
			f.log.Error("end turn at its time limit", "turn", h.TurnID, "err", err)
		}
		return
	}
	f.apply(state)
}

// pointLeft starts the grace period of a point that disconnected: if it
// holds the floor or waits for it, it keeps its turn or place until the
// period ends.
func (f *floor) pointLeft(point string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.graces[point]; t != nil {
		t.Stop()
	}
	f.graces[point] = time.AfterFunc(f.settings.Grace(), func() { f.graceOver(point) })
}

// pointBack cancels the grace period of a point that connected again.
func (f *floor) pointBack(point string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.graces[point]; t != nil {
		t.Stop()
		delete(f.graces, point)
	}
}

// graceOver ends the turn or withdraws the request of a point that stayed
// away for the whole grace period.
func (f *floor) graceOver(point string) {
	f.mu.Lock()
	delete(f.graces, point)
	f.mu.Unlock()
	if _, online := f.hub.pointNames(f.conf); online[point] {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	state, err := f.hub.d.Store.Floor(ctx, f.conf)
	if err != nil {
		f.log.Error("read floor after grace period", "point", point, "err", err)
		return
	}
	now := time.Now().UTC()
	if h, ok := state.Holder(point); ok {
		state, err = f.hub.d.Store.EndTurn(ctx, f.conf, h.TurnID, conference.EndDisconnected, "server", now)
	} else if state.Position(point) > 0 {
		state, err = f.hub.d.Store.Withdraw(ctx, f.conf, point, "server", conference.WithdrawnOffline, now)
	} else {
		return
	}
	if err != nil {
		f.log.Warn("end floor of a point that stayed away", "point", point, "err", err)
		return
	}
	f.log.Info("grace period over", "point", point)
	f.apply(state)
}

// idle reports whether no timer of f is running: no turn with a time
// limit, no point in its grace period.
func (f *floor) idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.limits) == 0 && len(f.graces) == 0
}

// stop ends every timer.
func (f *floor) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.limits {
		t.Stop()
	}
	for _, t := range f.graces {
		t.Stop()
	}
}
