package signal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store"
)

// Attendance is recorded as events (see conference.AttendanceEvent). The
// hub makes each event, with its id and time, when it observes the fact,
// and hands it to the store, which writes it behind: media and signaling
// never wait for Redis, and an event that Redis does not take at once is
// kept and written later with its own time.

// record stamps w's event with a fresh id and the time now unless it has
// them and records it; attendanceWritten tells the hall once it is stored.
func (h *Hub) record(w store.AttendanceWrite) conference.AttendanceEvent {
	if w.Event.At.IsZero() {
		w.Event.At = time.Now().UTC()
	}
	if w.Event.ID == "" {
		w.Event.ID = h.d.Store.NewAttendanceID(h.d.Instance, w.Event.At)
	}
	if err := h.d.Store.RecordAttendance(w); err != nil {
		h.log.Error("record attendance", "conference", w.Conference, "kind", string(w.Event.Kind), "err", err)
	}
	return w.Event
}

// attendanceWritten tells the hall and the secretariat that an event is in
// the store, so that a report they fetch now includes it. The store calls
// it once the write behind has landed.
func (h *Hub) attendanceWritten(w store.AttendanceWrite) {
	e := w.Event
	h.broadcastTo(w.Conference, followsAttendance, protocol.AttendanceChanged{Type: protocol.TypeAttendanceChanged,
		EventID: e.ID, Kind: string(e.Kind), PointID: e.PointID, At: e.At}, classNudge, keyAttendance)
}

// followsAttendance selects the connections told of every attendance event.
func followsAttendance(c *conn) bool {
	return c.role.AtHall() || c.role == conference.RoleSecretariat
}

// connAttendance is what a connection keeps of its own attendance record.
type connAttendance struct {
	mu      sync.Mutex
	since   time.Time // when its joined event was observed
	stage   int       // 0: nothing recorded, 1: joined recorded, 2: left recorded or never to be
	readErr error     // why the reader stopped, if it failed
}

// record returns the store's record of c connected since since.
func (c *conn) record(since time.Time) store.Connection {
	return store.Connection{ParticipantID: c.id, Role: c.role, PointID: c.adm.Point.ID, Name: c.name,
		Since: since, Instance: c.hub.d.Instance}
}

// recordJoined records that c connected now.
func (c *conn) recordJoined() {
	c.att.mu.Lock()
	defer c.att.mu.Unlock()
	if c.att.stage != 0 {
		return
	}
	c.att.stage = 1
	c.att.since = time.Now().UTC()
	rec := c.record(c.att.since)
	c.hub.record(store.AttendanceWrite{Conference: c.conf, Event: store.JoinedEvent("", rec), Conn: &rec})
}

// recordLeft records, once, that c disconnected now for reason (one of
// conference.Left*).
func (c *conn) recordLeft(reason string) {
	c.att.mu.Lock()
	defer c.att.mu.Unlock()
	if c.att.stage != 1 {
		c.att.stage = 2
		return
	}
	c.att.stage = 2
	rec := c.record(c.att.since)
	c.hub.record(store.AttendanceWrite{Conference: c.conf,
		Event: store.LeftEvent("", rec, reason, time.Now().UTC()), Conn: &rec})
}

// noteReadEnd keeps why the reader stopped, for leftReason.
func (c *conn) noteReadEnd(err error) {
	c.att.mu.Lock()
	defer c.att.mu.Unlock()
	if c.att.readErr == nil {
		c.att.readErr = err
	}
}

// leftReason says why c ended: the reason the server gave, else how the
// client went away.
func (c *conn) leftReason() string {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing != nil {
		switch closing.Reason {
		case protocol.ReasonShutdown:
			return conference.LeftStopped
		case protocol.ReasonReplaced:
			return conference.LeftReplaced
		default: // revoked, abuse, dropped by the technician
			return conference.LeftDropped
		}
	}
	c.att.mu.Lock()
	defer c.att.mu.Unlock()
	if websocket.IsCloseError(c.att.readErr, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
		return conference.LeftClosed
	}
	return conference.LeftNetwork
}

