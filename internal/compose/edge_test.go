package compose

import (
	"path/filepath"
	"testing"
	"time"
)

// TestComposeOutsideTheRecordings shows a video after its file's end and
// mixes audio files that end before the program starts or start after it
// ends: black and silence, no error.
func TestComposeOutsideTheRecordings(t *testing.T) {
	f := makeFixtures(t, "point", "pointA")
	s := time.Second
	plan := Plan{
		Duration: 8 * s, Width: 320, Height: 180,
		Inputs: []Input{
			{File: f.point}, // green, 0–4 s
			{File: f.pointA, Audio: true, Offset: 20 * s},  // after the end
			{File: f.pointA, Audio: true, Offset: -10 * s}, // before the start
		},
		Shots: []Shot{
			{From: 1 * s, To: 2 * s, Main: 0, Inset: -1},
			{From: 6 * s, To: 8 * s, Main: 0, Inset: 0},
		},
		Audio: []int{1, 2},
	}
	out := filepath.Join(t.TempDir(), "program.mp4")
	if err := Compose(t.Context(), f.ffmpeg, plan, out, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   float64
		want string
	}{{0.5, "black"}, {1.5, "green"}, {3, "black"}, {7, "black"}} {
		if got := nearest(sample(t, f, out, tt.at, 100, 60, 50, 30)); got != tt.want {
			t.Errorf("at %.1f s the picture is %s, want %s", tt.at, got, tt.want)
		}
	}
	if v := loudness(t, f, out, 0, 8); v > -70 {
		t.Errorf("mean volume %.1f dB, want silence", v)
	}
}
