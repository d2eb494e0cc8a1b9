package record

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzTrackWriteRTP feeds a track packets made from the input: whatever
// the payloads, sequence numbers and timestamps, WriteRTP and Close do
// not panic and the index reads back. The first byte picks the codec;
// then each packet is 4 bytes (sequence step, timestamp step, flags,
// payload length) and its payload.
func FuzzTrackWriteRTP(f *testing.F) {
	vp8Key := append([]byte{0x90, 0x80, 0x01}, vp8Payload(true)[1:]...)
	f.Add(append([]byte{1, 1, 0, 1, byte(len(vp8Key))}, vp8Key...))
	stap := []byte{24, 0, 4, 0x67, 0x42, 0xc0, 0x1e, 0, 2, 0x68, 0xce, 0, 3, 0x65, 0x88, 0x84}
	fuStart := []byte{28, 0x85, 0x88, 0x84, 0x21}
	fuEnd := []byte{28, 0x45, 0x10, 0x20}
	h264 := []byte{2}
	h264 = append(h264, 1, 0, 0, byte(len(stap)))
	h264 = append(h264, stap...)
	h264 = append(h264, 1, 0, 0, byte(len(fuStart)))
	h264 = append(h264, fuStart...)
	h264 = append(h264, 1, 0, 1, byte(len(fuEnd)))
	h264 = append(h264, fuEnd...)
	f.Add(h264)
	f.Add([]byte{0, 1, 1, 0, 3, 0xf8, 0xff, 0xfe, 1, 3, 0, 1, 0x78, 0xff, 0, 0, 1, 0x0b})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		codec := []string{"opus", "vp8", "h264"}[int(data[0])%3]
		data = data[1:]
		rec, err := Create(t.TempDir(), "c", "r", t0)
		if err != nil {
			t.Fatal(err)
		}
		rec.noSync = true
		tr, err := rec.AddTrack(TrackInfo{ID: "t", Participant: "p", Media: "video", Codec: codec}, t0)
		if err != nil {
			t.Fatal(err)
		}
		var seq uint16
		var ts uint32
		at := t0
		for len(data) >= 4 {
			seq += uint16(int8(data[0]))
			ts += uint32(data[1]) * 480
			marker := data[2]&1 != 0
			if data[2]&2 != 0 {
				ts -= 1 << 31 // a jump half the clock away
			}
			n := min(int(data[3]), len(data)-4)
			p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts, Marker: marker}, Payload: data[4 : 4+n]}
			data = data[4+n:]
			at = at.Add(10 * time.Millisecond)
			if err := tr.WriteRTP(p, at); err != nil {
				t.Fatalf("WriteRTP: %v", err)
			}
		}
		if err := rec.Close(at); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadIndex(filepath.Join(rec.Dir(), IndexName)); err != nil {
			t.Fatal(err)
		}
	})
}
