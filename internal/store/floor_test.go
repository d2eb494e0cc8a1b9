package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

// The floor suite runs on a real Redis and on the embedded default.

func TestRedisFloor(t *testing.T) { runFloor(t, storetest.Redis) }

func TestEmbeddedFloor(t *testing.T) { runFloor(t, storetest.Embedded) }

func runFloor(t *testing.T, open func(testing.TB) *store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.Store)
	}{
		{"Transitions", testFloorTransitions},
		{"Refusals", testFloorRefusals},
		{"Discussion", testFloorDiscussion},
		{"ConcurrentAsk", testFloorConcurrentAsk},
		{"ConcurrentGiveNext", testFloorConcurrentGiveNext},
		{"WithdrawRacesGive", testFloorWithdrawRacesGive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// floorConf creates conference id with points p0 .. p(n-1).
func floorConf(t *testing.T, s *store.Store, id string, n int) {
	t.Helper()
	ctx := context.Background()
	mustPutConference(t, s, demo(id))
	for i := range n {
		p := conference.Point{ID: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("Điểm cầu xã %d", i)}
		if err := s.PutPoint(ctx, id, p); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(st conference.FloorState) (queue, holders []string) {
	for _, r := range st.Queue {
		queue = append(queue, r.PointID)
	}
	for _, h := range st.Holders {
		holders = append(holders, h.PointID)
	}
	return queue, holders
}

// normal returns st with empty slices as nil, for comparison.
func normal(st conference.FloorState) conference.FloorState {
	if len(st.Queue) == 0 {
		st.Queue = nil
	}
	if len(st.Holders) == 0 {
		st.Holders = nil
	}
	return st
}

// checkFloor checks that the stored state is what its log replays to,
// holds no point both queued and holding, and has at most one holder
// outside a discussion; it returns the state.
func checkFloor(t *testing.T, s *store.Store, confID string) conference.FloorState {
	t.Helper()
	ctx := context.Background()
	st, err := s.Floor(ctx, confID)
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.FloorEvents(ctx, confID)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := conference.ReplayFloor(events)
	if err != nil {
		t.Fatalf("the floor log does not replay: %v", err)
	}
	if !reflect.DeepEqual(normal(st), normal(replayed)) {
		t.Fatalf("stored floor\n%+v\ndiffers from its replayed log\n%+v", st, replayed)
	}
	for i := 1; i < len(events); i++ {
		if compareTurn(events[i-1].ID, events[i].ID) >= 0 {
			t.Fatalf("event ids not increasing: %s then %s", events[i-1].ID, events[i].ID)
		}
	}
	for _, h := range st.Holders {
		if st.Position(h.PointID) > 0 {
			t.Fatalf("%s both holds the floor and is queued", h.PointID)
		}
	}
	if !st.Discussion && len(st.Holders) > 1 {
		t.Fatalf("%d holders outside a discussion", len(st.Holders))
	}
	return st
}

func wantFloor(t *testing.T, st conference.FloorState, queue, holders []string) {
	t.Helper()
	q, h := ids(st)
	if !slices.Equal(q, queue) || !slices.Equal(h, holders) {
		t.Fatalf("queue %v holders %v; want %v %v", q, h, queue, holders)
	}
}

func testFloorTransitions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	floorConf(t, s, "floor", 4)
	// The store keeps times to the millisecond.
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second).Truncate(time.Millisecond) }

	st, err := s.Ask(ctx, "floor", "p1", "  Tham luận: chuyển đổi số ở cơ sở ", at(0))
	if err != nil {
		t.Fatal(err)
	}
	if st.Position("p1") != 1 || st.Queue[0].Subject != "Tham luận: chuyển đổi số ở cơ sở" || !st.Queue[0].AskedAt.Equal(at(0)) {
		t.Fatalf("after ask: %+v", st)
	}
	if _, err := s.Ask(ctx, "floor", "p2", "", at(1)); err != nil {
		t.Fatal(err)
	}
	st, err = s.Ask(ctx, "floor", "p3", "", at(2))
	if err != nil {
		t.Fatal(err)
	}
	wantFloor(t, st, []string{"p1", "p2", "p3"}, nil)
	if st.Position("p3") != 3 || st.Version != 3 {
		t.Fatalf("p3 at %d, version %d; want 3, 3", st.Position("p3"), st.Version)
	}

	// The chair gives the floor to the next in the queue, with a limit.
	h, st, err := s.GiveNext(ctx, "floor", 7*time.Minute, "chair", at(10))
	if err != nil {
		t.Fatal(err)
	}
	if h.PointID != "p1" || h.Subject != "Tham luận: chuyển đổi số ở cơ sở" || h.GivenBy != "chair" ||
		!h.Since.Equal(at(10)) || h.Limit != 7*time.Minute || h.TurnID == "" {
		t.Fatalf("GiveNext holder = %+v", h)
	}
	wantFloor(t, st, []string{"p2", "p3"}, []string{"p1"})
	if got, err := s.Holder(ctx, "floor", "p1"); err != nil || got != h {
		t.Fatalf("Holder(p1) = %+v, %v; want %+v", got, err, h)
	}
	if _, err := s.Holder(ctx, "floor", "p2"); !errors.Is(err, store.ErrNotHolding) {
		t.Fatalf("Holder(p2) error = %v; want ErrNotHolding", err)
	}

	// Extended before the deadline: the deadline moves by the extension.
	h, _, err = s.Extend(ctx, "floor", h.TurnID, 2*time.Minute, "chair", at(60))
	if err != nil {
		t.Fatal(err)
	}
	if h.Limit != 9*time.Minute {
		t.Fatalf("limit after extension = %v; want 9m", h.Limit)
	}
	// Extended after the deadline: the new one counts from now.
	h, _, err = s.Extend(ctx, "floor", h.TurnID, time.Minute, "technician", at(10+10*60))
	if err != nil {
		t.Fatal(err)
	}
	if want := 11 * time.Minute; h.Limit != want || !h.Deadline().Equal(at(10+11*60)) {
		t.Fatalf("limit after late extension = %v (deadline %v); want %v", h.Limit, h.Deadline(), want)
	}

	// Giving the floor to a point that did not ask takes it back from p1.
	h2, st, err := s.Give(ctx, "floor", "p0", 0, "chair", at(700))
	if err != nil {
		t.Fatal(err)
	}
	if h2.Limit != 0 || !h2.Deadline().IsZero() {
		t.Fatalf("holder without limit = %+v", h2)
	}
	wantFloor(t, st, []string{"p2", "p3"}, []string{"p0"})

	// Withdraw, the holder finishes, the chair gives a queued point the
	// floor by name, and takes it back.
	if st, err = s.Withdraw(ctx, "floor", "p2", "p2", conference.WithdrawnByPoint, at(710)); err != nil {
		t.Fatal(err)
	}
	wantFloor(t, st, []string{"p3"}, []string{"p0"})
	if st, err = s.EndTurn(ctx, "floor", h2.TurnID, conference.EndFinished, "p0", at(720)); err != nil {
		t.Fatal(err)
	}
	wantFloor(t, st, []string{"p3"}, nil)
	h3, _, err := s.Give(ctx, "floor", "p3", time.Minute, "chair", at(730))
	if err != nil {
		t.Fatal(err)
	}
	if st, err = s.TakeBack(ctx, "floor", "p3", "chair", at(745)); err != nil {
		t.Fatal(err)
	}
	wantFloor(t, st, nil, nil)
	h4, _, err := s.Give(ctx, "floor", "p2", time.Minute, "chair", at(750))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EndTurn(ctx, "floor", h4.TurnID, conference.EndTimeOut, "server", at(810)); err != nil {
		t.Fatal(err)
	}
	st = checkFloor(t, s, "floor")
	wantFloor(t, st, nil, nil)

	turns, err := s.Turns(ctx, "floor")
	if err != nil {
		t.Fatal(err)
	}
	want := []conference.Turn{
		{ID: turns[0].ID, PointID: "p1", Subject: "Tham luận: chuyển đổi số ở cơ sở", GivenBy: "chair", Start: at(10), End: at(700),
			Duration: 690 * time.Second, Limit: 11 * time.Minute, EndReason: conference.EndTakenBack, EndedBy: "chair"},
		{ID: h2.TurnID, PointID: "p0", GivenBy: "chair", Start: at(700), End: at(720), Duration: 20 * time.Second,
			EndReason: conference.EndFinished, EndedBy: "p0"},
		{ID: h3.TurnID, PointID: "p3", GivenBy: "chair", Start: at(730), End: at(745), Duration: 15 * time.Second,
			Limit: time.Minute, EndReason: conference.EndTakenBack, EndedBy: "chair"},
		{ID: h4.TurnID, PointID: "p2", GivenBy: "chair", Start: at(750), End: at(810), Duration: time.Minute,
			Limit: time.Minute, EndReason: conference.EndTimeOut, EndedBy: "server"},
	}
	if !reflect.DeepEqual(turns, want) {
		t.Fatalf("Turns =\n%+v\nwant\n%+v", turns, want)
	}

	// A change stamped earlier than the last one, as a server with a slow
	// clock makes, still gets a later event id.
	if _, err := s.Ask(ctx, "floor", "p0", "", at(0)); err != nil {
		t.Fatal(err)
	}
	checkFloor(t, s, "floor")
}

func testFloorRefusals(t *testing.T, s *store.Store) {
	ctx := context.Background()
	floorConf(t, s, "refuse", 3)
	if _, err := s.Ask(ctx, "refuse", "p0", "", t0); err != nil {
		t.Fatal(err)
	}
	h, _, err := s.Give(ctx, "refuse", "p1", 0, "chair", t0)
	if err != nil {
		t.Fatal(err)
	}
	before := checkFloor(t, s, "refuse")

	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"ask twice", func() error { _, err := s.Ask(ctx, "refuse", "p0", "", t0); return err }, store.ErrAlreadyQueued},
		{"ask while holding", func() error { _, err := s.Ask(ctx, "refuse", "p1", "", t0); return err }, store.ErrAlreadyHolding},
		{"ask, not invited", func() error { _, err := s.Ask(ctx, "refuse", "p9", "", t0); return err }, store.ErrNotInvited},
		{"ask, no conference", func() error { _, err := s.Ask(ctx, "nope", "p0", "", t0); return err }, store.ErrNotFound},
		{"withdraw, not queued", func() error {
			_, err := s.Withdraw(ctx, "refuse", "p2", "p2", conference.WithdrawnByPoint, t0)
			return err
		}, store.ErrNotQueued},
		{"give to the holder", func() error { _, _, err := s.Give(ctx, "refuse", "p1", 0, "chair", t0); return err }, store.ErrAlreadyHolding},
		{"give, not invited", func() error { _, _, err := s.Give(ctx, "refuse", "p9", 0, "chair", t0); return err }, store.ErrNotInvited},
		{"give, no conference", func() error { _, _, err := s.Give(ctx, "nope", "p1", 0, "chair", t0); return err }, store.ErrNotFound},
		{"extend an unknown turn", func() error {
			_, _, err := s.Extend(ctx, "refuse", "1-0", time.Minute, "chair", t0)
			return err
		}, store.ErrNoSuchTurn},
		{"end an unknown turn", func() error {
			_, err := s.EndTurn(ctx, "refuse", "1-0", conference.EndFinished, "chair", t0)
			return err
		}, store.ErrNoSuchTurn},
		{"take back from a point not holding", func() error { _, err := s.TakeBack(ctx, "refuse", "p0", "chair", t0); return err }, store.ErrNotHolding},
		{"ask, subject too long", func() error {
			_, err := s.Ask(ctx, "refuse", "p2", strings.Repeat("x", conference.MaxSubjectRunes+1), t0)
			return err
		}, conference.ErrInvalidSubject},
		{"give, negative limit", func() error { _, _, err := s.Give(ctx, "refuse", "p2", -time.Second, "chair", t0); return err }, conference.ErrInvalidLimit},
		{"extend by nothing", func() error { _, _, err := s.Extend(ctx, "refuse", h.TurnID, 0, "chair", t0); return err }, conference.ErrInvalidLimit},
		{"end, bad reason", func() error { _, err := s.EndTurn(ctx, "refuse", h.TurnID, "bored", "chair", t0); return err }, nil},
		{"withdraw, bad reason", func() error { _, err := s.Withdraw(ctx, "refuse", "p0", "p0", "bored", t0); return err }, nil},
		{"give, no actor", func() error { _, _, err := s.Give(ctx, "refuse", "p2", 0, "", t0); return err }, nil},
	}
	for _, tt := range tests {
		err := tt.do()
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: error %v; want %v", tt.name, err, tt.want)
		}
	}
	if after := checkFloor(t, s, "refuse"); !reflect.DeepEqual(after, before) {
		t.Errorf("refusals changed the floor:\n%+v\nto\n%+v", before, after)
	}

	// GiveNext on an empty queue.
	if _, err := s.Withdraw(ctx, "refuse", "p0", "chair", conference.WithdrawnByChair, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GiveNext(ctx, "refuse", 0, "chair", t0); !errors.Is(err, store.ErrQueueEmpty) {
		t.Errorf("GiveNext on an empty queue: %v; want ErrQueueEmpty", err)
	}
	// Taking back every turn when none is held changes nothing.
	if _, err := s.TakeBack(ctx, "refuse", "", "chair", t0); err != nil {
		t.Fatal(err)
	}
	st, err := s.TakeBack(ctx, "refuse", "", "chair", t0)
	if err != nil || len(st.Holders) != 0 {
		t.Errorf("second TakeBack = %+v, %v", st, err)
	}
	if _, err := s.Floor(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Floor of a missing conference: %v; want ErrNotFound", err)
	}
	if _, err := s.Turns(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Turns of a missing conference: %v; want ErrNotFound", err)
	}
	checkFloor(t, s, "refuse")
}

