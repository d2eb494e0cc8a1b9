// Package store keeps conference state in Redis.
//
// Every key of one conference carries the conference id as a Redis Cluster
// hash tag, so that all of them live in one slot and a MULTI transaction or
// Lua script may touch several of them. With the default prefix "hn" and a
// conference "demo" the keys are:
//
//	hn:conferences         set     ids of all conferences
//	hn:heartbeat:<name>    string  when server instance <name> was last alive (see heartbeat.go)
//	hn:{demo}:conf         hash    "json": the conference as JSON (no created_at),
//	                               "created_at": RFC 3339 time of the first put
//	hn:{demo}:points       hash    point id -> point as JSON
//	hn:{demo}:point-order  list    point ids in the order they were first added
//	hn:{demo}:connected    hash    participant id -> Connection as JSON
//	hn:{demo}:attendance*  the attendance events and state (see attendance.go)
//	hn:{demo}:floor:*      the floor: queue, requests, holders, meta and the
//	                               floor log stream (see floor.go)
//
// Changes that touch several keys are single Lua scripts or MULTI
// transactions, never a read followed by a write from Go. Times are stored in
// UTC as RFC 3339 with nanoseconds. Lua scripts never read the clock: times
// and stream ids come in as arguments, so that replaying a script gives the
// same result.
//
// With no Redis address, Open starts an embedded server (miniredis) on the
// loopback interface and talks to it through the same client, so the same
// code runs in both cases. The embedded server keeps its data in memory; a
// client hook appends each acknowledged write to DataDir/store.aof, synced
// before the command returns, and Open replays that log. See aof.go for the
// record format.
//
// Attendance events are written behind: RecordAttendance queues an event and
// returns, and a spool writes the queue to Redis in order, keeping what
// Redis does not take yet in memory and in DataDir/attendance.spool until
// it does (see spool.go). Open starts writing what an earlier run left
// there. A write that Redis refuses for good is set aside in
// DataDir/attendance.deadletter, and the queue goes on.
package store

import (
	"context"
	"errors"
	"fmt"
	"hoinghi/internal/conference"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// ErrNotFound is wrapped by lookups that find nothing, and by changes that
// need a conference that does not exist.
var ErrNotFound = errors.New("not found")

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "hn"

// defaultCompactBytes is the log size above which Open rewrites the log of
// the embedded store as a snapshot.
const defaultCompactBytes = 8 << 20

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Options configures Open.
type Options struct {
	Addr     string // Redis address host:port; empty = embedded default
	DB       int    // Redis database number
	Password string
	Prefix   string // key prefix, default "hn"
	// DataDir is where the embedded default persists its state, and where
	// the attendance spool keeps the writes Redis has not taken yet (with
	// any Redis). With an external Redis and no DataDir the spool lives in
	// memory only, and writes waiting when the process dies are lost.
	DataDir string
	Logger  *slog.Logger
	// HeartbeatInterval is how often StartHeartbeat records that the
	// server is alive; zero means DefaultHeartbeatInterval. The
	// connections of a run that dies are closed at its last heartbeat,
	// so this bounds how much later than its real end a crash is placed.
	HeartbeatInterval time.Duration

	// compactBytes overrides defaultCompactBytes in tests.
	compactBytes int64
	// wrapSpoolFile, when not nil, wraps the attendance spool's file: a
	// test hook to make the disk slow.
	wrapSpoolFile func(*os.File) spoolFile
}

// Store reads and changes conference state in Redis. It is safe for
// concurrent use.
type Store struct {
	rdb     *redis.Client
	prefix  string
	log     *slog.Logger
	scripts *scripts
	spool   *spool
	known   lastKnown
	attSeq  atomic.Uint64 // counter of NewAttendanceID
	// onWritten is called after each attendance event lands in Redis.
	onWritten atomic.Pointer[func(AttendanceWrite)]
	errs      errorCounter // failed commands, see errcount.go
	breaker   breaker      // fails commands at once while Redis is away, see breaker.go

	// linkVersions keeps the link versions last read, by (conference,
	// point), for LinkVersion while Redis is unreachable.
	linkVersions sync.Map

	// The heartbeat, see heartbeat.go.
	dataDir    string
	hbInterval time.Duration
	hbMu       sync.Mutex
	hb         *heartbeat // nil until StartHeartbeat

	// Embedded default only.
	mini    *miniredis.Miniredis
	persist *persistHook
	unlock  func() error
}

// Open connects to the Redis at opts.Addr, or starts the embedded default
// when opts.Addr is empty and loads its persisted state, and checks that the
// server answers.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !prefixPattern.MatchString(opts.Prefix) {
		return nil, fmt.Errorf("open store: invalid key prefix %q: use 1-64 letters, digits, dots, dashes and underscores", opts.Prefix)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HeartbeatInterval < 0 {
		return nil, fmt.Errorf("open store: heartbeat interval %v is negative", opts.HeartbeatInterval)
	}
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = DefaultHeartbeatInterval
	}
	s := &Store{
		prefix:     opts.Prefix,
		log:        opts.Logger,
		scripts:    newScripts(),
		dataDir:    opts.DataDir,
		hbInterval: opts.HeartbeatInterval,
	}
	if opts.Addr == "" {
		if err := s.openEmbedded(ctx, opts); err != nil {
			return nil, fmt.Errorf("open embedded store: %w", err)
		}
	} else {
		// Short timeouts and one retry: while Redis is away the server
		// answers from what it last knew and spools attendance, so a
		// command that cannot succeed should fail fast.
		s.rdb = redis.NewClient(&redis.Options{
			Addr:         opts.Addr,
			DB:           opts.DB,
			Password:     opts.Password,
			DialTimeout:  time.Second,
			ReadTimeout:  time.Second,
			WriteTimeout: time.Second,
			MaxRetries:   1,
		})
		if err := s.Ping(ctx); err != nil {
			s.rdb.Close()
			return nil, fmt.Errorf("open store at %s: %w", opts.Addr, err)
		}
		s.log.Info("store connected", "addr", opts.Addr, "db", opts.DB, "prefix", opts.Prefix)
	}
	// The breaker first, so that the commands it refuses at once are not
	// counted as failed ones.
	s.rdb.AddHook(&s.breaker)
	s.rdb.AddHook(&s.errs)
	if err := s.openSpool(ctx, opts); err != nil {
		s.closeRedis()
		return nil, err
	}
	return s, nil
}

