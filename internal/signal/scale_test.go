package signal_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/signal"
	"hoinghi/internal/store/storetest"
)

// joinSignaling opens a signaling-only connection for each token, all at
// once, and returns them in the order of tokens.
func joinSignaling(t *testing.T, ctx context.Context, base string, tokens []string) []*client.Client {
	t.Helper()
	clients := make([]*client.Client, len(tokens))
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() {
			for {
				clients[i], errs[i] = client.Dial(ctx, client.Options{ServerURL: base, Token: tok, SignalingOnly: true})
				var busy *client.RefusedError
				if !errors.As(errs[i], &busy) || (busy.Code != signal.CodeServerBusy && busy.Code != signal.CodeTooManyReconnects) {
					return
				}
				time.Sleep(busy.RetryAfter)
			}
		})
	}
	wg.Wait()
	for _, c := range clients {
		if c != nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("join: %v", err)
	}
	return clients
}

// rosterIDs returns the ids of c's roster.
func rosterIDs(c *client.Client) []string {
	var ids []string
	for _, p := range c.Roster() {
		ids = append(ids, p.ID)
	}
	return ids
}

// waitRosters waits until every client's roster holds exactly want, and
// fails the test with the first that does not.
func waitRosters(t *testing.T, ctx context.Context, clients []*client.Client, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	for i, c := range clients {
		for !slices.Equal(rosterIDs(c), want) {
			select {
			case <-ctx.Done():
				got := rosterIDs(c)
				t.Fatalf("client %d (%s): roster has %d participants, want %d; missing %v",
					i, c.Welcome().ParticipantID, len(got), len(want), missing(want, got))
			case <-c.Done():
				cl, _ := c.Closing()
				t.Fatalf("client %d (%s) was disconnected: %+v", i, c.Welcome().ParticipantID, cl)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

func missing(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

// TestRedisRosterAt300 joins 300 connections to one conference at once and
// checks that each ends with the whole roster, none is disconnected, and
// the bytes the hub encodes grow linearly with the joins: a roster encoded
// whole for every recipient of every join would grow with their square.
func TestRedisRosterAt300(t *testing.T) {
	if testing.Short() {
		t.Skip("300 connections")
	}
	st := storetest.Redis(t)
	// Signaling-only clients send no publish offer, so each counts as
	// joining for a while: admit them all at once.
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{MaxJoining: 1000}), t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// encodedFor joins n points and a secretariat to a conference of its
	// own and returns the bytes encoded meanwhile, and the clients.
	encodedFor := func(conf string, n int) (uint64, []*client.Client, []string) {
		points := seed(t, st, conf, n)
		before := s.Hub.Stats().EncodedBytes
		tokens := []string{s.token(conf, conference.RoleSecretariat, "", time.Hour)}
		for _, p := range points {
			tokens = append(tokens, s.token(conf, conference.RolePoint, p, time.Hour))
		}
		clients := joinSignaling(t, ctx, s.URL, tokens)
		want := append([]string{clients[0].Welcome().ParticipantID}, points...)
		waitRosters(t, ctx, clients, want)
		var version uint64
		for i, c := range clients {
			v, gaps := c.RosterVersion()
			if gaps != 0 {
				t.Errorf("client %d: %d roster updates did not follow the version it held", i, gaps)
			}
			if i > 0 && v != version {
				t.Errorf("client %d holds roster version %d, client 0 version %d", i, v, version)
			}
			version = v
		}
		// The SFU's subscribe offers follow the joins by a moment: count
		// what the joins led to once the hub has been quiet for a while.
		for last := uint64(0); ; {
			now := s.Hub.Stats().EncodedBytes
			if now == last {
				break
			}
			last = now
			time.Sleep(500 * time.Millisecond)
		}
		return s.Hub.Stats().EncodedBytes - before, clients, want
	}
	small, _, _ := encodedFor("roster-150", 150)
	large, clients, ids := encodedFor("roster-300", 300)
	ratio := float64(large) / float64(small)
	t.Logf("encoded %d bytes for 150 joins, %d for 300 (ratio %.2f)", small, large, ratio)
	if ratio > 2.6 {
		t.Errorf("twice the joins encoded %.2f times the bytes (%d, %d); linear growth gives about 2", ratio, small, large)
	}
	if got := s.Hub.Stats().SlowDisconnects; got != 0 {
		t.Errorf("%d connections were disconnected as too slow", got)
	}

	// Every other point leaves at once: those who stay see exactly each
	// other.
	var stay []*client.Client
	var want []string
	for i, c := range clients {
		if i%2 == 1 {
			c.Close()
			continue
		}
		stay = append(stay, c)
		want = append(want, ids[i])
	}
	waitRosters(t, ctx, stay, want)
	if got := s.Hub.Stats().SlowDisconnects; got != 0 {
		t.Errorf("%d connections were disconnected as too slow", got)
	}
}

// TestRedisHallLinkConnectionLimit opens a hall link more times than it may
// be open at once: the one too many is refused with too_many_connections,
// and admitted again once another closed.
func TestRedisHallLinkConnectionLimit(t *testing.T) {
	st := storetest.Redis(t)
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{HallConnectionsPerLink: 2}), t: t}
	seed(t, st, "hall-limit", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tech := s.token("hall-limit", conference.RoleTechnician, "", time.Hour)
	dial := func() (*client.Client, error) {
		return client.Dial(ctx, client.Options{ServerURL: s.URL, Token: tech, SignalingOnly: true})
	}
	first, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	second, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_, err = dial()
	var refused *client.RefusedError
	if !errors.As(err, &refused) || refused.Status != 409 || refused.Code != signal.CodeTooManyConnections || refused.MessageEN == "" {
		t.Fatalf("third connection of a link allowed two: %v, want HTTP 409 %s", err, signal.CodeTooManyConnections)
	}
	// The page asks /api/session before it reconnects, and learns why.
	resp, err := http.Get(s.URL + "/api/session?t=" + tech)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("/api/session of the full link: HTTP %d, want 409", resp.StatusCode)
	}
	// Another technician link is a link of its own.
	other, err := client.Dial(ctx, client.Options{ServerURL: s.URL, SignalingOnly: true,
		Token: s.token("hall-limit", conference.RoleTechnician, "", 2*time.Hour)})
	if err != nil {
		t.Fatalf("another link refused: %v", err)
	}
	defer other.Close()
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		third, err := dial()
		if err == nil {
			third.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one of its connections closed the link is still refused: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.Hub.Stats().Refused[signal.CodeTooManyConnections]; got == 0 {
		t.Error("the refusal was not counted")
	}
}

// TestRedisJoinsBeyondTheLimitAreToldToRetry sets the hub to admit two
// joining connections at once: a third is refused with server_busy and a
// Retry-After, and admitted once the first two have negotiated.
func TestRedisJoinsBeyondTheLimitAreToldToRetry(t *testing.T) {
	st := storetest.Redis(t)
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{MaxJoining: 2}), t: t}
	points := seed(t, st, "busy", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Signaling-only points never send a publish offer, so each counts as
	// joining for a while.
	var held []*client.Client
	for _, p := range points[:2] {
		c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, SignalingOnly: true,
			Token: s.token("busy", conference.RolePoint, p, time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	_, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: s.token("busy", conference.RolePoint, points[2], time.Hour)})
	var refused *client.RefusedError
	if !errors.As(err, &refused) || refused.Status != 503 || refused.Code != signal.CodeServerBusy || refused.RetryAfter <= 0 {
		t.Fatalf("a join over the limit: %v, want HTTP 503 %s with Retry-After", err, signal.CodeServerBusy)
	}
	for _, c := range held {
		c.Close()
	}
	// Once they are gone, the point gets in and its publish offer is answered.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Publish: true,
			Token: s.token("busy", conference.RolePoint, points[2], time.Hour)})
		if err == nil {
			c.Close()
			break
		}
		if !errors.As(err, &refused) || time.Now().After(deadline) {
			t.Fatalf("after the others left: %v", err)
		}
		time.Sleep(refused.RetryAfter)
	}
}

