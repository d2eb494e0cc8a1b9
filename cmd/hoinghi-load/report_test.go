package main

import (
	"bytes"
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
		{name: "p2", sent: []client.TrackStats{{Kind: "audio", Packets: 50}, {Kind: "video", Packets: 74}},
			recv: []client.TrackStats{{Participant: "technician", Kind: "audio", Packets: 49, SeqJumps: 1}, {Participant: "technician", Kind: "video", Packets: 60}}},
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

	r := result{points: 2, window: time.Second, joins: []time.Duration{time.Second}, noMedia: []string{"p2"}, hallMedia: true, down: down, up: up}
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