func testFloorDiscussion(t *testing.T, s *store.Store) {
	ctx := context.Background()
	floorConf(t, s, "disc", 4)
	if _, _, err := s.Give(ctx, "disc", "p0", 0, "chair", t0); err != nil {
		t.Fatal(err)
	}
	st, err := s.SetDiscussion(ctx, "disc", true, "chair", t0)
	if err != nil || !st.Discussion {
		t.Fatalf("open discussion = %+v, %v", st, err)
	}
	v := st.Version
	if st, err = s.SetDiscussion(ctx, "disc", true, "chair", t0); err != nil || st.Version != v {
		t.Fatalf("opening it again changed the version %d to %d (%v)", v, st.Version, err)
	}
	for _, p := range []string{"p1", "p2"} {
		if _, st, err = s.Give(ctx, "disc", p, time.Minute, "chair", t0); err != nil {
			t.Fatal(err)
		}
	}
	wantFloor(t, st, nil, []string{"p0", "p1", "p2"})
	if st, err = s.TakeBack(ctx, "disc", "p1", "chair", t0); err != nil {
		t.Fatal(err)
	}
	wantFloor(t, st, nil, []string{"p0", "p2"})
	checkFloor(t, s, "disc")

	// Closing takes the floor back from everyone.
	if st, err = s.SetDiscussion(ctx, "disc", false, "chair", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st.Discussion {
		t.Fatal("discussion still open")
	}
	wantFloor(t, st, nil, nil)
	checkFloor(t, s, "disc")
	turns, err := s.Turns(ctx, "disc")
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 3 {
		t.Fatalf("%d turns; want 3", len(turns))
	}
	for _, tn := range turns {
		if tn.EndReason != conference.EndTakenBack {
			t.Errorf("turn of %s ended %q; want taken_back", tn.PointID, tn.EndReason)
		}
	}
}

// testFloorConcurrentAsk has 50 points ask at once: the queue holds each
// once, in the order Redis ran the requests, which is the order of their
// events in the log.
func testFloorConcurrentAsk(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const n = 50
	floorConf(t, s, "ask50", n)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			p := fmt.Sprintf("p%d", i)
			// Every point asks twice at once: one of the two must be refused.
			var inner sync.WaitGroup
			var ok, dup int
			var mu sync.Mutex
			for range 2 {
				inner.Go(func() {
					_, err := s.Ask(ctx, "ask50", p, "Xin phát biểu", t0)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, store.ErrAlreadyQueued):
						dup++
					default:
						errs <- err
					}
				})
			}
			inner.Wait()
			if ok != 1 || dup != 1 {
				errs <- fmt.Errorf("%s: %d accepted, %d refused; want 1, 1", p, ok, dup)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := checkFloor(t, s, "ask50")
	queue, _ := ids(st)
	if len(queue) != n {
		t.Fatalf("queue has %d points; want %d", len(queue), n)
	}
	seen := make(map[string]bool)
	for _, p := range queue {
		if seen[p] {
			t.Fatalf("%s queued twice", p)
		}
		seen[p] = true
	}
	events, err := s.FloorEvents(ctx, "ask50")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range events {
		order = append(order, e.PointID)
	}
	if !slices.Equal(order, queue) {
		t.Fatalf("queue order %v differs from arrival order %v", queue, order)
	}
	for i, p := range queue {
		if st.Position(p) != i+1 {
			t.Fatalf("Position(%s) = %d; want %d", p, st.Position(p), i+1)
		}
	}
}

