package signal_test

import (
	"context"
	"errors"
	"net/http"
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

// stack is a whole server on loopback, with the dialing helpers of these
// tests.
type stack struct {
	*servertest.Stack
	t *testing.T
}

func startStack(t *testing.T, st *store.Store) *stack {
	return &stack{Stack: servertest.Start(t, st), t: t}
}

func seed(t *testing.T, st *store.Store, conf string, n int) []string {
	return servertest.Seed(t, st, conf, n)
}

func (s *stack) token(conf string, role conference.Role, point string, ttl time.Duration) string {
	return s.Token(conf, role, point, ttl)
}

func (s *stack) dial(ctx context.Context, tok string, publish bool) *client.Client {
	s.t.Helper()
	c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: tok, Publish: publish, VideoBitrate: 300_000})
	if err != nil {
		s.t.Fatalf("dial: %v", err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// from returns the stats of the track of kind received from participant:
// a track of its own stream, or a slot (the hall's wall, a speaker slot)
// that carries its media now.
func from(st []client.TrackStats, participant, kind string) (client.TrackStats, bool) {
	// A participant that reconnected has an ended track and a live one of
	// each kind: the live one is the one with more packets.
	var best client.TrackStats
	found := false
	for _, s := range st {
		if s.From == participant && s.Kind == kind && (!found || s.Packets > best.Packets) {
			best, found = s, true
		}
	}
	return best, found
}

// atLeast is a WaitMedia predicate: min packets of each kind from each
// participant.
func atLeast(min uint64, participants []string, kinds ...string) func([]client.TrackStats) bool {
	return func(st []client.TrackStats) bool {
		for _, p := range participants {
			for _, k := range kinds {
				s, ok := from(st, p, k)
				if !ok || s.Packets < min {
					return false
				}
			}
		}
		return true
	}
}

// eachStore runs test against a real Redis and against the embedded
// store, as subtests redis and embedded.
func eachStore(t *testing.T, test func(t *testing.T, st *store.Store)) {
	t.Run("redis", func(t *testing.T) { test(t, storetest.Redis(t)) })
	t.Run("embedded", func(t *testing.T) { test(t, storetest.Embedded(t)) })
}

// checkIntact fails the test if any received track lost, reordered or
// corrupted packets.
func checkIntact(t *testing.T, who string, st []client.TrackStats) {
	t.Helper()
	for _, s := range st {
		if s.SeqJumps != 0 || s.Corrupt != 0 || s.Lost != 0 {
			t.Errorf("%s: %s %s from %s: %d sequence jumps, %d corrupt, %d lost of %d packets",
				who, s.Kind, "track", s.Participant, s.SeqJumps, s.Corrupt, s.Lost, s.Packets)
		}
	}
}

// runConference joins a hall and the points, and checks that every point
// receives the hall's audio and video and the hall every point's video.
func runConference(t *testing.T, s *stack, conf string, points []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	var clients []*client.Client
	for _, p := range points {
		clients = append(clients, s.dial(ctx, s.token(conf, conference.RolePoint, p, time.Hour), true))
	}
	hallID := hall.Welcome().ParticipantID
	for i, c := range clients {
		if err := c.WaitMedia(ctx, atLeast(20, []string{hallID}, "audio", "video")); err != nil {
			t.Fatalf("point %s: hall media: %v; received %+v", points[i], err, c.Received())
		}
	}
	if err := hall.WaitMedia(ctx, atLeast(20, points, "video")); err != nil {
		t.Fatalf("hall: points' media: %v; received %+v", err, hall.Received())
	}
	for i, c := range clients {
		checkIntact(t, points[i], c.Received())
		for _, r := range c.Received() {
			if r.Packets > 0 && (r.Participant != client.ProgramStreamID || r.From != hallID) {
				t.Errorf("point %s receives %s of %s in %s; points receive only the hall program", points[i], r.Kind, r.From, r.Participant)
			}
		}
	}
	checkIntact(t, "hall", hall.Received())
	if v, _ := from(hall.Received(), points[0], "video"); v.Keyframes == 0 {
		t.Errorf("hall's first down-track of %s started without a keyframe: %+v", points[0], hall.Received())
	}
	roster := hall.Roster()
	if len(roster) != len(points)+1 {
		t.Errorf("roster has %d participants, want %d: %+v", len(roster), len(points)+1, roster)
	}
}

func TestConference(t *testing.T) { eachStore(t, testConference) }

func testConference(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "redis-conf", 3)
	runConference(t, s, "redis-conf", points)

	conns, err := st.Connected(context.Background(), "redis-conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 4 {
		t.Errorf("store lists %d connections, want 4", len(conns))
	}
	if got := s.SFU.Stats().PacketsForwarded; got == 0 {
		t.Error("SFU counted no forwarded packets")
	}
}

func TestEmbeddedConferenceSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *store.Store {
		st, err := store.Open(context.Background(), store.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	s := startStack(t, st)
	points := seed(t, st, "embedded-conf", 3)
	runConference(t, s, "embedded-conf", points[:1])
	s.Stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process on the same data dir: the conference, its points and
	// the record of the first join are still there.
	st = open()
	t.Cleanup(func() { st.Close() })
	if _, err := st.Conference(context.Background(), "embedded-conf"); err != nil {
		t.Fatalf("conference after restart: %v", err)
	}
	events, err := st.AttendanceEvents(context.Background(), "embedded-conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 2 {
		t.Errorf("after restart the store has %d events, want the joins of the first run", len(events))
	}
	s = startStack(t, st)
	runConference(t, s, "embedded-conf", points)
}

func TestBadInput(t *testing.T) { eachStore(t, testBadInput) }

func testBadInput(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "bad-input", 2)
	if err := st.PutConference(context.Background(), conference.Conference{ID: "other-conf", Title: "Hội nghị khác"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A healthy point watching the hall, throughout.
	hall := s.dial(ctx, s.token("bad-input", conference.RoleTechnician, "", time.Hour), true)
	healthy := s.dial(ctx, s.token("bad-input", conference.RolePoint, points[0], time.Hour), true)
	hallID := hall.Welcome().ParticipantID
	if err := healthy.WaitMedia(ctx, atLeast(10, []string{hallID}, "audio", "video")); err != nil {
		t.Fatal(err)
	}

	forger, _ := token.NewIssuer([]byte("another secret of at least 32 bytes!"))
	forged, _ := forger.Issue("bad-input", conference.RoleTechnician, "", time.Now().Add(time.Hour))
	refusals := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"missing", "", http.StatusUnauthorized, "token_missing"},
		{"forged", forged, http.StatusUnauthorized, "token_invalid"},
		{"expired", s.token("bad-input", conference.RolePoint, points[1], -time.Minute), http.StatusUnauthorized, "token_expired"},
		{"garbage", "not-a-token", http.StatusUnauthorized, "token_invalid"},
		{"unknown conference", s.token("no-such-conf", conference.RolePoint, points[1], time.Hour), http.StatusUnauthorized, "conference_not_found"},
		{"point of another conference", s.token("other-conf", conference.RolePoint, points[1], time.Hour), http.StatusUnauthorized, "point_not_found"},
	}
	for _, tt := range refusals {
		t.Run("refused "+tt.name, func(t *testing.T) {
			_, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: tt.token})
			var re *client.RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("dial error = %v, want a refusal", err)
			}
			if re.Status != tt.status || re.Code != tt.code || re.Message == "" {
				t.Errorf("refusal = %d %q %q, want %d %q with a message", re.Status, re.Code, re.Message, tt.status, tt.code)
			}
		})
	}

	t.Run("point token used for another conference's API", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/conferences/other-conf/links", nil)
		req.Header.Set("Authorization", "Bearer "+s.token("bad-input", conference.RoleTechnician, "", time.Hour))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status = %d, want 403", resp.StatusCode)
		}
	})

	bad := s.dial(ctx, s.token("bad-input", conference.RolePoint, points[1], time.Hour), false)
	messages := []struct {
		name string
		raw  []byte
		code string
	}{
		{"malformed JSON", []byte(`{"type": "publish_offer", "sdp": `), protocol.CodeBadJSON},
		{"not an object", []byte(`[1, 2, 3]`), protocol.CodeBadJSON},
		{"unknown type", []byte(`{"type":"take_the_floor"}`), protocol.CodeUnknownType},
		{"oversized", []byte(`{"type":"publish_offer","sdp":"` + strings.Repeat("a", protocol.MaxMessageBytes) + `"}`), protocol.CodeTooLarge},
		{"SDP pion rejects", []byte(`{"type":"publish_offer","sdp":"v=0\r\nthis is not sdp\r\n"}`), protocol.CodeBadSDP},
		{"answer without offer", []byte(`{"type":"subscribe_answer","sdp":"v=0\r\n"}`), protocol.CodeBadSDP},
		{"candidate for no connection", []byte(`{"type":"candidate","pc":"elsewhere","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}}`), protocol.CodeBadJSON},
	}
	for _, m := range messages {
		t.Run(m.name, func(t *testing.T) {
			if err := bad.SendRaw(m.raw); err != nil {
				t.Fatal(err)
			}
			for {
				select {
				case e := <-bad.Errors():
					if e.Request == protocol.TypeSubscribeAnswer && m.code != protocol.CodeBadSDP {
						// The client's own answer to an offer that the
						// bogus answer below had taken: not this message's.
						continue
					}
					if e.Code != m.code || e.Message == "" {
						t.Errorf("error = %+v, want code %q with a message", e, m.code)
					}
				case <-ctx.Done():
					t.Fatal("no error message came back")
				}
				break
			}
		})
	}
	select {
	case <-bad.Done():
		t.Fatal("the server dropped the connection that sent bad input")
	default:
	}

	// The healthy point keeps receiving the hall.
	before, _ := from(healthy.Received(), hallID, "audio")
	if err := healthy.WaitMedia(ctx, atLeast(before.Packets+25, []string{hallID}, "audio")); err != nil {
		t.Fatalf("healthy point stopped receiving: %v", err)
	}
	checkIntact(t, "healthy point", healthy.Received())
}

