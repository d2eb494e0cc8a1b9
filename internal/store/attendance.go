package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// Event kinds.
const (
	EventJoined = "joined" // a participant connected
	EventLeft   = "left"   // a participant disconnected
)

// Connection is one live participant connection.
type Connection struct {
	ParticipantID string          `json:"participant_id"`
	Role          conference.Role `json:"role"`
	PointID       string          `json:"point_id,omitempty"`
	Name          string          `json:"name"`
	Since         time.Time       `json:"since"`
	Instance      string          `json:"instance"` // id of the server process holding it
}

// Event is one attendance event, appended to the conference's stream in the
// same transaction as the state change it records.
type Event struct {
	ID            string // stream id, assigned by Redis
	Kind          string // EventJoined or EventLeft
	ParticipantID string
	Role          conference.Role
	PointID       string
	Reason        string
	At            time.Time
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

// MarkConnected records c as connected to conference confID and appends a
// "joined" event at c.Since (now if zero), both in one atomic script. A
// connection already recorded for the same participant is replaced. The
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
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("mark connected %s/%s: %w", confID, c.ParticipantID, err)
	}
	keys := []string{s.key(confID, "conf"), s.key(confID, "connected"), s.key(confID, "events")}
	err = s.scripts.connect.Run(ctx, s.rdb, keys,
		c.ParticipantID, data, string(c.Role), c.PointID, formatTime(c.Since), "*").Err()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("mark connected %s/%s: conference %s: %w", confID, c.ParticipantID, confID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("mark connected %s/%s: %w", confID, c.ParticipantID, err)
	}
	return nil
}

// MarkDisconnected removes the connection of participantID from conference
// confID and appends a "left" event with reason at time at, both in one
// atomic script. It does nothing if the participant is not connected.
func (s *Store) MarkDisconnected(ctx context.Context, confID, participantID, reason string, at time.Time) error {
	_, err := s.disconnect(ctx, confID, participantID, "", "", reason, at)
	return err
}

// MarkDisconnectedIf is MarkDisconnected for the one connection c: it does
// nothing, and reports false, if the participant's recorded connection is
// not c (another instance, or a later connection, has replaced it). Use it
// when a connection closes, so that an old connection never removes its
// successor.
func (s *Store) MarkDisconnectedIf(ctx context.Context, confID string, c Connection, reason string, at time.Time) (bool, error) {
	if c.Instance == "" || c.Since.IsZero() {
		return false, fmt.Errorf("mark disconnected %s/%s: instance and since are required", confID, c.ParticipantID)
	}
	return s.disconnect(ctx, confID, c.ParticipantID, c.Instance, formatTime(c.Since), reason, at)
}

func (s *Store) disconnect(ctx context.Context, confID, participantID, instance, since, reason string, at time.Time) (bool, error) {
	if err := conference.ValidateID(confID); err != nil {
		return false, fmt.Errorf("mark disconnected: conference: %w", err)
	}
	if err := validateParticipant(participantID); err != nil {
		return false, fmt.Errorf("mark disconnected in %s: %w", confID, err)
	}
	if at.IsZero() {
		at = time.Now()
	}
	keys := []string{s.key(confID, "connected"), s.key(confID, "events")}
	err := s.scripts.disconnect.Run(ctx, s.rdb, keys,
		participantID, reason, formatTime(at), instance, since, "*").Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark disconnected %s/%s: %w", confID, participantID, err)
	}
	return true, nil
}

// Connected returns the live connections of conference confID, sorted by
// participant id. The error wraps ErrNotFound if the conference does not
// exist.
func (s *Store) Connected(ctx context.Context, confID string) ([]Connection, error) {
	if err := conference.ValidateID(confID); err != nil {
		return nil, fmt.Errorf("connections of %q: %w", confID, ErrNotFound)
	}
	var (
		exists *redis.IntCmd
		all    *redis.MapStringStringCmd
	)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.key(confID, "conf"))
		all = p.HGetAll(ctx, s.key(confID, "connected"))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get connections of %s: %w", confID, err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("connections of %s: conference: %w", confID, ErrNotFound)
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

// DropInstance marks disconnected, with reason at time at, every connection
// in every conference held by the server instance named instance, and
// returns how many it dropped. A server calls it at start-up with its own
// instance id, which is stable across restarts, to clear what a previous,
// crashed run of it left behind.
func (s *Store) DropInstance(ctx context.Context, instance, reason string, at time.Time) (int, error) {
	if instance == "" {
		return 0, errors.New("drop instance: instance is empty")
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
			// The script checks the instance again, atomically, in case the
			// participant has meanwhile reconnected elsewhere.
			ok, err := s.disconnect(ctx, confID, c.ParticipantID, instance, "", reason, at)
			if err != nil {
				return dropped, fmt.Errorf("drop instance %s: %w", instance, err)
			}
			if ok {
				dropped++
			}
		}
	}
	if dropped > 0 {
		s.log.Info("dropped connections of instance", "instance", instance, "count", dropped, "reason", reason)
	}
	return dropped, nil
}

// Events returns the attendance events of conference confID, oldest first.
// The error wraps ErrNotFound if the conference does not exist.
func (s *Store) Events(ctx context.Context, confID string) ([]Event, error) {
	if err := conference.ValidateID(confID); err != nil {
		return nil, fmt.Errorf("events of %q: %w", confID, ErrNotFound)
	}
	var (
		exists *redis.IntCmd
		msgs   *redis.XMessageSliceCmd
	)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.key(confID, "conf"))
		msgs = p.XRange(ctx, s.key(confID, "events"), "-", "+")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get events of %s: %w", confID, err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("events of %s: conference: %w", confID, ErrNotFound)
	}
	out := make([]Event, 0, len(msgs.Val()))
	for _, m := range msgs.Val() {
		e, err := decodeEvent(m)
		if err != nil {
			return nil, fmt.Errorf("decode event %s/%s: %w", confID, m.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeEvent(m redis.XMessage) (Event, error) {
	str := func(k string) string {
		v, _ := m.Values[k].(string)
		return v
	}
	e := Event{
		ID:            m.ID,
		Kind:          str("kind"),
		ParticipantID: str("participant_id"),
		Role:          conference.Role(str("role")),
		PointID:       str("point_id"),
		Reason:        str("reason"),
	}
	if v := str("at"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return e, fmt.Errorf("at: %w", err)
		}
		e.At = t
	}
	return e, nil
}
