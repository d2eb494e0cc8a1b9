package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// keyframeDetector returns the function that tells whether an RTP payload
// of the codec starts a keyframe.
func keyframeDetector(mime string) func([]byte) bool {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return isVP8Keyframe
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return isH264Keyframe
	}
	return func([]byte) bool { return false }
}

// isVP8Keyframe reports whether payload is the first packet of a VP8
// keyframe (RFC 7741 payload descriptor, then the VP8 frame tag).
func isVP8Keyframe(payload []byte) bool {
	if len(payload) < 1 {
		return false
	}
	b0 := payload[0]
	// S bit set and partition index 0: the packet starts a frame.
	if b0&0x10 == 0 || b0&0x07 != 0 {
		return false
	}
	i := 1
	if b0&0x80 != 0 { // X: extension byte follows
		if len(payload) < 2 {
			return false
		}
		x := payload[1]
		i = 2
		if x&0x80 != 0 { // I: picture id
			if len(payload) <= i {
				return false
			}
			if payload[i]&0x80 != 0 { // M: 15-bit picture id
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x20 != 0 || x&0x10 != 0 { // T or K: TID/Y/KEYIDX byte
			i++
		}
	}
	if len(payload) <= i {
		return false
	}
	// Frame tag: P bit (inverse keyframe flag) is the lowest bit.
	return payload[i]&0x01 == 0
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
