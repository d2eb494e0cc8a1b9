package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A running server records that it is alive, every HeartbeatInterval, so
// that when it dies without a word (kill -9, a power cut) the run that
// restarts it knows when that was: DropInstance closes the connections the
// dead run held at its last heartbeat, not at the restart, and the time in
// between counts as away.
//
// The heartbeat of instance "hoinghi" (prefix "hn") is written to
//
//	hn:heartbeat:hoinghi        string  RFC 3339 time, with an external Redis
//	DataDir/heartbeat           file    {"instance":..., "at":...}, with a data dir
//
// and LastAlive takes the later of the two. Neither expires: an instance
// name is kept across restarts, and there are few. The file keeps beating
// while Redis is away, so that a crash during an outage is placed right
// too; the embedded store has only the file, rather than a record in its
// log every few seconds.

// DefaultHeartbeatInterval is the heartbeat interval when
// Options.HeartbeatInterval is zero.
const DefaultHeartbeatInterval = 5 * time.Second

// heartbeatName is the file name of the heartbeat inside DataDir.
const heartbeatName = "heartbeat"

// heartbeatLayout is the time format of a heartbeat: fixed width, so that
// each beat overwrites the one before it exactly.
const heartbeatLayout = "2006-01-02T15:04:05.000000000Z07:00"

// heartbeatRecord is the content of the heartbeat file.
type heartbeatRecord struct {
	Instance string `json:"instance"`
	At       string `json:"at"` // heartbeatLayout, UTC
}

// heartbeat is the running heartbeat of a store.
type heartbeat struct {
	instance string
	interval time.Duration
	file     *os.File // nil without a data dir
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	failing  bool // the last beat failed; only the beating goroutine uses it
}

// heartbeatKey returns the Redis key of the heartbeat of instance.
func (s *Store) heartbeatKey(instance string) string { return s.prefix + ":heartbeat:" + instance }

// StartHeartbeat records at once, and then every Options.HeartbeatInterval
// until Close, that the server instance named instance is alive (see
// LastAlive), from a goroutine of its own. A server calls it once at
// start-up, after DropInstance has closed what its previous run left,
// since the first beat replaces the previous run's last one. A beat that
// fails is logged and the next one tries again; the error reports only a
// bad instance name, a second call, or a heartbeat file that cannot be
// opened.
func (s *Store) StartHeartbeat(instance string) error {
	if instance == "" {
		return errors.New("start heartbeat: instance is empty")
	}
	s.hbMu.Lock()
	defer s.hbMu.Unlock()
	if s.hb != nil {
		return fmt.Errorf("start heartbeat of %s: already beating for %s", instance, s.hb.instance)
	}
	hb := &heartbeat{instance: instance, interval: s.hbInterval, stop: make(chan struct{}), done: make(chan struct{})}
	if s.dataDir != "" {
		f, err := os.OpenFile(filepath.Join(s.dataDir, heartbeatName), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("start heartbeat: %w", err)
		}
		hb.file = f
	}
	s.hb = hb
	go func() {
		defer close(hb.done)
		s.beat(hb, true)
		t := time.NewTicker(hb.interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.beat(hb, false)
			case <-hb.stop:
				return
			}
		}
	}()
	return nil
}

// beat records that hb's instance is alive now, in Redis (not on the
// embedded store) and in the file. first truncates the file, which may
// hold the longer record of another instance.
func (s *Store) beat(hb *heartbeat, first bool) {
	now := time.Now().UTC()
	var errs []error
	if !s.Embedded() {
		ctx, cancel := context.WithTimeout(context.Background(), max(hb.interval, time.Second))
		err := s.rdb.Set(ctx, s.heartbeatKey(hb.instance), now.Format(heartbeatLayout), 0).Err()
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("redis: %w", err))
		}
	}
	if hb.file != nil {
		line, _ := json.Marshal(heartbeatRecord{Instance: hb.instance, At: now.Format(heartbeatLayout)})
		line = append(line, '\n')
		_, err := hb.file.WriteAt(line, 0)
		if err == nil && first {
			err = hb.file.Truncate(int64(len(line)))
		}
		if err == nil {
			err = hb.file.Sync()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("file: %w", err))
		}
	}
	switch err := errors.Join(errs...); {
	case err != nil && !hb.failing:
		s.log.Warn("heartbeat failed; retrying at the next beat", "instance", hb.instance, "err", err)
		hb.failing = true
	case err == nil && hb.failing:
		s.log.Info("heartbeat recorded again", "instance", hb.instance)
		hb.failing = false
	}
}

// stopHeartbeat stops the heartbeat, if it runs, and closes its file.
func (s *Store) stopHeartbeat() error {
	s.hbMu.Lock()
	hb := s.hb
	s.hbMu.Unlock()
	if hb == nil {
		return nil
	}
	var err error
	hb.stopOnce.Do(func() {
		close(hb.stop)
		<-hb.done
		if hb.file != nil {
			if cerr := hb.file.Close(); cerr != nil {
				err = fmt.Errorf("close heartbeat file: %w", cerr)
			}
		}
	})
	return err
}

// LastAlive returns when the server instance named instance last recorded
// that it was alive (see StartHeartbeat): the later of its heartbeat in
// Redis and in the data dir's file, or the zero time if it has none. A
// heartbeat file that does not decode, or names another instance, is
// ignored.
func (s *Store) LastAlive(ctx context.Context, instance string) (time.Time, error) {
	var last time.Time
	if s.dataDir != "" {
		data, err := os.ReadFile(filepath.Join(s.dataDir, heartbeatName))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return time.Time{}, fmt.Errorf("last heartbeat of %s: %w", instance, err)
		default:
			var rec heartbeatRecord
			t, terr := time.Time{}, json.Unmarshal(data, &rec)
			if terr == nil {
				t, terr = time.Parse(heartbeatLayout, rec.At)
			}
			switch {
			case terr != nil:
				s.log.Warn("heartbeat file does not decode; ignoring it", "err", terr, "content", string(data))
			case rec.Instance == instance:
				last = t
			}
		}
	}
	if !s.Embedded() {
		v, err := s.rdb.Get(ctx, s.heartbeatKey(instance)).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return time.Time{}, fmt.Errorf("last heartbeat of %s: %w", instance, err)
		default:
			t, err := time.Parse(heartbeatLayout, v)
			if err != nil {
				s.log.Warn("heartbeat in Redis does not decode; ignoring it", "key", s.heartbeatKey(instance), "err", err)
			} else if t.After(last) {
				last = t
			}
		}
	}
	return last, nil
}

// leaveTime returns when connection c of a dead run ended: at its run's
// last heartbeat alive, no later than at (the restart) and no earlier than
// c joined. Without a heartbeat (zero alive) it is at.
func leaveTime(c Connection, alive, at time.Time) time.Time {
	t := at
	if !alive.IsZero() && alive.Before(at) {
		t = alive
	}
	if t.Before(c.Since) {
		t = c.Since
	}
	return t
}
