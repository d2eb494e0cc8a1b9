package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

// The same behaviour suite runs on a real Redis and on the embedded default.

func TestRedisBehaviour(t *testing.T) { runBehaviour(t, storetest.Redis) }

func TestEmbeddedBehaviour(t *testing.T) { runBehaviour(t, storetest.Embedded) }

func runBehaviour(t *testing.T, open func(testing.TB) *store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.Store)
	}{
		{"Conferences", testConferences},
		{"BadInput", testBadInput},
		{"PointOrder", testPointOrder},
		{"Attendance", testAttendance},
		{"MarkDisconnectedIf", testMarkDisconnectedIf},
		{"DropInstance", testDropInstance},
		{"ConcurrentJoins", testConcurrentJoins},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var t0 = time.Date(2025, 3, 14, 7, 30, 0, 123456789, time.UTC)

func demo(id string) conference.Conference {
	return conference.Conference{
		ID:             id,
		Title:          "Hội nghị trực tuyến sơ kết " + id,
		TimeZone:       conference.DefaultTimeZone,
		ScheduledStart: t0.Add(time.Hour),
	}
}

func mustPutConference(t *testing.T, s *store.Store, c conference.Conference) {
	t.Helper()
	if err := s.PutConference(context.Background(), c); err != nil {
		t.Fatalf("PutConference(%s): %v", c.ID, err)
	}
}

func testConferences(t *testing.T, s *store.Store) {
	ctx := context.Background()
	got, err := s.Conferences(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Conferences on empty store = %v, %v; want none", got, err)
	}
	mustPutConference(t, s, demo("b-conf"))
	first := demo("a-conf")
	first.CreatedAt = t0
	mustPutConference(t, s, first)

	a, err := s.Conference(ctx, "a-conf")
	if err != nil {
		t.Fatal(err)
	}
	if !a.CreatedAt.Equal(t0) || a.Title != first.Title || !a.ScheduledStart.Equal(first.ScheduledStart) {
		t.Errorf("Conference(a-conf) = %+v; want %+v", a, first)
	}
	b, err := s.Conference(ctx, "b-conf")
	if err != nil {
		t.Fatal(err)
	}
	if b.CreatedAt.IsZero() || time.Since(b.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt of b-conf = %v; want about now", b.CreatedAt)
	}

	// An update replaces the fields and keeps CreatedAt.
	upd := demo("a-conf")
	upd.Title = "Đổi tên"
	upd.CreatedAt = t0.Add(48 * time.Hour)
	mustPutConference(t, s, upd)
	a, err = s.Conference(ctx, "a-conf")
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Đổi tên" || !a.CreatedAt.Equal(t0) {
		t.Errorf("after update: title %q created %v; want %q, %v", a.Title, a.CreatedAt, "Đổi tên", t0)
	}

	all, err := s.Conferences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"a-conf", "b-conf"}) {
		t.Errorf("Conferences ids = %v; want [a-conf b-conf]", ids)
	}
}

func testBadInput(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("real"))
	if err := s.PutPoint(ctx, "real", conference.Point{ID: "p1", Name: "Điểm cầu 1"}); err != nil {
		t.Fatal(err)
	}

	invalid := []struct {
		name string
		err  error
	}{
		{"bad conference id", s.PutConference(ctx, conference.Conference{ID: "Bad ID", Title: "x"})},
		{"dash first", s.PutConference(ctx, conference.Conference{ID: "-x", Title: "x"})},
		{"key injection", s.PutConference(ctx, conference.Conference{ID: "a}:b", Title: "x"})},
		{"empty title", s.PutConference(ctx, conference.Conference{ID: "ok"})},
		{"bad time zone", s.PutConference(ctx, conference.Conference{ID: "ok", Title: "x", TimeZone: "Mars/Olympus"})},
		{"bad point id", s.PutPoint(ctx, "real", conference.Point{ID: "P 1", Name: "x"})},
		{"point without name", s.PutPoint(ctx, "real", conference.Point{ID: "p2"})},
		{"negative delegates", s.PutPoint(ctx, "real", conference.Point{ID: "p2", Name: "x", ExpectedDelegates: -1})},
		{"point in bad conference id", s.PutPoint(ctx, "Bad", conference.Point{ID: "p2", Name: "x"})},
		{"connection without participant", s.MarkConnected(ctx, "real", store.Connection{Role: conference.RoleChair, Instance: "i"})},
		{"connection with bad role", s.MarkConnected(ctx, "real", store.Connection{ParticipantID: "u", Role: "king", Instance: "i"})},
		{"connection without instance", s.MarkConnected(ctx, "real", store.Connection{ParticipantID: "u", Role: conference.RoleChair})},
	}
	for _, tt := range invalid {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		} else if errors.Is(tt.err, store.ErrNotFound) {
			t.Errorf("%s: error %v is ErrNotFound; want a validation error", tt.name, tt.err)
		}
	}
	if _, err := s.Conference(ctx, "ok"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an invalid conference was stored: %v", err)
	}

	notFound := []struct {
		name string
		err  error
	}{
		{"point for missing conference", s.PutPoint(ctx, "missing", conference.Point{ID: "p1", Name: "x"})},
		{"connection to missing conference", s.MarkConnected(ctx, "missing", store.Connection{ParticipantID: "u", Role: conference.RoleChair, Instance: "i"})},
		{"Conference missing", second(s.Conference(ctx, "missing"))},
		{"Conference invalid id", second(s.Conference(ctx, "../x"))},
		{"Point missing conference", second(s.Point(ctx, "missing", "p1"))},
		{"Point missing point", second(s.Point(ctx, "real", "p9"))},
		{"Point invalid id", second(s.Point(ctx, "real", "P*"))},
		{"Points missing", second(s.Points(ctx, "missing"))},
		{"Connected missing", second(s.Connected(ctx, "missing"))},
		{"AttendanceEvents missing", second(s.AttendanceEvents(ctx, "missing"))},
		{"AttendanceState missing", second(s.AttendanceState(ctx, "missing"))},
	}
	for _, tt := range notFound {
		if !errors.Is(tt.err, store.ErrNotFound) {
			t.Errorf("%s: error %v; want ErrNotFound", tt.name, tt.err)
		}
	}
	if _, err := s.Points(ctx, "missing"); err == nil {
		t.Error("Points of missing conference: no error")
	}
	// Disconnecting someone who is not connected is no error and no event.
	if err := s.MarkDisconnected(ctx, "real", "nobody", "test", t0); err != nil {
		t.Errorf("MarkDisconnected(nobody) = %v", err)
	}
	if evs, err := s.AttendanceEvents(ctx, "real"); err != nil || len(evs) != 0 {
		t.Errorf("Events = %v, %v; want none", evs, err)
	}
}

