package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/conference"
)

// PutConference validates c and creates or replaces it. CreatedAt is set on
// the first put (to c.CreatedAt if given, else now) and kept on later puts.
func (s *Store) PutConference(ctx context.Context, c conference.Conference) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("put conference: %w", err)
	}
	created := c.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	c.CreatedAt = time.Time{}
	c.ScheduledStart = c.ScheduledStart.UTC()
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("put conference %s: %w", c.ID, err)
	}
	key := s.key(c.ID, "conf")
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSetNX(ctx, key, "created_at", formatTime(created))
		p.HSet(ctx, key, "json", data)
		p.SAdd(ctx, s.indexKey(), c.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("put conference %s: %w", c.ID, err)
	}
	return nil
}

// Conference returns the conference with the given id. The error wraps
// ErrNotFound if there is none.
func (s *Store) Conference(ctx context.Context, id string) (conference.Conference, error) {
	if err := conference.ValidateID(id); err != nil {
		return conference.Conference{}, fmt.Errorf("conference %q: %w", id, ErrNotFound)
	}
	m, err := s.rdb.HGetAll(ctx, s.key(id, "conf")).Result()
	if err != nil {
		if c, ok := s.known.conference(id); ok {
			s.log.Warn("redis unavailable; using the conference as last read", "conference", id, "err", err)
			return c, nil
		}
		return conference.Conference{}, fmt.Errorf("get conference %s: %w", id, err)
	}
	c, err := decodeConference(id, m)
	s.known.setConference(id, c, err)
	return c, err
}

// Conferences returns every conference, sorted by id.
func (s *Store) Conferences(ctx context.Context) ([]conference.Conference, error) {
	ids, err := s.conferenceIDs(ctx)
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.key(id, "conf"))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list conferences: %w", err)
	}
	out := make([]conference.Conference, 0, len(ids))
	for i, id := range ids {
		c, err := decodeConference(id, cmds[i].Val())
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// conferenceIDs returns the valid ids in the conference index, sorted.
func (s *Store) conferenceIDs(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.indexKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list conferences: %w", err)
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return conference.ValidateID(id) != nil })
	slices.Sort(ids)
	return ids, nil
}

func decodeConference(id string, m map[string]string) (conference.Conference, error) {
	var c conference.Conference
	data, ok := m["json"]
	if !ok {
		return c, fmt.Errorf("conference %s: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return c, fmt.Errorf("decode conference %s: %w", id, err)
	}
	if v := m["created_at"]; v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return c, fmt.Errorf("decode conference %s: created_at: %w", id, err)
		}
		c.CreatedAt = t
	}
	return c, nil
}

// PutPoint validates p and creates or replaces it in conference confID,
// keeping the order in which points were first added. The error wraps
// ErrNotFound if the conference does not exist.
func (s *Store) PutPoint(ctx context.Context, confID string, p conference.Point) error {
	if err := conference.ValidateID(confID); err != nil {
		return fmt.Errorf("put point: conference: %w", err)
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("put point in %s: %w", confID, err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("put point %s/%s: %w", confID, p.ID, err)
	}
	keys := []string{s.key(confID, "conf"), s.key(confID, "points"), s.key(confID, "point-order")}
	n, err := s.scripts.putPoint.Run(ctx, s.rdb, keys, p.ID, data).Int()
	if err != nil {
		return fmt.Errorf("put point %s/%s: %w", confID, p.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("put point %s/%s: conference %s: %w", confID, p.ID, confID, ErrNotFound)
	}
	return nil
}

// Point returns point pointID of conference confID. The error wraps
// ErrNotFound if there is none.
func (s *Store) Point(ctx context.Context, confID, pointID string) (conference.Point, error) {
	var p conference.Point
	if conference.ValidateID(confID) != nil || conference.ValidateID(pointID) != nil {
		return p, fmt.Errorf("point %q/%q: %w", confID, pointID, ErrNotFound)
	}
	data, err := s.rdb.HGet(ctx, s.key(confID, "points"), pointID).Result()
	if errors.Is(err, redis.Nil) {
		err = fmt.Errorf("point %s/%s: %w", confID, pointID, ErrNotFound)
		s.known.setPoint(confID, pointID, p, err)
		return p, err
	}
	if err != nil {
		if p, ok := s.known.point(confID, pointID); ok {
			s.log.Warn("redis unavailable; using the point as last read", "conference", confID, "point", pointID, "err", err)
			return p, nil
		}
		return p, fmt.Errorf("get point %s/%s: %w", confID, pointID, err)
	}
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return p, fmt.Errorf("decode point %s/%s: %w", confID, pointID, err)
	}
	s.known.setPoint(confID, pointID, p, nil)
	return p, nil
}

// Points returns the points of conference confID in the order they were
// first added. The error wraps ErrNotFound if the conference does not exist.
func (s *Store) Points(ctx context.Context, confID string) ([]conference.Point, error) {
	var (
		order *redis.StringSliceCmd
		all   *redis.MapStringStringCmd
	)
	err := s.readConference(ctx, confID, "points", func(p redis.Pipeliner) {
		order = p.LRange(ctx, s.key(confID, "point-order"), 0, -1)
		all = p.HGetAll(ctx, s.key(confID, "points"))
	})
	if err != nil {
		return nil, err
	}
	byID := all.Val()
	out := make([]conference.Point, 0, len(byID))
	for _, id := range order.Val() {
		data, ok := byID[id]
		if !ok {
			continue
		}
		var p conference.Point
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, fmt.Errorf("decode point %s/%s: %w", confID, id, err)
		}
		s.known.setPoint(confID, id, p, nil)
		out = append(out, p)
	}
	return out, nil
}

// formatTime formats t in UTC as RFC 3339 with nanoseconds.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
