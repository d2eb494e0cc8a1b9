package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"hoinghi/internal/client"
)

// peerStats is what one connected client had sent and received at a moment.
type peerStats struct {
	name string
	sent []client.TrackStats
	recv []client.TrackStats
}

// trackKey identifies a track across snapshots.
type trackKey struct {
	participant, kind string
	ssrc              uint32
}

func keyOf(t client.TrackStats) trackKey { return trackKey{t.Participant, t.Kind, t.SSRC} }

// diffTracks returns after minus before, track by track; a track absent
// before counts from zero.
func diffTracks(before, after []client.TrackStats) []client.TrackStats {
	prev := make(map[trackKey]client.TrackStats, len(before))
	for _, t := range before {
		prev[keyOf(t)] = t
	}
	out := make([]client.TrackStats, 0, len(after))
	for _, t := range after {
		p := prev[keyOf(t)]
		t.Packets -= p.Packets
		t.Bytes -= p.Bytes
		t.Lost = sub(t.Lost, p.Lost)
		t.SeqJumps -= p.SeqJumps
		t.Corrupt -= p.Corrupt
		t.Keyframes -= p.Keyframes
		out = append(out, t)
	}
	return out
}

// sub returns a-b, or 0 when b > a (a loss count can shrink when a
// retransmission fills a gap).
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func diffPeer(before, after peerStats) peerStats {
	return peerStats{name: after.name, sent: diffTracks(before.sent, after.sent), recv: diffTracks(before.recv, after.recv)}
}

// kindCounts sums packets by media kind.
type kindCounts struct{ audio, video uint64 }

func (k *kindCounts) add(kind string, n uint64) {
	if kind == "audio" {
		k.audio += n
	} else {
		k.video += n
	}
}

// flow sums one direction of media over the measured window.
type flow struct {
	sent      kindCounts // packets published
	recv      kindCounts // packets received, all receivers together
	minRecv   kindCounts // least received by one receiver (hall to points)
	receivers int
	lost      uint64
	jumps     uint64
	corrupt   uint64
	keyframes uint64 // video keyframes received
}

// hallToPoints sums the hall's published media and what the points
// received of it: the tracks named after the hall, or whose payloads
// carry the hall's SenderHash (the program, whichever slot carries it).
func hallToPoints(hall peerStats, points []peerStats) flow {
	var f flow
	hash := client.SenderHash(hall.name)
	for _, t := range hall.sent {
		f.sent.add(t.Kind, t.Packets)
	}
	f.minRecv = kindCounts{math.MaxUint64, math.MaxUint64}
	for _, p := range points {
		var mine kindCounts
		for _, t := range p.recv {
			if t.Participant != hall.name && t.Sender != hash {
				continue
			}
			mine.add(t.Kind, t.Packets)
			f.addQuality(t)
		}
		f.recv.audio += mine.audio
		f.recv.video += mine.video
		f.minRecv.audio = min(f.minRecv.audio, mine.audio)
		f.minRecv.video = min(f.minRecv.video, mine.video)
		f.receivers++
	}
	if len(points) == 0 {
		f.minRecv = kindCounts{}
	}
	return f
}

// pointsToHall sums the points' published media and what the hall received
// from them; receivers counts the points whose video reached the hall. A
// received track belongs to the point whose SenderHash its payloads carry
// (a wall slot may carry any point), or else to the point it is named
// after.
func pointsToHall(hall peerStats, points []peerStats) flow {
	var f flow
	ids := make(map[string]bool, len(points))
	hashes := make(map[uint32]string, len(points))
	for _, p := range points {
		ids[p.name] = true
		hashes[client.SenderHash(p.name)] = p.name
		for _, t := range p.sent {
			f.sent.add(t.Kind, t.Packets)
		}
	}
	seen := make(map[string]bool)
	for _, t := range hall.recv {
		from, ok := hashes[t.Sender]
		if !ok && t.Sender == 0 && ids[t.Participant] {
			from, ok = t.Participant, true
		}
		if !ok {
			continue
		}
		f.recv.add(t.Kind, t.Packets)
		f.addQuality(t)
		if t.Kind == "video" && t.Packets > 0 {
			seen[from] = true
		}
	}
	f.receivers = len(seen)
	return f
}

