package record

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// benchTrack returns a track of a fresh recording in b's temporary
// directory.
func benchTrack(b *testing.B, media, codec string) *Track {
	b.Helper()
	start := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	rec, err := Create(b.TempDir(), "c", "r", start)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rec.Close(start) })
	tr, err := rec.AddTrack(TrackInfo{ID: "t", Participant: "p", Media: media, Codec: codec}, start)
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

// BenchmarkTrackWriteRTPOpus writes 20 ms Opus packets of 80 bytes, in
// order, as a speaking participant sends them.
func BenchmarkTrackWriteRTPOpus(b *testing.B) {
	tr := benchTrack(b, "audio", "opus")
	payload := make([]byte, 80)
	payload[0] = 0xf8 // CELT FB 20 ms
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}, Payload: payload}
	arrival := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for i := 0; b.Loop(); i++ {
		p.SequenceNumber = uint16(i)
		p.Timestamp = uint32(i) * 960
		arrival = arrival.Add(20 * time.Millisecond)
		if err := tr.WriteRTP(p, arrival); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tr.Bytes())/float64(b.N), "filebytes/op")
}

// BenchmarkTrackWriteRTPVP8 writes VP8 at 30 fps, three packets of 1000
// bytes a frame, a keyframe every 60 frames, with one pair of packets
// swapped in every frame so that the reorder window works too.
func BenchmarkTrackWriteRTPVP8(b *testing.B) {
	tr := benchTrack(b, "video", "vp8")
	const perFrame = 3
	keyPayload := func(start bool, key bool) []byte {
		p := make([]byte, 1000)
		p[0] = 0x00
		if start {
			p[0] = 0x10 // S, partition 0
		}
		if key {
			copy(p[1:], []byte{0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00}) // 320x180
		} else {
			p[1] = 0x01 // inter frame
		}
		return p
	}
	key0, keyN := keyPayload(true, true), keyPayload(false, true)
	delta0, deltaN := keyPayload(true, false), keyPayload(false, false)
	pkts := make([]rtp.Packet, perFrame)
	arrival := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.SetBytes(1000)
	seq := uint16(0)
	for i := 0; b.Loop(); i++ {
		j := i % perFrame
		if j == 0 {
			frame := i / perFrame
			key := frame%60 == 0
			for k := range pkts {
				pkts[k] = rtp.Packet{Header: rtp.Header{
					Version: 2, PayloadType: 96, SSRC: 1, SequenceNumber: seq + uint16(k),
					Timestamp: uint32(frame) * 3000, Marker: k == perFrame-1,
				}}
				switch {
				case k == 0 && key:
					pkts[k].Payload = key0
				case k == 0:
					pkts[k].Payload = delta0
				case key:
					pkts[k].Payload = keyN
				default:
					pkts[k].Payload = deltaN
				}
			}
			seq += perFrame
			arrival = arrival.Add(33 * time.Millisecond)
		}
		// Send 0, 2, 1: the last two swapped.
		k := [perFrame]int{0, 2, 1}[j]
		if err := tr.WriteRTP(&pkts[k], arrival); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tr.Bytes())/float64(b.N), "filebytes/op")
}
