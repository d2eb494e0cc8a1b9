package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/rewrite"
	"hoinghi/internal/media/vp8"
)

// frameInfo is what the reader of an up-track learns of one packet, once
// for all its down-tracks.
type frameInfo struct {
	keyframe bool // the packet starts a keyframe
	// vp8 is set for a VP8 packet whose payload descriptor parsed: desc
	// is that descriptor, pic its picture numbering for the rewriter.
	vp8  bool
	desc vp8.Descriptor
	pic  rewrite.Picture
	// h264 is set for an H.264 packet: it goes out with the payload type
	// the subscriber negotiated for H.264, and nothing in it is rewritten.
	h264 bool
}

// frameReader returns the function that reads what a forwarder needs of
// an RTP payload of the codec (without its padding).
func frameReader(mime string) func([]byte) frameInfo {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return readVP8
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return func(p []byte) frameInfo { return frameInfo{keyframe: isH264Keyframe(p), h264: true} }
	}
	return func([]byte) frameInfo { return frameInfo{} }
}

// readVP8 reads the payload descriptor of a VP8 payload.
func readVP8(payload []byte) frameInfo {
	d, ok := vp8.Parse(payload)
	if !ok {
		return frameInfo{}
	}
	return frameInfo{keyframe: d.Keyframe, vp8: true, desc: d,
		pic: rewrite.Picture{ID: d.PictureID, Bits: d.PictureIDBits, TL0: d.TL0PicIdx, HasTL0: d.HasTL0}}
}

// isH264Keyframe reports whether payload carries an IDR slice or a sequence
// parameter set, in a single NAL unit, a STAP-A aggregate or the first
// fragment of an FU-A.
func isH264Keyframe(payload []byte) bool {
	if len(payload) < 1 {
		return false
	}
	keyNAL := func(t byte) bool { return t == 5 || t == 7 }
	switch t := payload[0] & 0x1f; {
	case t >= 1 && t <= 23:
		return keyNAL(t)
	case t == 24: // STAP-A: 16-bit size, then the NAL unit, repeated
		for i := 1; i+2 < len(payload); {
			size := int(payload[i])<<8 | int(payload[i+1])
			i += 2
			if size == 0 || i+size > len(payload) {
				return false
			}
			if keyNAL(payload[i] & 0x1f) {
				return true
			}
			i += size
		}
	case t == 28: // FU-A: start bit and the fragmented NAL type
		return len(payload) >= 2 && payload[1]&0x80 != 0 && keyNAL(payload[1]&0x1f)
	}
	return false
}