// attendance runs the roll call and the start and end of one conference in
// this process. Its state is loaded from the store when first needed and
// written with every event that changes it, so that it survives a restart.
type attendance struct {
	hub  *Hub
	conf string
	log  *slog.Logger

	mu     sync.Mutex
	loaded bool
	state  store.AttendanceState
	// stage is the conference's stage as last set (draft, scheduled,
	// testing, archived), read with the state and kept by StageChanged.
	stage  store.Status
	window *time.Timer // fires when the open roll call's window ends
}

// attendanceOf returns the attendance of conference conf.
func (h *Hub) attendanceOf(conf string) *attendance {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.atts == nil {
		h.atts = make(map[string]*attendance)
	}
	a := h.atts[conf]
	if a == nil {
		a = &attendance{hub: h, conf: conf, log: h.log.With("conference", conf)}
		h.atts[conf] = a
	}
	return a
}

// idle reports whether no roll call window of a is running.
func (a *attendance) idle() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.window == nil || !time.Now().Before(a.state.RollCall.Deadline)
}

// errStateUnavailable is returned while the state cannot be read.
var errStateUnavailable = errors.New("attendance state unavailable")

// load reads the state from the store unless it has been. a.mu must be
// held.
func (a *attendance) load(ctx context.Context) error {
	if a.loaded {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	st, err := a.hub.d.Store.AttendanceState(ctx, a.conf)
	if err != nil {
		return fmt.Errorf("%w: %w", errStateUnavailable, err)
	}
	info, err := a.hub.d.Store.ConferenceStatus(ctx, a.conf)
	switch {
	case errors.Is(err, store.ErrNotFound):
		info.Stage = store.StatusDraft
	case err != nil:
		return fmt.Errorf("%w: %w", errStateUnavailable, err)
	}
	a.state, a.stage, a.loaded = st, info.Stage, true
	a.armWindow()
	return nil
}

// armWindow sets the timer of the open roll call's window. a.mu must be
// held.
func (a *attendance) armWindow() {
	if a.window != nil {
		a.window.Stop()
		a.window = nil
	}
	rc := a.state.RollCall
	if !rc.Open || !time.Now().Before(rc.Deadline) {
		return
	}
	a.window = time.AfterFunc(time.Until(rc.Deadline), func() {
		a.mu.Lock()
		same := a.state.RollCall.ID == rc.ID
		msg := a.rollCallMessage()
		a.mu.Unlock()
		if same {
			a.hub.broadcast(a.conf, msg, classState, keyRollCall)
		}
	})
}

// greet sends a connection that just joined the roll call and the
// conference's state, without delaying it: the state is read in the
// background.
func (a *attendance) greet(c *conn) {
	go func() {
		a.mu.Lock()
		err := a.load(context.Background())
		rc, cs := a.rollCallMessage(), a.conferenceMessage()
		a.mu.Unlock()
		if err != nil {
			a.log.Warn("read attendance state", "err", err)
			return
		}
		if rc.RollCallID != "" {
			c.sendState(rc, keyRollCall)
		}
		c.sendState(cs, keyConference) // also "not started yet"

	}()
}

// rollCallMessage is the roll_call_state of the current state. a.mu must be
// held.
func (a *attendance) rollCallMessage() protocol.RollCallState {
	rc := a.state.RollCall
	msg := protocol.RollCallState{Type: protocol.TypeRollCallState, RollCallID: rc.ID, Open: rc.Open,
		StartedAt: rc.StartedAt, Deadline: rc.Deadline, Confirmed: make([]string, 0, len(rc.Confirmed)),
		ServerTime: time.Now().UTC()}
	for p := range rc.Confirmed {
		msg.Confirmed = append(msg.Confirmed, p)
	}
	slices.SortFunc(msg.Confirmed, func(x, y string) int {
		return cmp.Or(rc.Confirmed[x].Compare(rc.Confirmed[y]), strings.Compare(x, y))
	})
	return msg
}

// conferenceMessage is the conference_state of the current state. a.mu
// must be held.
func (a *attendance) conferenceMessage() protocol.ConferenceState {
	cs := protocol.ConferenceState{Type: protocol.TypeConferenceState, Status: string(store.DeriveStatus(a.stage, a.state)),
		Running: a.state.Running(), StartedAt: a.state.StartedAt, EndedAt: a.state.EndedAt,
		Sessions: a.state.SessionCount(), ServerTime: time.Now().UTC()}
	if f := a.hub.d.Broadcasting; f != nil {
		b := f(a.conf)
		cs.Recording, cs.Livestream = b.Recording, b.Livestream
		if b.Recording {
			cs.RecordingSince = b.RecordingSince.UTC()
		}
	}
	return cs
}

// running reports whether the conference runs, reading its state first if
// need be.
func (a *attendance) running(ctx context.Context) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.load(ctx); err != nil {
		return false, err
	}
	return a.state.Running(), nil
}

