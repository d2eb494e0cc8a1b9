package signal_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/token"
)

// events flushes the store's queued attendance writes and returns the
// events of conf.
func events(t *testing.T, st *store.Store, conf string) []conference.AttendanceEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.FlushAttendance(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := st.AttendanceEvents(ctx, conf)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// waitEvents polls until pred holds for the events of conf.
func waitEvents(t *testing.T, st *store.Store, conf string, pred func([]conference.AttendanceEvent) bool) []conference.AttendanceEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs := events(t, st, conf)
		if pred(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("events never matched: %s", describe(evs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count returns how many events match kind and participant ("" for any).
func count(evs []conference.AttendanceEvent, kind conference.AttendanceKind, participant string) int {
	n := 0
	for _, e := range evs {
		if e.Kind == kind && (participant == "" || e.ParticipantID == participant) {
			n++
		}
	}
	return n
}

func describe(evs []conference.AttendanceEvent) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %s %s %s point=%s reason=%s by=%s", e.At.Format("15:04:05.000"), e.Kind, e.ParticipantID, e.PointID, e.Reason, e.By)
	}
	return b.String()
}

// expectError waits for the next error message of c and checks its code.
func expectError(t *testing.T, c *client.Client, request, code string) protocol.Error {
	t.Helper()
	select {
	case e := <-c.Errors():
		if e.Code != code || e.Request != request || e.Message == "" {
			t.Errorf("error = %+v; want code %q for %s with a message", e, code, request)
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s error for %s", code, request)
	}
	return protocol.Error{}
}

// noError fails if c received an error message.
func noError(t *testing.T, c *client.Client) {
	t.Helper()
	select {
	case e := <-c.Errors():
		t.Errorf("unexpected error %+v", e)
	default:
	}
}

func last(evs []conference.AttendanceEvent) conference.AttendanceEvent { return evs[len(evs)-1] }

func TestAttendanceSignaling(t *testing.T) { eachStore(t, testAttendanceSignaling) }

func testAttendanceSignaling(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	const conf = "att-signal"
	points := seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tech := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), false)
	chair := s.dial(ctx, s.token(conf, conference.RoleChair, "", time.Hour), false)
	secr := s.dial(ctx, s.token(conf, conference.RoleSecretariat, "", time.Hour), false)
	p1 := s.dial(ctx, s.token(conf, conference.RolePoint, points[0], time.Hour), false)
	p2 := s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), false)
	techID, chairID := tech.Welcome().ParticipantID, chair.Welcome().ParticipantID
	waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Joined, "") == 5 })

	t.Run("check-in", func(t *testing.T) {
		if err := p1.CheckIn(12, "  Ông Trần Văn Nam ", ""); err != nil {
			t.Fatal(err)
		}
		evs := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return last(evs).Kind == conference.CheckedIn })
		if e := last(evs); e.PointID != points[0] || e.Delegates != 12 || e.Representative != "Ông Trần Văn Nam" || e.By != points[0] {
			t.Errorf("check-in event %+v", e)
		}
		if err := tech.CheckIn(30, "", points[1]); err != nil {
			t.Fatal(err)
		}
		evs = waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.CheckedIn, "") == 2 })
		if e := last(evs); e.PointID != points[1] || e.Delegates != 30 || e.By != techID {
			t.Errorf("technician's correction %+v", e)
		}
		refusals := []struct {
			name string
			c    *client.Client
			send func(*client.Client) error
			code string
		}{
			{"chair", chair, func(c *client.Client) error { return c.CheckIn(3, "", points[0]) }, protocol.CodeForbidden},
			{"secretariat", secr, func(c *client.Client) error { return c.CheckIn(3, "", points[0]) }, protocol.CodeForbidden},
			{"point for another", p1, func(c *client.Client) error { return c.CheckIn(3, "", points[1]) }, protocol.CodeForbidden},
			{"negative", p1, func(c *client.Client) error { return c.CheckIn(-1, "", "") }, protocol.CodeBadRequest},
			{"too many", p1, func(c *client.Client) error { return c.CheckIn(10001, "", "") }, protocol.CodeBadRequest},
			{"long name", p1, func(c *client.Client) error { return c.CheckIn(3, strings.Repeat("ạ", 121), "") }, protocol.CodeBadRequest},
			{"control character", p1, func(c *client.Client) error { return c.CheckIn(3, "a\x07b", "") }, protocol.CodeBadRequest},
			{"technician without point", tech, func(c *client.Client) error { return c.CheckIn(3, "", "") }, protocol.CodeBadRequest},
			{"technician, unknown point", tech, func(c *client.Client) error { return c.CheckIn(3, "", "diem-99") }, protocol.CodeBadRequest},
			{"no delegates", p1, func(c *client.Client) error { return c.SendRaw([]byte(`{"type":"check_in"}`)) }, protocol.CodeBadRequest},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				if err := r.send(r.c); err != nil {
					t.Fatal(err)
				}
				expectError(t, r.c, protocol.TypeCheckIn, r.code)
			})
		}
	})

	t.Run("roll call", func(t *testing.T) {
		rc := func(c *client.Client, m protocol.RollCall) {
			t.Helper()
			if err := c.RollCall(m); err != nil {
				t.Fatal(err)
			}
		}
		rc(p1, protocol.RollCall{Action: protocol.RollCallStart})
		expectError(t, p1, protocol.TypeRollCall, protocol.CodeForbidden)
		rc(secr, protocol.RollCall{Action: protocol.RollCallStart})
		expectError(t, secr, protocol.TypeRollCall, protocol.CodeForbidden)
		rc(chair, protocol.RollCall{Action: protocol.RollCallStart, Seconds: -5})
		expectError(t, chair, protocol.TypeRollCall, protocol.CodeBadRequest)
		rc(tech, protocol.RollCall{Action: protocol.RollCallConfirm})
		expectError(t, tech, protocol.TypeRollCall, protocol.CodeForbidden)
		rc(p1, protocol.RollCall{Action: protocol.RollCallConfirm})
		expectError(t, p1, protocol.TypeRollCall, protocol.CodeConflict) // none open

		start := time.Now()
		rc(chair, protocol.RollCall{Action: protocol.RollCallStart, Seconds: 30})
		for _, c := range []*client.Client{tech, chair, secr, p1, p2} {
			if err := c.WaitRollCall(ctx, func(r protocol.RollCallState) bool { return r.Open }); err != nil {
				t.Fatal(err)
			}
		}
		state := p2.RollCallState()
		if d := state.Deadline.Sub(start); d < 29*time.Second || d > 31*time.Second || state.ServerTime.IsZero() {
			t.Errorf("roll call state %+v: deadline %v after start, want 30 s", state, d)
		}
		rc(tech, protocol.RollCall{Action: protocol.RollCallStart})
		expectError(t, tech, protocol.TypeRollCall, protocol.CodeConflict)

		rc(p1, protocol.RollCall{Action: protocol.RollCallConfirm})
		if err := p2.WaitRollCall(ctx, func(r protocol.RollCallState) bool { return len(r.Confirmed) == 1 && r.Confirmed[0] == points[0] }); err != nil {
			t.Fatal(err)
		}
		rc(p1, protocol.RollCall{Action: protocol.RollCallConfirm})
		expectError(t, p1, protocol.TypeRollCall, protocol.CodeConflict)
		rc(p1, protocol.RollCall{Action: protocol.RollCallConfirm, PointID: points[1]})
		expectError(t, p1, protocol.TypeRollCall, protocol.CodeForbidden)

		rc(chair, protocol.RollCall{Action: protocol.RollCallMark, PointID: points[1], Status: conference.RollCallAbsent})
		expectError(t, chair, protocol.TypeRollCall, protocol.CodeForbidden)
		rc(tech, protocol.RollCall{Action: protocol.RollCallMark, PointID: points[1], Status: "maybe"})
		expectError(t, tech, protocol.TypeRollCall, protocol.CodeBadRequest)
		rc(tech, protocol.RollCall{Action: protocol.RollCallMark, PointID: points[1], Status: conference.RollCallAbsent, Reason: "Mất điện cục bộ"})
		rc(chair, protocol.RollCall{Action: protocol.RollCallClose})
		expectError(t, chair, protocol.TypeRollCall, protocol.CodeForbidden)
		rc(tech, protocol.RollCall{Action: protocol.RollCallClose})
		if err := p2.WaitRollCall(ctx, func(r protocol.RollCallState) bool { return !r.Open }); err != nil {
			t.Fatal(err)
		}
		rc(tech, protocol.RollCall{Action: protocol.RollCallClose})
		expectError(t, tech, protocol.TypeRollCall, protocol.CodeConflict)
		rc(p2, protocol.RollCall{Action: protocol.RollCallConfirm})
		expectError(t, p2, protocol.TypeRollCall, protocol.CodeConflict)

		evs := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return last(evs).Kind == conference.RollCallClosed })
		var got []conference.AttendanceEvent
		for _, e := range evs {
			if strings.HasPrefix(string(e.Kind), "roll_call") {
				got = append(got, e)
			}
		}
		if len(got) != 4 {
			t.Fatalf("roll-call events: %s", describe(got))
		}
		id := got[0].RollCallID
		checks := []struct {
			ok   bool
			what string
		}{
			{got[0].Kind == conference.RollCallStarted && id == got[0].ID && got[0].By == chairID && got[0].Window == conference.Seconds(30*time.Second), "started"},
			{got[1].Kind == conference.RollCallConfirmed && got[1].RollCallID == id && got[1].PointID == points[0] && got[1].ParticipantID == points[0], "confirmed"},
			{got[2].Kind == conference.RollCallMarked && got[2].RollCallID == id && got[2].PointID == points[1] && got[2].Status == conference.RollCallAbsent &&
				got[2].Reason == "Mất điện cục bộ" && got[2].By == techID, "marked"},
			{got[3].Kind == conference.RollCallClosed && got[3].RollCallID == id && got[3].By == techID, "closed"},
		}
		for i, c := range checks {
			if !c.ok {
				t.Errorf("%s event %+v", c.what, got[i])
			}
		}
		// The state is in the store for a restarted server.
		state2, err := st.AttendanceState(ctx, conf)
		if err != nil || state2.RollCall.ID != id || state2.RollCall.Open || state2.RollCall.Confirmed[points[0]].IsZero() {
			t.Errorf("stored state %+v, %v", state2, err)
		}
	})

	t.Run("conference start and end", func(t *testing.T) {
		send := func(c *client.Client, action string) {
			t.Helper()
			if err := c.ConferenceAction(action); err != nil {
				t.Fatal(err)
			}
		}
		send(chair, protocol.ConferenceStart)
		expectError(t, chair, protocol.TypeConference, protocol.CodeForbidden)
		send(p1, protocol.ConferenceStart)
		expectError(t, p1, protocol.TypeConference, protocol.CodeForbidden)
		send(tech, "pause")
		expectError(t, tech, protocol.TypeConference, protocol.CodeBadRequest)
		send(tech, protocol.ConferenceEnd)
		expectError(t, tech, protocol.TypeConference, protocol.CodeConflict)
		send(tech, protocol.ConferenceReopen)
		expectError(t, tech, protocol.TypeConference, protocol.CodeConflict)
		// The testing stage, on every page; points may not ask for the
		// floor yet.
		status := func(want string) {
			t.Helper()
			if err := p1.WaitConference(ctx, func(cs protocol.ConferenceState) bool { return cs.Status == want }); err != nil {
				t.Fatalf("point's conference state %+v; want status %s", p1.ConferenceState(), want)
			}
		}
		send(tech, protocol.ConferenceTesting)
		status(protocol.StatusTesting)
		if err := p1.Floor(protocol.Floor{Action: "ask"}); err != nil {
			t.Fatal(err)
		}
		if e := expectError(t, p1, protocol.TypeFloor, protocol.CodeConflict); e.Reason != "not_running" {
			t.Errorf("a floor request while testing: %+v, want reason not_running", e)
		}
		send(tech, protocol.ConferenceStart)
		waitConference := func(running bool) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for p1.ConferenceState().Running != running || p1.ConferenceState().StartedAt.IsZero() {
				if time.Now().After(deadline) {
					t.Fatalf("conference state %+v; want running %v", p1.ConferenceState(), running)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		waitConference(true)
		send(tech, protocol.ConferenceStart)
		expectError(t, tech, protocol.TypeConference, protocol.CodeConflict)
		// Ending closes an open roll call.
		if err := chair.RollCall(protocol.RollCall{Action: protocol.RollCallStart}); err != nil {
			t.Fatal(err)
		}
		if err := p1.WaitRollCall(ctx, func(r protocol.RollCallState) bool { return r.Open }); err != nil {
			t.Fatal(err)
		}
		send(tech, protocol.ConferenceEnd)
		waitConference(false)
		if err := p1.WaitRollCall(ctx, func(r protocol.RollCallState) bool { return !r.Open }); err != nil {
			t.Fatal(err)
		}
		evs := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return last(evs).Kind == conference.ConferenceEnded })
		n := len(evs)
		if evs[n-2].Kind != conference.RollCallClosed || count(evs, conference.ConferenceStarted, "") != 1 || last(evs).By != techID {
			t.Errorf("events: %s", describe(evs[n-4:]))
		}
		status(protocol.StatusEnded)

		// Starting again after the end is refused: the record stays as
		// it is, unless the technician reopens it, explicitly; testing
		// is over for good.
		send(tech, protocol.ConferenceStart)
		if e := expectError(t, tech, protocol.TypeConference, protocol.CodeConflict); e.Reason != "ended" {
			t.Errorf("start after the end: %+v, want reason ended", e)
		}
		send(tech, protocol.ConferenceTesting)
		expectError(t, tech, protocol.TypeConference, protocol.CodeConflict)
		if cs := p1.ConferenceState(); cs.Status != protocol.StatusEnded || cs.Sessions != 1 {
			t.Errorf("after the refusals: %+v", cs)
		}
		send(tech, protocol.ConferenceReopen)
		if err := p1.WaitConference(ctx, func(cs protocol.ConferenceState) bool { return cs.Running && cs.Sessions == 2 }); err != nil {
			t.Fatalf("reopened: %+v", p1.ConferenceState())
		}
		send(tech, protocol.ConferenceEnd)
		status(protocol.StatusEnded)
		evs = waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool {
			return last(evs).Kind == conference.ConferenceEnded && count(evs, conference.ConferenceEnded, "") == 2
		})
		r := conference.BuildReport(conference.Conference{ID: conf}, nil, evs, nil, time.Now())
		if len(r.Sessions) != 2 || r.Sessions[0].End.IsZero() || !r.Sessions[1].Reopened {
			t.Errorf("the report's sessions: %+v", r.Sessions)
		}
	})

	for _, c := range []*client.Client{tech, chair, secr, p1, p2} {
		noError(t, c)
	}
	// Every event reached the hall and the secretariat, none the points.
	evs := events(t, st, conf)
	for name, c := range map[string]*client.Client{"technician": tech, "chair": chair, "secretariat": secr} {
		if n, _ := c.AttendanceChanges(); n < len(evs)-3 { // joins before it connected
			t.Errorf("%s got %d attendance_changed; %d events", name, n, len(evs))
		}
	}
	if n, _ := p1.AttendanceChanges(); n != 0 {
		t.Errorf("a point got %d attendance_changed", n)
	}

	t.Run("reasons for leaving", func(t *testing.T) {
		// Closed by the user: a close frame.
		p1.Close()
		// Network lost: the socket goes away without one. The second
		// connection replaces p2's, and counts once its media connected.
		again := s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), false)
		waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool {
			return count(evs, conference.Joined, points[1]) == 2
		})
		again.Abort()
		// Server stopped: the remaining connections.
		evs := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Left, "") == 3 })
		s.Stop()
		evs = waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Left, "") == 6 })
		reasons := map[string][]string{}
		for _, e := range evs {
			if e.Kind == conference.Left {
				reasons[e.ParticipantID] = append(reasons[e.ParticipantID], e.Reason)
			}
		}
		want := map[string][]string{
			points[0]: {conference.LeftClosed},
			points[1]: {conference.LeftReplaced, conference.LeftNetwork},
			techID:    {conference.LeftStopped},
			chairID:   {conference.LeftStopped},
		}
		for p, w := range want {
			if strings.Join(reasons[p], ",") != strings.Join(w, ",") {
				t.Errorf("%s left for %v; want %v", p, reasons[p], w)
			}
		}
		if conns, err := st.Connected(ctx, conf); err != nil || len(conns) != 0 {
			t.Errorf("connected after stop: %+v, %v", conns, err)
		}
	})
}

