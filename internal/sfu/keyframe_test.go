package sfu

import "testing"

func TestIsVP8Keyframe(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"empty", nil, false},
		{"start of keyframe, no extension", []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}, true},
		{"start of interframe", []byte{0x10, 0x01}, false},
		{"not a frame start", []byte{0x00, 0x00}, false},
		{"partition 1", []byte{0x11, 0x00}, false},
		{"15-bit picture id then keyframe", []byte{0x90, 0x80, 0x81, 0x02, 0x00}, true},
		{"7-bit picture id then interframe", []byte{0x90, 0x80, 0x05, 0x01}, false},
		{"picture id, tl0picidx, tid then keyframe", []byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x20, 0x00}, true},
		{"truncated extension", []byte{0x90, 0x80}, false},
	}
	for _, tt := range tests {
		if got := isVP8Keyframe(tt.payload); got != tt.want {
			t.Errorf("%s: isVP8Keyframe(% x) = %v, want %v", tt.name, tt.payload, got, tt.want)
		}
	}
}

func TestIsH264Keyframe(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"empty", nil, false},
		{"IDR single NAL", []byte{0x65, 0x88}, true},
		{"SPS single NAL", []byte{0x67, 0x42}, true},
		{"non-IDR slice", []byte{0x41, 0x9a}, false},
		{"STAP-A with SPS and PPS", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"STAP-A with SEI only", []byte{0x78, 0x00, 0x02, 0x06, 0x05}, false},
		{"STAP-A with bad size", []byte{0x78, 0x00, 0x09, 0x67}, false},
		{"FU-A start of IDR", []byte{0x7c, 0x85, 0x00}, true},
		{"FU-A middle of IDR", []byte{0x7c, 0x05, 0x00}, false},
		{"FU-A start of non-IDR", []byte{0x5c, 0x81, 0x00}, false},
	}
	for _, tt := range tests {
		if got := isH264Keyframe(tt.payload); got != tt.want {
			t.Errorf("%s: isH264Keyframe(% x) = %v, want %v", tt.name, tt.payload, got, tt.want)
		}
	}
}
