package record

import (
	"errors"

	"hoinghi/internal/media/h264"
)

// H.264 NAL unit types this package looks at.
const (
	h264IDR   = 5
	h264SPS   = 7
	h264PPS   = 8
	h264STAPA = 24
	h264FUA   = 28
)

// avcC returns the AVCDecoderConfigurationRecord (ISO/IEC 14496-15) of
// one SPS and one PPS, with 4-byte NAL unit lengths: the CodecPrivate of
// a V_MPEG4/ISO/AVC track.
func avcC(sps, pps []byte) []byte {
	b := make([]byte, 0, 11+len(sps)+len(pps))
	b = append(b, 1, sps[1], sps[2], sps[3], 0xff, 0xe1)
	b = append(b, byte(len(sps)>>8), byte(len(sps)))
	b = append(b, sps...)
	b = append(b, 1, byte(len(pps)>>8), byte(len(pps)))
	return append(b, pps...)
}

// bitReader reads an RBSP bit by bit, Exp-Golomb codes included.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

var errShortSPS = errors.New("h264: SPS too short")

func (r *bitReader) bit() uint {
	if r.pos >= 8*len(r.b) {
		r.err = errShortSPS
		return 0
	}
	v := uint(r.b[r.pos/8]>>(7-r.pos%8)) & 1
	r.pos++
	return v
}

func (r *bitReader) bits(n int) uint {
	var v uint
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

func (r *bitReader) ue() uint {
	zeros := 0
	for r.bit() == 0 && r.err == nil {
		zeros++
		if zeros > 31 {
			r.err = errShortSPS
			return 0
		}
	}
	return 1<<zeros - 1 + r.bits(zeros)
}

func (r *bitReader) se() int {
	v := r.ue()
	if v%2 == 1 {
		return int(v/2 + 1)
	}
	return -int(v / 2)
}

// spsSize returns the picture size an SPS (NAL unit with its header)
// describes, cropping included (ITU-T H.264, 7.3.2.1.1).
func spsSize(sps []byte) (width, height int, err error) {
	if len(sps) < 4 {
		return 0, 0, errShortSPS
	}
	r := &bitReader{b: h264.Unescape(make([]byte, 0, len(sps)), sps[1:])}
	profile := r.bits(8)
	r.bits(16) // constraint flags, level
	r.ue()     // seq_parameter_set_id
	chroma := uint(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma = r.ue()
		if chroma == 3 {
			r.bit() // separate_colour_plane_flag
		}
		r.ue()  // bit_depth_luma_minus8
		r.ue()  // bit_depth_chroma_minus8
		r.bit() // qpprime_y_zero_transform_bypass_flag
		// seq_scaling_matrix_present_flag
		if r.bit() == 1 {
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := range lists {
				if r.bit() == 0 {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				last, next := 8, 8
				for range size {
					if next != 0 {
						next = (last + r.se() + 256) % 256
					}
					if next != 0 {
						last = next
					}
				}
			}
		}
	}
	r.ue() // log2_max_frame_num_minus4
	// pic_order_cnt_type
	switch r.ue() {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.bit() // delta_pic_order_always_zero_flag
		r.se()  // offset_for_non_ref_pic
		r.se()  // offset_for_top_to_bottom_field
		n := r.ue()
		for i := uint(0); i < n && r.err == nil; i++ {
			r.se()
		}
	}
	r.ue()  // max_num_ref_frames
	r.bit() // gaps_in_frame_num_value_allowed_flag
	mbWidth := int(r.ue()) + 1
	mapHeight := int(r.ue()) + 1
	frameMbsOnly := int(r.bit())
	if frameMbsOnly == 0 {
		r.bit() // mb_adaptive_frame_field_flag
	}
	r.bit() // direct_8x8_inference_flag
	var cropL, cropR, cropT, cropB int
	if r.bit() == 1 {
		cropL, cropR, cropT, cropB = int(r.ue()), int(r.ue()), int(r.ue()), int(r.ue())
	}
	if r.err != nil {
		return 0, 0, r.err
	}
	cropX, cropY := 1, 2-frameMbsOnly
	switch chroma {
	case 1:
		cropX, cropY = 2, 2*(2-frameMbsOnly)
	case 2:
		cropX, cropY = 2, 2-frameMbsOnly
	}
	width = mbWidth*16 - cropX*(cropL+cropR)
	height = (2-frameMbsOnly)*mapHeight*16 - cropY*(cropT+cropB)
	if width <= 0 || height <= 0 || width > 16384 || height > 16384 {
		return 0, 0, errors.New("h264: SPS gives an impossible picture size")
	}
	return width, height, nil
}
