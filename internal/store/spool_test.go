package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hoinghi/internal/conference"
)

func TestReadSpool(t *testing.T) {
	line := func(id string) string {
		return `{"conference":"c","event":{"id":"` + id + `","kind":"checked_in","at":"2025-03-14T07:30:00Z","point_id":"p"}}` + "\n"
	}
	tests := []struct {
		name string
		data string
		ids  []string
		good int
	}{
		{"empty", "", nil, 0},
		{"two writes", line("a") + line("b"), []string{"a", "b"}, len(line("a") + line("b"))},
		{"torn last line", line("a") + line("b")[:20], []string{"a"}, len(line("a"))},
		{"line that does not decode", line("a") + "{not json}\n" + line("c"), []string{"a", "c"}, len(line("a")+line("c")) + 11},
		{"blank line", line("a") + "\n", []string{"a"}, len(line("a")) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), spoolName)
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ws, good, err := readSpool(f, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, w := range ws {
				ids = append(ids, w.Event.ID)
				if w.Event.Kind != conference.CheckedIn || !w.Event.At.Equal(time.Date(2025, 3, 14, 7, 30, 0, 0, time.UTC)) {
					t.Errorf("write %+v", w)
				}
			}
			if len(ids) != len(tt.ids) || int(good) != tt.good {
				t.Fatalf("ids %v, good %d; want %v, %d", ids, good, tt.ids, tt.good)
			}
			for i := range ids {
				if ids[i] != tt.ids[i] {
					t.Errorf("ids %v; want %v", ids, tt.ids)
				}
			}
		})
	}
}

