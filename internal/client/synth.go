package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"time"
)

// Timing and size of the synthetic media a publishing Client sends.
const (
	AudioClockRate      = 48000                 // Opus RTP clock, Hz
	AudioPacketDuration = 20 * time.Millisecond // one Opus packet
	AudioTimestampStep  = 960                   // RTP timestamp advance per audio packet
	VideoClockRate      = 90000                 // VP8 RTP clock, Hz
	VideoFrameRate      = 25                    // frames per second
	VideoTimestampStep  = VideoClockRate / VideoFrameRate
	VideoKeyframeEvery  = 2 * VideoFrameRate // frames between periodic keyframes (2 s)
	MaxVideoPayload     = 1100               // largest RTP payload of a video packet, bytes
	VideoWidth          = 640                // width written in synthetic keyframe headers
	VideoHeight         = 360                // height written in synthetic keyframe headers
)

// Layout of the verifiable region that every synthetic payload carries after
// its codec prefix (Opus TOC byte, or VP8 payload descriptor and frame
// header). All integers are big-endian.
//
//	0  magic "hn"
//	2  kind (1 audio, 2 video)
//	3  flags (bit 0: the packet belongs to a keyframe; bits 4-5: the
//	   simulcast encoding, 0 the lowest)
//	4  sender: SenderHash of the publishing participant id
//	8  counter: packet number on this track, from 0
//	12 frame: video frame number (audio: equal to counter)
//	16 filler, as long as the bitrate needs
//	-4 CRC-32 (IEEE) of everything before it in the region
const (
	regionHeader = 16
	regionMin    = regionHeader + 4
	magic0       = 'h'
	magic1       = 'n'
	kindAudio    = 1
	kindVideo    = 2
	flagKeyframe = 1
	layerShift   = 4    // of the encoding in the flags
	opusTOC      = 0x78 // config 15 (hybrid, fullband, 20 ms), mono, one frame
	vp8DescLen   = 4    // X=1, I=1, 15-bit picture id
	vp8KeyHdrLen = 10   // frame tag, start code, width, height
	vp8InterLen  = 3    // frame tag
)

// Errors returned by CheckAudio and CheckVideo; wrapped with details.
var (
	ErrShortPayload = errors.New("payload too short")
	ErrBadMagic     = errors.New("not a synthetic payload")
	ErrBadCRC       = errors.New("payload checksum mismatch")
	ErrBadKind      = errors.New("payload of the wrong media kind")
	ErrBadVP8       = errors.New("malformed VP8 payload")
)

// SenderHash returns the 32-bit FNV-1a hash of a participant id, which every
// synthetic payload carries so that a receiver can tell whose media it got.
func SenderHash(participantID string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(participantID))
	return h.Sum32()
}

// PayloadInfo is what a receiver learns from a valid synthetic payload.
type PayloadInfo struct {
	Sender     uint32 // SenderHash of the publisher
	Counter    uint32 // packet number on the publishing track
	Frame      uint32 // video frame number (audio: Counter)
	FrameStart bool   // video: first packet of a frame (S bit set, partition 0)
	Keyframe   bool   // video: first packet of a keyframe, with a valid VP8 keyframe header
	// Layer is the simulcast encoding of a video packet, 0 the lowest (0
	// too without simulcast); Width and Height are the picture size a
	// keyframe's header carries.
	Layer         int
	Width, Height int
}

// AudioGenerator produces synthetic Opus payloads, one per 20 ms, sized to
// the requested bitrate. It is not safe for concurrent use.
type AudioGenerator struct {
	sender  uint32
	counter uint32
	buf     []byte
}

// NewAudioGenerator returns a generator for a publisher with the given
// SenderHash, sending bitrate bits/s of RTP payload (raised to the smallest
// size that fits the verifiable region).
func NewAudioGenerator(sender uint32, bitrate int) *AudioGenerator {
	size := bitrate / 8 * int(AudioPacketDuration/time.Millisecond) / 1000
	size = max(size, 1+regionMin)
	return &AudioGenerator{sender: sender, buf: make([]byte, size)}
}

// Next returns the next audio payload. The slice is reused by the following
// call.
func (g *AudioGenerator) Next() []byte {
	g.buf[0] = opusTOC
	fillRegion(g.buf[1:], kindAudio, 0, g.sender, g.counter, g.counter)
	g.counter++
	return g.buf
}

