package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/testenv"
)

// tools returns the paths of ffmpeg and ffprobe, or ends the test.
func tools(t *testing.T) (ffmpeg, ffprobe string) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)
	ffprobe, err = exec.LookPath("ffprobe")
	testenv.Need(t, "ffprobe", err)
	return ffmpeg, ffprobe
}

// run runs a tool and returns its standard output, failing t on error.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return append(stdout.Bytes(), stderr.Bytes()...)
}

// fixtures are the recordings the tests compose, made with ffmpeg.
type fixtures struct {
	hall, point, gap    string // video: VP8 red 11 s; H.264 in Matroska green 4 s; VP8 blue 1.5 s, a 1 s gap, yellow 2 s
	hallA, pointA, gapA string // audio: 440 Hz 3.5 s; 880 Hz 2 s; 660 Hz 1 s, a 2 s gap, 1 s
	junk                string // not a media file
	ffmpeg, ffprobe     string
}

// makeFixtures makes the recordings in a temporary directory of t's: all
// of them, or those of the given names (hall, point, gap, hallA, pointA,
// gapA, junk).
func makeFixtures(t *testing.T, only ...string) fixtures {
	t.Helper()
	ffmpeg, ffprobe := tools(t)
	dir := t.TempDir()
	f := fixtures{ffmpeg: ffmpeg, ffprobe: ffprobe,
		hall: filepath.Join(dir, "hall.webm"), point: filepath.Join(dir, "point.mkv"), gap: filepath.Join(dir, "gap.webm"),
		hallA: filepath.Join(dir, "hall.ogg"), pointA: filepath.Join(dir, "point.ogg"), gapA: filepath.Join(dir, "gap.ogg"),
		junk: filepath.Join(dir, "junk.webm")}
	base := []string{"-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"}
	vp8 := []string{"-c:v", "libvpx", "-b:v", "200k", "-deadline", "realtime", "-cpu-used", "8"}
	all := map[string][]string{
		"hall":  append(append(append(base, "color=c=red:s=320x180:r=15:d=11"), vp8...), f.hall),
		"point": append(base, "color=c=green:s=320x180:r=15:d=4", "-c:v", "libx264", "-preset", "ultrafast", f.point),
		// Frames 1.5 s to 2.5 s are dropped with their timestamps kept.
		"gap": append(append(append(base, "color=c=blue:s=320x180:r=15:d=4.5",
			"-vf", "drawbox=x=0:y=0:w=iw:h=ih:c=yellow:t=fill:enable='gte(t,2.5)',select='not(between(t,1.5,2.5))'",
			"-fps_mode", "passthrough"), vp8...), f.gap),
		"hallA":  append(base, "sine=f=440:d=3.5", "-c:a", "libopus", f.hallA),
		"pointA": append(base, "sine=f=880:d=2", "-c:a", "libopus", f.pointA),
		"gapA":   append(base, "sine=f=660:d=4", "-af", "aselect='not(between(t,1,3))'", "-c:a", "libopus", f.gapA),
		"junk":   nil,
	}
	if len(only) == 0 {
		for name := range all {
			only = append(only, name)
		}
	}
	var jobs [][]string
	for _, name := range only {
		args, ok := all[name]
		if !ok {
			t.Fatalf("no fixture %q", name)
		}
		if args != nil {
			jobs = append(jobs, args)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, args := range jobs {
		wg.Go(func() {
			if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("%v: %v\n%s", args, err, out)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.junk, []byte("this is not a recording\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// testPlan is the composition of TestCompose: ten seconds of 640x360.
//
//	video: 0–3 hall (red), 3–6 point (green) with a caption, 6–9 content
//	(blue, a gap, yellow from 7.5) with the hall as inset, 9–9.6 hall,
//	9.6–10 nothing (black).
//	audio: 440 Hz 0–3, 880 Hz 4–6, 660 Hz 6–7 and 9–10.
func testPlan(f fixtures) Plan {
	s := time.Second
	ms := time.Millisecond
	return Plan{
		Duration: 10 * s,
		Start:    time.Date(2025, 3, 14, 1, 30, 0, 0, time.UTC), // 08:30 in Hà Nội
		Location: time.FixedZone("ICT", 7*3600),
		Inputs: []Input{
			{File: f.hall, Offset: -s},
			{File: f.point, Offset: 2500 * ms},
			{File: f.gap, Offset: 5 * s},
			{File: f.hallA, Offset: -500 * ms, Audio: true},
			{File: f.pointA, Offset: 4 * s, Audio: true},
			{File: f.gapA, Offset: 6 * s, Audio: true},
		},
		Shots: []Shot{
			{From: 0, To: 3 * s, Main: 0, Inset: -1},
			{From: 3 * s, To: 6 * s, Main: 1, Inset: -1, Caption: "Đ/c Nguyễn Văn An — UBND huyện Nhơn Trạch"},
			{From: 6 * s, To: 9 * s, Main: 2, Inset: 0},
			{From: 9 * s, To: 9600 * ms, Main: 0, Inset: -1},
		},
		Audio:  []int{3, 4, 5},
		Width:  640,
		Height: 360,
	}
}

// colour is an RGB triple.
type colour [3]byte

var palette = map[string]colour{
	"red": {255, 0, 0}, "green": {0, 128, 0}, "blue": {0, 0, 255},
	"yellow": {255, 255, 0}, "black": {0, 0, 0},
}

// nearest names the palette colour nearest c.
func nearest(c colour) string {
	best, bestD := "", math.MaxFloat64
	for name, p := range palette {
		var d float64
		for i := range 3 {
			x := float64(c[i]) - float64(p[i])
			d += x * x
		}
		if d < bestD {
			best, bestD = name, d
		}
	}
	return best
}

// sample returns the mean colour of the w by h area at x, y of file's frame
// at time at.
func sample(t *testing.T, f fixtures, file string, at float64, x, y, w, h int) colour {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(f.ffmpeg, "-hide_banner", "-loglevel", "error", "-ss", strconv.FormatFloat(at, 'f', 3, 64), "-i", file,
		"-frames:v", "1", "-vf", fmt.Sprintf("crop=%d:%d:%d:%d,scale=1:1:flags=area", w, h, x, y), "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stdout.Len() < 3 {
		t.Fatalf("sampling %s at %.2f s: %v\n%s", file, at, err, stderr.String())
	}
	return colour(stdout.Bytes()[:3])
}

var meanVolume = regexp.MustCompile(`mean_volume: (-?[0-9.]+|-inf) dB`)

// loudness returns the mean volume in dB of file's audio from at for d.
func loudness(t *testing.T, f fixtures, file string, at, d float64) float64 {
	t.Helper()
	out := run(t, f.ffmpeg, "-hide_banner", "-nostats", "-ss", strconv.FormatFloat(at, 'f', 3, 64), "-t", strconv.FormatFloat(d, 'f', 3, 64),
		"-i", file, "-vn", "-af", "volumedetect", "-f", "null", "-")
	m := meanVolume.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no mean_volume in\n%s", out)
	}
	if string(m[1]) == "-inf" {
		return math.Inf(-1)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompose(t *testing.T) {
	f := makeFixtures(t)
	plan := testPlan(f)
	out := filepath.Join(t.TempDir(), "program.mp4")
	var (
		mu    sync.Mutex
		calls []Progress
	)
	err := Compose(t.Context(), f.ffmpeg, plan, out, func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out + ".part"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial file is left: %v", err)
	}

	t.Run("progress", func(t *testing.T) {
		if len(calls) == 0 {
			t.Fatal("no progress")
		}
		for i, p := range calls {
			if p.Total != plan.Duration {
				t.Errorf("call %d: Total %v, want %v", i, p.Total, plan.Duration)
			}
			if i > 0 && p.Done < calls[i-1].Done {
				t.Errorf("call %d: Done went back from %v to %v", i, calls[i-1].Done, p.Done)
			}
		}
		if last := calls[len(calls)-1]; last.Done != plan.Duration {
			t.Errorf("last progress %v, want Done %v", last, plan.Duration)
		}
	})

	t.Run("streams", func(t *testing.T) {
		probe := string(run(t, f.ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height",
			"-of", "default=noprint_wrappers=1", out))
		for _, want := range []string{"codec_name=h264", "codec_name=aac", "width=640", "height=360"} {
			if !strings.Contains(probe, want) {
				t.Errorf("ffprobe lacks %q:\n%s", want, probe)
			}
		}
		m := regexp.MustCompile(`duration=([0-9.]+)`).FindStringSubmatch(probe)
		if m == nil {
			t.Fatalf("no duration in\n%s", probe)
		}
		d, _ := strconv.ParseFloat(m[1], 64)
		if math.Abs(d-plan.Duration.Seconds()) > 0.1 {
			t.Errorf("duration %.3f s, want %.3f s", d, plan.Duration.Seconds())
		}
	})

	t.Run("pictures", func(t *testing.T) {
		l := newLayout(plan.Width, plan.Height)
		// The centre of the main picture, clear of the caption and the inset.
		mainArea := func(at float64) colour { return sample(t, f, out, at, 200, 100, 120, 80) }
		insetArea := func(at float64) colour {
			return sample(t, f, out, at, plan.Width-l.margin-l.insetW*3/4, plan.Height-l.margin-l.insetH*3/4, l.insetW/2, l.insetH/2)
		}
		tests := []struct {
			at          float64
			main, inset string // "" for not checked
		}{
			{at: 0.1, main: "red"},
			{at: 1.5, main: "red", inset: "red"},
			{at: 4.5, main: "green", inset: "green"},
			{at: 6.2, main: "blue", inset: "red"},
			{at: 7.0, main: "blue", inset: "red"}, // the gap: the last picture stays
			{at: 8.2, main: "yellow", inset: "red"},
			{at: 9.3, main: "red", inset: "red"},
			{at: 9.85, main: "black", inset: "black"},
		}
		for _, tt := range tests {
			if got := nearest(mainArea(tt.at)); got != tt.main {
				t.Errorf("at %.2f s the main picture is %s, want %s", tt.at, got, tt.main)
			}
			if tt.inset == "" {
				continue
			}
			if got := nearest(insetArea(tt.at)); got != tt.inset {
				t.Errorf("at %.2f s the inset area is %s, want %s", tt.at, got, tt.inset)
			}
		}
		// The caption's box darkens the bottom left while it is shown.
		captionArea := func(at float64) colour {
			return sample(t, f, out, at, 0, plan.Height-l.margin-l.captionSize, 200, l.captionSize/2)
		}
		if c := captionArea(4.5); c[1] > 110 {
			t.Errorf("no caption at 4.5 s: the caption area is %v", c)
		}
		if c := captionArea(1.5); nearest(c) != "red" || c[0] < 200 {
			t.Errorf("a caption at 1.5 s: the caption area is %v", c)
		}
		// The clock's box is in the top right all along.
		for _, at := range []float64{0.5, 9.8} {
			if c := sample(t, f, out, at, plan.Width-l.margin-l.clockSize, l.margin+l.clockSize/2, l.clockSize/2, 2); c == (colour{}) {
				t.Errorf("no clock at %.1f s", at)
			}
		}
	})

	t.Run("sound", func(t *testing.T) {
		tests := []struct {
			from, to float64
			loud     bool
		}{
			{0.3, 2.7, true},
			{3.25, 3.75, false},
			{4.3, 5.7, true},
			{6.2, 6.8, true},
			{7.3, 8.7, false}, // the gap of the third recording
			{9.2, 9.8, true},
		}
		for _, tt := range tests {
			v := loudness(t, f, out, tt.from, tt.to-tt.from)
			if tt.loud && v < -40 || !tt.loud && v > -70 {
				t.Errorf("%.2f–%.2f s: mean volume %.1f dB, want loud %v", tt.from, tt.to, v, tt.loud)
			}
		}
	})
}

func TestComposeNoFFmpeg(t *testing.T) {
	plan := Plan{Duration: time.Second}
	out := filepath.Join(t.TempDir(), "x.mp4")
	err := Compose(t.Context(), filepath.Join(t.TempDir(), "no-ffmpeg-here"), plan, out, nil)
	if !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "Debian package ffmpeg") {
		t.Fatalf("err = %v, want one wrapping ErrNoFFmpeg", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output: %v", err)
	}
}

func TestFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := FFmpeg(); !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "Debian package ffmpeg") {
		t.Errorf("without ffmpeg on PATH: err = %v", err)
	}
}

func TestComposeCancel(t *testing.T) {
	f := makeFixtures(t, "point", "pointA")
	plan := Plan{
		Duration: 10 * time.Minute,
		Inputs:   []Input{{File: f.point}, {File: f.pointA, Audio: true}},
		Shots:    []Shot{{From: 0, To: 10 * time.Minute, Main: 0, Inset: -1, Caption: "Hội trường"}},
		Audio:    []int{1},
	}
	out := filepath.Join(t.TempDir(), "program.mp4")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	var once sync.Once
	errc := make(chan error, 1)
	go func() {
		errc <- Compose(ctx, f.ffmpeg, plan, out, func(p Progress) {
			if p.Done > 0 {
				once.Do(func() { close(started) })
			}
		})
	}()
	select {
	case <-started:
	case err := <-errc:
		t.Fatalf("Compose ended before it was cancelled: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no progress in 30 s")
	}
	if _, err := os.Stat(out + ".part"); err != nil {
		t.Errorf("no partial output while composing: %v", err)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Compose did not return 10 s after the cancel")
	}
	for _, name := range []string{out, out + ".part"} {
		if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left: %v", filepath.Base(name), err)
		}
	}
}

func TestComposeFailure(t *testing.T) {
	f := makeFixtures(t, "junk")
	plan := Plan{
		Duration: 2 * time.Second,
		Inputs:   []Input{{File: f.junk}},
		Shots:    []Shot{{From: 0, To: time.Second, Main: 0, Inset: -1}},
	}
	out := filepath.Join(t.TempDir(), "program.mp4")
	err := Compose(t.Context(), f.ffmpeg, plan, out, nil)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "junk.webm") {
		t.Fatalf("err = %v, want ffmpeg's words about junk.webm", err)
	}
	for _, name := range []string{out, out + ".part"} {
		if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left: %v", filepath.Base(name), err)
		}
	}
}

// TestComposeManyAudio mixes forty audio inputs, as a large conference
// has, into a program without pictures.
func TestComposeManyAudio(t *testing.T) {
	f := makeFixtures(t, "pointA")
	plan := Plan{Duration: 5 * time.Second, Width: 320, Height: 180}
	for k := range 40 {
		plan.Inputs = append(plan.Inputs, Input{File: f.pointA, Offset: time.Duration(k) * 50 * time.Millisecond, Audio: true})
		plan.Audio = append(plan.Audio, k)
	}
	out := filepath.Join(t.TempDir(), "program.mp4")
	if err := Compose(t.Context(), f.ffmpeg, plan, out, nil); err != nil {
		t.Fatal(err)
	}
	if v := loudness(t, f, out, 0.5, 1); v < -40 {
		t.Errorf("0.5–1.5 s: mean volume %.1f dB, want loud", v)
	}
	if v := loudness(t, f, out, 4.3, 0.6); v > -70 {
		t.Errorf("4.3–4.9 s: mean volume %.1f dB, want silence", v)
	}
	if c := sample(t, f, out, 2, 100, 60, 100, 60); nearest(c) != "black" {
		t.Errorf("the picture is %v, want black", c)
	}
}

// TestComposeLongAudioGap places Ogg recordings with long gaps: one longer
// than the ten seconds after which ffmpeg would close up a jump in Ogg
// timestamps, one longer than longGap, which is cut into pieces.
func TestComposeLongAudioGap(t *testing.T) {
	ffmpeg, _ := tools(t)
	f := fixtures{ffmpeg: ffmpeg}
	type span struct {
		from, to float64
		loud     bool
	}
	tests := []struct {
		name       string
		tone, gap  string // the recording: d=seconds of sine, and the stretch dropped
		offset     time.Duration
		duration   time.Duration
		wantPieces int
		spans      []span
	}{
		{
			name: "12 s", tone: "14", gap: "between(t,1,13)", offset: time.Second, duration: 16 * time.Second, wantPieces: 1,
			spans: []span{{0.1, 0.9, false}, {1.2, 1.8, true}, {2.5, 13.5, false}, {14.2, 14.8, true}, {15.2, 15.9, false}},
		},
		{
			name: "75 s", tone: "80", gap: "between(t,2,77)", offset: time.Second, duration: 82 * time.Second, wantPieces: 2,
			spans: []span{{0.1, 0.9, false}, {1.2, 2.8, true}, {4, 77, false}, {78.2, 80.8, true}, {81.2, 81.9, false}},
		},
		{
			name: "75 s, the file started before", tone: "80", gap: "between(t,2,77)", offset: -time.Second, duration: 82 * time.Second, wantPieces: 2,
			spans: []span{{0.2, 0.8, true}, {2, 75, false}, {76.2, 78.8, true}, {79.2, 81.9, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "gap.ogg")
			run(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=500:d="+tt.tone,
				"-af", "aselect='not("+tt.gap+")'", "-c:a", "libopus", in)
			pieces, err := oggPieces(in)
			if err != nil || len(pieces) != tt.wantPieces {
				t.Errorf("oggPieces = %v, %v; want %d pieces", pieces, err, tt.wantPieces)
			}
			plan := Plan{
				Duration: tt.duration, Width: 160, Height: 90,
				Inputs: []Input{{File: in, Offset: tt.offset, Audio: true}},
				Audio:  []int{0},
			}
			out := filepath.Join(t.TempDir(), "program.mp4")
			if err := Compose(t.Context(), f.ffmpeg, plan, out, nil); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.spans {
				v := loudness(t, f, out, s.from, s.to-s.from)
				if s.loud && v < -40 || !s.loud && v > -70 {
					t.Errorf("%.2f–%.2f s: mean volume %.1f dB, want loud %v", s.from, s.to, v, s.loud)
				}
			}
		})
	}
}
