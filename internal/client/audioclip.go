package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"hoinghi/internal/media/opus"
)

// audioSource makes the RTP payloads of the audio a publishing client
// sends: the synthetic generator, or a clip.
type audioSource interface {
	// NextPacket returns the payload of the next packet and how long it
	// plays, in samples of AudioClockRate (its RTP timestamp advance).
	// The payload may be reused by the following call.
	NextPacket() (payload []byte, samples uint32)
}

// synthAudio is the synthetic audio as an audioSource: 20 ms a packet.
type synthAudio struct{ g *AudioGenerator }

func (s synthAudio) NextPacket() ([]byte, uint32) { return s.g.Next(), AudioTimestampStep }

// audioClip plays the Opus packets of an Ogg Opus file in a loop: real
// sound that a recorder or a browser decodes, where the synthetic audio
// only carries checkable bytes.
type audioClip struct {
	packets []audioPacket
	next    int
}

type audioPacket struct {
	data    []byte
	samples uint32 // duration at 48 kHz
}

// newAudioClip reads the Opus packets of an Ogg Opus file (RFC 7845):
// its first logical stream, whose first packet is the OpusHead header and
// second the OpusTags; the audio packets follow. A packet may span pages
// and a page may hold many. Empty packets are left out. Page checksums
// are not verified.
func newAudioClip(ogg []byte) (*audioClip, error) {
	pkts, err := oggPackets(ogg)
	if err != nil {
		return nil, fmt.Errorf("audio clip: %w", err)
	}
	if len(pkts) < 2 {
		return nil, fmt.Errorf("audio clip: %d packets, want OpusHead, OpusTags and audio", len(pkts))
	}
	if !bytes.HasPrefix(pkts[0], []byte(oggreader.HeaderOpusID)) {
		return nil, errors.New("audio clip: the first packet is not OpusHead")
	}
	if _, err := oggreader.ParseOpusHead(pkts[0]); err != nil {
		return nil, fmt.Errorf("audio clip: OpusHead: %w", err)
	}
	if !bytes.HasPrefix(pkts[1], []byte(oggreader.HeaderOpusTags)) {
		return nil, errors.New("audio clip: the second packet is not OpusTags")
	}
	c := &audioClip{}
	for i, p := range pkts[2:] {
		if len(p) == 0 {
			continue
		}
		n, err := opus.Samples(p)
		if err != nil {
			return nil, fmt.Errorf("audio clip: packet %d: %w", i, err)
		}
		c.packets = append(c.packets, audioPacket{data: p, samples: uint32(n)})
	}
	if len(c.packets) == 0 {
		return nil, errors.New("audio clip: no audio packets")
	}
	return c, nil
}

// NextPacket returns the clip's next packet and its duration; after the
// last comes the first again. The payload belongs to the clip: callers
// must not modify it.
func (c *audioClip) NextPacket() ([]byte, uint32) {
	p := c.packets[c.next]
	c.next = (c.next + 1) % len(c.packets)
	return p.data, p.samples
}

// Ogg page layout (RFC 3533 section 6).
const (
	oggHeaderLen    = 27
	oggContinued    = 0x01 // header type: the page continues the packet of the page before
	oggSegmentsAt   = 26
	oggSerialAt     = 14
	oggMaxLacingVal = 255
)

// oggPackets splits the pages of the first logical stream of an Ogg file
// into its packets. The packets are subslices of ogg when they lie
// within one page, copies when they span pages.
func oggPackets(ogg []byte) ([][]byte, error) {
	var (
		pkts    [][]byte
		partial []byte // a packet that goes on in the next page
		open    bool   // partial is under way
		serial  uint32
	)
	for off, page := 0, 0; off < len(ogg); page++ {
		h := ogg[off:]
		if len(h) < oggHeaderLen || string(h[:4]) != "OggS" || h[4] != 0 {
			return nil, fmt.Errorf("ogg page %d at byte %d: not an Ogg page header", page, off)
		}
		nseg := int(h[oggSegmentsAt])
		if len(h) < oggHeaderLen+nseg {
			return nil, fmt.Errorf("ogg page %d: segment table cut short", page)
		}
		lacing := h[oggHeaderLen : oggHeaderLen+nseg]
		size := 0
		for _, l := range lacing {
			size += int(l)
		}
		body := h[oggHeaderLen+nseg:]
		if len(body) < size {
			return nil, fmt.Errorf("ogg page %d: %d bytes of %d", page, len(body), size)
		}
		body = body[:size]
		off += oggHeaderLen + nseg + size
		s := binary.LittleEndian.Uint32(h[oggSerialAt:])
		if page == 0 {
			serial = s
		} else if s != serial {
			continue // another logical stream
		}
		if open != (h[5]&oggContinued != 0) {
			return nil, fmt.Errorf("ogg page %d: continued flag %v, want %v (whether a packet is open)", page, !open, open)
		}
		start := 0
		// Segments of 255 bytes continue a packet; a shorter one ends it.
		pos := 0
		for _, l := range lacing {
			pos += int(l)
			if l == oggMaxLacingVal {
				continue
			}
			seg := body[start:pos]
			if open {
				partial = append(partial, seg...)
				pkts = append(pkts, partial)
				partial, open = nil, false
			} else {
				pkts = append(pkts, seg[:len(seg):len(seg)])
			}
			start = pos
		}
		if start < pos { // the last segments are 255 bytes each: the packet goes on
			partial = append(partial, body[start:pos]...)
			open = true
		}
	}
	if open {
		return nil, errors.New("ogg: the last packet is cut short")
	}
	return pkts, nil
}
