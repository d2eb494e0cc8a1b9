package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

// The registry, status and link suites run on a real Redis and on the
// embedded default.

func TestRedisAdmin(t *testing.T) { runAdmin(t, storetest.Redis) }

func TestEmbeddedAdmin(t *testing.T) { runAdmin(t, storetest.Embedded) }

func runAdmin(t *testing.T, open func(testing.TB) *store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.Store)
	}{
		{"Registry", testRegistry},
		{"RegistryRefusals", testRegistryRefusals},
		{"ReplaceRegistry", testReplaceRegistry},
		{"Invite", testInvite},
		{"Status", testStatus},
		{"PointLinks", testPointLinks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var dongNai = []conference.Point{
	{ID: "bien-hoa", Name: "Điểm cầu TP. Biên Hòa", District: "Thành phố Biên Hòa", Representative: "Nguyễn Văn Hùng", Phone: "0912 345 601", ExpectedDelegates: 40},
	{ID: "long-thanh", Name: "Điểm cầu huyện Long Thành", District: "Huyện Long Thành", Representative: "Trần Thị Mai", ExpectedDelegates: 25},
	{ID: "dinh-quan", Name: "Điểm cầu huyện Định Quán", District: "Huyện Định Quán"},
}

func pointIDs(ps []conference.Point) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func testRegistry(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if got, err := s.RegistryPoints(ctx, "dong-nai"); err != nil || len(got) != 0 {
		t.Fatalf("empty registry = %v, %v", got, err)
	}
	res, err := s.PutRegistryPoints(ctx, "dong-nai", dongNai[:2])
	if err != nil || res != (store.ImportResult{Created: 2}) {
		t.Fatalf("PutRegistryPoints = %+v, %v; want 2 created", res, err)
	}
	upd := dongNai[0]
	upd.Phone = "0251 111 222"
	res, err = s.PutRegistryPoints(ctx, "dong-nai", []conference.Point{dongNai[2], upd})
	if err != nil || res != (store.ImportResult{Created: 1, Updated: 1}) {
		t.Fatalf("PutRegistryPoints = %+v, %v; want 1 created, 1 updated", res, err)
	}
	if _, err := s.PutRegistryPoints(ctx, "ba-ria", dongNai[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := s.RegistryPoints(ctx, "dong-nai")
	if err != nil {
		t.Fatal(err)
	}
	want := []conference.Point{upd, dongNai[1], dongNai[2]}
	if !slices.Equal(got, want) {
		t.Errorf("RegistryPoints = %+v\nwant %+v", got, want)
	}
	if p, err := s.RegistryPoint(ctx, "dong-nai", "bien-hoa"); err != nil || p != upd {
		t.Errorf("RegistryPoint = %+v, %v; want %+v", p, err, upd)
	}
	if err := s.DeleteRegistryPoint(ctx, "dong-nai", "long-thanh"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRegistryPoint(ctx, "dong-nai", "long-thanh"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v; want ErrNotFound", err)
	}
	if _, err := s.RegistryPoint(ctx, "dong-nai", "long-thanh"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted point: %v; want ErrNotFound", err)
	}
	got, _ = s.RegistryPoints(ctx, "dong-nai")
	if ids := pointIDs(got); !slices.Equal(ids, []string{"bien-hoa", "dinh-quan"}) {
		t.Errorf("after delete: %v", ids)
	}
	if provs, err := s.Provinces(ctx); err != nil || !slices.Equal(provs, []string{"ba-ria", "dong-nai"}) {
		t.Errorf("Provinces = %v, %v", provs, err)
	}
}

func testRegistryRefusals(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if _, err := s.PutRegistryPoints(ctx, "dong-nai", dongNai[:1]); err != nil {
		t.Fatal(err)
	}
	many := make([]conference.Point, store.MaxRegistryPoints)
	for i := range many {
		many[i] = conference.Point{ID: fmt.Sprintf("p-%d", i), Name: fmt.Sprintf("Điểm %d", i)}
	}
	tests := []struct {
		name     string
		province string
		points   []conference.Point
		want     error // nil: any error
	}{
		{"bad province", "Đồng Nai", dongNai, nil},
		{"point without name", "dong-nai", []conference.Point{dongNai[1], {ID: "x"}}, nil},
		{"bad point id", "dong-nai", []conference.Point{dongNai[1], {ID: "Long Thành", Name: "x"}}, nil},
		{"negative delegates", "dong-nai", []conference.Point{dongNai[1], {ID: "x", Name: "x", ExpectedDelegates: -2}}, nil},
		{"repeated id", "dong-nai", []conference.Point{dongNai[1], dongNai[2], dongNai[1]}, nil},
		{"over the limit", "dong-nai", many, store.ErrTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PutRegistryPoints(ctx, tt.province, tt.points)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("PutRegistryPoints: %v; want an error (%v)", err, tt.want)
			}
			got, err := s.RegistryPoints(ctx, "dong-nai")
			if err != nil {
				t.Fatal(err)
			}
			if ids := pointIDs(got); !slices.Equal(ids, []string{"bien-hoa"}) {
				t.Errorf("after a refused put the registry holds %v; want only bien-hoa", ids)
			}
		})
	}
}

func testReplaceRegistry(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if _, err := s.PutRegistryPoints(ctx, "dong-nai", dongNai); err != nil {
		t.Fatal(err)
	}
	trang := conference.Point{ID: "trang-bom", Name: "Điểm cầu huyện Trảng Bom"}
	res, err := s.ReplaceRegistryPoints(ctx, "dong-nai", []conference.Point{trang, dongNai[2]})
	if err != nil || res != (store.ImportResult{Created: 1, Updated: 1, Removed: 2}) {
		t.Fatalf("ReplaceRegistryPoints = %+v, %v", res, err)
	}
	got, _ := s.RegistryPoints(ctx, "dong-nai")
	if ids := pointIDs(got); !slices.Equal(ids, []string{"trang-bom", "dinh-quan"}) {
		t.Errorf("after replace: %v", ids)
	}
	if _, err := s.ReplaceRegistryPoints(ctx, "dong-nai", []conference.Point{trang, {ID: "x"}}); err == nil {
		t.Error("replace with an invalid point succeeded")
	}
	got, _ = s.RegistryPoints(ctx, "dong-nai")
	if ids := pointIDs(got); !slices.Equal(ids, []string{"trang-bom", "dinh-quan"}) {
		t.Errorf("after a refused replace: %v", ids)
	}
}

func testInvite(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if _, err := s.InvitePoints(ctx, "missing", dongNai); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("invite to a missing conference: %v; want ErrNotFound", err)
	}
	mustPutConference(t, s, demo("so-ket"))
	if n, err := s.InvitePoints(ctx, "so-ket", dongNai[:2]); err != nil || n != 2 {
		t.Fatalf("InvitePoints = %d, %v; want 2", n, err)
	}
	renamed := dongNai[0]
	renamed.Name = "Điểm cầu thành phố Biên Hòa"
	if n, err := s.InvitePoints(ctx, "so-ket", []conference.Point{dongNai[2], renamed}); err != nil || n != 1 {
		t.Fatalf("InvitePoints again = %d, %v; want 1 new", n, err)
	}
	if _, err := s.InvitePoints(ctx, "so-ket", []conference.Point{{ID: "x"}}); err == nil {
		t.Error("invited an invalid point")
	}
	got, err := s.Points(ctx, "so-ket")
	if err != nil {
		t.Fatal(err)
	}
	want := []conference.Point{renamed, dongNai[1], dongNai[2]}
	if !slices.Equal(got, want) {
		t.Errorf("Points = %+v\nwant %+v", got, want)
	}
}

func testStatus(t *testing.T, s *store.Store) {
	ctx := context.Background()
	noTime := demo("status")
	noTime.ScheduledStart = time.Time{}
	mustPutConference(t, s, noTime)
	at := t0
	// setAttendance writes the attendance state as starting and ending
	// the conference over signaling does.
	setAttendance := func(kind conference.AttendanceKind, st store.AttendanceState) {
		t.Helper()
		at = at.Add(time.Minute)
		w := store.AttendanceWrite{Conference: "status", State: &st,
			Event: conference.AttendanceEvent{ID: s.NewAttendanceID("test", at), Kind: kind, At: at, By: "technician"}}
		if _, err := s.WriteAttendance(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name     string
		before   func()
		to       store.Status
		wantFrom store.Status
		wantErr  error
	}{
		{"schedule without a time", nil, store.StatusScheduled, store.StatusDraft, store.ErrNoSchedule},
		{"open for testing", nil, store.StatusTesting, store.StatusDraft, nil},
		{"testing again", nil, store.StatusTesting, store.StatusTesting, nil},
		{"schedule with a time", func() { mustPutConference(t, s, demo("status")) }, store.StatusScheduled, store.StatusTesting, nil},
		{"running cannot be archived", func() {
			setAttendance(conference.ConferenceStarted, store.AttendanceState{StartedAt: at})
		}, store.StatusArchived, store.StatusRunning, store.ErrTransition},
		{"running cannot go back to testing", nil, store.StatusTesting, store.StatusRunning, store.ErrTransition},
		{"ended cannot be scheduled", func() {
			setAttendance(conference.ConferenceEnded, store.AttendanceState{StartedAt: at.Add(-time.Minute), EndedAt: at})
		}, store.StatusScheduled, store.StatusEnded, store.ErrTransition},
		{"running nor ended are set", nil, store.StatusRunning, store.StatusEnded, store.ErrTransition},
		{"archive", nil, store.StatusArchived, store.StatusEnded, nil},
		{"archived is final", nil, store.StatusTesting, store.StatusArchived, store.ErrTransition},
		{"archived twice", nil, store.StatusArchived, store.StatusArchived, store.ErrTransition},
	}
	for _, tt := range steps {
		if tt.before != nil {
			tt.before()
		}
		before, err := s.ConferenceStatus(ctx, "status")
		if err != nil {
			t.Fatal(err)
		}
		if before.Status != tt.wantFrom {
			t.Fatalf("%s: status before = %s; want %s", tt.name, before.Status, tt.wantFrom)
		}
		from, now, err := s.SetConferenceStatus(ctx, "status", tt.to, at)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: SetConferenceStatus(%s) = %v; want %v", tt.name, tt.to, err, tt.wantErr)
			}
			if after, _ := s.ConferenceStatus(ctx, "status"); after.Status != before.Status || after.Stage != before.Stage {
				t.Errorf("%s: a refused change changed the status to %+v", tt.name, after)
			}
			continue
		}
		if err != nil || from != tt.wantFrom || now != tt.to {
			t.Errorf("%s: SetConferenceStatus(%s) = %s, %s, %v; want %s, %s", tt.name, tt.to, from, now, err, tt.wantFrom, tt.to)
		}
		after, err := s.ConferenceStatus(ctx, "status")
		if err != nil || after.Status != tt.to || !after.ChangedAt.Equal(at) {
			t.Errorf("%s: status after = %+v, %v; want %s changed at %v", tt.name, after, err, tt.to, at)
		}
		// The script and CanChange apply the same rules.
		if !store.CanChange(tt.wantFrom, tt.to) {
			t.Errorf("%s: CanChange(%s, %s) = false, but the store allowed it", tt.name, tt.wantFrom, tt.to)
		}
	}
	if _, _, err := s.SetConferenceStatus(ctx, "missing", store.StatusTesting, at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("status of a missing conference: %v; want ErrNotFound", err)
	}
	all, err := s.ConferenceOverviews(ctx)
	if err != nil || len(all) != 1 || all[0].Status != store.StatusArchived || all[0].Title == "" {
		t.Errorf("ConferenceOverviews = %+v, %v", all, err)
	}
}

func TestDeriveStatus(t *testing.T) {
	started := store.AttendanceState{StartedAt: t0}
	ended := store.AttendanceState{StartedAt: t0, EndedAt: t0.Add(time.Hour)}
	tests := []struct {
		stage store.Status
		st    store.AttendanceState
		want  store.Status
	}{
		{"", store.AttendanceState{}, store.StatusDraft},
		{store.StatusTesting, store.AttendanceState{}, store.StatusTesting},
		{store.StatusTesting, started, store.StatusRunning},
		{store.StatusScheduled, ended, store.StatusEnded},
		{store.StatusArchived, started, store.StatusArchived},
	}
	for _, tt := range tests {
		if got := store.DeriveStatus(tt.stage, tt.st); got != tt.want {
			t.Errorf("DeriveStatus(%q, %+v) = %s; want %s", tt.stage, tt.st, got, tt.want)
		}
	}
}

func testPointLinks(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mustPutConference(t, s, demo("links"))
	if _, err := s.InvitePoints(ctx, "links", dongNai[:2]); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	first, err := s.PointLinks(ctx, "links", []string{"bien-hoa", "long-thanh", "not-invited"}, now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first["bien-hoa"].Version != 0 || !first["bien-hoa"].ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("PointLinks = %+v; want two links of version 0 expiring in an hour", first)
	}
	// Asked again later, the same links come back.
	again, err := s.PointLinks(ctx, "links", []string{"bien-hoa"}, now.Add(time.Minute), now.Add(2*time.Hour))
	if err != nil || again["bien-hoa"] != first["bien-hoa"] {
		t.Errorf("PointLinks again = %+v, %v; want %+v", again, err, first["bien-hoa"])
	}
	if v, err := s.LinkVersion(ctx, "links", "bien-hoa"); err != nil || v != 0 {
		t.Errorf("LinkVersion = %d, %v; want 0", v, err)
	}
	re, err := s.ReissuePointLink(ctx, "links", "bien-hoa", now.Add(time.Minute), now.Add(3*time.Hour))
	if err != nil || re.Version != 1 || !re.IssuedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("ReissuePointLink = %+v, %v; want version 1", re, err)
	}
	if v, err := s.LinkVersion(ctx, "links", "bien-hoa"); err != nil || v != 1 {
		t.Errorf("LinkVersion after reissue = %d, %v; want 1", v, err)
	}
	// An expired link is renewed with its version.
	later := now.Add(4 * time.Hour)
	renewed, err := s.PointLinks(ctx, "links", []string{"bien-hoa", "long-thanh"}, later, later.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if l := renewed["bien-hoa"]; l.Version != 1 || !l.IssuedAt.Equal(later) {
		t.Errorf("renewed link = %+v; want version 1 issued at %v", l, later)
	}
	if _, err := s.ReissuePointLink(ctx, "links", "not-invited", now, later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reissue for a point not invited: %v; want ErrNotFound", err)
	}
	if v, err := s.LinkVersion(ctx, "links", "not-invited"); err != nil || v != 0 {
		t.Errorf("LinkVersion of a point without link = %d, %v; want 0", v, err)
	}
}

// TestEmbeddedAdminSurvivesRestart checks that the scripts of the registry,
// status and links are in the log of the embedded store.
func TestEmbeddedAdminSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustPutConference(t, s, demo("keep"))
	steps := []error{
		second(s.PutRegistryPoints(ctx, "dong-nai", dongNai)),
		s.DeleteRegistryPoint(ctx, "dong-nai", "dinh-quan"),
		second(s.InvitePoints(ctx, "keep", dongNai[:1])),
		second(s.ReissuePointLink(ctx, "keep", "bien-hoa", t0, t0.Add(time.Hour))),
	}
	_, _, err = s.SetConferenceStatus(ctx, "keep", store.StatusTesting, t0)
	for _, err := range append(steps, err) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reg, err := s.RegistryPoints(ctx, "dong-nai")
	if ids := pointIDs(reg); err != nil || !slices.Equal(ids, []string{"bien-hoa", "long-thanh"}) {
		t.Errorf("registry after restart = %v, %v", ids, err)
	}
	if v, err := s.LinkVersion(ctx, "keep", "bien-hoa"); err != nil || v != 1 {
		t.Errorf("link version after restart = %d, %v; want 1", v, err)
	}
	if st, err := s.ConferenceStatus(ctx, "keep"); err != nil || st.Status != store.StatusTesting {
		t.Errorf("status after restart = %+v, %v", st, err)
	}
	if pts, err := s.Points(ctx, "keep"); err != nil || len(pts) != 1 {
		t.Errorf("invited points after restart = %v, %v", pts, err)
	}
}