func TestCompareAttendanceIDs(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1700000000000-hoinghi-9", "1700000000000-hoinghi-10", -1},
		{"1700000000001-hoinghi-1", "1700000000000-hoinghi-10", 1},
		{"1700000000000-a-b-2", "1700000000000-a-b-2", 0},
		{"1700000000000-hall-1", "1700000000000-zone-1", -1},
		{"legacy", "1700000000000-x-1", 1},
	}
	for _, tt := range tests {
		if got := compareAttendanceIDs(tt.a, tt.b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"invalid", fmt.Errorf("write attendance: %w: event has no kind", errInvalid), true},
		{"conference gone", fmt.Errorf("write attendance c/e: %w", ErrNotFound), true},
		{"wrong type", fmt.Errorf("write attendance c/e: %w", replyError("WRONGTYPE Operation against a key holding the wrong kind of value script: 1f0c, on @user_script:9.")), true},
		{"script error", replyError("ERR user_script:3: Script attempted to access nonexistent global variable 'x'"), true},
		{"wrong type in a script, Redis 6", replyError("ERR Error running script (call to f_1f0c): @user_script:9: WRONGTYPE Operation against a key holding the wrong kind of value"), true},
		{"loading", replyError("LOADING Redis is loading the dataset in memory"), false},
		{"busy script", replyError("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), false},
		{"read-only replica", replyError("READONLY You can't write against a read only replica."), false},
		{"read-only replica in a script, Redis 6", replyError("ERR Error running script (call to f_1f0c): @user_script:9: @user_script: 9: -READONLY You can't write against a read only replica."), false},
		{"out of memory", replyError("OOM command not allowed when used memory > 'maxmemory'."), false},
		{"cannot persist", replyError("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), false},
		{"cluster down", replyError("CLUSTERDOWN The cluster is down"), false},
		{"try again", replyError("TRYAGAIN Multiple keys request during rehashing of slot"), false},
		{"password", replyError("NOAUTH Authentication required."), false},
		{"too many clients", replyError("ERR max number of clients reached"), false},
		{"unavailable", fmt.Errorf("write attendance c/e: %w: Redis did not answer", ErrUnavailable), false},
		{"timeout", fmt.Errorf("write attendance c/e: %w", context.DeadlineExceeded), false},
		{"network", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false},
		{"connection reset", io.ErrUnexpectedEOF, false},
		{"store log failed", errors.New("store log failed earlier, restart the server: sync log: input/output error"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permanent(tt.err); got != tt.want {
				t.Errorf("permanent(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}

// slowFile is a spool file on a disk that stalls: while a gate is open
// (not closed), Write or Sync waits for it.
type slowFile struct {
	*os.File
	writeGate, syncGate chan struct{} // nil: no wait
	writing, syncing    atomic.Int32  // calls waiting at their gate
}

func (f *slowFile) Write(p []byte) (int, error) {
	if f.writeGate != nil {
		f.writing.Add(1)
		<-f.writeGate
		f.writing.Add(-1)
	}
	return f.File.Write(p)
}

func (f *slowFile) Sync() error {
	if f.syncGate != nil {
		f.syncing.Add(1)
		<-f.syncGate
		f.syncing.Add(-1)
	}
	return f.File.Sync()
}

// TestSpoolSlowDisk stalls the spool file's fsync, or its appends, and
// checks that RecordAttendance and SpoolDepth do not wait for it, that the
// file still takes the lines while an fsync stalls, and that every event
// reaches the store once the disk comes back.
func TestSpoolSlowDisk(t *testing.T) {
	tests := []struct {
		name       string
		stallSync  bool // else appends stall
		redisFails bool // Redis answers LOADING while the disk stalls
	}{
		{name: "fsync stalls while Redis is loading", stallSync: true, redisFails: true},
		{name: "appends stall while Redis is loading", redisFails: true},
		{name: "appends stall while Redis takes the writes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			dir := t.TempDir()
			gate := make(chan struct{})
			var file *slowFile
			s, err := Open(ctx, Options{DataDir: dir, wrapSpoolFile: func(f *os.File) spoolFile {
				file = &slowFile{File: f}
				if tt.stallSync {
					file.syncGate = gate
				} else {
					file.writeGate = gate
				}
				return file
			}})
			if err != nil {
				t.Fatal(err)
			}
			released := false
			release := func() {
				if !released {
					released = true
					close(gate)
				}
			}
			defer func() {
				release()
				s.mini.SetError("")
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			}()
			if err := s.PutConference(ctx, conference.Conference{ID: "slow", Title: "Slow disk"}); err != nil {
				t.Fatal(err)
			}
			if tt.redisFails {
				s.mini.SetError("LOADING Redis is loading the dataset in memory")
			}
			t0 := time.Now().UTC()
			checkIn := func(i int) AttendanceWrite {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				return AttendanceWrite{Conference: "slow", Event: conference.AttendanceEvent{
					ID: s.NewAttendanceID("inst", at), Kind: conference.CheckedIn, At: at, PointID: "p", Delegates: i}}
			}
			// The first event makes the disk stall: its append, or the
			// fsync after Redis failed to take it.
			if err := s.RecordAttendance(checkIn(0)); err != nil {
				t.Fatal(err)
			}
			for file.writing.Load()+file.syncing.Load() == 0 {
				if ctx.Err() != nil {
					t.Fatal("the disk never stalled")
				}
				time.Sleep(time.Millisecond)
			}

			const n = 500
			var worstRecord, worstDepth time.Duration
			recorded := make(chan error, 1)
			go func() {
				for i := 1; i <= n; i++ {
					start := time.Now()
					if err := s.RecordAttendance(checkIn(i)); err != nil {
						recorded <- err
						return
					}
					worstRecord = max(worstRecord, time.Since(start))
					start = time.Now()
					s.SpoolDepth()
					worstDepth = max(worstDepth, time.Since(start))
				}
				recorded <- nil
			}()
			select {
			case err := <-recorded:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("RecordAttendance waits for the stalled disk")
			}
			if file.writing.Load()+file.syncing.Load() == 0 {
				t.Fatal("the disk stalled only briefly; the test measured nothing")
			}
			t.Logf("%d events recorded while the disk stalls: RecordAttendance took at most %v, SpoolDepth at most %v",
				n, worstRecord, worstDepth)
			if tt.redisFails {
				if d := s.SpoolDepth(); d != n+1 {
					t.Errorf("SpoolDepth = %d; want %d", d, n+1)
				}
			}
			if tt.stallSync {
				// The appends go on while the fsync stalls: a crash now
				// loses nothing.
				want := n + 1
				for {
					data, err := os.ReadFile(filepath.Join(dir, spoolName))
					if err != nil {
						t.Fatal(err)
					}
					if got := bytes.Count(data, []byte("\n")); got == want {
						break
					} else if ctx.Err() != nil {
						t.Fatalf("spool file holds %d lines while the fsync stalls; want %d", got, want)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}

			release()
			s.mini.SetError("")
			if err := s.FlushAttendance(ctx); err != nil {
				t.Fatal(err)
			}
			evs, err := s.AttendanceEvents(ctx, "slow")
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != n+1 {
				t.Fatalf("%d events stored; want %d", len(evs), n+1)
			}
			for i, e := range evs {
				if e.Delegates != i {
					t.Fatalf("event %d has delegates %d; want the order of the calls", i, e.Delegates)
				}
			}
		})
	}
}

func TestLeaveTime(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	restart := t0.Add(time.Hour)
	tests := []struct {
		name         string
		since, alive time.Time
		want         time.Time
	}{
		{"at the last heartbeat", t0, t0.Add(20 * time.Minute), t0.Add(20 * time.Minute)},
		{"no heartbeat: at the restart", t0, time.Time{}, restart},
		{"joined after the last heartbeat: at the join", t0.Add(30 * time.Minute), t0.Add(20 * time.Minute), t0.Add(30 * time.Minute)},
		{"heartbeat after the restart: at the restart", t0, restart.Add(time.Second), restart},
		{"joined after the restart: at the join", restart.Add(time.Second), t0, restart.Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Connection{ParticipantID: "p", Role: conference.RolePoint, Instance: "i", Since: tt.since}
			if got := leaveTime(c, tt.alive, restart); !got.Equal(tt.want) {
				t.Errorf("leaveTime = %v; want %v", got, tt.want)
			}
		})
	}
}
