package signal_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store"
)

// packetsFrom sums the video packets the wall slots carried from
// participant, as far as the client can tell from the last sender of each.
func packetsFrom(c *client.Client, participant string) uint64 {
	s, _ := from(c.Received(), participant, "video")
	return s.Packets
}

// waitWall waits until the hall's wall_state says want.
func waitWall(t *testing.T, ctx context.Context, hall *client.Client, want []string) {
	t.Helper()
	for !slices.Equal(hall.Wall(), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("wall shows %q, want %q", hall.Wall(), want)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestHallWall: the hall receives the cameras of the points its wall
// shows, and only those: first the first points to publish, then those it
// asks for, each slot keeping its point while it stays on the wall.
func TestHallWall(t *testing.T) { eachStore(t, testHallWall) }

func testHallWall(t *testing.T, st *store.Store) {
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{WallSlots: 2}), t: t}
	const conf = "hall-wall"
	points := seed(t, st, conf, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	for _, p := range points {
		// One at a time, so that the order of joining is the order of
		// the points.
		s.dial(ctx, s.token(conf, conference.RolePoint, p, time.Hour), true)
		for !slices.Contains(rosterIDs(hall), p) {
			select {
			case <-ctx.Done():
				t.Fatalf("%s never in the hall's roster", p)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}

	// Before the console chooses, the wall shows the first to publish.
	waitWall(t, ctx, hall, points[:2])
	if err := hall.WaitMedia(ctx, atLeast(20, points[:2], "video")); err != nil {
		t.Fatal(err)
	}

	// The console turns the page: the two others, then the slots carry
	// them and no longer the first two.
	if err := hall.SetWall(points[3:5]); err != nil {
		t.Fatal(err)
	}
	waitWall(t, ctx, hall, points[3:5])
	if err := hall.WaitMedia(ctx, atLeast(20, points[3:5], "video")); err != nil {
		t.Fatalf("after paging: %v", err)
	}
	before := []uint64{packetsFrom(hall, points[3]), packetsFrom(hall, points[4])}
	time.Sleep(500 * time.Millisecond)
	for i, p := range points[3:5] {
		if got := packetsFrom(hall, p); got < before[i]+10 {
			t.Errorf("%s on the wall: %d more packets in 0.5 s", p, got-before[i])
		}
	}
	for _, st := range hall.Received() {
		if st.Kind == "video" && (st.From == points[0] || st.From == points[1]) {
			t.Errorf("a wall slot still carries %s, which is off the wall: %+v", st.From, st)
		}
	}

	// A point that stays keeps its slot; the newcomer takes the other.
	if err := hall.SetWall([]string{points[0], points[4]}); err != nil {
		t.Fatal(err)
	}
	waitWall(t, ctx, hall, []string{points[0], points[4]})
	if err := hall.WaitMedia(ctx, atLeast(1, points[:1], "video")); err != nil {
		t.Fatal(err)
	}
	before = []uint64{packetsFrom(hall, points[0]), packetsFrom(hall, points[4])}
	time.Sleep(500 * time.Millisecond)
	for i, p := range []string{points[0], points[4]} {
		if got := packetsFrom(hall, p); got < before[i]+10 {
			t.Errorf("%s on the wall: %d more packets in 0.5 s", p, got-before[i])
		}
	}
	checkIntact(t, "hall", hall.Received())
}

// TestPointAloneReloadsThenHallJoins: a point alone in its conference
// reloads its page (its link connects again, replacing the first
// connection); a hall that joins afterwards receives it. The replaced
// connection's leaving must not take the room away from the new one.
func TestPointAloneReloadsThenHallJoins(t *testing.T) {
	eachStore(t, testPointAloneReloadsThenHallJoins)
}

func testPointAloneReloadsThenHallJoins(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	const conf = "alone-reload"
	points := seed(t, st, conf, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok := s.token(conf, conference.RolePoint, points[0], time.Hour)
	for range 5 {
		first := s.dial(ctx, tok, true)
		second := s.dial(ctx, tok, true)
		select {
		case <-first.Done():
		case <-ctx.Done():
			t.Fatal("the first connection was not replaced")
		}
		hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
		if err := hall.WaitMedia(ctx, atLeast(20, points, "video")); err != nil {
			t.Fatalf("the hall does not receive the point that reloaded alone: %v", err)
		}
		if err := second.WaitMedia(ctx, atLeast(20, []string{hall.Welcome().ParticipantID}, "video")); err != nil {
			t.Fatalf("the point that reloaded does not receive the hall: %v", err)
		}
		hall.Close()
		second.Close()
	}
}
