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

// hallToPoints sums the hall's published media and what the points received.
func hallToPoints(hall peerStats, points []peerStats) flow {
	var f flow
	for _, t := range hall.sent {
		f.sent.add(t.Kind, t.Packets)
	}
	f.minRecv = kindCounts{math.MaxUint64, math.MaxUint64}
	for _, p := range points {
		var mine kindCounts
		for _, t := range p.recv {
			if t.Participant != hall.name {
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
// from them; receivers counts the points whose video reached the hall.
func pointsToHall(hall peerStats, points []peerStats) flow {
	var f flow
	ids := make(map[string]bool, len(points))
	for _, p := range points {
		ids[p.name] = true
		for _, t := range p.sent {
			f.sent.add(t.Kind, t.Packets)
		}
	}
	seen := make(map[string]bool)
	for _, t := range hall.recv {
		if !ids[t.Participant] {
			continue
		}
		f.recv.add(t.Kind, t.Packets)
		f.addQuality(t)
		if t.Kind == "video" && t.Packets > 0 {
			seen[t.Participant] = true
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
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// result is everything the load generator prints.
type result struct {
	points      int
	window      time.Duration
	joins       []time.Duration // points that received media
	noMedia     []string        // points that received none
	hallJoin    time.Duration
	hallMedia   bool
	down, up    flow
	server      map[string]float64 // deltas of the scraped metrics
	serverOK    bool
	ownCPU      time.Duration // load generator CPU over the window
	ownCPUTotal time.Duration // load generator CPU since start
}

// failures lists why the run failed, if it did.
func (r *result) failures() []string {
	var out []string
	if len(r.noMedia) > 0 {
		out = append(out, fmt.Sprintf("%d points received no media: %v", len(r.noMedia), r.noMedia))
	}
	if !r.hallMedia {
		out = append(out, "the hall received no media")
	}
	if r.down.minRecv.video == 0 {
		out = append(out, "a point received no hall video during the window")
	}
	if r.up.receivers < r.points {
		out = append(out, fmt.Sprintf("the hall received video from %d of %d points during the window", r.up.receivers, r.points))
	}
	if c := r.down.corrupt + r.up.corrupt; c > 0 {
		out = append(out, fmt.Sprintf("%d corrupt payloads", c))
	}
	return out
}

func (r *result) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(tw, "points\t%d\n", r.points)
	fmt.Fprintf(tw, "window\t%s\n", r.window.Round(time.Millisecond))
	fmt.Fprintf(tw, "join time (ws open to first media), points\tp50 %s\tp95 %s\tmax %s\t(%d of %d)\n",
		ms(percentile(r.joins, 50)), ms(percentile(r.joins, 95)), ms(percentile(r.joins, 100)), len(r.joins), r.points)
	if r.hallMedia {
		fmt.Fprintf(tw, "join time, hall\t%s\n", ms(r.hallJoin))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "packets in the window\taudio\tvideo\n")
	fmt.Fprintf(tw, "hall -> points: sent by hall\t%d\t%d\n", r.down.sent.audio, r.down.sent.video)
	fmt.Fprintf(tw, "hall -> points: expected (sent x points)\t%d\t%d\n", r.down.sent.audio*uint64(r.points), r.down.sent.video*uint64(r.points))
	fmt.Fprintf(tw, "hall -> points: received, total\t%d\t%d\n", r.down.recv.audio, r.down.recv.video)
	fmt.Fprintf(tw, "hall -> points: received, least by one point\t%d\t%d\n", r.down.minRecv.audio, r.down.minRecv.video)
	fmt.Fprintf(tw, "points -> hall: sent by points\t%d\t%d\n", r.up.sent.audio, r.up.sent.video)
	fmt.Fprintf(tw, "points -> hall: received by hall\t%d\t%d\t(video from %d points)\n", r.up.recv.audio, r.up.recv.video, r.up.receivers)
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "quality in the window\tlost\tseq jumps\tcorrupt\tkeyframes\n")
	fmt.Fprintf(tw, "hall -> points\t%d\t%d\t%d\t%d\n", r.down.lost, r.down.jumps, r.down.corrupt, r.down.keyframes)
	fmt.Fprintf(tw, "points -> hall\t%d\t%d\t%d\t%d\n", r.up.lost, r.up.jumps, r.up.corrupt, r.up.keyframes)
	fmt.Fprintln(tw)
	secs := r.window.Seconds()
	if r.serverOK {
		cpu, fwd := r.server[metricCPU], r.server[metricForwarded]
		fmt.Fprintf(tw, "server packets in / forwarded / dropped\t%.0f\t%.0f\t%.0f\n", r.server[metricIn], fwd, r.server[metricDropped])
		fmt.Fprintf(tw, "server forwarded packets/s\t%.0f\n", fwd/secs)
		fmt.Fprintf(tw, "server CPU\t%.2f s\t(%.0f%% of one core)\n", cpu, 100*cpu/secs)
		if fwd > 0 {
			fmt.Fprintf(tw, "server CPU per forwarded packet\t%.2f µs\n", cpu/fwd*1e6)
		}
	} else {
		fmt.Fprintf(tw, "server metrics\tunavailable\n")
	}
	fmt.Fprintf(tw, "load generator CPU\t%.2f s\t(%.0f%% of one core; %.2f s since start)\n",
		r.ownCPU.Seconds(), 100*r.ownCPU.Seconds()/secs, r.ownCPUTotal.Seconds())
	tw.Flush()
}