// stalledHall is a hall connection on a raw WebSocket whose socket takes
// in little, so that the server's writes to it block while the test does
// not read.
type stalledHall struct {
	ws           *websocket.Conn
	roster       map[string]bool
	version      uint64
	floorVersion int64
}

func dialStalled(t *testing.T, base, tok string) *stalledHall {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme, u.Path, u.RawQuery = "ws", "/ws", url.Values{"t": {tok}}.Encode()
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			// Larger than twice loopback's segment size, or the
			// window would stay shut even while the test reads.
			err = c.(*net.TCPConn).SetReadBuffer(256 << 10)
		}
		return c, err
	}}
	ws, _, err := d.Dial(u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &stalledHall{ws: ws, roster: map[string]bool{}}
}

// readUntil reads messages until done returns true for one, and returns
// the last roster the messages built, and the newest floor_state version.
func (h *stalledHall) readUntil(t *testing.T, timeout time.Duration, done func(roster map[string]bool, floorVersion int64) bool) (map[string]bool, int64) {
	t.Helper()
	roster := h.roster
	_ = h.ws.SetReadDeadline(time.Now().Add(timeout))
	for !done(roster, h.floorVersion) {
		var m struct {
			Type         string                 `json:"type"`
			Version      int64                  `json:"version"`
			Participants []protocol.Participant `json:"participants"`
			Set          []protocol.Participant `json:"set"`
			Removed      []string               `json:"removed"`
			Reason       string                 `json:"reason"`
		}
		if err := h.ws.ReadJSON(&m); err != nil {
			t.Fatalf("stalled hall: %v (roster %d, floor version %d)", err, len(roster), h.floorVersion)
		}
		switch m.Type {
		case protocol.TypeRoster:
			clear(roster)
			for _, p := range m.Participants {
				roster[p.ID] = true
			}
			h.version = uint64(m.Version)
		case protocol.TypeRosterUpdate:
			if uint64(m.Version) <= h.version {
				continue
			}
			if uint64(m.Version) != h.version+1 {
				t.Errorf("roster update %d after version %d", m.Version, h.version)
			}
			for _, p := range m.Set {
				roster[p.ID] = true
			}
			for _, id := range m.Removed {
				delete(roster, id)
			}
			h.version = uint64(m.Version)
		case protocol.TypeFloorState:
			h.floorVersion = max(h.floorVersion, m.Version)
		case protocol.TypeClosing:
			t.Fatalf("stalled hall closed by the server: %s", m.Reason)
		}
	}
	return roster, h.floorVersion
}

