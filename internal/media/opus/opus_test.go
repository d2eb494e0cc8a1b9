package opus

import "testing"

func TestSamples(t *testing.T) {
	tests := []struct {
		packet []byte
		want   int
		bad    bool
	}{
		{packet: []byte{0x78, 0}, want: 960},          // hybrid fullband 20 ms
		{packet: []byte{0xfc, 0}, want: 960},          // CELT fullband 20 ms, as libopus sends music
		{packet: []byte{0xf8, 0xff, 0xfe}, want: 960}, // the silence frame
		{packet: []byte{0xf8 | 1, 0}, want: 1920},     // two frames of 20 ms
		{packet: []byte{0x79}, want: 1920},            // two frames, hybrid
		{packet: []byte{0x18, 0}, want: 2880},         // SILK narrowband 60 ms
		{packet: []byte{0x08, 0}, want: 960},          // SILK narrowband 20 ms
		{packet: []byte{0x80, 0}, want: 120},          // CELT 2.5 ms
		{packet: []byte{0x70, 0}, want: 480},          // hybrid 10 ms
		{packet: []byte{0xf8 | 3, 3}, want: 2880},     // code 3: three frames of 20 ms
		{packet: []byte{0x4b, 0x03}, want: 2880},      // SILK wideband 20 ms, three frames
		{packet: []byte{0x18 | 3, 2}, want: 5760},     // two of 60 ms: the longest
		{packet: []byte{0xe3, 0x30}, want: 5760},      // CELT 2.5 ms, 48 frames: 120 ms
		{packet: []byte{0xe3, 0x31}, bad: true},       // 49 frames: too long
		{packet: []byte{0x18 | 3, 3}, bad: true},      // 180 ms is too long
		{packet: []byte{0xf8 | 3, 0}, bad: true},      // no frames
		{packet: []byte{0xf8 | 3}, bad: true},         // no frame count
		{packet: nil, bad: true},
	}
	for _, tt := range tests {
		got, err := Samples(tt.packet)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("Samples(% x) = %d, %v; want %d, error %v", tt.packet, got, err, tt.want, tt.bad)
		}
	}
}

func BenchmarkSamples(b *testing.B) {
	p := []byte{0xfc, 0x01, 0x02}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Samples(p); err != nil {
			b.Fatal(err)
		}
	}
}
