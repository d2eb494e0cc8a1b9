package client

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pion/rtp/codecs"

	"hoinghi/internal/media/h264"
)

// testsrcH264 is one second of H.264 (constrained baseline, 320×240, an
// IDR picture then 24 P pictures, no SEI of its own); see testdata/README.md.
//
//go:embed testdata/testsrc-320x240.h264
var testsrcH264 []byte

// H264Width and H264Height are the picture size of the synthetic H.264
// stream.
const (
	H264Width  = 320
	H264Height = 240
)

// H264FmtpLine is the fmtp line of the synthetic H.264 stream: the
// constrained baseline profile in packetization mode 1, as OBS sends it.
const H264FmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

// h264MTU is the largest RTP payload the generator makes: larger NAL
// units go out as FU-A fragments.
const h264MTU = 1200

// seiUUID marks the SEI message (user data unregistered) of the synthetic
// H.264 stream: what follows it says who sent the access unit.
var seiUUID = [16]byte{'h', 'o', 'i', 'n', 'g', 'h', 'i', '-', 's', 'y', 'n', 't', 'h', '2', '6', '4'}

// seiSize is the size of the SEI message's payload: the UUID, the sender
// (4 bytes), the frame number (4), a flags byte (1: keyframe), the
// width and the height (2 each).
const seiSize = 16 + 4 + 4 + 1 + 2 + 2

// H264Generator produces the RTP payloads of a synthetic H.264 stream in
// packetization mode 1: the pictures of a short real clip, in a loop,
// each access unit led by an SEI NAL unit (user data unregistered) that
// carries the sender, the frame number and whether it is a keyframe, so
// that a receiver tells whose stream it gets (CheckH264). A keyframe is
// the clip's IDR picture with its SPS and PPS (a STAP-A). It is not safe
// for concurrent use.
type H264Generator struct {
	sender uint32
	frame  uint32
	next   int
	// sps, pps are the clip's parameter sets; pictures its coded
	// pictures (NAL units with their header), the first one the IDR.
	sps, pps []byte
	pictures [][]byte
	pay      codecs.H264Payloader
	au       []byte
}

// NewH264Generator returns a generator whose SEI messages name sender
// (SenderHash).
func NewH264Generator(sender uint32) (*H264Generator, error) {
	g := &H264Generator{sender: sender}
	for _, nal := range splitAnnexB(testsrcH264) {
		switch nal[0] & 0x1f {
		case 7:
			g.sps = nal
		case 8:
			g.pps = nal
		case 1, 5:
			g.pictures = append(g.pictures, nal)
		}
	}
	if g.sps == nil || g.pps == nil || len(g.pictures) == 0 || g.pictures[0][0]&0x1f != 5 {
		return nil, errors.New("client: the H.264 clip has no SPS, PPS and IDR picture first")
	}
	return g, nil
}

// NextFrame returns the RTP payloads of the next access unit, the IDR
// picture when key is set (and at each turn of the clip).
func (g *H264Generator) NextFrame(key bool) [][]byte {
	if key {
		g.next = 0
	}
	key = g.next == 0
	pic := g.pictures[g.next]
	g.next = (g.next + 1) % len(g.pictures)
	g.au = g.au[:0]
	if key {
		g.au = appendNAL(g.au, g.sps)
		g.au = appendNAL(g.au, g.pps)
	}
	g.au = appendNAL(g.au, g.sei(key))
	g.au = appendNAL(g.au, pic)
	g.frame++
	return g.pay.Payload(h264MTU, g.au)
}

// sei returns the SEI NAL unit of the next access unit.
func (g *H264Generator) sei(key bool) []byte {
	msg := make([]byte, 0, seiSize)
	msg = append(msg, seiUUID[:]...)
	msg = binary.BigEndian.AppendUint32(msg, g.sender)
	msg = binary.BigEndian.AppendUint32(msg, g.frame)
	var flags byte
	if key {
		flags = 1
	}
	msg = append(msg, flags)
	msg = binary.BigEndian.AppendUint16(msg, H264Width)
	msg = binary.BigEndian.AppendUint16(msg, H264Height)
	// NAL header (SEI), payload type 5 (user data unregistered), size,
	// the payload with emulation prevention, the RBSP trailing bits.
	nal := []byte{6, 5, seiSize}
	nal = appendEscaped(nal, msg)
	return append(nal, 0x80)
}