// VideoGenerator produces synthetic VP8 frames at VideoFrameRate, each split
// into RTP payloads of at most MaxVideoPayload bytes, sized to the requested
// bitrate. It is not safe for concurrent use.
type VideoGenerator struct {
	sender    uint32
	layer     byte
	width     int
	height    int
	frameSize int
	counter   uint32
	frame     uint32
	pictureID uint16
	pkts      [][]byte
	backing   []byte
}

// NewVideoGenerator returns a generator for a publisher with the given
// SenderHash, sending bitrate bits/s of RTP payload.
func NewVideoGenerator(sender uint32, bitrate int) *VideoGenerator {
	frameSize := bitrate / 8 / VideoFrameRate
	frameSize = max(frameSize, vp8DescLen+vp8KeyHdrLen+regionMin)
	n := (frameSize + MaxVideoPayload - 1) / MaxVideoPayload
	// Keep every packet large enough for its prefix and region.
	frameSize = max(frameSize, n*(vp8DescLen+regionMin)+vp8KeyHdrLen)
	return &VideoGenerator{
		sender:    sender,
		width:     VideoWidth,
		height:    VideoHeight,
		frameSize: frameSize,
		pkts:      make([][]byte, n),
		backing:   make([]byte, frameSize),
	}
}

// NewLayerGenerator returns a generator of the simulcast encoding layer
// (0 the lowest) of a publisher: frames of bitrate bits/s whose keyframes
// say width×height and whose payloads carry the layer.
func NewLayerGenerator(sender uint32, bitrate, layer, width, height int) *VideoGenerator {
	g := NewVideoGenerator(sender, bitrate)
	g.layer, g.width, g.height = byte(layer), width, height
	return g
}

// FrameSize reports the payload bytes of one frame.
func (g *VideoGenerator) FrameSize() int { return g.frameSize }

// NextFrame returns the payloads of the next frame, a keyframe if keyframe is
// set. The RTP marker bit belongs on the last one. The slices are reused by
// the following call.
func (g *VideoGenerator) NextFrame(keyframe bool) [][]byte {
	n := len(g.pkts)
	off := 0
	flags := g.layer << layerShift
	if keyframe {
		flags |= flagKeyframe
	}
	for i := range n {
		size := g.frameSize / n
		if i < g.frameSize%n {
			size++
		}
		p := g.backing[off : off+size]
		off += size
		// VP8 payload descriptor (RFC 7741 section 4.2) with a 15-bit picture id,
		// as browsers send it.
		p[0] = 0x80 // X
		if i == 0 {
			p[0] |= 0x10 // S; partition index 0
		}
		p[1] = 0x80 // I
		p[2] = 0x80 | byte(g.pictureID>>8)&0x7f
		p[3] = byte(g.pictureID)
		h := vp8DescLen
		if i == 0 {
			h += writeVP8FrameHeader(p[h:], keyframe, g.frameSize-vp8DescLen, g.width, g.height)
		}
		fillRegion(p[h:], kindVideo, flags, g.sender, g.counter, g.frame)
		g.counter++
		g.pkts[i] = p
	}
	g.frame++
	g.pictureID = (g.pictureID + 1) & 0x7fff
	return g.pkts
}

