package signal_test

import (
	"context"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store"
)

// speaker returns the stats of a speaker slot track of kind carrying the
// media of participant, summed over the slots.
func speaker(st []client.TrackStats, kind, participant string) (packets uint64, since time.Time) {
	for _, s := range st {
		if s.Participant == client.SpeakerStreamID && s.Kind == kind && s.Sender == client.SenderHash(participant) {
			packets += s.Packets
			since = s.SenderSince
		}
	}
	return packets, since
}

// received counts the packets of kind c receives from participant.
func received(c *client.Client, participant, kind string) uint64 {
	st, _ := from(c.Received(), participant, kind)
	return st.Packets
}

// sent counts the packets of kind c publishes.
func sent(c *client.Client, kind string) uint64 {
	var n uint64
	for _, st := range c.Sent() {
		if st.Kind == kind {
			n += st.Packets
		}
	}
	return n
}

// keepsFlowing notes count now and returns a check that fails the test
// unless it grew by at least 10 packets since: media that must keep
// arriving during a window in which other media must not, so that a
// stalled path cannot pass for a closed one.
func keepsFlowing(t *testing.T, what string, count func() uint64) (check func()) {
	before := count()
	return func() {
		t.Helper()
		if got := count(); got < before+10 {
			t.Errorf("%s: %d packets in the window, want at least 10", what, got-before)
		}
	}
}

func floorError(t *testing.T, ctx context.Context, c *client.Client, m protocol.Floor, code string) {
	t.Helper()
	if err := c.Floor(m); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-c.Errors():
		if e.Code != code {
			t.Errorf("%s by %s: error %+v, want code %q", m.Action, c.Welcome().ParticipantID, e, code)
		}
		if code == protocol.CodeConflict && e.Reason == "" {
			t.Errorf("%s by %s: conflict without a reason: %+v", m.Action, c.Welcome().ParticipantID, e)
		}
	case <-ctx.Done():
		t.Fatalf("%s by %s: no error came back", m.Action, c.Welcome().ParticipantID)
	}
}

func TestFloorControlsMedia(t *testing.T) { eachStore(t, testFloorControlsMedia) }