// appendNAL appends nal to an Annex B byte stream.
func appendNAL(b, nal []byte) []byte {
	return append(append(b, 0, 0, 0, 1), nal...)
}

// splitAnnexB returns the NAL units of an Annex B byte stream.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte{0, 0, 1})
		if i < 0 {
			break
		}
		b = b[i+3:]
		end := bytes.Index(b, []byte{0, 0, 1})
		if end < 0 {
			end = len(b)
		}
		nal := bytes.TrimRight(b[:end], "\x00")
		if len(nal) > 0 {
			out = append(out, nal)
		}
		b = b[end:]
	}
	return out
}

// appendEscaped appends rbsp to b with the emulation prevention bytes a
// NAL unit needs (a 3 after two zeros that a byte up to 3 follows).
func appendEscaped(b, rbsp []byte) []byte {
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			b = append(b, 3)
			zeros = 0
		}
		b = append(b, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return b
}

// CheckH264 checks that payload is a well-formed H.264 RTP payload of
// packetization mode 1 (a single NAL unit, a STAP-A or an FU-A fragment)
// and reads the SEI message of the synthetic stream (H264Generator) if it
// carries one: marked reports whether it did, and then info holds the
// sender, the frame number, FrameStart and Keyframe (the access unit is
// an IDR picture) and, for a keyframe, the picture size.
func CheckH264(payload []byte) (info PayloadInfo, marked bool, err error) {
	if len(payload) < 2 {
		return info, false, fmt.Errorf("h264: payload of %d bytes", len(payload))
	}
	if payload[0]&0x80 != 0 {
		return info, false, errors.New("h264: forbidden bit set")
	}
	switch t := payload[0] & 0x1f; {
	case t >= 1 && t <= 23:
		return readSEI(payload)
	case t == 24: // STAP-A
		for i := 1; i < len(payload); {
			if i+2 > len(payload) {
				return info, false, errors.New("h264: STAP-A truncated size")
			}
			size := int(binary.BigEndian.Uint16(payload[i:]))
			i += 2
			if size == 0 || i+size > len(payload) {
				return info, false, fmt.Errorf("h264: STAP-A unit of %d bytes at %d of %d", size, i, len(payload))
			}
			nal := payload[i : i+size]
			if nal[0]&0x80 != 0 || nal[0]&0x1f == 0 || nal[0]&0x1f > 23 {
				return info, false, fmt.Errorf("h264: STAP-A unit of type %d", nal[0]&0x1f)
			}
			if in, m, err := readSEI(nal); err != nil {
				return info, false, err
			} else if m {
				info, marked = in, true
			}
			i += size
		}
		return info, marked, nil
	case t == 28: // FU-A
		if h := payload[1]; h&0x1f == 0 || h&0x1f > 23 || h&0xc0 == 0xc0 {
			return info, false, fmt.Errorf("h264: FU-A header %#x", h)
		}
		return info, false, nil
	default:
		return info, false, fmt.Errorf("h264: NAL unit type %d", t)
	}
}

// readSEI reads the synthetic stream's SEI message from nal, a single NAL
// unit; marked is false for any other NAL unit.
func readSEI(nal []byte) (info PayloadInfo, marked bool, err error) {
	if nal[0]&0x1f != 6 || len(nal) < 3 || nal[1] != 5 || nal[2] != seiSize {
		return info, false, nil
	}
	var buf [2 * seiSize]byte
	msg := h264.Unescape(buf[:0], nal[3:])
	if len(msg) < seiSize+1 || !bytes.Equal(msg[:16], seiUUID[:]) {
		return info, false, nil // some other SEI message
	}
	if msg[seiSize] != 0x80 {
		return info, false, errors.New("h264: synthetic SEI message damaged")
	}
	info.Sender = binary.BigEndian.Uint32(msg[16:])
	info.Frame = binary.BigEndian.Uint32(msg[20:])
	info.Counter = info.Frame
	info.FrameStart = true
	info.Keyframe = msg[24]&1 != 0
	info.KeyPicture = info.Keyframe
	if info.Keyframe {
		info.Width, info.Height = int(binary.BigEndian.Uint16(msg[25:])), int(binary.BigEndian.Uint16(msg[27:]))
	}
	return info, true, nil
}
