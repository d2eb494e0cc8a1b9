package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
)

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 95, 7 * time.Millisecond},
		{ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{ms(4, 1, 3, 2), 95, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19 * time.Millisecond},
		{ms(5, 1), 100, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.ds, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.ds, tt.p, got, tt.want)
		}
	}
}

func TestDiffTracks(t *testing.T) {
	before := []client.TrackStats{{Participant: "a", Kind: "video", SSRC: 1, Packets: 10, Bytes: 100, Lost: 3, Keyframes: 1}}
	after := []client.TrackStats{
		{Participant: "a", Kind: "video", SSRC: 1, Packets: 25, Bytes: 250, Lost: 2, Keyframes: 2},
		{Participant: "b", Kind: "audio", SSRC: 2, Packets: 5, Bytes: 50},
	}
	got := diffTracks(before, after)
	want := []client.TrackStats{
		{Participant: "a", Kind: "video", SSRC: 1, Packets: 15, Bytes: 150, Lost: 0, Keyframes: 1},
		{Participant: "b", Kind: "audio", SSRC: 2, Packets: 5, Bytes: 50},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFlows(t *testing.T) {
	hall := peerStats{
		name: "technician",
		sent: []client.TrackStats{{Participant: "technician", Kind: "audio", Packets: 50}, {Participant: "technician", Kind: "video", Packets: 75}},
		recv: []client.TrackStats{
			{Participant: "p1", Kind: "video", Packets: 70, Lost: 1},
			{Participant: "p2", Kind: "video", Packets: 0},
			{Participant: "p2", Kind: "audio", Packets: 3, Corrupt: 1},
		},
	}
	points := []peerStats{
		{name: "p1", sent: []client.TrackStats{{Kind: "audio", Packets: 50}, {Kind: "video", Packets: 75}},
			recv: []client.TrackStats{{Participant: "technician", Kind: "audio", Packets: 50}, {Participant: "technician", Kind: "video", Packets: 75, Keyframes: 2}}},
		// p2 receives the hall in its program slot, known by the payloads.
		{name: "p2", sent: []client.TrackStats{{Kind: "audio", Packets: 50}, {Kind: "video", Packets: 74}},
			recv: []client.TrackStats{{Participant: client.ProgramStreamID, Sender: client.SenderHash("technician"), Kind: "audio", Packets: 49, SeqJumps: 1},
				{Participant: client.ProgramStreamID, Sender: client.SenderHash("technician"), Kind: "video", Packets: 60},
				{Participant: client.SpeakerStreamID, Sender: client.SenderHash("p1"), Kind: "video", Packets: 7}}},
	}
	down := hallToPoints(hall, points)
	if down.sent != (kindCounts{50, 75}) || down.recv != (kindCounts{99, 135}) || down.minRecv != (kindCounts{49, 60}) ||
		down.jumps != 1 || down.keyframes != 2 || down.receivers != 2 {
		t.Errorf("hall to points %+v", down)
	}
	up := pointsToHall(hall, points)
	if up.sent != (kindCounts{100, 149}) || up.recv != (kindCounts{3, 70}) || up.lost != 1 || up.corrupt != 1 || up.receivers != 1 {
		t.Errorf("points to hall %+v", up)
	}

	r := result{points: 2, joined: 2, connected: 2, minJoined: 1, window: time.Second, joins: []time.Duration{time.Second},
		noMedia: []string{"p2"}, hallMedia: true, media: true, hallExpect: 2, down: down, up: up}
	fails := r.failures()
	if len(fails) != 3 { // no media at p2, video from 1 of 2 points, corrupt
		t.Errorf("failures %q", fails)
	}
	var buf bytes.Buffer
	r.print(&buf)
	if !strings.Contains(buf.String(), "hall -> points: received, least by one point  49") {
		t.Errorf("report:\n%s", buf.String())
	}
}

func TestPointsToHallBySender(t *testing.T) {
	// The hall's wall slots carry any point's video; the payload's sender
	// says whose.
	points := []peerStats{
		{name: "diem-001", sent: []client.TrackStats{{Kind: "video", Packets: 75}}},
		{name: "diem-002", sent: []client.TrackStats{{Kind: "video", Packets: 75}}},
		{name: "diem-003", sent: []client.TrackStats{{Kind: "video", Packets: 75}}},
	}
	hall := peerStats{name: "technician-1", recv: []client.TrackStats{
		{Participant: "wall-0", Kind: "video", Packets: 70, Sender: client.SenderHash("diem-002")},
		{Participant: "wall-1", Kind: "video", Packets: 60, Sender: client.SenderHash("diem-003")},
		{Participant: "wall-2", Kind: "video", Packets: 0, Sender: client.SenderHash("diem-001")},      // silent in the window
		{Participant: "speaker", Kind: "video", Packets: 9, Sender: client.SenderHash("someone-else")}, // not a point of this run
		{Participant: "diem-001", Kind: "audio", Packets: 5},                                           // no payload sender: by name
	}}
	up := pointsToHall(hall, points)
	if up.receivers != 2 || up.recv != (kindCounts{5, 130}) || up.sent != (kindCounts{0, 225}) {
		t.Errorf("points to hall %+v", up)
	}
}

func TestFailures(t *testing.T) {
	okMedia := func(r result) result {
		r.media, r.hallMedia = true, true
		r.down.minRecv.video = 10
		r.up.receivers, r.hallExpect = r.connected, r.connected
		return r
	}
	tests := []struct {
		name string
		r    result
		want []string // substrings, one per failure
	}{
		{"all joined", okMedia(result{points: 10, joined: 10, connected: 10, minJoined: 1}), nil},
		{"one failed", okMedia(result{points: 10, joined: 9, connected: 9, minJoined: 1}),
			[]string{"9 of 10 points joined and stayed connected, want at least 10 (-min-joined 1)"}},
		{"one failed, 0.9 asked", okMedia(result{points: 10, joined: 9, connected: 9, minJoined: 0.9}), nil},
		{"0.9 of 250", okMedia(result{points: 250, joined: 226, connected: 224, minJoined: 0.9}),
			[]string{"224 of 250 points joined and stayed connected, want at least 225"}},
		{"disconnected counts", okMedia(result{points: 4, joined: 4, connected: 3, minJoined: 1}),
			[]string{"3 of 4 points"}},
		{"none asked", okMedia(result{points: 4, joined: 0, connected: 0, minJoined: 0}), nil},
		{"hall lost", okMedia(result{points: 2, joined: 2, connected: 2, minJoined: 1, hallLost: "closed by server: dropped"}),
			[]string{"the hall was disconnected: closed by server: dropped"}},
		{"wall: fewer than the wall", func() result {
			r := okMedia(result{points: 20, joined: 20, connected: 20, minJoined: 1})
			r.hallExpect, r.up.receivers = 5, 4
			return r
		}(), []string{"the hall received video from 4 of 5 points"}},
		{"wall met", func() result {
			r := okMedia(result{points: 20, joined: 20, connected: 20, minJoined: 1})
			r.hallExpect, r.up.receivers = 5, 5
			return r
		}(), nil},
		{"no media checks when nobody is connected", result{points: 3, media: true, minJoined: 0}, nil},
		{"idle: connections only", result{idle: true, points: 50, joined: 50, connected: 48, minJoined: 1},
			[]string{"48 of 50 points"}},
		{"floor switches", okMedia(result{points: 2, joined: 2, connected: 2, minJoined: 1, switchErr: errors.New("point diem-002 did not see")}),
			[]string{"floor switches: point diem-002 did not see"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.failures()
			if len(got) != len(tt.want) {
				t.Fatalf("failures %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %q, want %q", got[i], w)
				}
			}
		})
	}
}

func TestSummary(t *testing.T) {
	start := map[string]float64{metricRSS: 30 << 20, metricGoroutines: 30, metricCPU: 1, metricForwarded: 0}
	end := map[string]float64{metricRSS: 70 << 20, metricGoroutines: 430, metricCPU: 3, metricForwarded: 0, metricWS: 40, metricParticipants: 40}
	r := result{
		idle: true, conference: "load-1", points: 50, joined: 45, connected: 40, minJoined: 0.8, retries: 7,
		failed:    []reasonCount{{Kind: "server_busy", Count: 4, Example: "connect point diem-007: busy"}, {Kind: "timeout", Count: 1}},
		dropped:   []reasonCount{{Kind: "closed by server: dropped", Count: 5}},
		ramp:      10 * time.Second,
		joinPhase: 12 * time.Second, window: 60 * time.Second,
		dialTimes: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
		server:    serverSamples{start: start, end: end},
	}
	s := r.summary()
	if s.Mode != "idle" || s.Failed != 5 || s.Disconnected != 5 || s.ConnectedAtEnd != 40 || !s.OK ||
		s.SignalingJoinMS != (dist{N: 3, P50: 200, P95: 300, Max: 300}) || s.MediaJoinMS != nil || s.Down != nil {
		t.Errorf("summary %+v", s)
	}
	if s.Server == nil || s.Server.RSSPerPoint != 1<<20 || s.Server.GoroutinesPerPoint != 10 {
		t.Errorf("server %+v", s.Server)
	}

	// JSON: the same figures, with names a script can rely on.
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"mode": "idle", "points": 50.0, "joined": 45.0, "failed": 5.0, "disconnected": 5.0,
		"connected_at_end": 40.0, "retries": 7.0, "ramp_ms": 10000.0, "ok": true} {
		if m[k] != want {
			t.Errorf("json %s = %v, want %v", k, m[k], want)
		}
	}
	srv, _ := m["server"].(map[string]any)
	if srv["rss_per_point_bytes"] != float64(1<<20) || srv["goroutines_end"] != 430.0 {
		t.Errorf("json server %v", srv)
	}
	by, _ := m["failed_by"].([]any)
	if len(by) != 2 || by[0].(map[string]any)["kind"] != "server_busy" {
		t.Errorf("json failed_by %v", m["failed_by"])
	}
	if _, ok := m["media_join_ms"]; ok {
		t.Error("idle json has media join times")
	}

	var buf bytes.Buffer
	s.print(&buf)
	out := buf.String()
	for _, want := range []string{
		"  50: joined 45, failed 5, disconnected 5, connected at end 40; 7 retries",
		"failed: server_busy",
		"4  (connect point diem-007: busy)",
		"disconnected: closed by server: dropped  5\n",
		"signaling join (Dial)",
		"p50 200 ms  p95 300 ms  max 300 ms  (3 joined)",
		"30.0 MiB at start, 70.0 MiB at end: 1.00 MiB per connection",
		"30 at start, 430 at end: 10.0 per connection",
		"40 WebSockets, 40 SFU participants",
		"expectations",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^  failed: timeout +1$`).MatchString(out) {
		t.Errorf("report lacks the timeouts, without an example:\n%s", out)
	}
	for _, unwanted := range []string{"packets in the window", "media join", "server packets"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("idle report has %q:\n%s", unwanted, out)
		}
	}

	// Unmet expectations and missing metrics are said.
	r.minJoined, r.server = 1, serverSamples{err: errors.New("scrape: refused")}
	buf.Reset()
	r.print(&buf)
	for _, want := range []string{"expectation unmet", "40 of 50 points joined and stayed connected", "server metrics", "unavailable: scrape: refused"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
	if s := r.summary(); s.OK || len(s.Unmet) != 1 || s.ServerError == "" {
		t.Errorf("summary %+v", s)
	}
}

func TestMediaSummary(t *testing.T) {
	r := result{points: 3, joined: 3, connected: 3, minJoined: 1, media: true, hallMedia: true, hallJoin: 300 * time.Millisecond,
		joins: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond},
		wall:  2, wallSet: true, hallExpect: 2, switchN: 2, switchTime: []time.Duration{10 * time.Millisecond, 30 * time.Millisecond},
		down: flow{sent: kindCounts{50, 75}, recv: kindCounts{150, 225}, minRecv: kindCounts{50, 75}, receivers: 3},
		up:   flow{sent: kindCounts{150, 225}, recv: kindCounts{0, 150}, receivers: 2},
	}
	s := r.summary()
	if s.Mode != "media" || *s.MediaJoinMS != (dist{N: 3, P50: 200, P95: 400, Max: 400}) || *s.HallJoinMS != 300 ||
		s.HallVideoFrom != 2 || s.HallVideoExpected != 2 || s.Down.ExpectedVideo != 225 || s.Down.MinRecvAudio != 50 ||
		*s.FloorSwitchMS != (dist{N: 2, P50: 10, P95: 30, Max: 30}) || !s.OK {
		t.Errorf("summary %+v", s)
	}
	var buf bytes.Buffer
	s.print(&buf)
	for _, want := range []string{"hall subscribes to", "the first 2 points", "2 of 2 expected points", "p50 10 ms  p95 30 ms  max 30 ms  (2 switches, 2 samples)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
	r.wallSet = false
	buf.Reset()
	r.print(&buf)
	if !strings.Contains(buf.String(), "-wall 2 not set") {
		t.Errorf("report:\n%s", buf.String())
	}
}

func TestHallWait(t *testing.T) {
	a, b, c := client.SenderHash("a"), client.SenderHash("b"), client.SenderHash("c")
	video := func(hs ...uint32) []client.TrackStats {
		var out []client.TrackStats
		for _, h := range hs {
			out = append(out, client.TrackStats{Kind: "video", Packets: 1, Sender: h})
		}
		return out
	}
	t0 := time.Now()
	type step struct {
		at   time.Duration
		st   []client.TrackStats
		want bool
	}
	tests := []struct {
		name   string
		expect []uint32
		steps  []step
	}{
		{"nothing expected", nil, []step{{0, nil, true}}},
		{"all arrive", []uint32{a, b}, []step{{0, video(a), false}, {time.Second, video(a, b), true}}},
		{"fewer, settled", []uint32{a, b, c}, []step{
			{0, video(a), false}, {time.Second, video(a, b), false}, {5 * time.Second, video(a, b), false},
			{6 * time.Second, video(a, b), true}}},
		{"none never settles", []uint32{a}, []step{{0, nil, false}, {time.Minute, nil, false}}},
		{"others do not count", []uint32{a, b}, []step{
			{0, video(c, c), false}, {time.Minute, video(c), false},
			{time.Minute, append(video(a), client.TrackStats{Kind: "audio", Packets: 9, Sender: b}), false}}},
		{"silent tracks do not count", []uint32{a}, []step{{0, []client.TrackStats{{Kind: "video", Sender: a}}, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect := make(map[uint32]bool)
			for _, h := range tt.expect {
				expect[h] = true
			}
			w := &hallWait{expect: expect, settle: 5 * time.Second}
			for i, s := range tt.steps {
				if got := w.done(s.st, t0.Add(s.at)); got != s.want {
					t.Errorf("step %d: done %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestServerProcessSummary(t *testing.T) {
	r := result{points: 2, joined: 2, connected: 2, minJoined: 1, media: true, fanout: true, galene: true, window: 10 * time.Second,
		joins: []time.Duration{time.Millisecond, time.Millisecond},
		down:  flow{sent: kindCounts{500, 1250}, recv: kindCounts{1000, 2498}, minRecv: kindCounts{500, 1248}, receivers: 2, lost: 2},
		proc: procSamples{pid: 99,
			base:  procSample{ok: true, rss: 20 << 20},
			start: procSample{ok: true, cpu: time.Second},
			end:   procSample{ok: true, cpu: time.Second + 35*time.Millisecond, rss: 22 << 20}},
	}
	s := r.summary()
	p := s.ServerProcess
	if s.ServerKind != "galene" || p == nil || p.Forwarded != 3498 || p.Lost != 2 || p.RSSPerSubscriber != 1<<20 || p.Subscribers != 2 {
		t.Fatalf("summary %+v, process %+v", s, p)
	}
	if s.Server != nil || !s.OK {
		t.Errorf("server %+v, unmet %v", s.Server, s.Unmet)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"server_kind":"galene"`, `"server_process":{"pid":99`, `"cpu_per_forwarded_packet_us":10.0`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("JSON lacks %s: %s", key, raw)
		}
	}
	var buf bytes.Buffer
	s.print(&buf)
	out := buf.String()
	for _, want := range []string{"server process 99 (galene, from /proc)", "1.00 MiB per point", "3498 packets, 350/s; 2 lost (0.057%)", "10.01 µs"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "server metrics") {
		t.Errorf("a Galene report speaks of server metrics:\n%s", out)
	}
}
