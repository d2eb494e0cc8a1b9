package sfu

import "testing"

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
