package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// File names of the attendance spool and of its dead letters inside
// DataDir.
const (
	spoolName      = "attendance.spool"
	deadLetterName = "attendance.deadletter"
)

// Retry timing of the spool: the first retry after a failed write waits
// spoolMinBackoff, each further one twice as long, up to spoolMaxBackoff.
// One write waits at most spoolWriteTimeout for Redis.
const (
	spoolMinBackoff   = 50 * time.Millisecond
	spoolMaxBackoff   = 2 * time.Second
	spoolWriteTimeout = 2 * time.Second
)

// spool is the write-behind queue of attendance writes. add puts a write in
// the queue and returns; three goroutines do the I/O, and none holds the
// mutex while it does:
//
//   - run writes the queue to Redis in order, retrying with backoff while
//     Redis fails transiently (see permanent). A write that Redis refuses
//     for good is moved to the dead-letter file and the queue goes on.
//   - fileLoop owns the spool file: it appends the lines that add queued,
//     and empties the file whenever the queue is empty. A write that
//     reached Redis but not the file's truncation, because the process
//     died in between, is written again at the next start, which the
//     event's id makes harmless.
//   - syncLoop syncs the file to disk while writes to Redis fail, so that
//     an outage that ends in a power cut loses at most the writes of its
//     first moments.
//
// So a caller of add never waits for the disk: a slow fsync delays neither
// add nor the file's appends, and a slow append delays neither add nor
// depth. A line reaches the file (the kernel's cache) moments after add,
// and a crash of the process loses only what was added in those moments.
//
// The file holds one AttendanceWrite as JSON per line.
type spool struct {
	write func(context.Context, AttendanceWrite) error
	log   *slog.Logger
	dir   string // "": memory only, dead letters are only logged
	// persistent reports whether the spool has a file; it does not change
	// once open.
	persistent bool

	mu      sync.Mutex
	queue   []AttendanceWrite // oldest first
	pending []byte            // lines of queued writes not yet handed to the file
	empty   chan struct{}     // closed while the queue is empty

	file  spoolFile   // nil: memory only; written by fileLoop, synced by syncLoop
	dirty atomic.Bool // the file has appends not synced yet

	deadLetters atomic.Uint64

	wake     chan struct{} // run: a write was queued
	fileWake chan struct{} // fileLoop: lines to append, or the queue emptied
	syncWake chan struct{} // syncLoop: sync if dirty

	stop      chan struct{} // stops run
	stopFile  chan struct{} // stops fileLoop and syncLoop, after run
	closeOnce sync.Once
	done      chan struct{} // run returned
	fileDone  chan struct{} // fileLoop returned
	syncDone  chan struct{} // syncLoop returned
}

// spoolFile is what the spool needs of its file. *os.File has it; a test
// wraps the file to make the disk slow (see spoolOptions.wrapFile). Its
// methods must be safe for concurrent use, as those of *os.File are:
// syncLoop calls Sync while fileLoop writes.
type spoolFile interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Close() error
}

// spoolOptions configures openSpool.
type spoolOptions struct {
	dir   string // "": memory only
	write func(context.Context, AttendanceWrite) error
	log   *slog.Logger
	// wrapFile, when not nil, wraps the opened spool file. It is a test
	// hook (Options.wrapSpoolFile) and nil otherwise.
	wrapFile func(*os.File) spoolFile
}