// testFloorConcurrentGiveNext has two chairs press "give next" at once,
// round after round.
func testFloorConcurrentGiveNext(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const rounds = 8
	floorConf(t, s, "give2", 2*rounds)
	for i := range 2 * rounds {
		if _, err := s.Ask(ctx, "give2", fmt.Sprintf("p%d", i), "", t0); err != nil {
			t.Fatal(err)
		}
	}
	given := make(map[string]bool)
	for r := range rounds {
		at := t0.Add(time.Duration(r+1) * time.Minute)
		var wg sync.WaitGroup
		holders := make([]conference.FloorHolder, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				holders[i], _, errs[i] = s.GiveNext(ctx, "give2", time.Minute, fmt.Sprintf("chair-%d", i), at)
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
		}
		a, b := holders[0], holders[1]
		if a.PointID == b.PointID {
			t.Fatalf("round %d: both gave the floor to %s", r, a.PointID)
		}
		for _, h := range holders {
			if given[h.PointID] {
				t.Fatalf("round %d: %s given the floor twice", r, h.PointID)
			}
			given[h.PointID] = true
		}
		if want := []string{fmt.Sprintf("p%d", 2*r), fmt.Sprintf("p%d", 2*r+1)}; !slices.Contains(want, a.PointID) || !slices.Contains(want, b.PointID) {
			t.Fatalf("round %d: gave to %s and %s; want %v", r, a.PointID, b.PointID, want)
		}
		first, second := a, b
		if compareTurn(b.TurnID, a.TurnID) < 0 {
			first, second = b, a
		}
		st := checkFloor(t, s, "give2")
		if _, h := ids(st); !slices.Equal(h, []string{second.PointID}) {
			t.Fatalf("round %d: holders %v; want only %s", r, h, second.PointID)
		}
		turns, err := s.Turns(ctx, "give2")
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(turns, func(tn conference.Turn) bool { return tn.ID == first.TurnID })
		if i < 0 || turns[i].EndReason != conference.EndTakenBack {
			t.Fatalf("round %d: first turn %+v; want taken back", r, turns[i])
		}
	}
	turns, err := s.Turns(ctx, "give2")
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 2*rounds {
		t.Fatalf("%d turns; want %d", len(turns), 2*rounds)
	}
}

