package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// scrape reads /metrics of base into a map from the series, as written
// (name and labels, e.g. `x_total{code="forbidden"}`), to its value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("/metrics: %s: %s", res.Status, b)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("/metrics: bad line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics: bad value in %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRedisMetricsAfterConference runs a small conference (a hall, two
// points, the floor given to one point, one refused request) and checks
// that /metrics counted it.
func TestRedisMetricsAfterConference(t *testing.T) {
	st := storetest.Redis(t)
	s := servertest.Start(t, st)
	const conf = "metrics"
	points := servertest.Seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dial := func(role conference.Role, point string) *client.Client {
		c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: s.Token(conf, role, point, time.Hour),
			Publish: true, VideoBitrate: 300_000})
		if err != nil {
			t.Fatalf("dial %s %s: %v", role, point, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	before := scrape(t, s.URL)
	chair := dial(conference.RoleChair, "")
	a, b := dial(conference.RolePoint, points[0]), dial(conference.RolePoint, points[1])
	chairID := chair.Welcome().ParticipantID
	for _, p := range []*client.Client{a, b} {
		err := p.WaitMedia(ctx, func(st []client.TrackStats) bool {
			n := 0
			for _, s := range st {
				if s.Participant == client.ProgramStreamID && s.From == chairID && s.Packets >= 20 {
					n++
				}
			}
			return n == 2 // audio and video
		})
		if err != nil {
			t.Fatalf("point %s: hall media: %v", p.Welcome().ParticipantID, err)
		}
	}

	// A point may not give the floor: one error sent.
	if err := a.Floor(protocol.Floor{Action: "give", PointID: points[0]}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-a.Errors():
		if e.Code != protocol.CodeForbidden {
			t.Errorf("a point giving the floor: error %+v, want %s", e, protocol.CodeForbidden)
		}
	case <-ctx.Done():
		t.Fatal("no error for a point giving the floor")
	}

	// The chair gives the floor to a; b sees a in its speaker slot.
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[0], Seconds: 60}); err != nil {
		t.Fatal(err)
	}
	err := b.WaitMedia(ctx, func(st []client.TrackStats) bool {
		for _, s := range st {
			if s.Participant == client.SpeakerStreamID && s.Kind == "video" &&
				s.Sender == client.SenderHash(points[0]) && s.Packets > 10 {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("speaker video of %s: %v", points[0], err)
	}

	m := scrape(t, s.URL)
	eq := func(series string, want float64) {
		t.Helper()
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present: %v), want %v", series, got, ok, want)
		}
	}
	grew := func(series string) {
		t.Helper()
		if m[series] <= before[series] {
			t.Errorf("%s = %v, was %v before the conference; want more", series, m[series], before[series])
		}
	}
	eq("hoinghi_participants", 3)
	eq(`hoinghi_participants_by_role{role="point"}`, 2)
	eq(`hoinghi_participants_by_role{role="chair"}`, 1)
	eq(`hoinghi_participants_by_role{role="technician"}`, 0)
	eq("hoinghi_ws_connections", 3)
	eq("hoinghi_ws_connections_total", 3)
	eq("hoinghi_join_seconds_count", 3)
	eq("hoinghi_floor_switches_total", 1)
	eq(`hoinghi_signaling_errors_total{code="forbidden"}`, 1)
	if n := m["hoinghi_floor_switch_seconds_count"]; n < 1 {
		t.Errorf("hoinghi_floor_switch_seconds_count = %v, want at least 1", n)
	}
	for _, series := range []string{"hoinghi_packets_in_total", "hoinghi_packets_forwarded_total",
		"hoinghi_bytes_in_total", "hoinghi_bytes_forwarded_total", "hoinghi_keyframe_requests_total",
		"hoinghi_up_tracks", "hoinghi_down_tracks", "hoinghi_join_seconds_sum"} {
		grew(series)
	}
	for series, v := range m {
		if strings.HasPrefix(series, "hoinghi_redis_errors_total") && v > 0 {
			t.Errorf("%s = %v; Redis answered every command", series, v)
		}
	}
	if t.Failed() {
		for series, v := range m {
			if strings.HasPrefix(series, "hoinghi_") {
				t.Logf("%s %v", series, v)
			}
		}
	}
}
