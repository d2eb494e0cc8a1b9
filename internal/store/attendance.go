package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// Attendance of conference "demo" (prefix "hn") lives in these keys:
//
//	hn:{demo}:connected         hash    participant id -> Connection as JSON
//	hn:{demo}:attendance        hash    event id -> conference.AttendanceEvent as JSON
//	hn:{demo}:attendance-state  string  AttendanceState as JSON
//
// An event is written by one script together with the change it records
// (the connection recorded or removed, the new state), and only if no event
// with its id is stored yet: writing the same event twice, as a retry after
// an unknown outcome does, stores it once and changes nothing the second
// time. The server makes the id when it observes the fact (see
// NewAttendanceID), so the id does not depend on when the write reaches
// Redis. Events are read back ordered by At, then by id.

// Connection is one live participant connection.
type Connection struct {
	ParticipantID string          `json:"participant_id"`
	Role          conference.Role `json:"role"`
	PointID       string          `json:"point_id,omitempty"`
	Name          string          `json:"name"`
	Since         time.Time       `json:"since"`
	Instance      string          `json:"instance"` // id of the server process holding it
}

// AttendanceState is what the server needs, besides the events, to carry
// out roll calls and the conference's start and end: the current roll call
// and when the conference last started and ended. It is written together
// with the event that changed it, so that it survives a restart.
type AttendanceState struct {
	RollCall  RollCall  `json:"roll_call,omitzero"`
	StartedAt time.Time `json:"started_at,omitzero"` // last conference_started
	EndedAt   time.Time `json:"ended_at,omitzero"`   // last conference_ended, zero while running
	// Sessions counts the conference_started events: more than one once
	// an ended conference was reopened. A state written before it was
	// counted has 0 for a conference that started: see SessionCount.
	Sessions int `json:"sessions,omitempty"`
}

// SessionCount returns how many sessions the conference had so far.
func (s AttendanceState) SessionCount() int {
	if s.Sessions == 0 && !s.StartedAt.IsZero() {
		return 1
	}
	return s.Sessions
}

// Running reports whether the conference has started and not ended since.
func (s AttendanceState) Running() bool {
	return !s.StartedAt.IsZero() && s.EndedAt.IsZero()
}

// RollCall is the latest roll call of a conference. ID is empty when there
// has been none.
type RollCall struct {
	ID        string               `json:"id"`
	StartedAt time.Time            `json:"started_at"`
	Deadline  time.Time            `json:"deadline"` // end of the window to confirm in time
	By        string               `json:"by"`
	Open      bool                 `json:"open"`                // points may still confirm
	Confirmed map[string]time.Time `json:"confirmed,omitempty"` // point id -> when it confirmed
}

// AttendanceWrite is one attendance event and the change of state that goes
// with it.
type AttendanceWrite struct {
	Conference string                     `json:"conference"`
	Event      conference.AttendanceEvent `json:"event"`
	// Conn is required for joined and left events: a joined event records
	// it as connected, a left event removes it if it is still the recorded
	// connection of its participant (same instance and since).
	Conn *Connection `json:"conn,omitempty"`
	// State, when not nil, replaces the conference's attendance state.
	State *AttendanceState `json:"state,omitempty"`
}

// errInvalid is wrapped by writes refused for their content; retrying them
// cannot help.
var errInvalid = errors.New("invalid attendance write")

func (w *AttendanceWrite) validate() error {
	if err := conference.ValidateID(w.Conference); err != nil {
		return fmt.Errorf("%w: conference: %w", errInvalid, err)
	}
	e := &w.Event
	switch {
	case e.ID == "" || len(e.ID) > 200:
		return fmt.Errorf("%w: event id %q: use 1-200 bytes", errInvalid, e.ID)
	case e.Kind == "":
		return fmt.Errorf("%w: event %s has no kind", errInvalid, e.ID)
	case e.At.IsZero():
		return fmt.Errorf("%w: event %s has no time", errInvalid, e.ID)
	}
	if (e.Kind == conference.Joined || e.Kind == conference.Left) != (w.Conn != nil) {
		return fmt.Errorf("%w: event %s: a connection goes with joined and left events, and only with them", errInvalid, e.ID)
	}
	if w.Conn != nil {
		if err := w.Conn.validate(); err != nil {
			return fmt.Errorf("%w: %w", errInvalid, err)
		}
		if w.Conn.Since.IsZero() {
			return fmt.Errorf("%w: event %s: connection without since", errInvalid, e.ID)
		}
	}
	return nil
}

