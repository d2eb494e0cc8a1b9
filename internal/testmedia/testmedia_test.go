package testmedia

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"hoinghi/internal/testenv"
)

func TestDominantColour(t *testing.T) {
	tests := []struct {
		rgb  [3]byte
		want string
	}{
		{[3]byte{254, 0, 0}, "red"},
		{[3]byte{0, 255, 1}, "green"},
		{[3]byte{20, 10, 240}, "blue"},
		{[3]byte{250, 250, 5}, "yellow"},
		{[3]byte{250, 0, 250}, "magenta"},
		{[3]byte{0, 250, 250}, "cyan"},
		{[3]byte{235, 235, 235}, "white"},
		{[3]byte{16, 16, 16}, "black"},
		{[3]byte{colourHigh, colourLow, 0}, "red"}, // the thresholds count
		{[3]byte{128, 128, 128}, ""},               // grey
		{[3]byte{255, 165, 0}, ""},                 // orange
		{[3]byte{0, 128, 0}, ""},                   // ffmpeg's own dark green
		{[3]byte{127, 127, 0}, ""},                 // red and green tiles blended
	}
	for _, tt := range tests {
		if got := DominantColour(tt.rgb); got != tt.want {
			t.Errorf("DominantColour(%v) = %q, want %q", tt.rgb, got, tt.want)
		}
	}
}

func TestMeanColour(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for x := range 4 {
		for y := range 2 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	img.SetRGBA(3, 1, color.RGBA{0, 0, 0, 255})
	tests := []struct {
		crop image.Rectangle
		want [3]byte
		bad  bool
	}{
		{crop: image.Rect(0, 0, 2, 2), want: [3]byte{255, 0, 0}},
		{crop: image.Rect(2, 0, 4, 1), want: [3]byte{0, 0, 255}},
		{crop: image.Rect(2, 0, 4, 2), want: [3]byte{0, 0, 191}}, // one black pixel of four
		{crop: image.Rectangle{}, want: [3]byte{128, 0, 96}},     // all of it
		{crop: image.Rect(3, 0, 5, 2), bad: true},                // over the edge
		{crop: image.Rect(-1, 0, 1, 1), bad: true},
	}
	for _, tt := range tests {
		got, err := meanColour(img, tt.crop)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("meanColour(%v) = %v, %v; want %v, error %v", tt.crop, got, err, tt.want, tt.bad)
		}
	}
}

func TestParseMeanVolume(t *testing.T) {
	tests := []struct {
		log  string
		want float64
		bad  bool
	}{
		{log: "[Parsed_volumedetect_0 @ 0x1] n_samples: 24000\n[Parsed_volumedetect_0 @ 0x1] mean_volume: -21.6 dB\n[Parsed_volumedetect_0 @ 0x1] max_volume: -18.0 dB\n", want: -21.6},
		{log: "mean_volume: -91.0 dB", want: -91},
		{log: "mean_volume: -inf dB", want: math.Inf(-1)},
		{log: "Output file is empty, nothing was encoded", bad: true},
		{log: "mean_volume: loud", bad: true},
		{log: "mean_volume: x dB", bad: true},
	}
	for _, tt := range tests {
		got, err := parseMeanVolume(tt.log)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseMeanVolume(%q) = %v, %v; want %v, error %v", tt.log, got, err, tt.want, tt.bad)
		}
	}
}

