package h264

import (
	"bytes"
	"testing"
)

func TestUnescape(t *testing.T) {
	for _, tt := range []struct{ in, want []byte }{
		{[]byte{}, []byte{}},
		{[]byte{1, 2, 3}, []byte{1, 2, 3}},
		{[]byte{0, 0, 3, 1}, []byte{0, 0, 1}},
		{[]byte{0, 0, 3, 0, 0, 3}, []byte{0, 0, 0, 0}},
		{[]byte{0, 3, 0, 0}, []byte{0, 3, 0, 0}},    // one zero only: kept
		{[]byte{0, 0, 0, 3, 2}, []byte{0, 0, 0, 2}}, // three zeros, then the escape
		{[]byte{0, 0, 3, 3}, []byte{0, 0, 3}},       // the second 03 is data
	} {
		if got := Unescape(nil, tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("Unescape(% x) = % x, want % x", tt.in, got, tt.want)
		}
	}
	dst := make([]byte, 0, 8)
	if got := Unescape(dst, []byte{5, 0, 0, 3, 7}); &got[0] != &dst[:1][0] {
		t.Error("Unescape did not append into dst's room")
	}
}

func BenchmarkUnescape(b *testing.B) {
	nal := bytes.Repeat([]byte{0x42, 0, 0, 3, 1, 0x80}, 20)
	dst := make([]byte, 0, len(nal))
	b.ReportAllocs()
	for b.Loop() {
		dst = Unescape(dst[:0], nal)
	}
}