// TestRedisAttendanceRedisOutage stops the Redis server mid-conference while
// points leave and join: media keeps flowing, and once Redis is back the
// store holds every join and leave of the outage exactly once, with the
// time it happened.
func TestRedisAttendanceRedisOutage(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	opts := store.Options{Addr: srv.Addr, Prefix: "outage", DataDir: t.TempDir()}
	st, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := startStack(t, st)
	const conf = "att-outage"
	points := seed(t, st, conf, 4)
	// The hall's console lists the points, as it does when it opens.
	if _, err := st.Points(ctx, conf); err != nil {
		t.Fatal(err)
	}
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	hallID := hall.Welcome().ParticipantID
	healthy := s.dial(ctx, s.token(conf, conference.RolePoint, points[0], time.Hour), false)
	leaving := s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), false)
	s.dial(ctx, s.token(conf, conference.RolePoint, points[2], time.Hour), false)
	if err := healthy.WaitMedia(ctx, atLeast(20, []string{hallID}, "audio", "video")); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Joined, "") == 4 })

	srv.Stop()
	down := time.Now()
	before, _ := from(healthy.Received(), hallID, "audio")
	leaving.Close() // points[1] leaves
	// While Redis is down the server admits points from what it last
	// read, which takes a moment; dial both at once.
	var back, first *client.Client
	dialed := make(chan struct{})
	go func() {
		defer close(dialed)
		back = s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), false) // points[1] comes back
	}()
	first = s.dial(ctx, s.token(conf, conference.RolePoint, points[3], time.Hour), false) // points[3] joins for the first time
	<-dialed
	if back.Welcome().ParticipantID != points[1] || first.Welcome().ParticipantID != points[3] {
		t.Fatal("wrong welcome")
	}
	// Both count once their media is up (a point is present from then).
	for _, c := range []*client.Client{back, first} {
		for c.MediaState().State != protocol.MediaConnected {
			if ctx.Err() != nil {
				t.Fatalf("%s: media never connected during the outage", c.Welcome().ParticipantID)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first.Close() // and leaves again
	for st.SpoolDepth() < 4 {
		if ctx.Err() != nil {
			t.Fatalf("SpoolDepth during the outage = %d; want the 4 events", st.SpoolDepth())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Media flowed throughout.
	if err := healthy.WaitMedia(ctx, atLeast(before.Packets+50, []string{hallID}, "audio")); err != nil {
		t.Fatalf("the healthy point stopped receiving while Redis was down: %v", err)
	}
	up := time.Now()
	srv.Start()

	evs := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return len(evs) >= 8 })
	var during []conference.AttendanceEvent
	ids := map[string]bool{}
	for _, e := range evs {
		if ids[e.ID] {
			t.Errorf("event %s stored twice", e.ID)
		}
		ids[e.ID] = true
		if e.At.After(down) {
			during = append(during, e)
			if e.At.After(up) {
				t.Errorf("event %+v has the time it was written, not when it happened", e)
			}
		}
	}
	want := []struct {
		kind  conference.AttendanceKind
		point string
	}{
		{conference.Left, points[1]},
		{conference.Joined, points[1]},
		{conference.Joined, points[3]},
		{conference.Left, points[3]},
	}
	// The two points' events interleave in any order; each point's are in
	// order.
	var got1, got3 []conference.AttendanceEvent
	for _, e := range during {
		switch e.PointID {
		case points[1]:
			got1 = append(got1, e)
		case points[3]:
			got3 = append(got3, e)
		}
	}
	if len(during) != len(want) || len(got1) != 2 || len(got3) != 2 ||
		got1[0].Kind != want[0].kind || got1[1].Kind != want[1].kind || got3[0].Kind != want[2].kind || got3[1].Kind != want[3].kind {
		t.Errorf("events of the outage:%s", describe(during))
	}
	conns, err := st.Connected(ctx, conf)
	if err != nil || len(conns) != 4 { // hall, points 0, 1 and 2
		t.Errorf("connected after the outage: %+v, %v", conns, err)
	}
	if err := storetest.DeletePrefix(opts); err != nil {
		t.Error(err)
	}
}

// crashChildEnv names the environment variable that makes
// TestRedisAttendanceCrashChild run a server for TestRedisAttendanceCrash.
const crashChildEnv = "HOINGHI_TEST_CRASH_CHILD"

// TestRedisAttendanceCrashChild is the server that TestRedisAttendanceCrash
// kills: it runs only in the child process that test starts.
func TestRedisAttendanceCrashChild(t *testing.T) {
	spec := os.Getenv(crashChildEnv) // addr prefix dir
	if spec == "" {
		return
	}
	var opts store.Options
	if _, err := fmt.Sscan(spec, &opts.Addr, &opts.Prefix, &opts.DataDir); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.Start(t, st)
	fmt.Printf("listening %s\n", s.URL)
	select {} // until killed
}

// TestRedisAttendanceCrash kills the server (SIGKILL, no shutdown) while
// points are connected, restarts it as cmd/hoinghi does, and checks that
// the stays before the crash are intact, closed at the restart, and that
// the points' reconnects continue them.
func TestRedisAttendanceCrash(t *testing.T) {
	storetest.Redis(t) // skips, or fails in CI, without a test Redis
	opts := storetest.RedisOptions(t)
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		storetest.DeletePrefix(opts)
	})
	const conf = "att-crash"
	points := seed(t, st, conf, 2)

	cmd := exec.Command(os.Args[0], "-test.run=^TestRedisAttendanceCrashChild$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+opts.Addr+" "+opts.Prefix+" "+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				url <- u
			}
		}
	}()
	var base string
	select {
	case base = <-url:
	case <-time.After(20 * time.Second):
		t.Fatal("the server process did not start")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func(base string, role conference.Role, point string) *client.Client {
		c, err := client.Dial(ctx, client.Options{ServerURL: base, Token: crashToken(t, conf, role, point)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var clients []*client.Client
	for _, p := range points {
		clients = append(clients, dial(base, conference.RolePoint, p))
	}
	clients = append(clients, dial(base, conference.RoleTechnician, ""))
	joined := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Joined, "") == 3 })

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	crash := time.Now()
	for _, c := range clients {
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("a client did not notice the crash")
		}
	}

	// The restart, as cmd/hoinghi starts: close what the crashed run left,
	// then serve.
	n, err := st.DropInstance(ctx, "test", conference.LeftRestarted, time.Now())
	if err != nil || n != 3 {
		t.Fatalf("DropInstance = %d, %v; want 3", n, err)
	}
	s := startStack(t, st)
	for _, p := range points {
		dial(s.URL, conference.RolePoint, p)
	}
	evs := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Joined, "") == 5 })
	if got := evs[:3]; fmt.Sprint(got) != fmt.Sprint(joined) {
		t.Errorf("stays before the crash changed:%s\nwas:%s", describe(got), describe(joined))
	}
	for _, e := range evs[3:6] {
		if e.Kind != conference.Left || e.Reason != conference.LeftRestarted || e.At.Before(crash) {
			t.Errorf("after the crash: %+v; want left, %s, after the crash", e, conference.LeftRestarted)
		}
	}
	for i, e := range evs[6:] {
		if e.Kind != conference.Joined || e.ParticipantID != points[i] && e.ParticipantID != points[1-i] {
			t.Errorf("reconnect: %+v", e)
		}
	}
	conns, err := st.Connected(ctx, conf)
	if err != nil || len(conns) != 2 {
		t.Errorf("connected after the restart: %+v, %v", conns, err)
	}
}

// crashToken signs a link as servertest does.
func crashToken(t *testing.T, conf string, role conference.Role, point string) string {
	t.Helper()
	iss, err := token.NewIssuer(servertest.Secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue(conf, role, point, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
