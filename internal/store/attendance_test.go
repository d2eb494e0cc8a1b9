package store_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

func TestRedisAttendanceWrites(t *testing.T) { runAttendanceWrites(t, storetest.Redis) }

func TestEmbeddedAttendanceWrites(t *testing.T) { runAttendanceWrites(t, storetest.Embedded) }

func runAttendanceWrites(t *testing.T, open func(testing.TB) *store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.Store)
	}{
		{"Idempotent", testIdempotent},
		{"Recorded", testRecorded},
		{"Refused", testRefusedWrites},
		{"State", testAttendanceState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// joinWrite and leaveWrite are the writes the server makes for connection
// c.
func joinWrite(s *store.Store, confID string, c store.Connection) store.AttendanceWrite {
	return store.AttendanceWrite{Conference: confID, Event: store.JoinedEvent(s.NewAttendanceID(c.Instance, c.Since), c), Conn: &c}
}

func leaveWrite(s *store.Store, confID string, c store.Connection, reason string, at time.Time) store.AttendanceWrite {
	return store.AttendanceWrite{Conference: confID, Event: store.LeftEvent(s.NewAttendanceID(c.Instance, at), c, reason, at), Conn: &c}
}

func testIdempotent(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("idem"))
	c := conn("huyen-a", conference.RolePoint, "huyen-a", "inst", t0)
	join := joinWrite(s, "idem", c)
	leave := leaveWrite(s, "idem", c, conference.LeftNetwork, t0.Add(time.Minute))
	checkIn := store.AttendanceWrite{Conference: "idem", Event: conference.AttendanceEvent{
		ID: s.NewAttendanceID("inst", t0.Add(time.Second)), Kind: conference.CheckedIn, At: t0.Add(time.Second),
		PointID: "huyen-a", Delegates: 25, Representative: "Bà Nguyễn Thị Hoa", By: "huyen-a"}}

	steps := []struct {
		name  string
		w     store.AttendanceWrite
		want  bool
		conns int
	}{
		{"join", join, true, 1},
		{"join again", join, false, 1},
		{"check in", checkIn, true, 1},
		{"check in again", checkIn, false, 1},
		{"leave", leave, true, 0},
		// A retry of the join after the leave must not bring the
		// connection back.
		{"join retried late", join, false, 0},
		{"leave again", leave, false, 0},
	}
	for _, st := range steps {
		ok, err := s.WriteAttendance(ctx, st.w)
		if err != nil || ok != st.want {
			t.Fatalf("%s: WriteAttendance = %v, %v; want %v", st.name, ok, err, st.want)
		}
		conns, err := s.Connected(ctx, "idem")
		if err != nil || len(conns) != st.conns {
			t.Fatalf("%s: Connected = %+v, %v; want %d", st.name, conns, err, st.conns)
		}
	}
	// Recorded twice through the spool as well.
	for range 2 {
		if err := s.RecordAttendance(checkIn); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := s.AttendanceEvents(ctx, "idem")
	if err != nil {
		t.Fatal(err)
	}
	want := []conference.AttendanceEvent{join.Event, checkIn.Event, leave.Event}
	if !reflect.DeepEqual(evs, want) {
		t.Errorf("events:\n got %+v\nwant %+v", evs, want)
	}
}

func testRecorded(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("rec"))
	var want []conference.AttendanceEvent
	// Many events in the same millisecond keep the order of their ids.
	for i := range 30 {
		c := conn("u", conference.RolePoint, "p", "inst", t0.Add(time.Duration(i/10)*time.Millisecond))
		w := joinWrite(s, "rec", c)
		if i%2 == 1 {
			w = leaveWrite(s, "rec", c, conference.LeftClosed, c.Since)
		}
		if err := s.RecordAttendance(w); err != nil {
			t.Fatal(err)
		}
		want = append(want, w.Event)
	}
	if err := s.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.SpoolDepth(); n != 0 {
		t.Errorf("SpoolDepth after flush = %d", n)
	}
	evs, err := s.AttendanceEvents(ctx, "rec")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(evs, want) {
		t.Errorf("events:\n got %+v\nwant %+v", evs, want)
	}
}

func testRefusedWrites(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("refuse"))
	c := conn("u", conference.RolePoint, "p", "inst", t0)
	good := store.AttendanceWrite{Conference: "refuse", Event: conference.AttendanceEvent{ID: "1-x-1", Kind: conference.CheckedIn, At: t0, PointID: "p"}}
	tests := []struct {
		name string
		edit func(*store.AttendanceWrite)
	}{
		{"bad conference id", func(w *store.AttendanceWrite) { w.Conference = "../x" }},
		{"no id", func(w *store.AttendanceWrite) { w.Event.ID = "" }},
		{"no kind", func(w *store.AttendanceWrite) { w.Event.Kind = "" }},
		{"no time", func(w *store.AttendanceWrite) { w.Event.At = time.Time{} }},
		{"joined without connection", func(w *store.AttendanceWrite) { w.Event.Kind = conference.Joined }},
		{"check-in with connection", func(w *store.AttendanceWrite) { w.Conn = &c }},
		{"connection without instance", func(w *store.AttendanceWrite) {
			w.Event.Kind = conference.Left
			w.Conn = &store.Connection{ParticipantID: "u", Role: conference.RolePoint, Since: t0}
		}},
	}
	for _, tt := range tests {
		w := good
		tt.edit(&w)
		if err := s.RecordAttendance(w); err == nil {
			t.Errorf("%s: RecordAttendance accepted %+v", tt.name, w)
		}
		if _, err := s.WriteAttendance(ctx, w); err == nil {
			t.Errorf("%s: WriteAttendance accepted %+v", tt.name, w)
		}
	}
	w := good
	w.Conference = "missing"
	if _, err := s.WriteAttendance(ctx, w); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("write to a missing conference: %v; want ErrNotFound", err)
	}
	// The spool drops it rather than retrying forever.
	if err := s.RecordAttendance(w); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.FlushAttendance(fctx); err != nil {
		t.Errorf("spool kept a write to a missing conference: %v", err)
	}
}

