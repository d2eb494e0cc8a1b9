package sfu

import (
	"slices"
	"testing"

	"github.com/pion/rtcp"
)

func marshalRTCP(t testing.TB, pkts ...rtcp.Packet) []byte {
	t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFeedbackIter(t *testing.T) {
	nack := &rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: 20, Nacks: []rtcp.NackPair{{PacketID: 100, LostPackets: 0b101}, {PacketID: 65535}}}
	tests := []struct {
		name string
		pkt  []byte
		want []feedback
		seqs []uint16 // of the NACK, if any
	}{
		{"receiver report, PLI, NACK, REMB, FIR", marshalRTCP(t,
			&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 20}}},
			&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 10},
			nack,
			&rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 1, Bitrate: 1e6, SSRCs: []uint32{10}},
			&rtcp.FullIntraRequest{SenderSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: 30}, {SSRC: 31}}},
		), []feedback{{kind: feedbackKeyframe, ssrc: 10}, {kind: feedbackNACK, ssrc: 20}, {kind: feedbackKeyframe, ssrc: 30}, {kind: feedbackKeyframe, ssrc: 31}},
			[]uint16{100, 101, 103, 65535}},
		{"reports that name a sender report", marshalRTCP(t,
			&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, Reports: []rtcp.ReceptionReport{{SSRC: 22, LastSenderReport: 9, Delay: 65536}}},
			&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 20, LastSenderReport: 5, Delay: 7}, {SSRC: 21}, {SSRC: 23, LastSenderReport: 6}}},
		), []feedback{{kind: feedbackReport, ssrc: 22, lsr: 9, dlsr: 65536}, {kind: feedbackReport, ssrc: 20, lsr: 5, dlsr: 7}, {kind: feedbackReport, ssrc: 23, lsr: 6}}, nil},
		{"a report block cut short", func() []byte {
			b := marshalRTCP(t, &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 20, LastSenderReport: 5}, {SSRC: 21, LastSenderReport: 6}}})
			b[0] = b[0]&^0x1f | 3 // says 3 blocks, holds 2
			return b
		}(), []feedback{{kind: feedbackReport, ssrc: 20, lsr: 5}, {kind: feedbackReport, ssrc: 21, lsr: 6}}, nil},
		{"reports only", marshalRTCP(t, &rtcp.ReceiverReport{SSRC: 1}, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "x"}}}}}), nil, nil},
		{"empty", nil, nil, nil},
		{"length past the end", func() []byte {
			b := marshalRTCP(t, &rtcp.PictureLossIndication{MediaSSRC: 10})
			b[3] = 9
			return b
		}(), nil, nil},
		{"not version 2", func() []byte {
			b := marshalRTCP(t, &rtcp.PictureLossIndication{MediaSSRC: 10})
			b[0] &^= 0xc0
			return b
		}(), nil, nil},
		{"a PLI cut short", marshalRTCP(t, &rtcp.PictureLossIndication{MediaSSRC: 10})[:8], nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []feedback
			var seqs []uint16
			it := feedbackIter{pkt: tt.pkt}
			for f, ok := it.next(); ok; f, ok = it.next() {
				if f.kind == feedbackNACK {
					seqs = appendNacked(seqs, f.nacks)
				}
				f.nacks = nil
				got = append(got, f)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b feedback) bool {
				return a.kind == b.kind && a.ssrc == b.ssrc && a.lsr == b.lsr && a.dlsr == b.dlsr
			}) {
				t.Errorf("feedback %+v, want %+v", got, tt.want)
			}
			if !slices.Equal(seqs, tt.seqs) {
				t.Errorf("NACKed %v, want %v", seqs, tt.seqs)
			}
		})
	}
}

func FuzzFeedbackIter(f *testing.F) {
	f.Add(marshalRTCP(f, &rtcp.PictureLossIndication{MediaSSRC: 10}, &rtcp.TransportLayerNack{MediaSSRC: 2, Nacks: []rtcp.NackPair{{PacketID: 1}}}))
	f.Add(marshalRTCP(f, &rtcp.FullIntraRequest{FIR: []rtcp.FIREntry{{SSRC: 3}}}))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		it := feedbackIter{pkt: pkt}
		for n := 0; ; n++ {
			f, ok := it.next()
			if !ok {
				break
			}
			if n > len(pkt) {
				t.Fatal("more requests than bytes")
			}
			if len(f.nacks)%4 != 0 {
				t.Fatalf("NACK pairs of %d bytes", len(f.nacks))
			}
			appendNacked(nil, f.nacks)
		}
	})
}

func BenchmarkFeedbackIter(b *testing.B) {
	pkt := marshalRTCP(b, &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 20}}},
		&rtcp.TransportLayerNack{MediaSSRC: 20, Nacks: []rtcp.NackPair{{PacketID: 100, LostPackets: 0xff}}})
	seqs := make([]uint16, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		it := feedbackIter{pkt: pkt}
		for f, ok := it.next(); ok; f, ok = it.next() {
			seqs = appendNacked(seqs[:0], f.nacks)
		}
	}
}
