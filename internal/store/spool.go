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
	"sync"
	"time"
)

// spoolName is the file name of the attendance spool inside DataDir.
const spoolName = "attendance.spool"

// Retry timing of the spool: the first retry after a failed write waits
// spoolMinBackoff, each further one twice as long, up to spoolMaxBackoff.
// One write waits at most spoolWriteTimeout for Redis.
const (
	spoolMinBackoff   = 50 * time.Millisecond
	spoolMaxBackoff   = 2 * time.Second
	spoolWriteTimeout = 2 * time.Second
)

// spool is the write-behind queue of attendance writes. add appends a write
// to the queue and to the spool file and returns; one goroutine writes the
// queue to Redis in order, retrying with backoff while Redis fails, and
// empties the file whenever the queue is empty. A write that reached Redis
// but not the file's truncation, because the process died in between, is
// written again at the next start, which the event's id makes harmless.
//
// The file holds one AttendanceWrite as JSON per line. It is written before
// add returns, so a crash of the process loses nothing; it is synced to disk
// when a write to Redis fails, so that an outage that ends in a power cut
// loses at most the writes of its first moments.
type spool struct {
	write func(context.Context, AttendanceWrite) error
	log   *slog.Logger

	mu     sync.Mutex
	queue  []AttendanceWrite // oldest first
	file   *os.File          // nil: memory only
	synced bool              // the file is synced up to its end
	empty  chan struct{}     // closed while the queue is empty

	wake     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// openSpool opens (creating it) and locks the spool file in dir, loads the
// writes it holds, and starts writing them. With an empty dir the spool
// lives in memory only.
func openSpool(dir string, write func(context.Context, AttendanceWrite) error, log *slog.Logger) (*spool, error) {
	sp := &spool{
		write:  write,
		log:    log,
		synced: true,
		empty:  make(chan struct{}),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("attendance spool: create data dir: %w", err)
		}
		path := filepath.Join(dir, spoolName)
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
		queue, good, err := readSpool(f, log)
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
			log.Info("attendance spool holds writes of an earlier run", "path", path, "writes", len(queue))
		}
		sp.file, sp.queue = f, queue
	}
	if len(sp.queue) == 0 {
		close(sp.empty)
	}
	go sp.run()
	return sp, nil
}

// readSpool decodes the writes in f and returns them with the offset past
// the last complete line. A line that does not decode is logged and
// skipped.
func readSpool(f *os.File, log *slog.Logger) ([]AttendanceWrite, int64, error) {
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

// add queues w behind every write added before it.
func (sp *spool) add(w AttendanceWrite) {
	line, err := json.Marshal(w)
	if err != nil {
		// Every field is a plain value; this does not happen.
		sp.log.Error("attendance spool: encode write", "err", err, "event", w.Event.ID)
	}
	sp.mu.Lock()
	if sp.file != nil && err == nil {
		if _, werr := sp.file.Write(append(line, '\n')); werr != nil {
			sp.log.Error("attendance spool: append to file; keeping the write in memory only", "err", werr, "event", w.Event.ID)
		}
		sp.synced = false
	}
	if len(sp.queue) == 0 {
		sp.empty = make(chan struct{})
	}
	sp.queue = append(sp.queue, w)
	sp.mu.Unlock()
	select {
	case sp.wake <- struct{}{}:
	default:
	}
}

// depth returns how many writes wait.
func (sp *spool) depth() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.queue)
}

// flush waits until the queue is empty or ctx ends.
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

// close waits until the queue is written or ctx ends, then stops the writer
// and closes the file. Writes still queued stay in the file for the next
// start; without a file they are lost, and close says how many.
func (sp *spool) close(ctx context.Context) error {
	ferr := sp.flush(ctx)
	sp.stopOnce.Do(func() { close(sp.stop) })
	<-sp.done
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var errs []error
	if n := len(sp.queue); ferr != nil && n > 0 {
		if sp.file == nil {
			errs = append(errs, fmt.Errorf("attendance spool: %d writes lost: Redis did not take them before the store closed", n))
		} else {
			sp.log.Warn("attendance spool: writes kept in the file for the next start", "writes", n)
		}
	}
	if sp.file != nil {
		if err := sp.file.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("attendance spool: sync: %w", err))
		}
		if err := sp.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("attendance spool: close: %w", err))
		}
		sp.file = nil
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

// pop removes the oldest queued write, and empties the file once the queue
// is empty.
func (sp *spool) pop() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.queue[0] = AttendanceWrite{}
	sp.queue = sp.queue[1:]
	if len(sp.queue) > 0 {
		return
	}
	sp.queue = nil
	close(sp.empty)
	if sp.file != nil {
		if err := sp.file.Truncate(0); err != nil {
			sp.log.Error("attendance spool: empty the file", "err", err)
		} else if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
			sp.log.Error("attendance spool: rewind the file", "err", err)
		}
		sp.synced = true
	}
}

// sync syncs the file to disk if it has unsynced writes.
func (sp *spool) sync() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.file == nil || sp.synced {
		return
	}
	if err := sp.file.Sync(); err != nil {
		sp.log.Error("attendance spool: sync", "err", err)
		return
	}
	sp.synced = true
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
		if err != nil && !errors.Is(err, errInvalid) && !errors.Is(err, ErrNotFound) {
			if failing == 0 {
				sp.log.Warn("attendance write failed; keeping the events in the spool and retrying",
					"err", err, "waiting", sp.depth())
			}
			failing++
			sp.sync()
			select {
			case <-time.After(backoff):
			case <-sp.stop:
				return
			}
			backoff = min(2*backoff, spoolMaxBackoff)
			continue
		}
		if err != nil {
			data, _ := json.Marshal(w)
			sp.log.Error("attendance write refused; dropping it", "err", err, "write", string(data))
		}
		if failing > 0 {
			sp.log.Info("attendance writes go through again", "failed_attempts", failing, "waiting", sp.depth()-1)
		}
		failing, backoff = 0, spoolMinBackoff
		sp.pop()
	}
}