// normalize puts the times of w in UTC, as they are stored, and copies
// what w points to, so that the caller may change it once w is recorded.
func (w *AttendanceWrite) normalize() {
	w.Event.At = w.Event.At.UTC()
	if w.Conn != nil {
		c := *w.Conn
		c.Since = c.Since.UTC()
		w.Conn = &c
	}
	if w.State != nil {
		st := *w.State
		st.RollCall.Confirmed = maps.Clone(st.RollCall.Confirmed)
		w.State = &st
	}
}

// NewAttendanceID returns a fresh attendance event id for a fact observed
// at time at by server instance: "<unix-ms>-<instance>-<n>", where n counts
// the ids this store has made. Ids are unique as long as instance names are
// and the clock does not step back to the millisecond of an earlier run.
func (s *Store) NewAttendanceID(instance string, at time.Time) string {
	return strconv.FormatInt(at.UnixMilli(), 10) + "-" + instance + "-" + strconv.FormatUint(s.attSeq.Add(1), 10)
}

// WriteAttendance writes w now and waits for Redis. It reports false, and
// changes nothing, when an event with the same id is already stored. The
// error wraps ErrNotFound if the conference does not exist. The server
// records through RecordAttendance instead, which never waits.
func (s *Store) WriteAttendance(ctx context.Context, w AttendanceWrite) (bool, error) {
	return s.writeAttendance(ctx, w, false)
}

// writeAttendance writes w. With strict, a left event is written only if
// its connection is the recorded one (a drop of what is recorded); without,
// a left event is always written (the server saw the connection end).
func (s *Store) writeAttendance(ctx context.Context, w AttendanceWrite, strict bool) (bool, error) {
	if err := w.validate(); err != nil {
		return false, fmt.Errorf("write attendance: %w", err)
	}
	w.normalize()
	event, err := json.Marshal(w.Event)
	if err != nil {
		return false, fmt.Errorf("write attendance %s/%s: %w", w.Conference, w.Event.ID, err)
	}
	var op, participant, conn, instance, since, state string
	if c := w.Conn; c != nil {
		participant = c.ParticipantID
		switch {
		case w.Event.Kind == conference.Joined:
			op = "join"
			data, err := json.Marshal(c)
			if err != nil {
				return false, fmt.Errorf("write attendance %s/%s: %w", w.Conference, w.Event.ID, err)
			}
			conn = string(data)
		case strict:
			op, instance, since = "drop", c.Instance, formatTime(c.Since)
		default:
			op, instance, since = "leave", c.Instance, formatTime(c.Since)
		}
	}
	if w.State != nil {
		data, err := json.Marshal(w.State)
		if err != nil {
			return false, fmt.Errorf("write attendance %s/%s: state: %w", w.Conference, w.Event.ID, err)
		}
		state = string(data)
	}
	keys := []string{s.key(w.Conference, "conf"), s.key(w.Conference, "attendance"),
		s.key(w.Conference, "connected"), s.key(w.Conference, "attendance-state")}
	n, err := s.scripts.attendance.Run(ctx, s.rdb, keys,
		w.Event.ID, event, op, participant, conn, instance, since, state).Int()
	if err != nil {
		if strings.HasPrefix(err.Error(), "ATT_NOCONF") {
			err = ErrNotFound
		}
		return false, fmt.Errorf("write attendance %s/%s: %w", w.Conference, w.Event.ID, err)
	}
	return n == 1, nil
}