// openSpool opens (creating it) and locks the spool file in opts.dir, loads
// the writes it holds, and starts writing them. With an empty dir the spool
// lives in memory only.
func openSpool(opts spoolOptions) (*spool, error) {
	sp := &spool{
		write:    opts.write,
		log:      opts.log,
		dir:      opts.dir,
		empty:    make(chan struct{}),
		wake:     make(chan struct{}, 1),
		fileWake: make(chan struct{}, 1),
		syncWake: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopFile: make(chan struct{}),
		done:     make(chan struct{}),
		fileDone: make(chan struct{}),
		syncDone: make(chan struct{}),
	}
	var size int64
	if opts.dir != "" {
		if err := os.MkdirAll(opts.dir, 0o750); err != nil {
			return nil, fmt.Errorf("attendance spool: create data dir: %w", err)
		}
		path := filepath.Join(opts.dir, spoolName)
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("attendance spool: %w", err)
		}
		if err := lockFile(f); err != nil {
			f.Close()
			if errors.Is(err, errLocked) {
				return nil, fmt.Errorf("attendance spool %s is in use by another server process: give each its own data dir", path)
			}
			return nil, fmt.Errorf("attendance spool: lock %s: %w", path, err)
		}
		queue, good, err := readSpool(f, opts.log)
		if err == nil {
			// Cut a torn last line, so that appends start on a new line.
			err = f.Truncate(good)
		}
		if err == nil {
			_, err = f.Seek(good, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("attendance spool %s: %w", path, err)
		}
		if len(queue) > 0 {
			opts.log.Info("attendance spool holds writes of an earlier run", "path", path, "writes", len(queue))
		}
		sp.file, sp.queue, size, sp.persistent = f, queue, good, true
		if opts.wrapFile != nil {
			sp.file = opts.wrapFile(f)
		}
	}
	if len(sp.queue) == 0 {
		close(sp.empty)
	}
	go sp.run()
	if sp.persistent {
		go sp.fileLoop(size)
		go sp.syncLoop()
	} else {
		close(sp.fileDone)
		close(sp.syncDone)
	}
	return sp, nil
}

// readSpool decodes the writes in f and returns them with the offset past
// the last complete line. A line that does not decode is logged and
// skipped.
func readSpool(f io.Reader, log *slog.Logger) ([]AttendanceWrite, int64, error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, fmt.Errorf("read: %w", err)
	}
	var out []AttendanceWrite
	var good int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if good+int64(len(line)) >= int64(len(data)) {
			// No newline after it: the process died while writing it.
			log.Warn("attendance spool ends with a torn line; ignoring it", "bytes", len(line))
			break
		}
		good += int64(len(line)) + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var w AttendanceWrite
		if err := json.Unmarshal(line, &w); err != nil {
			log.Error("attendance spool: skipping a line that does not decode", "err", err, "line", string(line))
			continue
		}
		out = append(out, w)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read: %w", err)
	}
	return out, good, nil
}

// notify wakes the goroutine waiting on ch, without waiting itself.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// add queues w behind every write added before it. It does no I/O.
func (sp *spool) add(w AttendanceWrite) {
	line, err := json.Marshal(w)
	if err != nil {
		// Every field is a plain value; this does not happen.
		sp.log.Error("attendance spool: encode write; keeping it in memory only", "err", err, "event", w.Event.ID)
	}
	sp.mu.Lock()
	if sp.persistent && err == nil {
		sp.pending = append(append(sp.pending, line...), '\n')
	}
	if len(sp.queue) == 0 {
		sp.empty = make(chan struct{})
	}
	sp.queue = append(sp.queue, w)
	sp.mu.Unlock()
	notify(sp.wake)
	if sp.persistent {
		notify(sp.fileWake)
	}
}

// depth returns how many writes wait.
func (sp *spool) depth() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.queue)
}