// StageChanged tells the hub that the stage of conference conf was set
// (scheduled, testing, archived) outside signaling, by the administration
// API: every page of the conference is told its new status.
func (h *Hub) StageChanged(conf string, stage store.Status) {
	a := h.attendanceOf(conf)
	a.mu.Lock()
	if !a.loaded {
		a.mu.Unlock()
		return // read, with the stage, at the next connection
	}
	a.stage = stage
	cs := a.conferenceMessage()
	a.mu.Unlock()
	h.broadcast(conf, cs, classState, keyConference)
}

// BroadcastingChanged tells the hub that conference conf's recording or
// livestream started or stopped: every page of it is told.
func (h *Hub) BroadcastingChanged(conf string) {
	a := h.attendanceOf(conf)
	a.mu.Lock()
	if !a.loaded {
		a.mu.Unlock()
		return // told with the state at the next connection
	}
	cs := a.conferenceMessage()
	a.mu.Unlock()
	h.broadcast(conf, cs, classState, keyConference)
}

// stateError is the refusal of an action whose state could not be read:
// store_unavailable while the store is out of reach, else internal.
func stateError(request, action string, err error) *protocol.Error {
	if store.Unavailable(err) {
		return attendanceError(protocol.CodeStoreUnavailable, request, "%s: the conference's data cannot be reached for a moment; nothing changed, try again", action)
	}
	return attendanceError(protocol.CodeInternal, request, "%s: %v; try again", action, err)
}

// attendanceError builds the error message for a refused attendance
// request.
func attendanceError(code, request, format string, args ...any) *protocol.Error {
	return &protocol.Error{Code: code, Request: request, Message: fmt.Sprintf(format, args...)}
}

// unknownAction refuses a message of type request whose action is none of
// its type's (listed in use), whoever sent it.
func unknownAction(request, action, use string) *protocol.Error {
	e := attendanceError(protocol.CodeBadRequest, request, "%q is not a %s action: use %s", action, request, use)
	e.Reason = protocol.UnknownAction
	return e
}

// handle carries out an attendance message of c.
func (a *attendance) handle(ctx context.Context, c *conn, msg any) *protocol.Error {
	switch m := msg.(type) {
	case *protocol.CheckIn:
		return a.checkIn(ctx, c, m)
	case *protocol.RollCall:
		return a.rollCall(ctx, c, m)
	case *protocol.Conference:
		return a.conference(ctx, c, m)
	}
	return nil
}

// cleanText trims s and checks that it has at most max characters and no
// control characters.
func cleanText(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", errors.New("must be text without control characters")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", fmt.Errorf("has %d characters; at most %d", n, max)
	}
	return s, nil
}