// attendanceScript writes one attendance event; see writeAttendance.
//
// KEYS: conf, attendance, connected, attendance-state. ARGV: event id,
// event JSON, op (”, 'join', 'leave' or 'drop'), participant id,
// connection JSON (join), instance and since (leave, drop), state JSON (”
// to keep the state). Returns 1 when written, 0 when the event was already
// stored, -1 when a drop found another connection recorded.
const attendanceScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('ATT_NOCONF conference does not exist')
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
local op = ARGV[3]
if op == 'join' then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
elseif op == 'leave' or op == 'drop' then
  local v = redis.call('HGET', KEYS[3], ARGV[4])
  local match = false
  if v then
    local c = cjson.decode(v)
    match = c.instance == ARGV[6] and c.since == ARGV[7]
  end
  if match then
    redis.call('HDEL', KEYS[3], ARGV[4])
  elseif op == 'drop' then
    return -1
  end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[8] ~= '' then redis.call('SET', KEYS[4], ARGV[8]) end
return 1
`

// RecordAttendance queues w to be written in the background, in the order
// of the calls, and returns at once: a caller waits neither for Redis nor
// for the disk. A write that fails is kept, in memory and in the spool file
// in the data directory, and retried until Redis takes it (see
// SpoolDepth). A write that Redis refuses for good (its conference is gone,
// or an error reply such as WRONGTYPE) is moved to the dead-letter file in
// the data directory instead, logged and counted (see DeadLettered), and
// the writes behind it go on. The error reports only a write that can
// never succeed: an invalid id, kind, time or connection.
func (s *Store) RecordAttendance(w AttendanceWrite) error {
	if err := w.validate(); err != nil {
		return fmt.Errorf("record attendance: %w", err)
	}
	w.normalize()
	s.spool.add(w)
	return nil
}

// SpoolDepth returns how many recorded attendance writes wait for Redis.
func (s *Store) SpoolDepth() int { return s.spool.depth() }

// DeadLettered returns how many recorded attendance writes this store has
// set aside, since it was opened, because Redis refused them for good.
func (s *Store) DeadLettered() uint64 { return s.spool.deadLetters.Load() }

// FlushAttendance waits until every recorded attendance write has reached
// Redis, or ctx ends.
func (s *Store) FlushAttendance(ctx context.Context) error {
	if err := s.spool.flush(ctx); err != nil {
		return fmt.Errorf("flush attendance: %d writes wait: %w", s.spool.depth(), err)
	}
	return nil
}

// AttendanceEvents returns every attendance event of conference confID,
// ordered by At and, for equal times, by id. The error wraps ErrNotFound if
// the conference does not exist.
func (s *Store) AttendanceEvents(ctx context.Context, confID string) ([]conference.AttendanceEvent, error) {
	var all *redis.MapStringStringCmd
	err := s.readConference(ctx, confID, "attendance", func(p redis.Pipeliner) {
		all = p.HGetAll(ctx, s.key(confID, "attendance"))
	})
	if err != nil {
		return nil, err
	}
	out := make([]conference.AttendanceEvent, 0, len(all.Val()))
	for id, data := range all.Val() {
		var e conference.AttendanceEvent
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return nil, fmt.Errorf("decode attendance event %s/%s: %w", confID, id, err)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b conference.AttendanceEvent) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return compareAttendanceIDs(a.ID, b.ID)
	})
	return out, nil
}

// compareAttendanceIDs orders ids made by NewAttendanceID by time, instance
// and counter, and other ids as strings.
func compareAttendanceIDs(a, b string) int {
	am, ai, an, aok := splitAttendanceID(a)
	bm, bi, bn, bok := splitAttendanceID(b)
	if !aok || !bok {
		return strings.Compare(a, b)
	}
	return cmp.Or(cmp.Compare(am, bm), strings.Compare(ai, bi), cmp.Compare(an, bn))
}

func splitAttendanceID(id string) (ms int64, instance string, n uint64, ok bool) {
	first, last := strings.IndexByte(id, '-'), strings.LastIndexByte(id, '-')
	if first < 0 || last <= first {
		return 0, "", 0, false
	}
	ms, err1 := strconv.ParseInt(id[:first], 10, 64)
	n, err2 := strconv.ParseUint(id[last+1:], 10, 64)
	return ms, id[first+1 : last], n, err1 == nil && err2 == nil
}

// AttendanceState returns the attendance state of conference confID as
// last written; the zero state if none was. The error wraps ErrNotFound if
// the conference does not exist.
func (s *Store) AttendanceState(ctx context.Context, confID string) (AttendanceState, error) {
	var st AttendanceState
	var data *redis.StringCmd
	err := s.readConference(ctx, confID, "attendance state", func(p redis.Pipeliner) {
		data = p.Get(ctx, s.key(confID, "attendance-state"))
	})
	if err != nil {
		return st, err
	}
	if v := data.Val(); v != "" {
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			return st, fmt.Errorf("decode attendance state of %s: %w", confID, err)
		}
	}
	return st, nil
}

func validateParticipant(id string) error {
	if id == "" || len(id) > 256 {
		return fmt.Errorf("invalid participant id %q: use 1-256 bytes", id)
	}
	if strings.ContainsFunc(id, unicode.IsControl) {
		return fmt.Errorf("invalid participant id %q: control character", id)
	}
	return nil
}

func (c *Connection) validate() error {
	if err := validateParticipant(c.ParticipantID); err != nil {
		return err
	}
	if !c.Role.Valid() {
		return fmt.Errorf("participant %s: unknown role %q", c.ParticipantID, c.Role)
	}
	if c.PointID != "" {
		if err := conference.ValidateID(c.PointID); err != nil {
			return fmt.Errorf("participant %s: point: %w", c.ParticipantID, err)
		}
	}
	if c.Instance == "" {
		return fmt.Errorf("participant %s: instance is empty", c.ParticipantID)
	}
	return nil
}

// JoinedEvent returns the joined event of connection c, observed at
// c.Since, with id id.
func JoinedEvent(id string, c Connection) conference.AttendanceEvent {
	return conference.AttendanceEvent{ID: id, Kind: conference.Joined, At: c.Since, ParticipantID: c.ParticipantID,
		Role: c.Role, PointID: c.PointID, Instance: c.Instance}
}

// LeftEvent returns the left event of connection c, observed at at, with
// id id and reason (one of conference.Left*).
func LeftEvent(id string, c Connection, reason string, at time.Time) conference.AttendanceEvent {
	return conference.AttendanceEvent{ID: id, Kind: conference.Left, At: at, ParticipantID: c.ParticipantID,
		Role: c.Role, PointID: c.PointID, Reason: reason}
}

// MarkConnected records c as connected to conference confID and writes its
// joined event at c.Since (now if zero), both at once, and waits for Redis.
// A connection already recorded for the same participant is replaced. The
// error wraps ErrNotFound if the conference does not exist.
func (s *Store) MarkConnected(ctx context.Context, confID string, c Connection) error {
	if err := conference.ValidateID(confID); err != nil {
		return fmt.Errorf("mark connected: conference: %w", err)
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("mark connected in %s: %w", confID, err)
	}
	if c.Since.IsZero() {
		c.Since = time.Now()
	}
	c.Since = c.Since.UTC()
	ev := JoinedEvent(s.NewAttendanceID(c.Instance, c.Since), c)
	if _, err := s.WriteAttendance(ctx, AttendanceWrite{Conference: confID, Event: ev, Conn: &c}); err != nil {
		return fmt.Errorf("mark connected %s/%s: %w", confID, c.ParticipantID, err)
	}
	return nil
}

// MarkDisconnected removes the recorded connection of participantID from
// conference confID and writes its left event with reason at time at (now
// if zero), both at once. It does nothing if the participant is not
// connected.
func (s *Store) MarkDisconnected(ctx context.Context, confID, participantID, reason string, at time.Time) error {
	if err := conference.ValidateID(confID); err != nil {
		return fmt.Errorf("mark disconnected: conference: %w", err)
	}
	if err := validateParticipant(participantID); err != nil {
		return fmt.Errorf("mark disconnected in %s: %w", confID, err)
	}
	data, err := s.rdb.HGet(ctx, s.key(confID, "connected"), participantID).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark disconnected %s/%s: %w", confID, participantID, err)
	}
	var c Connection
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return fmt.Errorf("mark disconnected %s/%s: decode connection: %w", confID, participantID, err)
	}
	// If the participant reconnected meanwhile, the script finds another
	// connection and writes nothing: the new one stays.
	_, err = s.MarkDisconnectedIf(ctx, confID, c, reason, at)
	return err
}

// MarkDisconnectedIf is MarkDisconnected for the one connection c: it does
// nothing, and reports false, if the participant's recorded connection is
// not c (another instance, or a later connection, has replaced it).
func (s *Store) MarkDisconnectedIf(ctx context.Context, confID string, c Connection, reason string, at time.Time) (bool, error) {
	if c.Instance == "" || c.Since.IsZero() {
		return false, fmt.Errorf("mark disconnected %s/%s: instance and since are required", confID, c.ParticipantID)
	}
	if at.IsZero() {
		at = time.Now()
	}
	ev := LeftEvent(s.NewAttendanceID(c.Instance, at), c, reason, at)
	ok, err := s.writeAttendance(ctx, AttendanceWrite{Conference: confID, Event: ev, Conn: &c}, true)
	if err != nil {
		return false, fmt.Errorf("mark disconnected %s/%s: %w", confID, c.ParticipantID, err)
	}
	return ok, nil
}

// Connected returns the live connections of conference confID, sorted by
// participant id. The error wraps ErrNotFound if the conference does not
// exist.
func (s *Store) Connected(ctx context.Context, confID string) ([]Connection, error) {
	var all *redis.MapStringStringCmd
	err := s.readConference(ctx, confID, "connections", func(p redis.Pipeliner) {
		all = p.HGetAll(ctx, s.key(confID, "connected"))
	})
	if err != nil {
		return nil, err
	}
	return decodeConnections(confID, all.Val())
}

func decodeConnections(confID string, m map[string]string) ([]Connection, error) {
	out := make([]Connection, 0, len(m))
	for id, data := range m {
		var c Connection
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return nil, fmt.Errorf("decode connection %s/%s: %w", confID, id, err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Connection) int { return strings.Compare(a.ParticipantID, b.ParticipantID) })
	return out, nil
}

// DropInstance writes a left event with reason for every connection in
// every conference recorded as held by the server instance named instance,
// removes those records, and returns how many it dropped. A server calls
// it at start-up with its own instance id, which is stable across
// restarts, and reason conference.LeftRestarted, to close what a previous,
// crashed run of it left behind, and then StartHeartbeat.
//
// Each left event is at the crashed run's last heartbeat (see LastAlive),
// when it was last known alive, but not before the connection joined; with
// no heartbeat, or a later one, it is at at, the restart. So the time the
// server was down counts as away, and a downtime longer than the
// conference's grace period splits a point's stay.
//
// It first writes what that run left in the spool, and fails if Redis does
// not take it before ctx ends.
func (s *Store) DropInstance(ctx context.Context, instance, reason string, at time.Time) (int, error) {
	if instance == "" {
		return 0, errors.New("drop instance: instance is empty")
	}
	if err := s.FlushAttendance(ctx); err != nil {
		return 0, fmt.Errorf("drop instance %s: %w", instance, err)
	}
	alive, err := s.LastAlive(ctx, instance)
	if err != nil {
		return 0, fmt.Errorf("drop instance %s: %w", instance, err)
	}
	ids, err := s.conferenceIDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("drop instance %s: %w", instance, err)
	}
	dropped := 0
	for _, confID := range ids {
		m, err := s.rdb.HGetAll(ctx, s.key(confID, "connected")).Result()
		if err != nil {
			return dropped, fmt.Errorf("drop instance %s: connections of %s: %w", instance, confID, err)
		}
		conns, err := decodeConnections(confID, m)
		if err != nil {
			return dropped, fmt.Errorf("drop instance %s: %w", instance, err)
		}
		for _, c := range conns {
			if c.Instance != instance {
				continue
			}
			// The script checks the connection again, atomically, in case
			// the participant has meanwhile reconnected elsewhere.
			ok, err := s.MarkDisconnectedIf(ctx, confID, c, reason, leaveTime(c, alive, at))
			if err != nil {
				return dropped, fmt.Errorf("drop instance %s: %w", instance, err)
			}
			if ok {
				dropped++
			}
		}
	}
	if dropped > 0 {
		if alive.IsZero() {
			s.log.Warn("dropped connections of instance; it left no heartbeat, so they end at the restart",
				"instance", instance, "count", dropped, "reason", reason, "restart", at)
		} else {
			s.log.Info("dropped connections of instance at its last heartbeat", "instance", instance,
				"count", dropped, "reason", reason, "last_alive", alive, "restart", at)
		}
	}
	return dropped, nil
}
