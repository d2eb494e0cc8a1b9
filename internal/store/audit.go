package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// AuditEntry is one action of the hall on a conference, kept for review:
// who did what to whom, and when.
type AuditEntry struct {
	ID     string          `json:"id"` // stream id
	At     time.Time       `json:"at"`
	By     string          `json:"by"` // participant id of the actor
	Role   conference.Role `json:"role"`
	Action string          `json:"action"`
	Target string          `json:"target,omitempty"` // participant or point acted on
	Detail string          `json:"detail,omitempty"`
}

// Audit appends e to the audit log of conference confID (key
// {prefix}:{conf}:audit, a stream).
func (s *Store) Audit(ctx context.Context, confID string, e AuditEntry) error {
	if err := conference.ValidateID(confID); err != nil {
		return fmt.Errorf("audit: conference: %w", err)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	err := s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: s.key(confID, "audit"),
		Values: []any{"at", e.At.UTC().Format(time.RFC3339Nano), "by", e.By, "role", string(e.Role),
			"action", e.Action, "target", e.Target, "detail", e.Detail},
	}).Err()
	if err != nil {
		return fmt.Errorf("audit %s of %s in %s: %w", e.Action, e.Target, confID, err)
	}
	return nil
}

// AuditLog returns the audit log of conference confID, oldest first.
func (s *Store) AuditLog(ctx context.Context, confID string) ([]AuditEntry, error) {
	if err := conference.ValidateID(confID); err != nil {
		return nil, fmt.Errorf("audit log: conference: %w", err)
	}
	msgs, err := s.rdb.XRange(ctx, s.key(confID, "audit"), "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("audit log of %s: %w", confID, err)
	}
	out := make([]AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		str := func(k string) string { v, _ := m.Values[k].(string); return v }
		at, err := time.Parse(time.RFC3339Nano, str("at"))
		if err != nil {
			return nil, fmt.Errorf("audit log of %s: entry %s: time: %w", confID, m.ID, err)
		}
		out = append(out, AuditEntry{ID: m.ID, At: at, By: str("by"), Role: conference.Role(str("role")),
			Action: str("action"), Target: str("target"), Detail: str("detail")})
	}
	return out, nil
}
