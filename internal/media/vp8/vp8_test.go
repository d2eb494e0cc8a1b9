package vp8

import (
	"bytes"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		ok      bool
		want    Descriptor
	}{
		{"empty", nil, false, Descriptor{}},
		{"start of keyframe, no extension", []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}, true,
			Descriptor{Start: true, Keyframe: true, Size: 1}},
		{"start of interframe", []byte{0x10, 0x01}, true, Descriptor{Start: true, Size: 1}},
		{"not a frame start", []byte{0x00, 0x00}, true, Descriptor{Size: 1}},
		{"partition 1", []byte{0x11, 0x00}, true, Descriptor{Size: 1}},
		{"15-bit picture id then keyframe", []byte{0x90, 0x80, 0x81, 0x02, 0x00}, true,
			Descriptor{Start: true, Keyframe: true, PictureID: 0x102, PictureIDBits: 15, pictureAt: 2, Size: 4}},
		{"7-bit picture id then interframe", []byte{0x90, 0x80, 0x05, 0x01}, true,
			Descriptor{Start: true, PictureID: 5, PictureIDBits: 7, pictureAt: 2, Size: 3}},
		{"picture id, tl0picidx, tid 1 sync, keyframe", []byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x60, 0x00}, true,
			Descriptor{Start: true, Keyframe: true, PictureID: 0x102, PictureIDBits: 15, pictureAt: 2,
				TL0PicIdx: 7, HasTL0: true, tl0At: 4, TID: 1, Sync: true, HasTID: true, Size: 6}},
		{"tid 2 without sync, continuation", []byte{0x80, 0x60, 0x09, 0x80, 0xff}, true,
			Descriptor{TL0PicIdx: 9, HasTL0: true, tl0At: 2, TID: 2, HasTID: true, Size: 4}},
		{"keyidx only", []byte{0x90, 0x10, 0x05, 0x01}, true, Descriptor{Start: true, Size: 3}},
		{"descriptor without a frame", []byte{0x90, 0x80, 0x05}, true,
			Descriptor{Start: true, PictureID: 5, PictureIDBits: 7, pictureAt: 2, Size: 3}},
		{"truncated extension", []byte{0x90}, false, Descriptor{}},
		{"truncated picture id", []byte{0x90, 0x80}, false, Descriptor{}},
		{"truncated 15-bit picture id", []byte{0x90, 0x80, 0x81}, false, Descriptor{}},
		{"truncated tl0picidx", []byte{0x90, 0x40}, false, Descriptor{}},
		{"truncated tid", []byte{0x90, 0x20}, false, Descriptor{}},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.payload)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: Parse(% x) = %+v, %v; want %+v, %v", tt.name, tt.payload, got, ok, tt.want, tt.ok)
		}
		if kf := IsKeyframe(tt.payload); kf != tt.want.Keyframe {
			t.Errorf("%s: IsKeyframe = %v", tt.name, kf)
		}
	}
}

func TestSetNumbers(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		id      uint16
		tl0     uint8
		want    []byte
	}{
		{"15 bits", []byte{0x90, 0xc0, 0x81, 0x02, 0x07, 0x00}, 0x7abc, 9, []byte{0x90, 0xc0, 0xfa, 0xbc, 0x09, 0x00}},
		{"7 bits, cut to its width", []byte{0x90, 0x80, 0x05, 0x00}, 0x1ff, 0, []byte{0x90, 0x80, 0x7f, 0x00}},
		{"no picture id", []byte{0x10, 0x00}, 3, 3, []byte{0x10, 0x00}},
	}
	for _, tt := range tests {
		d, ok := Parse(tt.payload)
		if !ok {
			t.Fatalf("%s: Parse failed", tt.name)
		}
		SetPictureID(tt.payload, &d, tt.id)
		SetTL0PicIdx(tt.payload, &d, tt.tl0)
		if !bytes.Equal(tt.payload, tt.want) {
			t.Errorf("%s: got % x, want % x", tt.name, tt.payload, tt.want)
		}
		if d2, _ := Parse(tt.payload); d.PictureIDBits != 0 && d2.PictureID != tt.id&PictureMask(d.PictureIDBits) {
			t.Errorf("%s: reads back picture id %#x", tt.name, d2.PictureID)
		}
	}
}

// FuzzParse: any input parses without a panic, the descriptor fits in it,
// and numbers written read back.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x60, 0x00})
	f.Add([]byte{0x90, 0x80, 0x05, 0x01})
	f.Add([]byte{0x10, 0x00, 0x9d, 0x01, 0x2a})
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, ok := Parse(payload)
		if !ok {
			return
		}
		if d.Size > len(payload) {
			t.Fatalf("descriptor of %d bytes in %d", d.Size, len(payload))
		}
		p := bytes.Clone(payload)
		SetPictureID(p, &d, 0x1234)
		SetTL0PicIdx(p, &d, 0x56)
		d2, ok := Parse(p)
		if !ok || d2.Size != d.Size || d2.TID != d.TID || d2.Start != d.Start || d2.Keyframe != d.Keyframe {
			t.Fatalf("rewriting the numbers changed the descriptor: %+v to %+v", d, d2)
		}
		if d.PictureIDBits != 0 && d2.PictureID != 0x1234&PictureMask(d.PictureIDBits) {
			t.Fatalf("picture id reads back %#x", d2.PictureID)
		}
		if d.HasTL0 && d2.TL0PicIdx != 0x56 {
			t.Fatalf("TL0PICIDX reads back %#x", d2.TL0PicIdx)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	payload := []byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x60, 0x00, 0x00, 0x00, 0x00}
	b.ReportAllocs()
	for b.Loop() {
		d, _ := Parse(payload)
		SetPictureID(payload, &d, d.PictureID+1)
	}
}
