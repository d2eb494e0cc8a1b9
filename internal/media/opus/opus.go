// Package opus reads what the server needs to know of an Opus packet
// without decoding it: how long it plays (RFC 6716, section 3.1).
package opus

import (
	"errors"
	"fmt"
)

// MaxSamples is the longest an Opus packet may play, 120 ms, in samples
// at 48 kHz.
const MaxSamples = 5760

// Samples returns how long packet p plays, in samples at 48 kHz, from
// its TOC byte and frame count; an empty packet, a code 3 packet without
// its frame count, no frames, or more than MaxSamples is an error.
func Samples(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, errors.New("opus: empty packet")
	}
	toc := p[0]
	config := toc >> 3
	var frame int // samples of one frame
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config%4]
	}
	var frames int
	switch toc & 3 {
	case 0:
		frames = 1
	case 1, 2:
		frames = 2
	default:
		if len(p) < 2 {
			return 0, errors.New("opus: code 3 packet without a frame count")
		}
		frames = int(p[1] & 0x3f)
	}
	n := frame * frames
	if n == 0 || n > MaxSamples {
		return 0, fmt.Errorf("opus: %d frames of %d samples, want 2.5 to 120 ms", frames, frame)
	}
	return n, nil
}