// targetPoint returns the point c acts on: its own for a point (which may
// not name another), the named one for the technician, who must name an
// invited point.
func (a *attendance) targetPoint(ctx context.Context, c *conn, named, request string) (string, *protocol.Error) {
	if c.role == conference.RolePoint {
		if named != "" && named != c.adm.Point.ID {
			return "", attendanceError(protocol.CodeForbidden, request, "a point acts only for itself, not for %q", named)
		}
		return c.adm.Point.ID, nil
	}
	if named == "" {
		return "", attendanceError(protocol.CodeBadRequest, request, "point_id is required")
	}
	if err := conference.ValidateID(named); err != nil {
		return "", attendanceError(protocol.CodeBadRequest, request, "point_id: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	_, err := a.hub.d.Store.Point(ctx, a.conf, named)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", attendanceError(protocol.CodeBadRequest, request, "point %q is not invited to the conference", named)
	case err != nil:
		// The store is unreachable: record the correction anyway, rather
		// than lose it; the report shows the point id as given.
		a.log.Warn("check point of an attendance correction", "point", named, "err", err)
	}
	return named, nil
}

// checkIn records the delegates present at a point.
func (a *attendance) checkIn(ctx context.Context, c *conn, m *protocol.CheckIn) *protocol.Error {
	if c.role != conference.RolePoint && c.role != conference.RoleTechnician {
		return attendanceError(protocol.CodeForbidden, m.Type, "role %s may not check in a point", c.role)
	}
	if m.Delegates == nil {
		return attendanceError(protocol.CodeBadRequest, m.Type, "delegates is required")
	}
	if d := *m.Delegates; d < 0 || d > protocol.MaxDelegates {
		return attendanceError(protocol.CodeBadRequest, m.Type, "delegates %d: use 0 to %d", d, protocol.MaxDelegates)
	}
	rep, err := cleanText(m.Representative, protocol.MaxRepresentativeLen)
	if err != nil {
		return attendanceError(protocol.CodeBadRequest, m.Type, "representative %v", err)
	}
	point, perr := a.targetPoint(ctx, c, m.PointID, m.Type)
	if perr != nil {
		return perr
	}
	e := a.hub.record(store.AttendanceWrite{Conference: a.conf, Event: conference.AttendanceEvent{
		Kind: conference.CheckedIn, PointID: point, Delegates: *m.Delegates, Representative: rep, By: c.id}})
	a.log.Info("point checked in", "point", point, "delegates", e.Delegates, "by", c.id)
	return nil
}

// rollCall carries out a roll-call action of c.
func (a *attendance) rollCall(ctx context.Context, c *conn, m *protocol.RollCall) *protocol.Error {
	req := m.Type
	switch m.Action {
	case protocol.RollCallStart:
		if c.role != conference.RoleTechnician && c.role != conference.RoleChair {
			return attendanceError(protocol.CodeForbidden, req, "start: only the technician or the chair starts a roll call")
		}
	case protocol.RollCallConfirm:
		if c.role != conference.RolePoint {
			return attendanceError(protocol.CodeForbidden, req, "confirm: only a point confirms its presence")
		}
	case protocol.RollCallMark, protocol.RollCallClose:
		if c.role != conference.RoleTechnician {
			return attendanceError(protocol.CodeForbidden, req, "%s: only the technician may", m.Action)
		}
	default:
		return unknownAction(req, m.Action, "start, confirm, mark or close")
	}

	// Check what needs no state first.
	var point, status, reason string
	window := time.Duration(protocol.DefaultRollCallWindow) * time.Second
	switch m.Action {
	case protocol.RollCallStart:
		if m.Seconds < 0 || m.Seconds > protocol.MaxRollCallWindow {
			return attendanceError(protocol.CodeBadRequest, req, "start: seconds %d: use 1 to %d, or 0 for %d",
				m.Seconds, protocol.MaxRollCallWindow, protocol.DefaultRollCallWindow)
		}
		if m.Seconds > 0 {
			window = time.Duration(m.Seconds) * time.Second
		}
	case protocol.RollCallConfirm, protocol.RollCallMark:
		var perr *protocol.Error
		if point, perr = a.targetPoint(ctx, c, m.PointID, req); perr != nil {
			return perr
		}
	}
	if m.Action == protocol.RollCallMark {
		switch m.Status {
		case conference.RollCallPresent, conference.RollCallLate, conference.RollCallAbsent:
		default:
			return attendanceError(protocol.CodeBadRequest, req, "mark: status %q: use present, late or absent", m.Status)
		}
		status = m.Status
		var err error
		if reason, err = cleanText(m.Reason, protocol.MaxRollCallReasonLen); err != nil {
			return attendanceError(protocol.CodeBadRequest, req, "mark: reason %v", err)
		}
	}

	a.mu.Lock()
	if err := a.load(ctx); err != nil {
		a.mu.Unlock()
		return stateError(req, m.Action, err)
	}
	now := time.Now().UTC()
	st := a.state
	rc := st.RollCall
	var w store.AttendanceWrite
	switch m.Action {
	case protocol.RollCallStart:
		if rc.Open {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "start: roll call %s is still open; close it first", rc.ID)
		}
		id := a.hub.d.Store.NewAttendanceID(a.hub.d.Instance, now)
		st.RollCall = store.RollCall{ID: id, StartedAt: now, Deadline: now.Add(window), By: c.id, Open: true,
			Confirmed: map[string]time.Time{}}
		w.Event = conference.AttendanceEvent{ID: id, At: now, Kind: conference.RollCallStarted, RollCallID: id,
			By: c.id, Window: conference.Seconds(window)}
	case protocol.RollCallConfirm:
		if !rc.Open {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "confirm: no roll call is open")
		}
		if _, ok := rc.Confirmed[point]; ok {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "confirm: point %s has already confirmed", point)
		}
		rc.Confirmed = cloneTimes(rc.Confirmed)
		rc.Confirmed[point] = now
		st.RollCall = rc
		w.Event = conference.AttendanceEvent{At: now, Kind: conference.RollCallConfirmed, RollCallID: rc.ID,
			PointID: point, ParticipantID: c.id}
	case protocol.RollCallMark:
		if rc.ID == "" {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "mark: there has been no roll call")
		}
		w.Event = conference.AttendanceEvent{At: now, Kind: conference.RollCallMarked, RollCallID: rc.ID,
			PointID: point, Status: status, Reason: reason, By: c.id}
	case protocol.RollCallClose:
		if !rc.Open {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "close: no roll call is open")
		}
		st.RollCall.Open = false
		w.Event = conference.AttendanceEvent{At: now, Kind: conference.RollCallClosed, RollCallID: rc.ID, By: c.id}
	}
	w.Conference = a.conf
	if m.Action != protocol.RollCallMark {
		w.State = &st
	}
	a.state = st
	a.armWindow()
	a.hub.record(w)
	msg := a.rollCallMessage()
	a.mu.Unlock()

	a.log.Info("roll call", "action", m.Action, "roll_call", msg.RollCallID, "point", point, "status", status, "by", c.id)
	if m.Action != protocol.RollCallMark {
		a.hub.broadcast(a.conf, msg, classState, keyRollCall)
	}
	return nil
}

