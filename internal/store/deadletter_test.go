package store_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

// backend returns the options of a store kept in dataDir: on the test
// Redis under a fresh prefix (deleted when the test ends), or embedded.
type backend func(t *testing.T, dataDir string) store.Options

// redisBackend skips the test, or fails it in CI, without a test Redis.
func redisBackend(t *testing.T, dataDir string) store.Options {
	storetest.Redis(t)
	opts := storetest.RedisOptions(t)
	opts.DataDir = dataDir
	t.Cleanup(func() {
		if err := storetest.DeletePrefix(opts); err != nil {
			t.Errorf("clean up test keys: %v", err)
		}
	})
	return opts
}

func embeddedBackend(t *testing.T, dataDir string) store.Options {
	return store.Options{DataDir: dataDir}
}

func TestRedisAttendanceDeadLetter(t *testing.T) { runDeadLetter(t, redisBackend) }

func TestEmbeddedAttendanceDeadLetter(t *testing.T) { runDeadLetter(t, embeddedBackend) }

// runDeadLetter records an event that Redis refuses for good (its
// connected hash is a string: WRONGTYPE) and one of a conference that does
// not exist among events that go through, and checks that the later
// events are written, the two refused ones are in the dead-letter file and
// counted, and that the file, appended to the spool of the stopped server
// once the cause is fixed, writes them at the next start.
func runDeadLetter(t *testing.T, open backend) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	opts := open(t, dir)
	s, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	mustPutConference(t, s, demo("poison"))
	mustPutConference(t, s, demo("other"))
	prefix := opts.Prefix
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	connected := prefix + ":{poison}:connected"
	if err := store.RawClient(s).Set(ctx, connected, "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}

	base := time.Now().UTC()
	a := conn("huyen-a", conference.RolePoint, "huyen-a", "inst", base)
	b := conn("huyen-b", conference.RolePoint, "huyen-b", "inst", base.Add(time.Millisecond))
	poisoned := joinWrite(s, "poison", a) // WRONGTYPE: HSET on a string
	gone := store.AttendanceWrite{Conference: "gone", Event: conference.AttendanceEvent{
		ID: s.NewAttendanceID("inst", base), Kind: conference.CheckedIn, At: base, PointID: "huyen-a", Delegates: 3}}
	checkIn := store.AttendanceWrite{Conference: "poison", Event: conference.AttendanceEvent{
		ID: s.NewAttendanceID("inst", base.Add(2*time.Millisecond)), Kind: conference.CheckedIn,
		At: base.Add(2 * time.Millisecond), PointID: "huyen-a", Delegates: 12}}
	later := []store.AttendanceWrite{checkIn, joinWrite(s, "other", b),
		leaveWrite(s, "other", b, conference.LeftClosed, base.Add(3*time.Millisecond))}
	for _, w := range append([]store.AttendanceWrite{poisoned, gone}, later...) {
		if err := s.RecordAttendance(w); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := s.FlushAttendance(ctx); err != nil {
		t.Fatalf("the events behind the refused ones wait: %v", err)
	}
	t.Logf("5 events, 2 of them refused, flushed in %v", time.Since(start))
	if n := s.DeadLettered(); n != 2 {
		t.Errorf("DeadLettered = %d; want 2", n)
	}
	if evs, err := s.AttendanceEvents(ctx, "poison"); err != nil || len(evs) != 1 || evs[0].ID != checkIn.Event.ID {
		t.Errorf("events of poison = %+v, %v; want the check-in behind the refused join", evs, err)
	}
	if evs, err := s.AttendanceEvents(ctx, "other"); err != nil || len(evs) != 2 {
		t.Errorf("events of other = %+v, %v; want the join and the leave", evs, err)
	}

	path := filepath.Join(dir, "attendance.deadletter")
	lines := readDeadLetters(t, path)
	for _, l := range lines {
		t.Logf("dead letter: event %s: %s", l.Event.ID, l.DeadLetter.Error)
	}
	if len(lines) != 2 {
		t.Fatalf("dead-letter file holds %d lines; want 2", len(lines))
	}
	for i, want := range []struct {
		id, err string
	}{{poisoned.Event.ID, "WRONGTYPE"}, {gone.Event.ID, store.ErrNotFound.Error()}} {
		got := lines[i]
		if got.Event.ID != want.id || !strings.Contains(got.DeadLetter.Error, want.err) || got.DeadLetter.At.Before(base) {
			t.Errorf("dead letter %d = %+v; want event %s refused with %s", i, got, want.id, want.err)
		}
	}

	// The operator fixes the key, stops the server and appends the dead
	// letters to the spool: the next start writes them.
	if err := store.RawClient(s).Del(ctx, connected).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "attendance.spool"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.AttendanceEvents(ctx, "poison"); err != nil || len(evs) != 2 || evs[0].ID != poisoned.Event.ID {
		t.Errorf("events of poison after the replay = %+v, %v; want the join, then the check-in", evs, err)
	}
	if n := s.DeadLettered(); n != 1 { // the conference "gone" still is
		t.Errorf("DeadLettered after the replay = %d; want 1", n)
	}
}

// deadLetter is a line of the dead-letter file.
type deadLetter struct {
	store.AttendanceWrite
	DeadLetter struct {
		At    time.Time `json:"at"`
		Error string    `json:"error"`
	} `json:"dead_letter"`
}

func readDeadLetters(t *testing.T, path string) []deadLetter {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []deadLetter
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l deadLetter
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}