func testAttendanceState(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("state"))
	if st, err := s.AttendanceState(ctx, "state"); err != nil || !reflect.DeepEqual(st, store.AttendanceState{}) {
		t.Fatalf("AttendanceState of a new conference = %+v, %v", st, err)
	}
	st := store.AttendanceState{StartedAt: t0, RollCall: store.RollCall{ID: "1-x-1", StartedAt: t0, Deadline: t0.Add(time.Minute),
		By: "technician-1", Open: true, Confirmed: map[string]time.Time{"huyen-a": t0.Add(time.Second)}}}
	w := store.AttendanceWrite{Conference: "state", State: &st, Event: conference.AttendanceEvent{ID: "1-x-2",
		Kind: conference.RollCallConfirmed, At: t0.Add(time.Second), RollCallID: "1-x-1", PointID: "huyen-a"}}
	if err := s.RecordAttendance(w); err != nil {
		t.Fatal(err)
	}
	// Recorded means copied: a later change of the caller's state is not
	// written.
	st.RollCall.Confirmed["huyen-b"] = t0
	if err := s.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.AttendanceState(ctx, "state")
	if err != nil {
		t.Fatal(err)
	}
	delete(st.RollCall.Confirmed, "huyen-b")
	if !reflect.DeepEqual(got, st) || !got.Running() {
		t.Errorf("AttendanceState = %+v; want %+v, running", got, st)
	}
}

func TestEmbeddedAttendanceSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustPutConference(t, s, demo("keep"))
	c := conn("huyen-a", conference.RolePoint, "huyen-a", "inst", t0)
	st := store.AttendanceState{StartedAt: t0}
	for _, w := range []store.AttendanceWrite{
		joinWrite(s, "keep", c),
		{Conference: "keep", State: &st, Event: conference.AttendanceEvent{ID: s.NewAttendanceID("inst", t0), Kind: conference.ConferenceStarted, At: t0, By: "technician-1"}},
		leaveWrite(s, "keep", c, conference.LeftStopped, t0.Add(time.Hour)),
	} {
		if err := s.RecordAttendance(w); err != nil {
			t.Fatal(err)
		}
	}
	// Close writes what is queued.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.AttendanceEvents(ctx, "keep")
	if err != nil || len(evs) != 3 || evs[0].Kind != conference.Joined || evs[2].Reason != conference.LeftStopped {
		t.Errorf("events after restart = %+v, %v", evs, err)
	}
	if got, err := s.AttendanceState(ctx, "keep"); err != nil || !got.StartedAt.Equal(t0) {
		t.Errorf("state after restart = %+v, %v", got, err)
	}
}

// TestRedisSpoolOutage records events while Redis is stopped, copies the
// spool file as a crash would leave it, and checks that once Redis is back
// both the running store and a new store opened on the copy write them, so
// that each is stored exactly once, with the time it was observed.
func TestRedisSpoolOutage(t *testing.T) {
	ctx := context.Background()
	srv := storetest.StartRedisServer(t)
	dir := t.TempDir()
	opts := store.Options{Addr: srv.Addr, Prefix: "spool-outage", DataDir: dir}
	s, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPutConference(t, s, demo("outage"))
	a := conn("huyen-a", conference.RolePoint, "huyen-a", "inst", time.Now().UTC())
	if err := s.RecordAttendance(joinWrite(s, "outage", a)); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	base := time.Now().UTC()
	b := conn("huyen-b", conference.RolePoint, "huyen-b", "inst", base.Add(time.Millisecond))
	during := []store.AttendanceWrite{
		leaveWrite(s, "outage", a, conference.LeftNetwork, base),
		joinWrite(s, "outage", b),
		{Conference: "outage", Event: conference.AttendanceEvent{ID: s.NewAttendanceID("inst", base.Add(2*time.Millisecond)),
			Kind: conference.CheckedIn, At: base.Add(2 * time.Millisecond), PointID: "huyen-b", Delegates: 12}},
		leaveWrite(s, "outage", b, conference.LeftClosed, base.Add(3*time.Millisecond)),
	}
	for _, w := range during {
		if err := s.RecordAttendance(w); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // a few failed attempts
	if n := s.SpoolDepth(); n != len(during) {
		t.Fatalf("SpoolDepth during the outage = %d; want %d", n, len(during))
	}
	// What a crash now would leave on disk.
	crashed := t.TempDir()
	copyFile(t, filepath.Join(dir, "attendance.spool"), filepath.Join(crashed, "attendance.spool"))

	srv.Start()
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.FlushAttendance(fctx); err != nil {
		t.Fatal(err)
	}
	// The spool's file goroutine empties the file a moment after the flush.
	for {
		fi, err := os.Stat(filepath.Join(dir, "attendance.spool"))
		if err == nil && fi.Size() == 0 {
			break
		}
		if fctx.Err() != nil {
			t.Fatalf("spool file after the flush: %v, %v; want empty", fi, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The restarted process writes the same events again.
	opts.DataDir = crashed
	s2, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := s2.SpoolDepth(); n != 0 {
		t.Errorf("SpoolDepth after Open = %d; want the spool written at start-up", n)
	}
	evs, err := s2.AttendanceEvents(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	want := []conference.AttendanceEvent{joinWrite(s, "outage", a).Event}
	want[0].ID = evs[0].ID
	for _, w := range during {
		want = append(want, w.Event)
	}
	if !reflect.DeepEqual(evs, want) {
		t.Errorf("events:\n got %+v\nwant %+v", evs, want)
	}
	if conns, err := s2.Connected(ctx, "outage"); err != nil || len(conns) != 0 {
		t.Errorf("Connected = %+v, %v; want none", conns, err)
	}
	if err := storetest.DeletePrefix(opts); err != nil {
		t.Error(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
