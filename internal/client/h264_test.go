package client

import (
	"testing"

	"github.com/pion/rtp/codecs"
)

// TestH264Generator checks that the synthetic H.264 stream is what a
// decoder and CheckH264 expect: a keyframe is a STAP-A of the SPS and
// PPS, the SEI message naming the sender, then the IDR picture in FU-A
// fragments; a P picture is the SEI message and its slice; every payload
// is well formed and depacketizes back to the clip's pictures.
func TestH264Generator(t *testing.T) {
	g, err := NewH264Generator(SenderHash("mixer"))
	if err != nil {
		t.Fatal(err)
	}
	for frame := range 30 {
		key := frame == 0 || frame == 25 || frame == 27 // the clip turns at 25
		pkts := g.NextFrame(frame == 27)
		var (
			marked    int
			depack    codecs.H264Packet
			annexB    []byte
			sawIDR    bool
			firstType = pkts[0][0] & 0x1f
		)
		for _, p := range pkts {
			info, m, err := CheckH264(p)
			if err != nil {
				t.Fatalf("frame %d: %v", frame, err)
			}
			if m {
				marked++
				if info.Sender != SenderHash("mixer") || !info.FrameStart || info.Keyframe != key || int(info.Frame) != frame {
					t.Errorf("frame %d: SEI says %+v", frame, info)
				}
				if key && (info.Width != H264Width || info.Height != H264Height) {
					t.Errorf("frame %d: keyframe of %d×%d", frame, info.Width, info.Height)
				}
			}
			out, err := depack.Unmarshal(p)
			if err != nil {
				t.Fatalf("frame %d: depacketize: %v", frame, err)
			}
			annexB = append(annexB, out...)
		}
		for _, nal := range splitAnnexB(annexB) {
			sawIDR = sawIDR || nal[0]&0x1f == 5
		}
		if marked != 1 {
			t.Errorf("frame %d: %d SEI messages", frame, marked)
		}
		if key != sawIDR || key && firstType != 24 {
			t.Errorf("frame %d: keyframe %v, IDR %v, first packet of type %d", frame, key, sawIDR, firstType)
		}
	}
}

func TestCheckH264(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		bad     bool
	}{
		{"single slice", []byte{0x41, 0x9a, 0x01}, false},
		{"STAP-A", []byte{0x18, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, false},
		{"FU-A start of an IDR", []byte{0x7c, 0x85, 0xb8}, false},
		{"too short", []byte{0x41}, true},
		{"forbidden bit", []byte{0xc1, 0x9a}, true},
		{"STAP-A overrun", []byte{0x18, 0, 9, 0x67, 0x42}, true},
		{"STAP-A of a zero-sized unit", []byte{0x18, 0, 0}, true},
		{"FU-A with start and end", []byte{0x7c, 0xc5, 0xb8}, true},
		{"STAP-B", []byte{0x19, 0, 0, 0, 2, 0x67, 0x42}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := CheckH264(tt.payload)
			if (err != nil) != tt.bad {
				t.Errorf("CheckH264: %v, want failure %v", err, tt.bad)
			}
		})
	}
}