// flush waits until the queue is empty or ctx ends. The file may still be
// emptied a moment later.
func (sp *spool) flush(ctx context.Context) error {
	sp.mu.Lock()
	empty := sp.empty
	sp.mu.Unlock()
	select {
	case <-empty:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close waits until the queue is written or ctx ends, then stops the
// goroutines and closes the file. Writes still queued stay in the file for
// the next start; without a file they are lost, and close says how many.
func (sp *spool) close(ctx context.Context) error {
	ferr := sp.flush(ctx)
	sp.closeOnce.Do(func() {
		close(sp.stop)
		<-sp.done
		close(sp.stopFile) // fileLoop appends what is pending, then returns
	})
	<-sp.fileDone
	<-sp.syncDone
	sp.mu.Lock()
	n := len(sp.queue)
	f := sp.file
	sp.file = nil
	sp.mu.Unlock()
	var errs []error
	if ferr != nil && n > 0 {
		if !sp.persistent {
			errs = append(errs, fmt.Errorf("attendance spool: %d writes lost: Redis did not take them before the store closed", n))
		} else {
			sp.log.Warn("attendance spool: writes kept in the file for the next start", "writes", n)
		}
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("attendance spool: sync: %w", err))
		}
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("attendance spool: close: %w", err))
		}
	}
	return errors.Join(errs...)
}

// head returns the oldest queued write.
func (sp *spool) head() (AttendanceWrite, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if len(sp.queue) == 0 {
		return AttendanceWrite{}, false
	}
	return sp.queue[0], true
}

// pop removes the oldest queued write; once the queue is empty fileLoop
// empties the file.
func (sp *spool) pop() {
	sp.mu.Lock()
	sp.queue[0] = AttendanceWrite{}
	sp.queue = sp.queue[1:]
	emptied := len(sp.queue) == 0
	if emptied {
		sp.queue = nil
		close(sp.empty)
	}
	sp.mu.Unlock()
	if emptied && sp.persistent {
		notify(sp.fileWake)
	}
}

// fileLoop appends the pending lines to the file, and empties the file when
// the queue is empty, until stopFile is closed; then it appends what is
// still pending and returns. It alone writes and truncates the file. size
// is the file's size at the start.
func (sp *spool) fileLoop(size int64) {
	defer close(sp.fileDone)
	var spare []byte
	for {
		stopping := false
		select {
		case <-sp.fileWake:
		case <-sp.stopFile:
			stopping = true
		}
		// Copy, then write: the lines are taken under the mutex, which is
		// released before the I/O.
		sp.mu.Lock()
		lines := sp.pending
		sp.pending = spare[:0]
		idle := len(sp.queue) == 0
		sp.mu.Unlock()
		switch {
		case idle:
			// Every write ever queued is in Redis: those in the file and
			// those in lines alike.
			if size > 0 {
				if err := sp.file.Truncate(0); err != nil {
					sp.log.Error("attendance spool: empty the file", "err", err)
				} else if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
					sp.log.Error("attendance spool: rewind the file", "err", err)
				} else {
					size = 0
				}
			}
		case len(lines) > 0:
			n, err := sp.file.Write(lines)
			if err != nil {
				sp.log.Error("attendance spool: append to the file; the writes are kept in memory only",
					"err", err, "bytes", len(lines))
				// Cut what part of the lines was written, so that the next
				// append starts on a line of its own.
				if n > 0 {
					if terr := sp.file.Truncate(size); terr == nil {
						_, _ = sp.file.Seek(size, io.SeekStart)
						n = 0
					}
				}
			}
			size += int64(n)
			sp.dirty.Store(true)
		}
		spare = lines
		if stopping {
			return
		}
	}
}

// syncLoop syncs the file when asked to and it has unsynced appends, until
// stopFile is closed.
func (sp *spool) syncLoop() {
	defer close(sp.syncDone)
	for {
		select {
		case <-sp.syncWake:
		case <-sp.stopFile:
			return
		}
		if !sp.dirty.Swap(false) {
			continue
		}
		if err := sp.file.Sync(); err != nil {
			sp.dirty.Store(true)
			sp.log.Error("attendance spool: sync", "err", err)
		}
	}
}