func second[T any](_ T, err error) error { return err }

func testPointOrder(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("order"))
	if pts, err := s.Points(ctx, "order"); err != nil || len(pts) != 0 {
		t.Fatalf("Points of new conference = %v, %v; want none", pts, err)
	}
	for _, p := range []conference.Point{
		{ID: "thanh-pho", Name: "Thành phố"},
		{ID: "huyen-b", Name: "Huyện B", ExpectedDelegates: 30},
		{ID: "huyen-a", Name: "Huyện A", Representative: "Ông A", Phone: "0900000000"},
		{ID: "huyen-b", Name: "Huyện B (sửa)", ExpectedDelegates: 35}, // update keeps its place
	} {
		if err := s.PutPoint(ctx, "order", p); err != nil {
			t.Fatalf("PutPoint(%s): %v", p.ID, err)
		}
	}
	pts, err := s.Points(ctx, "order")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pts {
		ids = append(ids, p.ID)
	}
	if want := []string{"thanh-pho", "huyen-b", "huyen-a"}; !slices.Equal(ids, want) {
		t.Errorf("Points order = %v; want %v", ids, want)
	}
	b, err := s.Point(ctx, "order", "huyen-b")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "Huyện B (sửa)" || b.ExpectedDelegates != 35 {
		t.Errorf("Point(huyen-b) = %+v; want the update", b)
	}
	a, err := s.Point(ctx, "order", "huyen-a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Representative != "Ông A" || a.Phone != "0900000000" {
		t.Errorf("Point(huyen-a) = %+v", a)
	}
}

func conn(pid string, role conference.Role, point, instance string, since time.Time) store.Connection {
	return store.Connection{ParticipantID: pid, Role: role, PointID: point, Name: "Tên " + pid, Since: since, Instance: instance}
}

func testAttendance(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("att"))
	local := time.FixedZone("ICT", 7*3600)
	conns := []store.Connection{
		conn("point-b", conference.RolePoint, "huyen-b", "inst-1", t0.In(local)),
		conn("chair", conference.RoleChair, "", "inst-1", t0.Add(time.Second)),
		conn("point-a", conference.RolePoint, "huyen-a", "inst-2", t0.Add(2*time.Second)),
	}
	for _, c := range conns {
		if err := s.MarkConnected(ctx, "att", c); err != nil {
			t.Fatalf("MarkConnected(%s): %v", c.ParticipantID, err)
		}
	}
	if err := s.MarkDisconnected(ctx, "att", "point-b", conference.LeftNetwork, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDisconnected(ctx, "att", "point-b", "again", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}

	got, err := s.Connected(ctx, "att")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ParticipantID)
		if c.Since.Location() != time.UTC {
			t.Errorf("%s: Since %v is not UTC", c.ParticipantID, c.Since)
		}
	}
	if !slices.Equal(ids, []string{"chair", "point-a"}) {
		t.Errorf("Connected = %v; want [chair point-a]", ids)
	}
	if got[1].PointID != "huyen-a" || got[1].Instance != "inst-2" || got[1].Name != "Tên point-a" || !got[1].Since.Equal(conns[2].Since) {
		t.Errorf("Connected[1] = %+v; want %+v", got[1], conns[2])
	}

	evs, err := s.AttendanceEvents(ctx, "att")
	if err != nil {
		t.Fatal(err)
	}
	want := []conference.AttendanceEvent{
		{Kind: conference.Joined, ParticipantID: "point-b", Role: conference.RolePoint, PointID: "huyen-b", Instance: "inst-1", At: t0},
		{Kind: conference.Joined, ParticipantID: "chair", Role: conference.RoleChair, Instance: "inst-1", At: t0.Add(time.Second)},
		{Kind: conference.Joined, ParticipantID: "point-a", Role: conference.RolePoint, PointID: "huyen-a", Instance: "inst-2", At: t0.Add(2 * time.Second)},
		{Kind: conference.Left, ParticipantID: "point-b", Role: conference.RolePoint, PointID: "huyen-b", Reason: conference.LeftNetwork, At: t0.Add(time.Minute)},
	}
	checkEvents(t, evs, want)
}

