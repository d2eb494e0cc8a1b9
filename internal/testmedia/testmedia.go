// Package testmedia makes real media for tests with ffmpeg and measures
// what comes out: clips of a solid colour and a tone that a publishing
// client sends (client.Options.VideoClip and AudioClip), so that each
// participant carries a marker, and the colour of a picture's region or
// the loudness of a stretch of sound in a file such as a recording.
//
// It is for tests only. Its functions take the test, and when ffmpeg is
// missing they skip it, or fail it in CI (testenv.Need).
package testmedia

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/testenv"
)

// Size and rate of the video clips Clips makes.
const (
	ClipWidth     = 320
	ClipHeight    = 180
	ClipFrameRate = 15
	// ClipKeyframeEvery is the frames from one keyframe to the next.
	ClipKeyframeEvery = 15
	// ClipSampleRate is the audio's sample rate, Hz; it is mono.
	ClipSampleRate = 48000
)

// colours are the RGB values, as ffmpeg writes them, of the colour names
// Clips knows; ffmpeg's own "green" is dark, this one is not.
var colours = map[string]string{
	"red":     "0xFF0000",
	"green":   "0x00FF00",
	"blue":    "0x0000FF",
	"yellow":  "0xFFFF00",
	"magenta": "0xFF00FF",
	"cyan":    "0x00FFFF",
	"white":   "0xFFFFFF",
	"black":   "0x000000",
}

type clipKey struct {
	colour string
	toneHz int
	d      time.Duration
}

type clipEntry struct {
	once     sync.Once
	ivf, ogg []byte
	err      error
}

// cache holds the clips made in this test process: many participants of
// one test, and many tests, share the encoding of each.
var cache = struct {
	sync.Mutex
	m map[clipKey]*clipEntry
}{m: map[clipKey]*clipEntry{}}

// Clips returns a clip of d of a solid colour and one of a tone: ivf is
// VP8 in IVF, ClipWidth×ClipHeight at ClipFrameRate with a keyframe every
// ClipKeyframeEvery frames, as client.Options.VideoClip takes; ogg is
// Opus in Ogg, mono at ClipSampleRate, in 20 ms packets (a page each),
// of a sine of toneHz at ffmpeg's default amplitude (an eighth of full
// scale), or silence for toneHz 0, as client.Options.AudioClip takes.
//
// colour is one of the names DominantColour returns, which stand for
// the pure colours (green is 0x00FF00), or any other colour ffmpeg
// knows ("0x336699", "orange"). Clips are made once per colour, tone and
// length in a test process and shared: callers must not modify them.
// (The client sends a clip's frames at its own rate, client.VideoFrameRate,
// whatever the IVF says: a solid colour looks the same.)
// Clips ends the test when it cannot make them.
func Clips(t testing.TB, colour string, toneHz int, d time.Duration) (ivf, ogg []byte) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)
	if colour == "" || strings.ContainsAny(colour, ":,;=[]'\\ ") || toneHz < 0 || toneHz >= ClipSampleRate/2 || d <= 0 {
		t.Fatalf("testmedia: clips of colour %q, tone %d Hz, %v: want a colour name, a tone from 0 to %d Hz and a length", colour, toneHz, d, ClipSampleRate/2-1)
	}
	k := clipKey{colour, toneHz, d}
	cache.Lock()
	e := cache.m[k]
	if e == nil {
		e = &clipEntry{}
		cache.m[k] = e
	}
	cache.Unlock()
	e.once.Do(func() {
		dir, err := os.MkdirTemp("", "testmedia-")
		if err != nil {
			e.err = fmt.Errorf("temporary directory: %w", err)
			return
		}
		defer os.RemoveAll(dir)
		e.ivf, e.ogg, e.err = makeClips(t, ffmpeg, dir, k)
	})
	if e.err != nil {
		t.Fatalf("testmedia: clips of %s and %d Hz, %v: %v", colour, toneHz, d, e.err)
	}
	return e.ivf, e.ogg
}

// makeClips runs one ffmpeg that writes both clips of k into dir.
func makeClips(t testing.TB, ffmpeg, dir string, k clipKey) (ivf, ogg []byte, err error) {
	c := k.colour
	if hex, ok := colours[c]; ok {
		c = hex
	}
	secs := strconv.FormatFloat(k.d.Seconds(), 'f', -1, 64)
	audio := fmt.Sprintf("sine=frequency=%d:sample_rate=%d:duration=%s", k.toneHz, ClipSampleRate, secs)
	if k.toneHz == 0 {
		audio = fmt.Sprintf("anullsrc=channel_layout=mono:sample_rate=%d:duration=%s", ClipSampleRate, secs)
	}
	vpath, apath := filepath.Join(dir, "clip.ivf"), filepath.Join(dir, "clip.ogg")
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=%s:size=%dx%d:rate=%d:duration=%s", c, ClipWidth, ClipHeight, ClipFrameRate, secs),
		"-f", "lavfi", "-i", audio,
		"-map", "0:v", "-c:v", "libvpx", "-pix_fmt", "yuv420p", "-b:v", "150k",
		"-g", strconv.Itoa(ClipKeyframeEvery), "-keyint_min", strconv.Itoa(ClipKeyframeEvery),
		"-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0", "-f", "ivf", vpath,
		"-map", "1:a", "-c:a", "libopus", "-ac", "1", "-ar", strconv.Itoa(ClipSampleRate), "-b:a", "32k",
		"-frame_duration", "20", "-page_duration", "20000", "-f", "ogg", apath,
	}
	if err := run(t, ffmpeg, args...); err != nil {
		return nil, nil, err
	}
	if ivf, err = os.ReadFile(vpath); err != nil {
		return nil, nil, fmt.Errorf("read the video clip: %w", err)
	}
	if ogg, err = os.ReadFile(apath); err != nil {
		return nil, nil, fmt.Errorf("read the audio clip: %w", err)
	}
	return ivf, ogg, nil
}

// run runs name with args under the test's context and returns its
// standard error in the error when it fails.
func run(t testing.TB, name string, args ...string) error {
	_, err := output(t, name, args...)
	return err
}

// output runs name with args under the test's context and returns its
// standard output, and its standard error in the error when it fails.
func output(t testing.TB, name string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