// run writes the queue to Redis in order until stop is closed.
func (sp *spool) run() {
	defer close(sp.done)
	backoff := spoolMinBackoff
	failing := 0 // failed attempts since the last success
	for {
		w, ok := sp.head()
		if !ok {
			select {
			case <-sp.wake:
				continue
			case <-sp.stop:
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), spoolWriteTimeout)
		err := sp.write(ctx, w)
		cancel()
		if err != nil && !permanent(err) {
			if failing == 0 {
				sp.log.Warn("attendance write failed; keeping the events in the spool and retrying",
					"err", err, "waiting", sp.depth())
			}
			failing++
			if sp.persistent {
				notify(sp.syncWake)
			}
			select {
			case <-time.After(backoff):
			case <-sp.stop:
				return
			}
			backoff = min(2*backoff, spoolMaxBackoff)
			continue
		}
		if err != nil {
			sp.deadLetter(w, err)
		}
		if failing > 0 {
			sp.log.Info("attendance writes go through again", "failed_attempts", failing, "waiting", sp.depth()-1)
		}
		failing, backoff = 0, spoolMinBackoff
		sp.pop()
	}
}

// deadLetterLine is one line of the dead-letter file: the write, as in the
// spool file, and why it was refused. Appended to the spool file of a
// stopped server, a line is written again at its next start.
type deadLetterLine struct {
	AttendanceWrite
	DeadLetter deadLetterInfo `json:"dead_letter"`
}

type deadLetterInfo struct {
	At    time.Time `json:"at"`    // when it was refused
	Error string    `json:"error"` // the refusal
}

// deadLetter sets w, which can never be written (err), aside: it appends w
// to the dead-letter file, synced, logs it and counts it. Without a data
// dir, or if the file cannot be written, the log line is the only record
// and carries the whole write.
func (sp *spool) deadLetter(w AttendanceWrite, err error) {
	n := sp.deadLetters.Add(1)
	line, merr := json.Marshal(deadLetterLine{AttendanceWrite: w,
		DeadLetter: deadLetterInfo{At: time.Now().UTC(), Error: err.Error()}})
	attrs := []any{"err", err, "conference", w.Conference, "event", w.Event.ID, "kind", string(w.Event.Kind),
		"dead_letters", n}
	if merr != nil || sp.dir == "" {
		sp.log.Error("attendance write refused for good; dropping it", append(attrs, "write", string(line))...)
		return
	}
	path := filepath.Join(sp.dir, deadLetterName)
	if ferr := appendSynced(path, append(line, '\n')); ferr != nil {
		sp.log.Error("attendance write refused for good, and the dead-letter file cannot take it; dropping it",
			append(attrs, "path", path, "file_err", ferr, "write", string(line))...)
		return
	}
	sp.log.Error("attendance write refused for good; moved to the dead-letter file", append(attrs, "path", path)...)
}

// appendSynced appends data to the file at path, creating it, and syncs it.
func appendSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return nil
}

// permanent reports whether a failed attendance write would fail again
// however often it is retried: it is invalid, its conference does not
// exist, or Redis answered with an error reply about the write itself
// (WRONGTYPE, a script error). Everything else is retried: network errors,
// timeouts, a closed or unavailable store, and the error replies of a
// Redis that is busy, loading, failing over, out of memory or refusing
// this client (see transientReply), which say nothing about the write.
func permanent(err error) bool {
	if errors.Is(err, errInvalid) || errors.Is(err, ErrNotFound) {
		return true
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	return !transientReply(re.Error())
}

// transientCodes are the error codes of Redis replies that say the server
// cannot take a command for now.
var transientCodes = []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY",
	"NOREPLICAS", "MISCONF", "OOM", "MOVED", "ASK", "NOAUTH", "WRONGPASS", "NOPERM", "UNBLOCKED"}

// transientReply reports whether the Redis error reply msg is one of
// transientCodes, also as the error of a call inside a script as Redis 6
// reports it ("ERR Error running script ...: -OOM ..."), or the refusal of
// a client beyond maxclients.
func transientReply(msg string) bool {
	code, _, _ := strings.Cut(msg, " ")
	for _, c := range transientCodes {
		if code == c || strings.Contains(msg, "-"+c+" ") {
			return true
		}
	}
	return strings.HasPrefix(msg, "ERR max number of clients")
}