// checkEvents compares events ignoring ids, which must be set and
// unique.
func checkEvents(t *testing.T, got, want []conference.AttendanceEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v; want %d", len(got), got, len(want))
	}
	seen := map[string]bool{}
	for i := range got {
		g := got[i]
		if g.ID == "" || seen[g.ID] {
			t.Errorf("event %d: id %q empty or repeated", i, g.ID)
		}
		seen[g.ID] = true
		g.ID = ""
		if !g.At.Equal(want[i].At) {
			t.Errorf("event %d: At %v; want %v", i, g.At, want[i].At)
		}
		g.At = want[i].At
		if g != want[i] {
			t.Errorf("event %d = %+v; want %+v", i, g, want[i])
		}
	}
}

func testMarkDisconnectedIf(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("replace"))
	old := conn("p", conference.RolePoint, "x", "inst-1", t0)
	cur := conn("p", conference.RolePoint, "x", "inst-2", t0.Add(time.Minute))
	for _, c := range []store.Connection{old, cur} {
		if err := s.MarkConnected(ctx, "replace", c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		c    store.Connection
		want bool
	}{
		{"old connection", old, false},
		{"same instance, other time", conn("p", conference.RolePoint, "x", "inst-2", t0), false},
		{"current connection", cur, true},
		{"already gone", cur, false},
	}
	for _, tt := range tests {
		ok, err := s.MarkDisconnectedIf(ctx, "replace", tt.c, "closed", t0.Add(time.Hour))
		if err != nil || ok != tt.want {
			t.Errorf("%s: MarkDisconnectedIf = %v, %v; want %v", tt.name, ok, err, tt.want)
		}
	}
	evs, err := s.AttendanceEvents(ctx, "replace")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[2].Kind != conference.Left {
		t.Errorf("events = %+v; want joined, joined, left", evs)
	}
}

func testDropInstance(t *testing.T, s *store.Store) {
	ctx := context.Background()
	for _, id := range []string{"c1", "c2"} {
		mustPutConference(t, s, demo(id))
		for i, inst := range []string{"dead", "alive", "dead"} {
			c := conn(fmt.Sprintf("u%d", i), conference.RolePoint, fmt.Sprintf("p%d", i), inst, t0)
			if err := s.MarkConnected(ctx, id, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := s.DropInstance(ctx, "dead", "restart", t0.Add(time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("DropInstance = %d, %v; want 4", n, err)
	}
	for _, id := range []string{"c1", "c2"} {
		got, err := s.Connected(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Instance != "alive" {
			t.Errorf("%s: Connected after drop = %+v; want only u1", id, got)
		}
		evs, err := s.AttendanceEvents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, e := range evs {
			if e.Kind == conference.Left {
				left++
				if e.Reason != "restart" || !e.At.Equal(t0.Add(time.Hour)) || e.Role != conference.RolePoint || e.PointID == "" {
					t.Errorf("%s: left event %+v", id, e)
				}
			}
		}
		if left != 2 {
			t.Errorf("%s: %d left events; want 2", id, left)
		}
	}
	if n, err := s.DropInstance(ctx, "dead", "restart", t0); err != nil || n != 0 {
		t.Errorf("second DropInstance = %d, %v; want 0", n, err)
	}
}

func testConcurrentJoins(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("busy"))
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			pid := fmt.Sprintf("p%02d", i)
			errs <- s.MarkConnected(ctx, "busy", conn(pid, conference.RolePoint, pid, "inst", t0))
			if i%2 == 0 {
				errs <- s.MarkDisconnected(ctx, "busy", pid, "bye", t0.Add(time.Second))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Connected(ctx, "busy")
	if err != nil || len(got) != n/2 {
		t.Errorf("Connected = %d, %v; want %d", len(got), err, n/2)
	}
	evs, err := s.AttendanceEvents(ctx, "busy")
	if err != nil || len(evs) != n+n/2 {
		t.Errorf("Events = %d, %v; want %d", len(evs), err, n+n/2)
	}
}