// compareTurn orders turn ids, which are stream ids "ms-seq".
func compareTurn(a, b string) int {
	var am, as, bm, bs int64
	fmt.Sscanf(a, "%d-%d", &am, &as)
	fmt.Sscanf(b, "%d-%d", &bm, &bs)
	if am != bm {
		return int(am - bm)
	}
	return int(as - bs)
}

// testFloorWithdrawRacesGive races a point's withdraw against the chair's
// give of the same point: the point is never left both holding and queued,
// and a request is never lost.
func testFloorWithdrawRacesGive(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const rounds = 10
	floorConf(t, s, "race", rounds)
	for r := range rounds {
		p := fmt.Sprintf("p%d", r)
		at := t0.Add(time.Duration(r) * time.Minute)
		if _, err := s.Ask(ctx, "race", p, "", at); err != nil {
			t.Fatal(err)
		}
		byName := r%2 == 0 // alternate Give(p) and GiveNext
		var wg sync.WaitGroup
		var werr, gerr error
		var h conference.FloorHolder
		wg.Go(func() { _, werr = s.Withdraw(ctx, "race", p, p, conference.WithdrawnByPoint, at) })
		wg.Go(func() {
			if byName {
				h, _, gerr = s.Give(ctx, "race", p, 0, "chair", at)
			} else {
				h, _, gerr = s.GiveNext(ctx, "race", 0, "chair", at)
			}
		})
		wg.Wait()
		st := checkFloor(t, s, "race")
		if st.Position(p) != 0 {
			t.Fatalf("round %d: %s still queued", r, p)
		}
		switch {
		case byName:
			// Give needs no request: it always wins the floor; the withdraw
			// succeeds only if it ran first.
			if gerr != nil || h.PointID != p || !st.Holds(p) {
				t.Fatalf("round %d: Give = %+v, %v; holders %+v", r, h, gerr, st.Holders)
			}
			if werr != nil && !errors.Is(werr, store.ErrNotQueued) {
				t.Fatalf("round %d: Withdraw: %v", r, werr)
			}
		case werr == nil:
			// The withdraw ran first: the next give found nobody.
			if !errors.Is(gerr, store.ErrQueueEmpty) || st.Holds(p) {
				t.Fatalf("round %d: withdrawn, yet GiveNext = %+v, %v", r, h, gerr)
			}
		default:
			// The give ran first: the withdraw found no request.
			if !errors.Is(werr, store.ErrNotQueued) || gerr != nil || h.PointID != p || !st.Holds(p) {
				t.Fatalf("round %d: Withdraw %v, GiveNext %+v %v", r, werr, h, gerr)
			}
		}
		if _, err := s.TakeBack(ctx, "race", "", "chair", at); err != nil {
			t.Fatal(err)
		}
	}
}

