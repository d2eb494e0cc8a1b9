package testmedia

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/testenv"
)

// Thresholds of DominantColour: a channel at or above colourHigh is on,
// one at or below colourLow is off, one between makes the colour unclear.
const (
	colourHigh = 170
	colourLow  = 85
)

// DominantColour names the colour of rgb when each channel is clearly on
// or off, as a solid colour is after compression: "red", "green",
// "blue", "yellow", "magenta", "cyan", "white" or "black"; "" when a
// channel lies in between (a grey, an orange, a blend of two tiles).
func DominantColour(rgb [3]byte) string {
	on := 0
	for i, v := range rgb {
		switch {
		case v >= colourHigh:
			on |= 1 << i
		case v > colourLow:
			return ""
		}
	}
	return [8]string{"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"}[on]
}

// ffmpegPath returns ffmpeg when it is set, or finds "ffmpeg" on the
// PATH and ends the test (testenv.Need) when there is none.
func ffmpegPath(t testing.TB, ffmpeg string) string {
	t.Helper()
	if ffmpeg != "" {
		return ffmpeg
	}
	p, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)
	return p
}

// seconds formats d for ffmpeg's -ss and -t.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// FrameAt returns the mean colour of the region crop of the picture of
// file shown at time at, as ffmpeg decodes it (seeking with -ss); an
// empty crop means the whole picture. ffmpeg is the program to run; ""
// finds "ffmpeg" on the PATH (and ends the test when there is none). An
// error says ffmpeg failed, that file has no picture at that time, or
// that crop does not lie within the picture.
func FrameAt(t testing.TB, ffmpeg, file string, at time.Duration, crop image.Rectangle) ([3]byte, error) {
	t.Helper()
	ffmpeg = ffmpegPath(t, ffmpeg)
	// The whole picture comes out, as PNG, so that a crop that does not
	// fit is an error here: ffmpeg's crop filter would move it inside.
	out, err := output(t, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-ss", seconds(at), "-i", file, "-an", "-frames:v", "1", "-pix_fmt", "rgb24",
		"-f", "image2pipe", "-c:v", "png", "pipe:1")
	if err != nil {
		return [3]byte{}, fmt.Errorf("frame of %s at %v: %w", file, at, err)
	}
	if len(out) == 0 {
		return [3]byte{}, fmt.Errorf("frame of %s at %v: no picture then", file, at)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		return [3]byte{}, fmt.Errorf("frame of %s at %v: %w", file, at, err)
	}
	return meanColour(img, crop)
}

// meanColour returns the mean colour of the region crop of img (all of
// it when crop is empty).
func meanColour(img image.Image, crop image.Rectangle) ([3]byte, error) {
	if crop.Empty() {
		crop = img.Bounds()
	}
	if !crop.In(img.Bounds()) {
		return [3]byte{}, fmt.Errorf("region %v outside the picture %v", crop, img.Bounds())
	}
	var sum [3]uint64
	for y := crop.Min.Y; y < crop.Max.Y; y++ {
		for x := crop.Min.X; x < crop.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			sum[0] += uint64(r >> 8)
			sum[1] += uint64(g >> 8)
			sum[2] += uint64(b >> 8)
		}
	}
	n := uint64(crop.Dx() * crop.Dy())
	return [3]byte{byte((sum[0] + n/2) / n), byte((sum[1] + n/2) / n), byte((sum[2] + n/2) / n)}, nil
}

// MeanVolume returns the mean volume, in dB of full scale, of the audio
// of file from time from for d (d 0: to its end), as ffmpeg's
// volumedetect measures it: about -21 dB for a tone of Clips, -91 dB
// for digital silence. It ends the test when there is no ffmpeg; an
// error says ffmpeg failed or measured nothing (no audio there).
func MeanVolume(t testing.TB, file string, from, d time.Duration) (float64, error) {
	t.Helper()
	ffmpeg := ffmpegPath(t, "")
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "info", "-ss", seconds(from)}
	if d > 0 {
		args = append(args, "-t", seconds(d))
	}
	args = append(args, "-i", file, "-vn", "-af", "volumedetect", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), ffmpeg, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("volume of %s from %v: ffmpeg %s: %w: %s", file, from, strings.Join(args, " "), err, lastLines(stderr.String(), 5))
	}
	v, err := parseMeanVolume(stderr.String())
	if err != nil {
		return 0, fmt.Errorf("volume of %s from %v: %w", file, from, err)
	}
	return v, nil
}

// parseMeanVolume finds volumedetect's "mean_volume: -21.0 dB" in
// ffmpeg's log.
func parseMeanVolume(log string) (float64, error) {
	const key = "mean_volume:"
	i := strings.LastIndex(log, key)
	if i < 0 {
		return 0, errors.New("no mean_volume in ffmpeg's output (no audio?)")
	}
	f := strings.Fields(log[i+len(key):])
	if len(f) < 2 || f[1] != "dB" {
		return 0, fmt.Errorf("mean_volume %q: want a number of dB", strings.Join(f[:min(len(f), 2)], " "))
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("mean_volume: %w", err)
	}
	return v, nil
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
