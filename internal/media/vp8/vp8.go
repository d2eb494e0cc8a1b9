// Package vp8 reads and rewrites the VP8 RTP payload descriptor (RFC 7741
// section 4.2): where a frame starts, whether it is a keyframe, its
// picture id, and the temporal layer it belongs to. A forwarder reads it
// once per packet and, per subscriber, drops the packets of upper temporal
// layers and renumbers the pictures it keeps, so that the subscriber sees
// a continuous series.
//
// Parsing allocates nothing and patches happen in place, on the
// subscriber's copy of the payload.
package vp8

// Descriptor is what the payload descriptor of one packet says. Its
// offsets are from the start of the payload; an absent field's offset is
// 0 (the first byte is never a field).
type Descriptor struct {
	// Start is set on the first packet of a frame (S bit set, partition
	// index 0); Keyframe on the first packet of a keyframe.
	Start    bool
	Keyframe bool
	// PictureID is the picture's number: 7 bits when PictureIDBits is 7,
	// 15 when it is 15, absent when it is 0.
	PictureID     uint16
	PictureIDBits uint8
	pictureAt     uint8
	// TL0PicIdx counts the pictures of the base temporal layer; HasTL0
	// says it is present.
	TL0PicIdx uint8
	HasTL0    bool
	tl0At     uint8
	// TID is the picture's temporal layer, 0 the base; HasTID says it is
	// present (without it the picture is in the base layer). Sync (the Y
	// bit) says the picture depends only on base-layer pictures, so a
	// subscriber can start taking the layer TID from it.
	TID    uint8
	Sync   bool
	HasTID bool
	// Size is the length of the descriptor: the VP8 frame follows it.
	Size int
}

// Parse reads the payload descriptor at the start of payload; ok is false
// when payload is too short to hold the descriptor it announces.
func Parse(payload []byte) (d Descriptor, ok bool) {
	if len(payload) < 1 {
		return Descriptor{}, false
	}
	b0 := payload[0]
	d.Start = b0&0x10 != 0 && b0&0x07 == 0
	i := 1
	if b0&0x80 != 0 { // X: the extension byte follows
		if len(payload) < 2 {
			return Descriptor{}, false
		}
		x := payload[1]
		i = 2
		if x&0x80 != 0 { // I: picture id
			if len(payload) <= i {
				return Descriptor{}, false
			}
			d.pictureAt = uint8(i)
			if payload[i]&0x80 != 0 { // M: 15 bits
				if len(payload) <= i+1 {
					return Descriptor{}, false
				}
				d.PictureID = uint16(payload[i]&0x7f)<<8 | uint16(payload[i+1])
				d.PictureIDBits = 15
				i += 2
			} else {
				d.PictureID = uint16(payload[i])
				d.PictureIDBits = 7
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			if len(payload) <= i {
				return Descriptor{}, false
			}
			d.TL0PicIdx, d.HasTL0, d.tl0At = payload[i], true, uint8(i)
			i++
		}
		if x&0x30 != 0 { // T or K: the TID/Y/KEYIDX byte
			if len(payload) <= i {
				return Descriptor{}, false
			}
			if x&0x20 != 0 {
				d.TID, d.Sync, d.HasTID = payload[i]>>6, payload[i]&0x20 != 0, true
			}
			i++
		}
	}
	d.Size = i
	// The frame tag's P bit (the lowest) is clear on a keyframe.
	d.Keyframe = d.Start && len(payload) > i && payload[i]&0x01 == 0
	return d, true
}

// IsKeyframe reports whether payload is the first packet of a VP8
// keyframe.
func IsKeyframe(payload []byte) bool {
	d, ok := Parse(payload)
	return ok && d.Keyframe
}

// SetPictureID writes id, cut to the descriptor's width, as the picture id
// of payload, whose descriptor is d; a payload without one is left as it
// is.
func SetPictureID(payload []byte, d *Descriptor, id uint16) {
	switch i := int(d.pictureAt); d.PictureIDBits {
	case 15:
		payload[i] = 0x80 | byte(id>>8)&0x7f
		payload[i+1] = byte(id)
	case 7:
		payload[i] = byte(id) & 0x7f
	}
}

// SetTL0PicIdx writes idx as the TL0PICIDX of payload, whose descriptor
// is d; a payload without one is left as it is.
func SetTL0PicIdx(payload []byte, d *Descriptor, idx uint8) {
	if d.HasTL0 {
		payload[d.tl0At] = idx
	}
}

// PictureMask is the mask of a picture id of the given width (7 or 15
// bits).
func PictureMask(bits uint8) uint16 {
	if bits == 7 {
		return 0x7f
	}
	return 0x7fff
}