// write puts data in a file of the test's temporary directory.
func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClips(t *testing.T) {
	tests := []struct {
		colour    string
		toneHz    int
		d         time.Duration
		minVolume float64 // dB
		maxVolume float64
	}{
		{colour: "red", toneHz: 440, d: 2 * time.Second, minVolume: -25, maxVolume: -18},
		{colour: "green", toneHz: 1000, d: time.Second, minVolume: -25, maxVolume: -18},
		{colour: "black", toneHz: 0, d: time.Second, minVolume: -200, maxVolume: -80},
	}
	for _, tt := range tests {
		t.Run(tt.colour, func(t *testing.T) {
			ivf, ogg := Clips(t, tt.colour, tt.toneHz, tt.d)
			frames := int(tt.d.Seconds() * ClipFrameRate)

			r, hdr, err := ivfreader.NewWith(bytes.NewReader(ivf))
			if err != nil {
				t.Fatal(err)
			}
			if string(hdr.FourCC[:]) != "VP80" || hdr.Width != ClipWidth || hdr.Height != ClipHeight {
				t.Errorf("IVF header %+v, want VP80 %dx%d", hdr, ClipWidth, ClipHeight)
			}
			var keys []int
			n := 0
			for ; ; n++ {
				f, _, err := r.ParseNextFrame()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if f[0]&1 == 0 { // the VP8 frame tag's bit 0 is clear on a keyframe
					keys = append(keys, n)
				}
			}
			if n != frames {
				t.Errorf("%d frames, want %d", n, frames)
			}
			for i, k := range keys {
				if k != i*ClipKeyframeEvery {
					t.Errorf("keyframes at %v, want every %d frames from 0", keys, ClipKeyframeEvery)
					break
				}
			}

			or, head, err := oggreader.NewWith(bytes.NewReader(ogg))
			if err != nil {
				t.Fatal(err)
			}
			if head.Channels != 1 || head.SampleRate != ClipSampleRate {
				t.Errorf("OpusHead %+v, want mono at %d Hz", head, ClipSampleRate)
			}
			pages := 0
			for {
				p, _, err := or.ParseNextPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := (&oggreader.OggPageHeader{}).HeaderType(p); !ok {
					pages++
				}
			}
			if want := int(tt.d / (20 * time.Millisecond)); pages < want || pages > want+2 {
				t.Errorf("%d audio pages, want %d (a 20 ms packet each)", pages, want)
			}

			if rgb, err := FrameAt(t, "", write(t, "clip.ivf", ivf), tt.d/2, image.Rectangle{}); err != nil || DominantColour(rgb) != tt.colour {
				t.Errorf("mean colour %v (%q), %v; want %s", rgb, DominantColour(rgb), err, tt.colour)
			}
			v, err := MeanVolume(t, write(t, "clip.ogg", ogg), 100*time.Millisecond, tt.d/2)
			if err != nil || v < tt.minVolume || v > tt.maxVolume {
				t.Errorf("mean volume %.1f dB, %v; want %.0f to %.0f dB", v, err, tt.minVolume, tt.maxVolume)
			}

			// The second time comes from the cache.
			start := time.Now()
			ivf2, ogg2 := Clips(t, tt.colour, tt.toneHz, tt.d)
			if &ivf2[0] != &ivf[0] || &ogg2[0] != &ogg[0] {
				t.Error("the same clips made twice")
			}
			if el := time.Since(start); el > 10*time.Millisecond {
				t.Errorf("cached clips took %v", el)
			}
		})
	}
}

// TestFrameAt reads colours from a video whose left half is red and
// whose right half is blue for a second, then green.
func TestFrameAt(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)
	file := filepath.Join(t.TempDir(), "halves.webm")
	graph := "color=c=0xFF0000:s=160x90:r=15:d=2[l];color=c=0x0000FF:s=160x90:r=15:d=1[b];" +
		"color=c=0x00FF00:s=160x90:r=15:d=1[g];[b][g]concat=n=2[r];[l][r]hstack"
	if err := run(t, ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", graph,
		"-c:v", "libvpx", "-b:v", "200k", "-g", "15", "-deadline", "realtime", "-cpu-used", "8", file); err != nil {
		t.Fatal(err)
	}
	left, right := image.Rect(0, 0, 160, 90), image.Rect(170, 10, 320, 80)
	tests := []struct {
		at   time.Duration
		crop image.Rectangle
		want string
		bad  bool
	}{
		{at: 500 * time.Millisecond, crop: left, want: "red"},
		{at: 500 * time.Millisecond, crop: right, want: "blue"},
		{at: 1500 * time.Millisecond, crop: left, want: "red"},
		{at: 1500 * time.Millisecond, crop: right, want: "green"},
		{at: 1500 * time.Millisecond, want: ""}, // the whole: red and green blend to a dark yellow
		{at: 5 * time.Second, bad: true},        // after the end
		{at: 0, crop: image.Rect(300, 0, 400, 90), bad: true},
	}
	for _, tt := range tests {
		rgb, err := FrameAt(t, ffmpeg, file, tt.at, tt.crop)
		if (err != nil) != tt.bad || !tt.bad && DominantColour(rgb) != tt.want {
			t.Errorf("FrameAt(%v, %v) = %v (%q), %v; want %q, error %v", tt.at, tt.crop, rgb, DominantColour(rgb), err, tt.want, tt.bad)
		}
	}
	if _, err := FrameAt(t, ffmpeg, filepath.Join(t.TempDir(), "none.webm"), 0, image.Rectangle{}); err == nil {
		t.Error("FrameAt of a missing file: no error")
	}
	if _, err := MeanVolume(t, file, 0, 0); err == nil {
		t.Error("MeanVolume of a file without audio: no error")
	}
}