func testFloorControlsMedia(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "floor-media", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	chair := s.dial(ctx, s.token("floor-media", conference.RoleChair, "", time.Hour), true)
	secretariat := s.dial(ctx, s.token("floor-media", conference.RoleSecretariat, "", time.Hour), false)
	var pc []*client.Client
	for _, p := range points {
		pc = append(pc, s.dial(ctx, s.token("floor-media", conference.RolePoint, p, time.Hour), true))
	}
	a, b, c := pc[0], pc[1], pc[2]
	chairID := chair.Welcome().ParticipantID
	for _, p := range pc {
		if err := p.WaitMedia(ctx, atLeast(25, []string{chairID}, "audio", "video")); err != nil {
			t.Fatal(err)
		}
	}
	if err := chair.WaitMedia(ctx, atLeast(25, points, "video")); err != nil {
		t.Fatal(err)
	}

	// Nobody holds the floor: no point hears another, and the hall does
	// not hear the points either, whatever their browsers send. Meanwhile
	// the hall's media reaches every point, the points' video reaches the
	// hall, and the points send their audio.
	var flowing []func()
	for i, p := range pc {
		flowing = append(flowing,
			keepsFlowing(t, points[i]+" receives the hall's audio", func() uint64 { return received(p, chairID, "audio") }),
			keepsFlowing(t, points[i]+" receives the hall's video", func() uint64 { return received(p, chairID, "video") }),
			keepsFlowing(t, "the hall receives the video of "+points[i], func() uint64 { return received(chair, points[i], "video") }),
			keepsFlowing(t, points[i]+" sends audio", func() uint64 { return sent(p, "audio") }))
	}
	time.Sleep(500 * time.Millisecond)
	for _, check := range flowing {
		check()
	}
	for i, p := range pc {
		for _, r := range p.Received() {
			if r.Participant == client.SpeakerStreamID && r.Packets > 0 {
				t.Errorf("point %s receives a speaker %s before anyone has the floor", points[i], r.Kind)
			}
		}
	}
	for _, r := range chair.Received() {
		if r.Kind == "audio" && r.Packets > 0 {
			t.Errorf("hall hears point %s before it has the floor", r.Participant)
		}
	}

	// Refusals: a point cannot give itself the floor, the secretariat
	// cannot take it back, nobody can take the next of an empty queue.
	floorError(t, ctx, a, protocol.Floor{Action: "give", PointID: points[0]}, protocol.CodeForbidden)
	floorError(t, ctx, secretariat, protocol.Floor{Action: "take_back"}, protocol.CodeForbidden)
	floorError(t, ctx, chair, protocol.Floor{Action: "give"}, protocol.CodeConflict)
	floorError(t, ctx, a, protocol.Floor{Action: "withdraw"}, protocol.CodeConflict)
	if f := a.FloorState(); f.DefaultSeconds != 420 {
		t.Errorf("floor state's default speaking time = %d s, want 420", f.DefaultSeconds)
	}

	// Before the start nobody may ask for the floor; the technician
	// starts the conference.
	floorError(t, ctx, c, protocol.Floor{Action: "ask"}, protocol.CodeConflict)
	tech := s.dial(ctx, s.token("floor-media", conference.RoleTechnician, "", time.Hour), false)
	if err := tech.ConferenceAction(protocol.ConferenceStart); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitConference(ctx, func(cs protocol.ConferenceState) bool { return cs.Status == protocol.StatusRunning }); err != nil {
		t.Fatal(err)
	}

	// Two points ask; everyone sees the queue in order.
	if err := c.Floor(protocol.Floor{Action: "ask", Subject: "Báo cáo tham luận"}); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFloor(ctx, func(f protocol.FloorState) bool { return len(f.Queue) == 1 }); err != nil {
		t.Fatal(err)
	}
	if err := a.Floor(protocol.Floor{Action: "ask"}); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitFloor(ctx, func(f protocol.FloorState) bool { return len(f.Queue) == 2 }); err != nil {
		t.Fatal(err)
	}
	q := a.FloorState().Queue
	if q[0].PointID != points[2] || q[1].PointID != points[0] || q[1].Position != 2 || q[0].Subject != "Báo cáo tham luận" {
		t.Errorf("queue = %+v, want %s then %s", q, points[2], points[0])
	}

	// The chair gives the floor to a (not the head of the queue).
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[0], Seconds: 60}); err != nil {
		t.Fatal(err)
	}
	given := time.Now()
	for _, p := range []*client.Client{b, c} {
		err := p.WaitMedia(ctx, func(st []client.TrackStats) bool {
			v, _ := speaker(st, "video", points[0])
			au, _ := speaker(st, "audio", points[0])
			return v > 10 && au > 10
		})
		if err != nil {
			t.Fatalf("speaker media of %s: %v; received %+v", points[0], err, p.Received())
		}
		_, since := speaker(p.Received(), "video", points[0])
		t.Logf("floor switch to %s: first keyframe after %v", points[0], since.Sub(given))
		checkIntact(t, p.Welcome().ParticipantID, p.Received())
	}
	if err := chair.WaitMedia(ctx, atLeast(10, points[:1], "audio")); err != nil {
		t.Fatalf("hall does not hear the speaker: %v", err)
	}
	f := b.FloorState()
	if len(f.Holders) != 1 || f.Holders[0].PointID != points[0] || f.Holders[0].Deadline.IsZero() || len(f.Queue) != 1 {
		t.Errorf("floor after give = %+v", f)
	}
	if n, _ := speaker(a.Received(), "audio", points[0]); n != 0 {
		t.Errorf("the speaker hears itself: %d packets", n)
	}

	// The chair gives the next in the queue: c replaces a.
	if err := chair.Floor(protocol.Floor{Action: "give"}); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitMedia(ctx, func(st []client.TrackStats) bool {
		v, _ := speaker(st, "video", points[2])
		return v > 10
	}); err != nil {
		t.Fatalf("switch to the next in the queue: %v", err)
	}

	// Take back: the speaker's audio stops for everyone.
	if err := chair.Floor(protocol.Floor{Action: "take_back"}); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitFloor(ctx, func(f protocol.FloorState) bool { return len(f.Holders) == 0 }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // packets in flight
	before, _ := speaker(b.Received(), "audio", points[2])
	// In the same window the point hears the hall, and the former speaker
	// still sends its audio: the floor holds it back, not a stalled path.
	hallHeard := keepsFlowing(t, "after take-back a point receives the hall's audio", func() uint64 { return received(b, chairID, "audio") })
	speakerSends := keepsFlowing(t, "after take-back the former speaker sends audio", func() uint64 { return sent(c, "audio") })
	time.Sleep(500 * time.Millisecond)
	after, _ := speaker(b.Received(), "audio", points[2])
	if after != before {
		t.Errorf("after take-back a point still receives the former speaker's audio: %d more packets", after-before)
	}
	hallHeard()
	speakerSends()
	turns, err := st.Turns(ctx, "floor-media")
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 2 || turns[0].EndReason != conference.EndTakenBack || turns[1].EndReason != conference.EndTakenBack {
		t.Errorf("speaking log = %+v, want two turns taken back", turns)
	}
}