func (f *flow) addQuality(t client.TrackStats) {
	f.lost += t.Lost
	f.jumps += t.SeqJumps
	f.corrupt += t.Corrupt
	if t.Kind == "video" {
		f.keyframes += t.Keyframes
	}
}

// joinTime is the time from Dial to the first media packet the client
// received on any track, or false when it received none.
func joinTime(recv []client.TrackStats) (time.Duration, bool) {
	var best time.Duration
	ok := false
	for _, t := range recv {
		if t.Packets == 0 {
			continue
		}
		if !ok || t.FirstPacket < best {
			best, ok = t.FirstPacket, true
		}
	}
	return best, ok
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of ds,
// or 0 for none.
// medianOf returns the median of xs, rounded, or nil for none.
func medianOf(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Sorted(slices.Values(xs))
	m := math.Round(s[len(s)/2])
	return &m
}

// kbpsOf returns the RTP payload of tracks over d in kilobits a second.
func kbpsOf(tracks []client.TrackStats, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	var b uint64
	for _, t := range tracks {
		b += t.Bytes
	}
	return float64(b) * 8 / 1000 / d.Seconds()
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// result is everything the load generator measured.
type result struct {
	idle       bool // signaling-only connections (-idle), no media
	conference string
	points     int           // points configured
	joined     int           // points whose Dial succeeded
	connected  int           // joined and still connected at the end of the window
	failed     []reasonCount // why the others did not join
	dropped    []reasonCount // why joined points were disconnected
	retries    int           // dial attempts repeated after a busy refusal
	ramp       time.Duration // -ramp
	minJoined  float64       // -min-joined
	joinPhase  time.Duration // from before the first dial to the start of the window
	window     time.Duration // the measured window (idle: the hold)
	// onWall are the points on the hall's wall, when it was given one;
	// hallDown is what the hall received over the window and
	// watchedUp/unwatchedUp what each point on the wall and off it sent,
	// in RTP payload kilobits a second.
	onWall                 map[string]bool
	hallDown               float64
	watchedUp, unwatchedUp []float64
	dialTimes              []time.Duration // signaling join: Dial of the joined points
	server                 serverSamples   // the server's metrics
	ownCPU                 time.Duration   // load generator CPU over the window
	ownTotal               time.Duration   // load generator CPU since start
	switchN                int             // floor switches asked for
	switchTime             []time.Duration // floor switch samples
	switchErr              error           // why the floor switches stopped, if they did
	hallLost               string          // why the hall's connection ended, if it did
	wall                   int             // -wall
	wallSet                bool            // the hall was given its wall
	hallExpect             int             // points the hall should receive video from
	fanout                 bool            // -fanout: the points only subscribe
	media                  bool            // the media figures below were measured
	joins                  []time.Duration // media join: points that received media
	noMedia                []string        // connected points that received none
	hallJoin               time.Duration   // the hall's media join
	hallMedia              bool            // the hall received media
	down, up               flow            // hall to points, points to hall
	galene                 bool            // -galene: the server is Galene, the points its subscribers
	proc                   procSamples     // -server-pid: the server process
}

// serverSamples are the server's metrics before any client connects, at
// the start of the window (the end of the join phase) and at its end; a
// sample is nil when its scrape failed.
type serverSamples struct {
	start, joined, end map[string]float64
	err                error // the first scrape error
}

// failures lists the expectations the run did not meet, if any.
func (r *result) failures() []string {
	var out []string
	if need := int(math.Ceil(r.minJoined*float64(r.points) - 1e-9)); r.connected < need {
		out = append(out, fmt.Sprintf("%d of %d points joined and stayed connected, want at least %d (-min-joined %g)",
			r.connected, r.points, need, r.minJoined))
	}
	if r.hallLost != "" {
		out = append(out, "the hall was disconnected: "+r.hallLost)
	}
	if r.media && r.connected > 0 {
		if len(r.noMedia) > 0 {
			out = append(out, fmt.Sprintf("%d points received no media: %v", len(r.noMedia), r.noMedia))
		}
		if !r.hallMedia && !r.fanout {
			out = append(out, "the hall received no media")
		}
		if r.down.minRecv.video == 0 {
			out = append(out, "a point received no hall video during the window")
		}
		if r.up.receivers < r.hallExpect {
			out = append(out, fmt.Sprintf("the hall received video from %d of %d points during the window", r.up.receivers, r.hallExpect))
		}
		if c := r.down.corrupt + r.up.corrupt; c > 0 {
			out = append(out, fmt.Sprintf("%d corrupt payloads", c))
		}
	}
	if r.switchErr != nil {
		out = append(out, "floor switches: "+r.switchErr.Error())
	}
	return out
}

// summary is the report of one run, printed as text and written as JSON
// with -json. Times are in milliseconds or seconds as their names say,
// memory in bytes.
type summary struct {
	Mode              string        `json:"mode"` // "media" or "idle"
	Conference        string        `json:"conference"`
	Points            int           `json:"points"`
	Joined            int           `json:"joined"`
	Failed            int           `json:"failed"`
	FailedBy          []reasonCount `json:"failed_by"`
	Disconnected      int           `json:"disconnected"`
	DisconnectedBy    []reasonCount `json:"disconnected_by"`
	ConnectedAtEnd    int           `json:"connected_at_end"`
	Retries           int           `json:"retries"`
	RampMS            float64       `json:"ramp_ms"`
	JoinPhaseMS       float64       `json:"join_phase_ms"`
	WindowMS          float64       `json:"window_ms"`
	SignalingJoinMS   dist          `json:"signaling_join_ms"`
	MediaJoinMS       *dist         `json:"media_join_ms,omitempty"`
	HallJoinMS        *float64      `json:"hall_join_ms,omitempty"`
	Wall              int           `json:"wall"`
	WallSet           bool          `json:"wall_set"`
	HallVideoFrom     int           `json:"hall_video_from"`
	HallVideoExpected int           `json:"hall_video_expected"`
	// HallDownKbps is what the hall received over the window (RTP
	// payload); WatchedUpKbps and UnwatchedUpKbps the median of what the
	// points on its wall and off it sent.
	HallDownKbps     float64      `json:"hall_down_kbps,omitempty"`
	WatchedUpKbps    *float64     `json:"watched_point_up_kbps,omitempty"`
	UnwatchedUpKbps  *float64     `json:"unwatched_point_up_kbps,omitempty"`
	Down             *flowSummary `json:"hall_to_points,omitempty"`
	Up               *flowSummary `json:"points_to_hall,omitempty"`
	Server           *serverFigs  `json:"server,omitempty"`
	ServerError      string       `json:"server_error,omitempty"`
	LoadGenCPUS      float64      `json:"loadgen_cpu_window_s"`
	LoadGenCPUTotalS float64      `json:"loadgen_cpu_total_s"`
	FloorSwitches    int          `json:"floor_switches"`
	FloorSwitchMS    *dist        `json:"floor_switch_ms,omitempty"`
	ServerKind       string       `json:"server_kind"` // "hoinghi" or "galene"
	ServerProcess    *procFigs    `json:"server_process,omitempty"`
	ServerProcessErr string       `json:"server_process_error,omitempty"`
	Unmet            []string     `json:"unmet_expectations"`
	OK               bool         `json:"ok"` // no expectation unmet
}

// dist summarizes a sample of durations, in milliseconds.
type dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

func distOf(ds []time.Duration) dist {
	return dist{N: len(ds), P50: msOf(percentile(ds, 50)), P95: msOf(percentile(ds, 95)), Max: msOf(percentile(ds, 100))}
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// flowSummary is one direction of media over the window, in packets.
type flowSummary struct {
	SentAudio     uint64 `json:"sent_audio"`
	SentVideo     uint64 `json:"sent_video"`
	ExpectedAudio uint64 `json:"expected_audio,omitempty"` // hall to points: sent times points
	ExpectedVideo uint64 `json:"expected_video,omitempty"`
	RecvAudio     uint64 `json:"received_audio"`
	RecvVideo     uint64 `json:"received_video"`
	MinRecvAudio  uint64 `json:"least_received_audio,omitempty"` // hall to points: by one point
	MinRecvVideo  uint64 `json:"least_received_video,omitempty"`
	Receivers     int    `json:"receivers"`
	Lost          uint64 `json:"lost"`
	SeqJumps      uint64 `json:"seq_jumps"`
	Corrupt       uint64 `json:"corrupt"`
	Keyframes     uint64 `json:"keyframes"`
}

func flowOf(f flow) *flowSummary {
	return &flowSummary{SentAudio: f.sent.audio, SentVideo: f.sent.video, RecvAudio: f.recv.audio, RecvVideo: f.recv.video,
		Receivers: f.receivers, Lost: f.lost, SeqJumps: f.jumps, Corrupt: f.corrupt, Keyframes: f.keyframes}
}

// serverFigs are the server's figures: memory and goroutines at the start
// (before any client connected) and at the end of the window, and per
// point connected at the end (the hall counts in the growth); CPU over the
// join phase and over the window; packets over the window.
type serverFigs struct {
	RSSStart           float64 `json:"rss_start_bytes"`
	RSSEnd             float64 `json:"rss_end_bytes"`
	RSSPerPoint        float64 `json:"rss_per_point_bytes"`
	HeapStart          float64 `json:"heap_inuse_start_bytes"`
	HeapEnd            float64 `json:"heap_inuse_end_bytes"`
	HeapPerPoint       float64 `json:"heap_inuse_per_point_bytes"`
	GoroutinesStart    float64 `json:"goroutines_start"`
	GoroutinesEnd      float64 `json:"goroutines_end"`
	GoroutinesPerPoint float64 `json:"goroutines_per_point"`
	CPUJoinS           float64 `json:"cpu_join_phase_s"`
	CPUWindowS         float64 `json:"cpu_window_s"`
	PacketsIn          float64 `json:"packets_in"`
	PacketsForwarded   float64 `json:"packets_forwarded"`
	PacketsDropped     float64 `json:"packets_dropped"`
	CPUPerForwardedUS  float64 `json:"cpu_per_forwarded_packet_us,omitempty"`
	WSConnectionsEnd   float64 `json:"ws_connections_end"`
	SFUParticipantsEnd float64 `json:"sfu_participants_end"`
	hasRSS, hasHeap    bool
	hasGoroutine       bool
	hasJoin            bool
}

// serverFigures computes the server's figures from the samples, or nil
// when the start or the end sample is missing.
func serverFigures(s serverSamples, perPoint int) *serverFigs {
	if s.start == nil || s.end == nil {
		return nil
	}
	per := float64(perPoint)
	f := &serverFigs{
		RSSStart: s.start[metricRSS], RSSEnd: s.end[metricRSS],
		HeapStart: s.start[metricHeap], HeapEnd: s.end[metricHeap],
		GoroutinesStart: s.start[metricGoroutines], GoroutinesEnd: s.end[metricGoroutines],
		WSConnectionsEnd: s.end[metricWS], SFUParticipantsEnd: s.end[metricParticipants],
	}
	has := func(name string) bool {
		_, a := s.start[name]
		_, b := s.end[name]
		return a && b
	}
	f.hasRSS, f.hasHeap, f.hasGoroutine = has(metricRSS), has(metricHeap), has(metricGoroutines)
	if per > 0 {
		f.RSSPerPoint = (f.RSSEnd - f.RSSStart) / per
		f.HeapPerPoint = (f.HeapEnd - f.HeapStart) / per
		f.GoroutinesPerPoint = (f.GoroutinesEnd - f.GoroutinesStart) / per
	}
	from := s.start
	if s.joined != nil {
		f.hasJoin = true
		f.CPUJoinS = s.joined[metricCPU] - s.start[metricCPU]
		from = s.joined
	}
	f.CPUWindowS = s.end[metricCPU] - from[metricCPU]
	f.PacketsIn = s.end[metricIn] - from[metricIn]
	f.PacketsForwarded = s.end[metricForwarded] - from[metricForwarded]
	f.PacketsDropped = s.end[metricDropped] - from[metricDropped]
	if f.PacketsForwarded > 0 {
		f.CPUPerForwardedUS = f.CPUWindowS / f.PacketsForwarded * 1e6
	}
	return f
}

// summary returns the report of r.
func (r *result) summary() summary {
	s := summary{
		Mode: "media", Conference: r.conference, Points: r.points, Joined: r.joined,
		Failed: total(r.failed), FailedBy: r.failed, Disconnected: total(r.dropped), DisconnectedBy: r.dropped,
		ConnectedAtEnd: r.connected, Retries: r.retries,
		RampMS: msOf(r.ramp), JoinPhaseMS: msOf(r.joinPhase), WindowMS: msOf(r.window),
		SignalingJoinMS: distOf(r.dialTimes),
		Wall:            r.wall, WallSet: r.wallSet,
		Server:      serverFigures(r.server, r.connected),
		LoadGenCPUS: r.ownCPU.Seconds(), LoadGenCPUTotalS: r.ownTotal.Seconds(),
		FloorSwitches: r.switchN,
		Unmet:         r.failures(),
	}
	if s.FailedBy == nil {
		s.FailedBy = []reasonCount{}
	}
	if s.DisconnectedBy == nil {
		s.DisconnectedBy = []reasonCount{}
	}
	if s.Unmet == nil {
		s.Unmet = []string{}
	}
	s.OK = len(s.Unmet) == 0
	s.ServerKind = "hoinghi"
	if r.galene {
		s.ServerKind = "galene"
	}
	if r.proc.err != nil {
		s.ServerProcessErr = r.proc.err.Error()
	}
	if r.server.err != nil {
		s.ServerError = r.server.err.Error()
	}
	if r.idle {
		s.Mode = "idle"
	}
	if r.media {
		mj := distOf(r.joins)
		s.MediaJoinMS = &mj
		if r.hallMedia {
			h := msOf(r.hallJoin)
			s.HallJoinMS = &h
		}
		s.HallVideoFrom, s.HallVideoExpected = r.up.receivers, r.hallExpect
		s.HallDownKbps = math.Round(r.hallDown)
		s.WatchedUpKbps, s.UnwatchedUpKbps = medianOf(r.watchedUp), medianOf(r.unwatchedUp)
		s.Down, s.Up = flowOf(r.down), flowOf(r.up)
		n := uint64(r.connected)
		s.Down.ExpectedAudio, s.Down.ExpectedVideo = r.down.sent.audio*n, r.down.sent.video*n
		s.Down.MinRecvAudio, s.Down.MinRecvVideo = r.down.minRecv.audio, r.down.minRecv.video
		s.ServerProcess = procFigures(r.proc, r.connected, r.down.recv.audio+r.down.recv.video, r.down.lost, r.window.Seconds())
	} else {
		s.ServerProcess = procFigures(r.proc, r.connected, 0, 0, r.window.Seconds())
	}
	if len(r.switchTime) > 0 {
		d := distOf(r.switchTime)
		s.FloorSwitchMS = &d
	}
	return s
}

// print writes the report of r as text.
func (r *result) print(w io.Writer) { r.summary().print(w) }

// print writes s as one block of text.
func (s summary) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ms := func(v float64) string { return fmt.Sprintf("%.0f ms", v) }
	pct := func(d dist) string { return fmt.Sprintf("p50 %s  p95 %s  max %s", ms(d.P50), ms(d.P95), ms(d.Max)) }
	dur := func(v float64) string {
		return time.Duration(v * float64(time.Millisecond)).Round(time.Millisecond).String()
	}
	mib := func(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
	core := func(cpu, windowMS float64) string {
		if windowMS <= 0 {
			return ""
		}
		return fmt.Sprintf("  (%.0f%% of one core)", 100*cpu/(windowMS/1000))
	}
	what, phase, window, per := "points", "join phase (until media flows)", "window", "point"
	if s.Mode == "idle" {
		what, phase, window, per = "idle connections", "join phase (all dials)", "held", "connection"
	}
	fmt.Fprintf(tw, "conference\t%s (%s)\n", s.Conference, s.Mode)
	fmt.Fprintf(tw, "%s\t%d: joined %d, failed %d, disconnected %d, connected at end %d; %d retries\n",
		what, s.Points, s.Joined, s.Failed, s.Disconnected, s.ConnectedAtEnd, s.Retries)
	for _, rc := range s.FailedBy {
		example := ""
		if rc.Example != "" {
			example = "  (" + rc.Example + ")"
		}
		fmt.Fprintf(tw, "  failed: %s\t%d%s\n", rc.Kind, rc.Count, example)
	}
	for _, rc := range s.DisconnectedBy {
		fmt.Fprintf(tw, "  disconnected: %s\t%d\n", rc.Kind, rc.Count)
	}
	fmt.Fprintf(tw, "%s\t%s  (ramp %s)\n", phase, dur(s.JoinPhaseMS), dur(s.RampMS))
	fmt.Fprintf(tw, "%s\t%s\n", window, dur(s.WindowMS))
	fmt.Fprintf(tw, "signaling join (Dial)\t%s  (%d joined)\n", pct(s.SignalingJoinMS), s.SignalingJoinMS.N)
	if s.Mode == "idle" {
		fmt.Fprintf(tw, "an idle connection\tsignaling, and the subscribe PeerConnection the server offers\n")
	}
	if s.MediaJoinMS != nil {
		fmt.Fprintf(tw, "media join (ws open to first media)\t%s  (%d of %d)\n", pct(*s.MediaJoinMS), s.MediaJoinMS.N, s.ConnectedAtEnd)
		if s.HallJoinMS != nil {
			fmt.Fprintf(tw, "media join, hall\t%s\n", ms(*s.HallJoinMS))
		}
		wall := "all points"
		switch {
		case s.Wall > 0 && s.WallSet:
			wall = fmt.Sprintf("the first %d points", s.Wall)
		case s.Wall > 0:
			wall = fmt.Sprintf("all points (-wall %d not set: the client has no SetWall)", s.Wall)
		}
		fmt.Fprintf(tw, "hall subscribes to\t%s\n", wall)
		fmt.Fprintf(tw, "hall received video from\t%d of %d expected points\n", s.HallVideoFrom, s.HallVideoExpected)
		fmt.Fprintf(tw, "hall download (RTP payload)\t%.0f kbit/s\n", s.HallDownKbps)
		if s.WatchedUpKbps != nil {
			fmt.Fprintf(tw, "uplink of a point on the wall, median\t%.0f kbit/s\n", *s.WatchedUpKbps)
		}
		if s.UnwatchedUpKbps != nil {
			fmt.Fprintf(tw, "uplink of a point off the wall, median\t%.0f kbit/s\n", *s.UnwatchedUpKbps)
		}
		d, u := s.Down, s.Up
		fmt.Fprintln(tw)
		fmt.Fprintf(tw, "packets in the window\taudio\tvideo\n")
		fmt.Fprintf(tw, "hall -> points: sent by hall\t%d\t%d\n", d.SentAudio, d.SentVideo)
		fmt.Fprintf(tw, "hall -> points: expected (sent x points)\t%d\t%d\n", d.ExpectedAudio, d.ExpectedVideo)
		fmt.Fprintf(tw, "hall -> points: received, total\t%d\t%d\n", d.RecvAudio, d.RecvVideo)
		fmt.Fprintf(tw, "hall -> points: received, least by one point\t%d\t%d\n", d.MinRecvAudio, d.MinRecvVideo)
		fmt.Fprintf(tw, "points -> hall: sent by points\t%d\t%d\n", u.SentAudio, u.SentVideo)
		fmt.Fprintf(tw, "points -> hall: received by hall\t%d\t%d\n", u.RecvAudio, u.RecvVideo)
		fmt.Fprintln(tw)
		fmt.Fprintf(tw, "quality in the window\tlost\tseq jumps\tcorrupt\tkeyframes\n")
		fmt.Fprintf(tw, "hall -> points\t%d\t%d\t%d\t%d\n", d.Lost, d.SeqJumps, d.Corrupt, d.Keyframes)
		fmt.Fprintf(tw, "points -> hall\t%d\t%d\t%d\t%d\n", u.Lost, u.SeqJumps, u.Corrupt, u.Keyframes)
	}
	fmt.Fprintln(tw)
	if f := s.Server; f != nil {
		perRSS, perHeap, perG := "", "", ""
		if s.ConnectedAtEnd > 0 {
			perRSS = fmt.Sprintf(": %.2f MiB per %s", f.RSSPerPoint/(1<<20), per)
			perHeap = fmt.Sprintf(": %.2f MiB per %s", f.HeapPerPoint/(1<<20), per)
			perG = fmt.Sprintf(": %.1f per %s", f.GoroutinesPerPoint, per)
		}
		if f.hasRSS {
			fmt.Fprintf(tw, "server RSS\t%s at start, %s at end%s\n", mib(f.RSSStart), mib(f.RSSEnd), perRSS)
		}
		if f.hasHeap {
			fmt.Fprintf(tw, "server Go heap in use\t%s at start, %s at end%s\n", mib(f.HeapStart), mib(f.HeapEnd), perHeap)
		}
		if f.hasGoroutine {
			fmt.Fprintf(tw, "server goroutines\t%.0f at start, %.0f at end%s\n", f.GoroutinesStart, f.GoroutinesEnd, perG)
		}
		if f.hasJoin {
			fmt.Fprintf(tw, "server CPU, join phase\t%.2f s%s\n", f.CPUJoinS, core(f.CPUJoinS, s.JoinPhaseMS))
		}
		fmt.Fprintf(tw, "server CPU, %s\t%.2f s%s\n", window, f.CPUWindowS, core(f.CPUWindowS, s.WindowMS))
		fmt.Fprintf(tw, "server at end\t%.0f WebSockets, %.0f SFU participants\n", f.WSConnectionsEnd, f.SFUParticipantsEnd)
		if s.Mode == "media" {
			fmt.Fprintf(tw, "server packets in / forwarded / dropped\t%.0f / %.0f / %.0f\n", f.PacketsIn, f.PacketsForwarded, f.PacketsDropped)
			if s.WindowMS > 0 {
				fmt.Fprintf(tw, "server forwarded packets/s\t%.0f\n", f.PacketsForwarded/(s.WindowMS/1000))
			}
			if f.CPUPerForwardedUS > 0 {
				fmt.Fprintf(tw, "server CPU per forwarded packet\t%.2f µs\n", f.CPUPerForwardedUS)
			}
		}
	} else if s.ServerKind == "hoinghi" {
		fmt.Fprintf(tw, "server metrics\tunavailable: %s\n", s.ServerError)
	}
	if p := s.ServerProcess; p != nil {
		fmt.Fprintf(tw, "server process %d (%s, from /proc)\tCPU %.2f s in the window (%.0f%% of one core)\n", p.PID, s.ServerKind, p.CPUWindowS, p.CPUCorePercent)
		fmt.Fprintf(tw, "  RSS\t%s before the %s joined, %s at end: %.2f MiB per %s\n",
			mib(p.RSSBase), what, mib(p.RSSEnd), p.RSSPerSubscriber/(1<<20), per)
		if s.Mode == "media" {
			fmt.Fprintf(tw, "  forwarded (received by the points)\t%d packets, %.0f/s; %d lost (%.3f%%)\n", p.Forwarded, p.ForwardedPerS, p.Lost, p.LossPercent)
			fmt.Fprintf(tw, "  CPU per forwarded packet\t%.2f µs\n", p.CPUPerForwardedUS)
		}
	} else if s.ServerProcessErr != "" {
		fmt.Fprintf(tw, "server process\tunavailable: %s\n", s.ServerProcessErr)
	}
	fmt.Fprintf(tw, "load generator CPU, %s\t%.2f s%s  (%.2f s since start)\n", window, s.LoadGenCPUS, core(s.LoadGenCPUS, s.WindowMS), s.LoadGenCPUTotalS)
	if s.FloorSwitchMS != nil {
		fmt.Fprintf(tw, "floor switches (give to first keyframe)\t%s  (%d switches, %d samples)\n", pct(*s.FloorSwitchMS), s.FloorSwitches, s.FloorSwitchMS.N)
	}
	if len(s.Unmet) == 0 {
		fmt.Fprintf(tw, "expectations\tmet\n")
	}
	for _, u := range s.Unmet {
		fmt.Fprintf(tw, "expectation unmet\t%s\n", u)
	}
	tw.Flush()
}