func TestReplacedConnection(t *testing.T) { eachStore(t, testReplacedConnection) }

func testReplacedConnection(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "replaced", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token("replaced", conference.RoleTechnician, "", time.Hour), true)
	tok := s.token("replaced", conference.RolePoint, points[0], time.Hour)
	first := s.dial(ctx, tok, true)
	second := s.dial(ctx, tok, true)
	select {
	case <-first.Done():
	case <-ctx.Done():
		t.Fatal("first connection was not closed when the link connected again")
	}
	if cl, ok := first.Closing(); !ok || cl.Reason != protocol.ReasonReplaced {
		t.Errorf("first connection closing = %+v, want reason %q", cl, protocol.ReasonReplaced)
	}
	if err := hall.WaitMedia(ctx, atLeast(20, points, "video")); err != nil {
		t.Fatal(err)
	}
	if err := second.WaitMedia(ctx, atLeast(20, []string{hall.Welcome().ParticipantID}, "video")); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, p := range hall.Roster() {
		if p.ID == points[0] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("hall's roster lists point %s %d times, want once", points[0], n)
	}
}

func TestLinkQualityReachesTheHall(t *testing.T) { eachStore(t, testLinkQualityReachesTheHall) }

func testLinkQualityReachesTheHall(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "quality", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token("quality", conference.RoleTechnician, "", time.Hour), true)
	for _, p := range points {
		s.dial(ctx, s.token("quality", conference.RolePoint, p, time.Hour), true)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		got := map[string]protocol.ParticipantQuality{}
		for _, q := range hall.LinkQuality().Participants {
			got[q.ID] = q
		}
		ok := true
		for _, p := range points {
			q := got[p]
			ok = ok && q.Kbps > 50 && q.RTTMs > 0 && q.Network == "udp" && q.LossPercent < 5
			// What the point's transport-wide feedback says of the
			// hall's media sent to it.
			ok = ok && q.DownKbps != nil && *q.DownKbps > 50 && q.DownLossPercent != nil && *q.DownLossPercent < 5
		}
		if ok {
			for _, p := range points {
				t.Logf("%s: %.1f kbit/s received from it; its feedback: %.1f kbit/s delivered to it, %.1f %% lost", p, got[p].Kbps, *got[p].DownKbps, *got[p].DownLossPercent)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("hall's link quality never showed both points: %+v", hall.LinkQuality())
		case <-tick.C:
		}
	}
}