func TestFloorGraceAndTimeLimit(t *testing.T) { eachStore(t, testFloorGraceAndTimeLimit) }

func testFloorGraceAndTimeLimit(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "floor-grace", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conf, err := st.Conference(ctx, "floor-grace")
	if err != nil {
		t.Fatal(err)
	}
	conf.GracePeriod = conference.Seconds(2 * time.Second)
	conf.AutoTakeBack = true
	if err := st.PutConference(ctx, conf); err != nil {
		t.Fatal(err)
	}

	chair := s.dial(ctx, s.token("floor-grace", conference.RoleChair, "", time.Hour), false)
	watcher := s.dial(ctx, s.token("floor-grace", conference.RolePoint, points[1], time.Hour), false)
	tokA := s.token("floor-grace", conference.RolePoint, points[0], time.Hour)
	a := s.dial(ctx, tokA, false)

	holds := func(online bool) func(protocol.FloorState) bool {
		return func(f protocol.FloorState) bool {
			return len(f.Holders) == 1 && f.Holders[0].PointID == points[0] && f.Holders[0].Online == online
		}
	}
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[0], Seconds: -1}); err != nil {
		t.Fatal(err)
	}
	if err := watcher.WaitFloor(ctx, holds(true)); err != nil {
		t.Fatal(err)
	}

	// The speaker's connection drops: it keeps the floor, shown offline,
	// and has it still when it comes back within the grace period.
	a.Close()
	if err := watcher.WaitFloor(ctx, holds(false)); err != nil {
		t.Fatalf("speaker offline: %v; floor %+v", err, watcher.FloorState())
	}
	a = s.dial(ctx, tokA, false)
	if err := watcher.WaitFloor(ctx, holds(true)); err != nil {
		t.Fatalf("speaker back: %v", err)
	}
	time.Sleep(conf.Grace() + 500*time.Millisecond)
	if !holds(true)(watcher.FloorState()) {
		t.Fatalf("the speaker lost the floor although it came back in time: %+v", watcher.FloorState())
	}

	// Away for longer than the grace period: the turn ends as disconnected.
	a.Close()
	if err := watcher.WaitFloor(ctx, func(f protocol.FloorState) bool { return len(f.Holders) == 0 }); err != nil {
		t.Fatalf("turn of a point that stayed away: %v", err)
	}
	turns, err := st.Turns(ctx, "floor-grace")
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 1 || turns[0].EndReason != conference.EndDisconnected {
		t.Fatalf("speaking log = %+v, want one turn ended as disconnected", turns)
	}

	// A one-second turn: the hall is alerted and, with auto take-back, the
	// turn ends as time out.
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[1], Seconds: 1}); err != nil {
		t.Fatal(err)
	}
	if err := watcher.WaitFloor(ctx, func(f protocol.FloorState) bool {
		return len(f.Holders) == 1 && !f.Holders[0].Deadline.IsZero()
	}); err != nil {
		t.Fatal(err)
	}
	if err := watcher.WaitFloor(ctx, func(f protocol.FloorState) bool { return len(f.Holders) == 0 }); err != nil {
		t.Fatalf("timed turn did not end: %v", err)
	}
	turns, err = st.Turns(ctx, "floor-grace")
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 2 || turns[1].EndReason != conference.EndTimeOut || turns[1].Duration < time.Second {
		t.Errorf("speaking log = %+v, want a second turn ended as time out after 1 s", turns)
	}
	if n := chair.Alerts(); n != 1 {
		t.Errorf("hall got %d floor alerts, want 1", n)
	}
}
