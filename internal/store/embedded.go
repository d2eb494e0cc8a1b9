package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// logName is the file name of the embedded store's log inside DataDir.
const logName = "store.aof"

// openEmbedded starts miniredis on the loopback interface, replays the log
// from opts.DataDir into it, compacts the log when it has grown large, and
// connects s to it with the logging hook installed.
// embeddedPoolSize is the number of connections to the embedded Redis.
const embeddedPoolSize = 4

func (s *Store) openEmbedded(ctx context.Context, opts Options) (err error) {
	if opts.DataDir == "" {
		return errors.New("a data directory is required")
	}
	if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	unlock, err := lockDir(opts.DataDir)
	if err != nil {
		return err
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		unlock()
		return fmt.Errorf("start embedded redis: %w", err)
	}
	// The embedded Redis runs one command at a time, so a few connections
	// carry all it can do; the client's default (ten per core), opened
	// by a burst of joins, would hold 64 KB of buffers each for nothing.
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), DB: opts.DB, PoolSize: embeddedPoolSize})
	defer func() {
		if err != nil {
			rdb.Close()
			m.Close()
			unlock()
		}
	}()

	path := filepath.Join(opts.DataDir, logName)
	start := time.Now()
	size, records, err := replayLog(ctx, rdb, path)
	if err != nil {
		var torn tornError
		if !errors.As(err, &torn) {
			return fmt.Errorf("replay %s: %w", path, err)
		}
		s.log.Warn("store log ends with a torn record; ignoring it", "path", path, "offset", size, "err", torn.err)
	}
	s.log.Info("store log replayed", "path", path, "records", records, "bytes", size, "took", time.Since(start))

	limit := opts.compactBytes
	if limit <= 0 {
		limit = defaultCompactBytes
	}
	if size > limit {
		newSize, err := compact(m.DB(opts.DB), path)
		if err != nil {
			return fmt.Errorf("compact %s: %w", path, err)
		}
		s.log.Info("store log compacted", "path", path, "from_bytes", size, "to_bytes", newSize)
		size = newSize
	}

	w, err := openAOFWriter(path, size)
	if err != nil {
		return err
	}
	s.persist = &persistHook{w: w, scripts: s.scripts.bySHA, log: s.log}
	rdb.AddHook(s.persist)
	s.rdb, s.mini, s.unlock = rdb, m, unlock
	if err := s.Ping(ctx); err != nil {
		s.persist.close()
		return err
	}
	s.log.Info("embedded store started", "addr", m.Addr(), "data_dir", opts.DataDir, "prefix", s.prefix)
	return nil
}

// tornError wraps errTorn from readLog.
type tornError struct{ err error }

func (e tornError) Error() string { return e.err.Error() }
func (e tornError) Unwrap() error { return e.err }

// replayLog applies every record of the log at path through rdb. It returns
// the offset past the last good record and how many records it applied. A
// torn final record is reported as a tornError alongside that offset.
func replayLog(ctx context.Context, rdb *redis.Client, path string) (int64, int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("stat log: %w", err)
	}
	n := 0
	off, err := readLog(f, st.Size(), func(cmds []command) error {
		n++
		return apply(ctx, rdb, cmds)
	})
	if errors.Is(err, errTorn) {
		return off, n, tornError{err}
	}
	return off, n, err
}

// apply runs one record: a single command, or several in one MULTI.
func apply(ctx context.Context, rdb *redis.Client, cmds []command) error {
	if len(cmds) == 1 {
		err := rdb.Do(ctx, anyArgs(cmds[0])...).Err()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("%s: %w", cmds[0][0], err)
		}
		return nil
	}
	res, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range cmds {
			p.Do(ctx, anyArgs(c)...)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("transaction: %w", err)
	}
	for _, r := range res {
		if err := r.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("transaction: %s: %w", r.Name(), err)
		}
	}
	return nil
}

func anyArgs(c command) []any {
	a := make([]any, len(c))
	for i, s := range c {
		a[i] = s
	}
	return a
}

// compact rewrites the log at path as the commands that recreate the
// current content of db, and returns the new log's size.
func compact(db *miniredis.RedisDB, path string) (int64, error) {
	recs, err := snapshot(db)
	if err != nil {
		return 0, err
	}
	if err := writeLogFile(path, recs); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("stat log: %w", err)
	}
	return st.Size(), nil
}

// snapshot returns records that recreate every key of db: one record per
// key, and one per stream entry so that entry ids are kept.
func snapshot(db *miniredis.RedisDB) ([][]command, error) {
	var recs [][]command
	for _, k := range db.Keys() {
		switch t := db.Type(k); t {
		case "string":
			v, err := db.Get(k)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			recs = append(recs, []command{{"SET", k, v}})
		case "hash":
			fields, err := db.HKeys(k)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			c := command{"HSET", k}
			for _, f := range fields {
				c = append(c, f, db.HGet(k, f))
			}
			recs = append(recs, []command{c})
		case "list":
			vs, err := db.List(k)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			recs = append(recs, []command{append(command{"RPUSH", k}, vs...)})
		case "set":
			vs, err := db.Members(k)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			recs = append(recs, []command{append(command{"SADD", k}, vs...)})
		case "zset":
			ss, err := db.SortedSet(k)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			members := make([]string, 0, len(ss))
			for mem := range ss {
				members = append(members, mem)
			}
			slices.Sort(members)
			c := command{"ZADD", k}
			for _, mem := range members {
				c = append(c, strconv.FormatFloat(ss[mem], 'g', -1, 64), mem)
			}
			recs = append(recs, []command{c})
		case "stream":
			entries, err := db.Stream(k)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			for _, e := range entries {
				recs = append(recs, []command{append(command{"XADD", k, e.ID}, e.Values...)})
			}
		default:
			return nil, fmt.Errorf("key %q: cannot snapshot a %s", k, t)
		}
		if ttl := db.TTL(k); ttl > 0 {
			recs = append(recs, []command{{"PEXPIRE", k, strconv.FormatInt(ttl.Milliseconds(), 10)}})
		}
	}
	return recs, nil
}

// lockDir takes an exclusive lock on dir so that two processes never write
// the same log, and returns the function that releases it.
func lockDir(dir string) (func() error, error) {
	f, err := os.OpenFile(filepath.Join(dir, "store.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("data dir %s is in use by another process", dir)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	return func() error {
		if err := f.Close(); err != nil { // closing releases the lock
			return fmt.Errorf("release data dir lock: %w", err)
		}
		return nil
	}, nil
}
