package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// videoSource makes the RTP payloads of each video frame a publishing
// client sends: the synthetic generator, or a clip.
type videoSource interface {
	// NextFrame returns the payloads of the next frame, a keyframe if key
	// is set.
	NextFrame(key bool) [][]byte
}

// clip plays VP8 frames from an IVF file in a loop: real pictures that a
// browser decodes, where the synthetic media only carries checkable bytes.
// A keyframe request skips to the clip's next keyframe.
type clip struct {
	frames []clipFrame
	next   int
	pay    codecs.VP8Payloader
}

type clipFrame struct {
	data []byte
	key  bool
}

// newClip reads the frames of an IVF file of VP8; the clip must start
// with a keyframe.
func newClip(ivf []byte) (*clip, error) {
	r, hdr, err := ivfreader.NewWith(bytes.NewReader(ivf))
	if err != nil {
		return nil, fmt.Errorf("video clip: %w", err)
	}
	if string(hdr.FourCC[:]) != "VP80" {
		return nil, fmt.Errorf("video clip: codec %q, want VP80", hdr.FourCC[:])
	}
	c := &clip{pay: codecs.VP8Payloader{EnablePictureID: true}}
	for {
		data, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("video clip: frame %d: %w", len(c.frames), err)
		}
		// VP8 frame tag: bit 0 is clear on a keyframe (RFC 6386 9.1).
		c.frames = append(c.frames, clipFrame{data: data, key: len(data) > 0 && data[0]&1 == 0})
	}
	if len(c.frames) == 0 || !c.frames[0].key {
		return nil, errors.New("video clip: no frames, or the first is not a keyframe")
	}
	return c, nil
}

// NextFrame returns the payloads of the clip's next frame; with key, of
// its next keyframe (in a loop, the first frame is one).
func (c *clip) NextFrame(key bool) [][]byte {
	if key {
		for !c.frames[c.next].key {
			c.next = (c.next + 1) % len(c.frames)
		}
	}
	f := c.frames[c.next]
	c.next = (c.next + 1) % len(c.frames)
	return c.pay.Payload(MaxVideoPayload, f.data)
}