// TestRedisSlowHallKeepsItsConnection stalls a technician's connection for
// 20 s while points come and go and the floor changes: the technician is
// not disconnected and, reading again, gets the state as it is now; a
// point meanwhile gets every floor change at once.
func TestRedisSlowHallKeepsItsConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s stall")
	}
	st := storetest.Redis(t)
	s := startStack(t, st)
	const conf = "slow-hall"
	points := seed(t, st, conf, 41)
	// Long names make each roster change large, so that the hall's socket
	// fills up and the server's writes to it block during the stall.
	for i, id := range points {
		p := conference.Point{ID: id, Name: fmt.Sprintf("Điểm cầu số %d, %s", i+1, strings.Repeat("xã Phú Hữu ", 15))}
		if err := st.PutPoint(context.Background(), conf, p); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	hall := dialStalled(t, s.URL, s.token(conf, conference.RoleTechnician, "", time.Hour))
	var hallID string
	hall.readUntil(t, 5*time.Second, func(r map[string]bool, _ int64) bool {
		for id := range r {
			hallID = id
		}
		return len(r) == 1
	})
	// The watcher stays; the others come and go while the hall stalls.
	watcher := s.dial(ctx, s.token(conf, conference.RolePoint, points[0], time.Hour), false)
	chair := s.dial(ctx, s.token(conf, conference.RoleChair, "", time.Hour), false)
	churn := points[1:]
	var tokens []string
	for _, p := range churn {
		tokens = append(tokens, s.token(conf, conference.RolePoint, p, time.Hour))
	}

	stallEnds := time.Now().Add(20 * time.Second)
	var lastFloor int64
	round := 0
	for time.Now().Before(stallEnds) {
		clients := joinSignaling(t, ctx, s.URL, tokens)
		// The chair gives the floor to a point of this round; the
		// watcher must see it while the hall is stalled.
		target := churn[round%len(churn)]
		if err := chair.Floor(protocol.Floor{Action: "give", PointID: target}); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		err := watcher.WaitFloor(wctx, func(f protocol.FloorState) bool {
			return len(f.Holders) == 1 && f.Holders[0].PointID == target && f.Version > lastFloor
		})
		wcancel()
		if err != nil {
			var refusals []string
			for len(chair.Errors()) > 0 {
				e := <-chair.Errors()
				refusals = append(refusals, e.Code+": "+e.Message)
			}
			stored, serr := st.Floor(ctx, conf)
			t.Fatalf("round %d: the watcher did not see the floor given to %s while the hall stalled: %v; floor %+v; the chair's refusals: %v; the chair saw %+v; stored %+v %v",
				round, target, err, watcher.FloorState(), refusals, chair.FloorState(), stored, serr)
		}
		lastFloor = watcher.FloorState().Version
		for _, c := range clients[:len(clients)/2] {
			c.Close()
		}
		round++
	}
	if round < 2 {
		t.Fatalf("only %d rounds in the stall", round)
	}
	// The latest: the watcher, the chair, the hall itself and the half of
	// the churning points still connected.
	want := map[string]bool{hallID: true, points[0]: true, chair.Welcome().ParticipantID: true}
	for _, p := range churn[len(churn)/2:] {
		want[p] = true
	}
	roster, floor := hall.readUntil(t, 30*time.Second, func(r map[string]bool, f int64) bool {
		return f >= lastFloor && len(r) == len(want) && func() bool {
			for id := range want {
				if !r[id] {
					return false
				}
			}
			return true
		}()
	})
	t.Logf("after %d rounds the hall caught up: %d in the roster, floor version %d; %d messages shed",
		round, len(roster), floor, s.Hub.Stats().Shed)
	if got := s.Hub.Stats().SlowDisconnects; got != 0 {
		t.Errorf("%d connections were disconnected as too slow", got)
	}
	if s.Hub.Stats().Shed == 0 {
		t.Error("no message was shed: the hall's socket never filled, so the stall was not one")
	}
	var names []string
	for id := range roster {
		names = append(names, id)
	}
	if len(roster) != len(want) {
		t.Errorf("hall roster %s, want %d participants", strings.Join(names, ","), len(want))
	}
}