// floorSnapshot is everything the API shows of a conference's floor.
type floorSnapshot struct {
	State  conference.FloorState
	Events []conference.FloorEvent
	Turns  []conference.Turn
}

func takeFloorSnapshot(t *testing.T, s *store.Store, confID string) floorSnapshot {
	t.Helper()
	ctx := context.Background()
	var snap floorSnapshot
	var err error
	snap.State = checkFloor(t, s, confID)
	if snap.Events, err = s.FloorEvents(ctx, confID); err != nil {
		t.Fatal(err)
	}
	if snap.Turns, err = s.Turns(ctx, confID); err != nil {
		t.Fatal(err)
	}
	return snap
}

// floorScenario takes conference "crash" through asks, gives, an
// extension, a discussion, and leaves p2 holding the floor with p3 and p4
// queued. It returns the last turn's id.
func floorScenario(ctx context.Context, s *store.Store) (string, error) {
	if err := s.PutConference(ctx, demo("crash")); err != nil {
		return "", err
	}
	for i := range 5 {
		if err := s.PutPoint(ctx, "crash", conference.Point{ID: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("Điểm cầu %d", i)}); err != nil {
			return "", err
		}
	}
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	for i := range 5 {
		if _, err := s.Ask(ctx, "crash", fmt.Sprintf("p%d", i), "Ý kiến số "+fmt.Sprint(i), at(i)); err != nil {
			return "", err
		}
	}
	if _, err := s.Withdraw(ctx, "crash", "p1", "p1", conference.WithdrawnByPoint, at(5)); err != nil {
		return "", err
	}
	h, _, err := s.GiveNext(ctx, "crash", 7*time.Minute, "chair", at(10))
	if err != nil {
		return "", err
	}
	if _, _, err := s.Extend(ctx, "crash", h.TurnID, time.Minute, "chair", at(300)); err != nil {
		return "", err
	}
	if _, err := s.SetDiscussion(ctx, "crash", true, "chair", at(400)); err != nil {
		return "", err
	}
	if _, _, err := s.Give(ctx, "crash", "p1", 0, "technician", at(410)); err != nil {
		return "", err
	}
	if _, err := s.SetDiscussion(ctx, "crash", false, "chair", at(420)); err != nil {
		return "", err
	}
	h, _, err = s.GiveNext(ctx, "crash", 5*time.Minute, "chair", at(430))
	if err != nil {
		return "", err
	}
	return h.TurnID, nil
}