// writeVP8FrameHeader writes the VP8 frame tag (RFC 6386 section 9.1) and, for
// a keyframe, the start code and dimensions; it returns the bytes written.
func writeVP8FrameHeader(b []byte, keyframe bool, size, width, height int) int {
	// Frame tag: bit 0 P (0 = keyframe), bits 1-3 version, bit 4 show_frame,
	// bits 5-23 first partition size.
	partSize := uint32(min(size, 1<<19-1))
	tag := partSize<<5 | 1<<4
	if !keyframe {
		tag |= 1
	}
	b[0], b[1], b[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	if !keyframe {
		return vp8InterLen
	}
	b[3], b[4], b[5] = 0x9d, 0x01, 0x2a
	binary.LittleEndian.PutUint16(b[6:], uint16(width))
	binary.LittleEndian.PutUint16(b[8:], uint16(height))
	return vp8KeyHdrLen
}

// fillRegion writes the verifiable region into r, which is at least regionMin
// bytes long.
func fillRegion(r []byte, kind, flags byte, sender, counter, frame uint32) {
	r[0], r[1], r[2], r[3] = magic0, magic1, kind, flags
	binary.BigEndian.PutUint32(r[4:], sender)
	binary.BigEndian.PutUint32(r[8:], counter)
	binary.BigEndian.PutUint32(r[12:], frame)
	end := len(r) - 4
	seed := byte(counter)
	for i := regionHeader; i < end; i++ {
		r[i] = seed + byte(i)
	}
	binary.BigEndian.PutUint32(r[end:], crc32.ChecksumIEEE(r[:end]))
}

// checkRegion verifies the region r and returns its fields.
func checkRegion(r []byte, kind byte) (PayloadInfo, byte, error) {
	if len(r) < regionMin {
		return PayloadInfo{}, 0, fmt.Errorf("%w: region of %d bytes", ErrShortPayload, len(r))
	}
	if r[0] != magic0 || r[1] != magic1 {
		return PayloadInfo{}, 0, ErrBadMagic
	}
	end := len(r) - 4
	if got, want := crc32.ChecksumIEEE(r[:end]), binary.BigEndian.Uint32(r[end:]); got != want {
		return PayloadInfo{}, 0, fmt.Errorf("%w: computed %08x, carried %08x", ErrBadCRC, got, want)
	}
	if r[2] != kind {
		return PayloadInfo{}, 0, fmt.Errorf("%w: kind %d, want %d", ErrBadKind, r[2], kind)
	}
	return PayloadInfo{
		Sender:  binary.BigEndian.Uint32(r[4:]),
		Counter: binary.BigEndian.Uint32(r[8:]),
		Frame:   binary.BigEndian.Uint32(r[12:]),
	}, r[3], nil
}

// CheckAudio verifies a synthetic Opus payload made by AudioGenerator.
func CheckAudio(payload []byte) (PayloadInfo, error) {
	if len(payload) < 1+regionMin {
		return PayloadInfo{}, fmt.Errorf("audio: %w: %d bytes", ErrShortPayload, len(payload))
	}
	info, _, err := checkRegion(payload[1:], kindAudio)
	if err != nil {
		return PayloadInfo{}, fmt.Errorf("audio: %w", err)
	}
	return info, nil
}

// CheckVideo verifies a synthetic VP8 payload made by VideoGenerator. It
// parses any valid VP8 payload descriptor, so a forwarder may rewrite the
// picture id or drop the optional fields.
func CheckVideo(payload []byte) (PayloadInfo, error) {
	desc, start, err := parseVP8Descriptor(payload)
	if err != nil {
		return PayloadInfo{}, fmt.Errorf("video: %w", err)
	}
	rest := payload[desc:]
	keyframe := false
	width, height := 0, 0
	if start {
		if len(rest) < vp8InterLen {
			return PayloadInfo{}, fmt.Errorf("video: %w: frame tag cut short", ErrBadVP8)
		}
		if rest[0]&1 == 0 {
			if len(rest) < vp8KeyHdrLen || rest[3] != 0x9d || rest[4] != 0x01 || rest[5] != 0x2a {
				return PayloadInfo{}, fmt.Errorf("video: %w: keyframe without start code", ErrBadVP8)
			}
			keyframe = true
			width, height = int(binary.LittleEndian.Uint16(rest[6:]))&0x3fff, int(binary.LittleEndian.Uint16(rest[8:]))&0x3fff
			rest = rest[vp8KeyHdrLen:]
		} else {
			rest = rest[vp8InterLen:]
		}
	}
	info, flags, err := checkRegion(rest, kindVideo)
	if err != nil {
		return PayloadInfo{}, fmt.Errorf("video: %w", err)
	}
	if start && keyframe != (flags&flagKeyframe != 0) {
		return PayloadInfo{}, fmt.Errorf("video: %w: frame tag disagrees with the keyframe flag", ErrBadVP8)
	}
	info.FrameStart = start
	info.Keyframe = keyframe
	info.Layer = int(flags>>layerShift) & 3
	info.Width, info.Height = width, height
	return info, nil
}

// parseVP8Descriptor returns the length of the VP8 payload descriptor at the
// start of p and whether p starts a frame (S set and partition index 0).
func parseVP8Descriptor(p []byte) (int, bool, error) {
	if len(p) < 1 {
		return 0, false, fmt.Errorf("%w: empty", ErrShortPayload)
	}
	n := 1
	start := p[0]&0x10 != 0 && p[0]&0x07 == 0
	if p[0]&0x80 != 0 { // X: extension byte follows
		if len(p) < 2 {
			return 0, false, fmt.Errorf("%w: descriptor cut short", ErrBadVP8)
		}
		ext := p[1]
		n = 2
		if ext&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) < n+1 {
				return 0, false, fmt.Errorf("%w: descriptor cut short", ErrBadVP8)
			}
			if p[n]&0x80 != 0 {
				n += 2
			} else {
				n++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			n++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX byte
			n++
		}
	}
	if len(p) < n {
		return 0, false, fmt.Errorf("%w: descriptor cut short", ErrBadVP8)
	}
	return n, start, nil
}