// TestRedisReconnectFlood: a link that reconnects in a loop is refused
// before the upgrade once past the burst a page's backoff never reaches,
// so that it writes a bounded number of attendance events and roster
// changes; a reconnect does not reset the link's message limit; another
// point meanwhile joins at once.
func TestRedisReconnectFlood(t *testing.T) {
	st := storetest.Redis(t)
	s := startStack(t, st)
	const conf = "reconnect-flood"
	points := seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok := s.token(conf, conference.RolePoint, points[0], time.Hour)
	admitted, refused := 0, 0
	var retry time.Duration
	for range 40 {
		c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: tok})
		var r *client.RefusedError
		switch {
		case err == nil:
			admitted++
			c.Close()
		case errors.As(err, &r) && r.Status == http.StatusTooManyRequests && r.Code == signal.CodeTooManyReconnects:
			refused++
			retry = r.RetryAfter
		default:
			t.Fatalf("reconnect: %v", err)
		}
	}
	t.Logf("40 reconnects in a row: %d admitted, %d refused (Retry-After %v)", admitted, refused, retry)
	if admitted > 12 || refused < 28 || retry < time.Second {
		t.Errorf("40 reconnects in a row: %d admitted, %d refused, Retry-After %v; want about 10 admitted and a Retry-After", admitted, refused, retry)
	}
	other := s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), false)
	if other.Welcome().ParticipantID != points[1] {
		t.Fatal("the other point was not admitted")
	}

	// The message limit is the link's: a burst spent on one connection
	// is spent for the next.
	tok2 := s.token(conf, conference.RoleTechnician, "", time.Hour)
	first := s.dial(ctx, tok2, false)
	for range 60 {
		if err := first.SendRaw([]byte(`{"type":"stats"}`)); err != nil {
			t.Fatal(err)
		}
	}
	// Each is answered (stats come at most once a second): wait for the
	// answers, so that the server has read them all before the close.
	for len(first.Errors()) < 59 {
		select {
		case <-ctx.Done():
			t.Fatalf("%d answers to 60 messages", len(first.Errors()))
		case <-time.After(10 * time.Millisecond):
		}
	}
	first.Close()
	// 20 at once: a fresh burst would take them all; the link has had a
	// second or less to earn back 20 a second.
	second := s.dial(ctx, tok2, false)
	for range 30 {
		if err := second.SendRaw([]byte(`{"type":"hello"}`)); err != nil {
			t.Fatal(err)
		}
	}
	limited := false
	for !limited {
		select {
		case e := <-second.Errors():
			limited = e.Code == protocol.CodeRateLimited
		case <-time.After(2 * time.Second):
			t.Fatal("after reconnecting the link had a new burst of messages")
		}
	}
}