// TestEmbeddedFloorRestart checks that the floor and its log read the same
// after the embedded store is closed and opened again, and that changes go
// on from there.
func TestEmbeddedFloorRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	turn, err := floorScenario(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	before := takeFloorSnapshot(t, s, "crash")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after := takeFloorSnapshot(t, s, "crash")
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("after restart\n%+v\nbefore\n%+v", after, before)
	}
	wantFloor(t, after.State, []string{"p3", "p4"}, []string{"p2"})
	if h := after.State.Holders[0]; h.TurnID != turn {
		t.Fatalf("holder's turn %s; want %s", h.TurnID, turn)
	}
	if _, err := s.TakeBack(ctx, "crash", "", "chair", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	checkFloor(t, s, "crash")
}

// TestEmbeddedFloorKill runs the test binary as a child that gives the floor
// and is killed with SIGKILL before taking it back; the state it leaves is
// consistent and the floor can be taken back after the restart.
func TestEmbeddedFloorKill(t *testing.T) {
	ctx := context.Background()
	if dir := os.Getenv("HOINGHI_FLOOR_KILL_CHILD"); dir != "" {
		s, err := store.Open(ctx, store.Options{DataDir: dir})
		if err != nil {
			fmt.Println("open:", err)
			return
		}
		turn, err := floorScenario(ctx, s)
		if err != nil {
			fmt.Println("scenario:", err)
			return
		}
		fmt.Println("given", turn)
		time.Sleep(10 * time.Second) // stop by itself if never killed
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestEmbeddedFloorKill$")
	cmd.Env = append(os.Environ(), "HOINGHI_FLOOR_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var turn string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "given "); ok {
			turn = v
			break
		}
		t.Log("child:", sc.Text())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if turn == "" {
		t.Fatal("the child gave no floor")
	}

	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap := takeFloorSnapshot(t, s, "crash")
	wantFloor(t, snap.State, []string{"p3", "p4"}, []string{"p2"})
	if h := snap.State.Holders[0]; h.TurnID != turn {
		t.Fatalf("holder's turn %s; want %s", h.TurnID, turn)
	}
	if n := len(snap.Turns); n != 3 || !snap.Turns[2].End.IsZero() || snap.Turns[2].ID != turn {
		t.Fatalf("turns after kill: %+v", snap.Turns)
	}
	st, err := s.TakeBack(ctx, "crash", "p2", "chair", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantFloor(t, st, []string{"p3", "p4"}, nil)
	checkFloor(t, s, "crash")
}