func cloneTimes(m map[string]time.Time) map[string]time.Time {
	out := make(map[string]time.Time, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// testing opens the conference for points to test their sound and
// picture before its start, for c, the technician, and tells everyone.
func (a *attendance) testing(ctx context.Context, c *conn) *protocol.Error {
	req := protocol.TypeConference
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	from, _, err := a.hub.d.Store.SetConferenceStatus(ctx, a.conf, store.StatusTesting, time.Now().UTC())
	switch {
	case errors.Is(err, store.ErrTransition):
		e := attendanceError(protocol.CodeConflict, req, "testing: a %s conference cannot go back to testing", from)
		if info, ierr := a.hub.d.Store.ConferenceStatus(ctx, a.conf); ierr == nil {
			e.Message = fmt.Sprintf("testing: a %s conference cannot go back to testing", info.Status)
		}
		e.Reason = "started"
		return e
	case err != nil:
		return stateError(req, protocol.ConferenceTesting, err)
	}
	a.log.Info("conference testing", "by", c.id, "from", string(from))
	a.hub.StageChanged(a.conf, store.StatusTesting)
	return nil
}

// conference starts, ends or reopens the conference for c, the
// technician. Ending it closes an open roll call first; starting an ended
// conference again takes the explicit reopen, which is logged and adds a
// session to the report.
func (a *attendance) conference(ctx context.Context, c *conn, m *protocol.Conference) *protocol.Error {
	req := m.Type
	switch m.Action {
	case protocol.ConferenceTesting, protocol.ConferenceStart, protocol.ConferenceEnd, protocol.ConferenceReopen:
	default:
		return unknownAction(req, m.Action, "testing, start, end or reopen")
	}
	if c.role != conference.RoleTechnician {
		return attendanceError(protocol.CodeForbidden, req, "only the technician starts and ends the conference")
	}
	if m.Action == protocol.ConferenceTesting {
		return a.testing(ctx, c)
	}
	a.mu.Lock()
	if err := a.load(ctx); err != nil {
		a.mu.Unlock()
		return stateError(req, m.Action, err)
	}
	now := time.Now().UTC()
	st := a.state
	closedRollCall := false
	switch m.Action {
	case protocol.ConferenceStart, protocol.ConferenceReopen:
		if st.Running() {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "%s: the conference runs since %s", m.Action, st.StartedAt.Format(time.RFC3339))
		}
		if a.stage == store.StatusArchived {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "%s: the conference is archived", m.Action)
		}
		ended := !st.StartedAt.IsZero()
		if m.Action == protocol.ConferenceStart && ended {
			a.mu.Unlock()
			e := attendanceError(protocol.CodeConflict, req, "start: the conference ended at %s; reopening it (action reopen) adds a second session to its record", st.EndedAt.Format(time.RFC3339))
			e.Reason = "ended"
			return e
		}
		if m.Action == protocol.ConferenceReopen && !ended {
			a.mu.Unlock()
			e := attendanceError(protocol.CodeConflict, req, "reopen: the conference has not started yet; use start")
			e.Reason = "not_started"
			return e
		}
		ev := conference.AttendanceEvent{At: now, Kind: conference.ConferenceStarted, By: c.id}
		if m.Action == protocol.ConferenceReopen {
			ev.Reason = conference.StartReopened
			a.log.Warn("conference reopened after its end: a new session", "by", c.id, "ended_at", st.EndedAt, "session", st.SessionCount()+1)
		}
		st.Sessions = st.SessionCount() + 1
		st.StartedAt, st.EndedAt = now, time.Time{}
		a.state = st
		a.hub.record(store.AttendanceWrite{Conference: a.conf, State: &st, Event: ev})
	case protocol.ConferenceEnd:
		if !st.Running() {
			a.mu.Unlock()
			return attendanceError(protocol.CodeConflict, req, "end: the conference is not running")
		}
		if st.RollCall.Open {
			st.RollCall.Open = false
			a.state = st
			a.hub.record(store.AttendanceWrite{Conference: a.conf, State: &st,
				Event: conference.AttendanceEvent{At: now, Kind: conference.RollCallClosed, RollCallID: st.RollCall.ID, By: c.id}})
			closedRollCall = true
		}
		st.EndedAt = now
		a.state = st
		a.hub.record(store.AttendanceWrite{Conference: a.conf, State: &st,
			Event: conference.AttendanceEvent{At: now, Kind: conference.ConferenceEnded, By: c.id}})
	}
	a.armWindow()
	rc, cs := a.rollCallMessage(), a.conferenceMessage()
	a.mu.Unlock()

	a.log.Info("conference "+m.Action, "by", c.id)
	if closedRollCall {
		a.hub.broadcast(a.conf, rc, classState, keyRollCall)
	}
	a.hub.broadcast(a.conf, cs, classState, keyConference)
	return nil
}
