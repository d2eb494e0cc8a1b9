package signal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

// TestRedisStoreOutageAnswersAtOnce stops Redis under a running conference:
// floor actions and the report are refused at once with store_unavailable
// (not after the store's timeouts, not as internal); the speaker keeps the
// floor in the media plane and a roll call still starts (attendance is
// spooled); once Redis is back the floor works again.
func TestRedisStoreOutageAnswersAtOnce(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{Addr: srv.Addr, Prefix: "outage-floor", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := startStack(t, st)
	const conf = "floor-outage"
	points := seed(t, st, conf, 3)
	tech := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	s.dial(ctx, s.token(conf, conference.RolePoint, points[0], time.Hour), true) // the speaker
	asker := s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), true)
	if err := tech.ConferenceAction(protocol.ConferenceStart); err != nil {
		t.Fatal(err)
	}
	if err := asker.WaitConference(ctx, func(cs protocol.ConferenceState) bool { return cs.Running }); err != nil {
		t.Fatal(err)
	}
	if err := tech.Floor(protocol.Floor{Action: "give", PointID: points[0]}); err != nil {
		t.Fatal(err)
	}
	if err := asker.WaitMedia(ctx, func(st []client.TrackStats) bool { n, _ := speaker(st, "audio", points[0]); return n > 20 }); err != nil {
		t.Fatalf("the speaker is not heard before the outage: %v", err)
	}

	srv.Stop()
	// refused sends m from c and returns the error that comes back, and
	// how long it took.
	refused := func(c interface {
		Send(any) error
	}, errs <-chan protocol.Error, m any) (protocol.Error, time.Duration) {
		t.Helper()
		start := time.Now()
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-errs:
			return e, time.Since(start)
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer to %+v during the outage", m)
		}
		return protocol.Error{}, 0
	}
	// The first request may meet the store's own timeout, which opens the
	// breaker; every one after it is answered at once.
	refused(asker, asker.Errors(), protocol.Floor{Type: protocol.TypeFloor, Action: "ask"})
	for _, tc := range []struct {
		who  string
		send func() (protocol.Error, time.Duration)
	}{
		{"floor ask", func() (protocol.Error, time.Duration) {
			return refused(asker, asker.Errors(), protocol.Floor{Type: protocol.TypeFloor, Action: "ask"})
		}},
		{"floor give", func() (protocol.Error, time.Duration) {
			return refused(tech, tech.Errors(), protocol.Floor{Type: protocol.TypeFloor, Action: "give", PointID: points[1]})
		}},
	} {
		e, took := tc.send()
		if e.Code != protocol.CodeStoreUnavailable {
			t.Errorf("%s during the outage: %+v, want code %s", tc.who, e, protocol.CodeStoreUnavailable)
		}
		if took > 500*time.Millisecond {
			t.Errorf("%s during the outage answered after %v, want at once", tc.who, took)
		}
	}
	// Attendance goes on: its events are spooled and written later, so a
	// roll call starts while Redis is away.
	if err := tech.Send(protocol.RollCall{Type: protocol.TypeRollCall, Action: protocol.RollCallStart}); err != nil {
		t.Fatal(err)
	}
	for !tech.RollCallState().Open {
		select {
		case e := <-tech.Errors():
			t.Fatalf("roll call during the outage refused: %+v", e)
		case <-ctx.Done():
			t.Fatal("no roll call during the outage")
		case <-time.After(10 * time.Millisecond):
		}
	}
	start := time.Now()
	resp, err := http.Get(s.URL + "/api/conferences/" + conf + "/report?t=" + s.token(conf, conference.RoleTechnician, "", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || body.Error != "store_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("report during the outage: HTTP %d %q Retry-After %q, want 503 store_unavailable with Retry-After",
			resp.StatusCode, body.Error, resp.Header.Get("Retry-After"))
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("report during the outage answered after %v", took)
	}
	// The speaker keeps the floor in the media plane meanwhile.
	before, _ := speaker(asker.Received(), "audio", points[0])
	time.Sleep(500 * time.Millisecond)
	if after, _ := speaker(asker.Received(), "audio", points[0]); after < before+10 {
		t.Errorf("the speaker's audio stopped during the outage: %d then %d packets", before, after)
	}

	srv.Start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := asker.Floor(protocol.Floor{Action: "ask"}); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		err := asker.WaitFloor(wctx, func(f protocol.FloorState) bool { return len(f.Queue) == 1 && f.Queue[0].PointID == points[1] })
		wcancel()
		if err == nil {
			break
		}
		for len(asker.Errors()) > 0 {
			<-asker.Errors()
		}
		if time.Now().After(deadline) {
			t.Fatal("after Redis came back the floor request is still refused")
		}
	}
}

// TestRedisMediaThatNeverConnects: a point whose network lets the page
// through but no media is told so, and is not counted present; a point
// whose media connects is.
func TestRedisMediaThatNeverConnects(t *testing.T) {
	st := storetest.Redis(t)
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{MediaTimeout: 2 * time.Second}), t: t}
	const conf = "media-never"
	points := seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	blocked, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Publish: true, BlockMedia: true,
		Token: s.token(conf, conference.RolePoint, points[0], time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer blocked.Close()
	good := s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), true)
	for blocked.MediaState().State != protocol.MediaFailed {
		select {
		case <-ctx.Done():
			t.Fatalf("the blocked point was not told: media state %+v", blocked.MediaState())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if got := blocked.MediaState().Reason; got != "timeout" {
		t.Errorf("reason %q, want timeout", got)
	}
	for good.MediaState().State != protocol.MediaConnected {
		select {
		case <-ctx.Done():
			t.Fatalf("the good point's media state %+v", good.MediaState())
		case <-time.After(20 * time.Millisecond):
		}
	}
	evs := waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Joined, points[1]) == 1 })
	if n := count(evs, conference.Joined, points[0]); n != 0 {
		t.Errorf("the point whose media never connected has %d joined events", n)
	}
	blocked.Close()
	good.Close()
	evs = waitEvents(t, st, conf, func(evs []conference.AttendanceEvent) bool { return count(evs, conference.Left, points[1]) == 1 })
	if n := count(evs, conference.Left, points[0]) + count(evs, conference.Joined, points[0]); n != 0 {
		t.Errorf("the point whose media never connected has %d attendance events", n)
	}
}
