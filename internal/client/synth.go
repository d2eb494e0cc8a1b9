package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"time"

	"hoinghi/internal/media/vp8"
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
	vp8TDescLen  = 6    // and L=1, T=1: TL0PICIDX, then TID and Y
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
	// KeyPicture is set on every packet of a keyframe, the first or not
	// (synthetic VP8 marks them all; H.264: as Keyframe).
	KeyPicture bool
	// PictureID is the VP8 picture id of a video packet (HasPictureID
	// set when it carries one); TID is its temporal layer, 0 without.
	PictureID    uint16
	HasPictureID bool
	TID          int
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
	descLen   int
	temporal  bool
	counter   uint32
	frame     uint32
	pictureID uint16
	tl0       uint8
	tpos      int // the place of the next picture in TemporalPattern
	pkts      [][]byte
	backing   []byte
}

// TemporalPattern is the temporal layer of each picture of a generator
// with temporal layers, in turn: three layers, as browsers send VP8
// simulcast; the base layer has a quarter of the pictures, layer 1 a
// quarter, layer 2 half.
var TemporalPattern = [4]int{0, 2, 1, 2}

// NewVideoGenerator returns a generator for a publisher with the given
// SenderHash, sending bitrate bits/s of RTP payload.
func NewVideoGenerator(sender uint32, bitrate int) *VideoGenerator {
	return newVideoGenerator(sender, bitrate, vp8DescLen)
}

func newVideoGenerator(sender uint32, bitrate, descLen int) *VideoGenerator {
	frameSize := bitrate / 8 / VideoFrameRate
	frameSize = max(frameSize, descLen+vp8KeyHdrLen+regionMin)
	n := (frameSize + MaxVideoPayload - 1) / MaxVideoPayload
	// Keep every packet large enough for its prefix and region.
	frameSize = max(frameSize, n*(descLen+regionMin)+vp8KeyHdrLen)
	return &VideoGenerator{
		sender:    sender,
		width:     VideoWidth,
		height:    VideoHeight,
		frameSize: frameSize,
		descLen:   descLen,
		pkts:      make([][]byte, n),
		backing:   make([]byte, frameSize),
	}
}

// NewLayerGenerator returns a generator of the simulcast encoding layer
// (0 the lowest) of a publisher: frames of bitrate bits/s whose keyframes
// say width×height and whose payloads carry the layer. With temporal
// set, its pictures are in three temporal layers (TemporalPattern),
// numbered in the payload descriptor (TL0PICIDX, TID, and the layer sync
// bit on each layer's first picture after a base picture); keyframes
// come only as base pictures.
func NewLayerGenerator(sender uint32, bitrate, layer, width, height int, temporal bool) *VideoGenerator {
	descLen := vp8DescLen
	if temporal {
		descLen = vp8TDescLen
	}
	g := newVideoGenerator(sender, bitrate, descLen)
	g.layer, g.width, g.height, g.temporal = byte(layer), width, height, temporal
	// Picture ids start apart, as an encoder's do, so that a forwarder
	// that switches encodings must renumber them.
	g.pictureID = uint16(sender>>3+uint32(layer)*0x1234) & 0x7fff
	return g
}

// FrameSize reports the payload bytes of one frame.
func (g *VideoGenerator) FrameSize() int { return g.frameSize }

// NextFrame returns the payloads of the next frame, a keyframe if keyframe is
// set. The RTP marker bit belongs on the last one. The slices are reused by
// the following call. In a generator with temporal layers, a keyframe
// starts the pattern again, as a base picture.
func (g *VideoGenerator) NextFrame(keyframe bool) [][]byte {
	n := len(g.pkts)
	off := 0
	tid, k := 0, 0
	if g.temporal {
		if keyframe {
			g.tpos = 0
		}
		k = g.tpos % len(TemporalPattern)
		g.tpos++
		tid = TemporalPattern[k]
		if tid == 0 && g.frame > 0 {
			g.tl0++
		}
	}
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
		if g.temporal {
			p[1] |= 0x60 // L, T
			p[4] = g.tl0
			// TID, and Y on the first picture of layers 1 and 2 after
			// each base picture, which refer to the base alone.
			p[5] = byte(tid) << 6
			if k == 1 || k == 2 {
				p[5] |= 0x20
			}
		}
		h := g.descLen
		if i == 0 {
			h += writeVP8FrameHeader(p[h:], keyframe, g.frameSize-g.descLen, g.width, g.height)
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
	if len(payload) == 0 {
		return PayloadInfo{}, fmt.Errorf("video: %w: empty", ErrShortPayload)
	}
	d, ok := vp8.Parse(payload)
	if !ok {
		return PayloadInfo{}, fmt.Errorf("video: %w: descriptor cut short", ErrBadVP8)
	}
	start := d.Start
	rest := payload[d.Size:]
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
	info.KeyPicture = flags&flagKeyframe != 0
	info.PictureID, info.HasPictureID, info.TID = d.PictureID, d.PictureIDBits != 0, int(d.TID)
	info.Layer = int(flags>>layerShift) & 3
	info.Width, info.Height = width, height
	return info, nil
}