// OnAttendanceWritten makes the store call f, from its writer goroutine,
// after each event recorded with RecordAttendance has been written to
// Redis, so that a report read then includes it. f must not block.
func (s *Store) OnAttendanceWritten(f func(AttendanceWrite)) {
	s.onWritten.Store(&f)
}

// openSpool starts the attendance spool and gives it a moment to write what
// an earlier run left in it; what it cannot write yet it keeps retrying.
func (s *Store) openSpool(ctx context.Context, opts Options) error {
	sp, err := openSpool(spoolOptions{dir: opts.DataDir, log: s.log, wrapFile: opts.wrapSpoolFile,
		write: func(ctx context.Context, w AttendanceWrite) error {
			_, err := s.WriteAttendance(ctx, w)
			if f := s.onWritten.Load(); err == nil && f != nil {
				(*f)(w)
			}
			return err
		}})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	s.spool = sp
	ctx, cancel := context.WithTimeout(ctx, spoolStartFlush)
	defer cancel()
	if err := s.FlushAttendance(ctx); err != nil {
		s.log.Warn("attendance spool not written at start-up; retrying in the background", "err", err)
	}
	return nil
}

// spoolStartFlush bounds how long Open waits for the spool of an earlier
// run to be written.
const spoolStartFlush = 5 * time.Second

// spoolCloseFlush bounds how long Close waits for queued attendance writes.
const spoolCloseFlush = 3 * time.Second

// Close stops the heartbeat, waits a few seconds at most for queued
// attendance writes to reach Redis (what remains stays in the spool file
// for the next start), closes the connection to Redis and, for the
// embedded default, syncs and closes its log and stops the embedded
// server.
func (s *Store) Close() error {
	var errs []error
	if err := s.stopHeartbeat(); err != nil {
		errs = append(errs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), spoolCloseFlush)
	defer cancel()
	if err := s.spool.close(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.closeRedis(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// closeRedis closes the client and, for the embedded default, its log and
// server.
func (s *Store) closeRedis() error {
	var errs []error
	if err := s.rdb.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close redis client: %w", err))
	}
	if s.persist != nil {
		if err := s.persist.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.mini != nil {
		s.mini.Close()
	}
	if s.unlock != nil {
		if err := s.unlock(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Ping checks that the Redis server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Embedded reports whether the store runs on the embedded default rather
// than an external Redis.
func (s *Store) Embedded() bool { return s.mini != nil }

// key returns the key named name of conference confID, which must be a
// valid id.
func (s *Store) key(confID, name string) string {
	return s.prefix + ":{" + confID + "}:" + name
}

// readConference runs the reads that queue queues in one MULTI together
// with a check that conference confID exists, so that they see one moment
// of it. what names the data in errors; the error wraps ErrNotFound for an
// invalid id or a conference that does not exist. A missing key read with
// GET is not an error: its command's value is empty.
func (s *Store) readConference(ctx context.Context, confID, what string, queue func(p redis.Pipeliner)) error {
	if err := conference.ValidateID(confID); err != nil {
		return fmt.Errorf("%s of %q: %w", what, confID, ErrNotFound)
	}
	var exists *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.key(confID, "conf"))
		queue(p)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("get %s of %s: %w", what, confID, err)
	}
	if exists.Val() == 0 {
		return fmt.Errorf("%s of %s: conference: %w", what, confID, ErrNotFound)
	}
	return nil
}

// indexKey returns the key of the set of all conference ids.
func (s *Store) indexKey() string { return s.prefix + ":conferences" }
