package twcc

import (
	"testing"

	"github.com/pion/rtcp"
)

// fci marshals a feedback with pion's rtcp package and returns its
// feedback control information.
func fci(t testing.TB, fb *rtcp.TransportLayerCC) []byte {
	t.Helper()
	b, err := fb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b[12:] // header, sender SSRC, media SSRC
}

// feedbackOf is a feedback from base on of the packets arrived (arrival
// offsets in 250 µs units from a reference time of 1 × 64 ms; -1: lost).
func feedbackOf(base uint16, arrivals []int64, vector bool) *rtcp.TransportLayerCC {
	fb := &rtcp.TransportLayerCC{SenderSSRC: 1, MediaSSRC: 2, BaseSequenceNumber: base,
		PacketStatusCount: uint16(len(arrivals)), ReferenceTime: 1, FbPktCount: 3}
	var symbols []uint16
	prev := int64(0)
	for _, a := range arrivals {
		switch {
		case a < 0:
			symbols = append(symbols, rtcp.TypeTCCPacketNotReceived)
		case a-prev >= 0 && a-prev <= 255:
			symbols = append(symbols, rtcp.TypeTCCPacketReceivedSmallDelta)
			fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: (a - prev) * 250})
			prev = a
		default:
			symbols = append(symbols, rtcp.TypeTCCPacketReceivedLargeDelta)
			fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedLargeDelta, Delta: (a - prev) * 250})
			prev = a
		}
	}
	if vector {
		for i := 0; i < len(symbols); i += 7 {
			fb.PacketChunks = append(fb.PacketChunks, &rtcp.StatusVectorChunk{Type: rtcp.TypeTCCStatusVectorChunk,
				SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: append([]uint16(nil), symbols[i:min(i+7, len(symbols))]...)})
		}
		// pad the last vector to 7 symbols
		last := fb.PacketChunks[len(fb.PacketChunks)-1].(*rtcp.StatusVectorChunk)
		for len(last.SymbolList) < 7 {
			last.SymbolList = append(last.SymbolList, rtcp.TypeTCCPacketNotReceived)
		}
		return fb
	}
	for i := 0; i < len(symbols); {
		j := i
		for j < len(symbols) && symbols[j] == symbols[i] {
			j++
		}
		fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{Type: rtcp.TypeTCCRunLengthChunk, PacketStatusSymbol: symbols[i], RunLength: uint16(j - i)})
		i = j
	}
	return fb
}

func TestParseFeedback(t *testing.T) {
	tests := []struct {
		name     string
		base     uint16
		arrivals []int64
		vector   bool
	}{
		{"all arrived, run length", 100, []int64{0, 4, 8, 12, 16, 20}, false},
		{"losses, run length", 65533, []int64{0, -1, -1, 10, 300, -1, 301}, false},
		{"two-bit vectors", 7, []int64{0, 4, -1, 2000, 1990, 2001, -1, 2005, 2010}, true},
		{"a late reorder (negative delta)", 0, []int64{40, 20, 60}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFeedback(fci(t, feedbackOf(tt.base, tt.arrivals, tt.vector)))
			if err != nil {
				t.Fatal(err)
			}
			if f.BaseSeq != tt.base || f.Count != len(tt.arrivals) || f.RefTime != 64000 || f.FbCount != 3 {
				t.Fatalf("header %+v", f)
			}
			it := f.Packets()
			for i, want := range tt.arrivals {
				seq, received, arrival, ok := it.Next()
				if !ok {
					t.Fatalf("ended after %d packets", i)
				}
				if seq != tt.base+uint16(i) || received != (want >= 0) || (received && arrival != 64000+want*250) {
					t.Errorf("packet %d: seq %d received %v at %d; want seq %d, %d", i, seq, received, arrival, tt.base+uint16(i), want)
				}
			}
			if _, _, _, ok := it.Next(); ok {
				t.Error("more packets than reported")
			}
		})
	}
}

func TestParseFeedbackRefusesBrokenOnes(t *testing.T) {
	good := fci(t, feedbackOf(1, []int64{0, 4, 8, 300}, false))
	for name, b := range map[string][]byte{
		"empty":           nil,
		"header only":     good[:8],
		"deltas cut":      good[:15], // 8 of header, 4 of chunks, 3 of the 5 delta bytes
		"reserved status": {0, 1, 0, 2, 0, 0, 1, 0, 0x60, 0x02, 1, 1},
	} {
		if _, err := ParseFeedback(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestHistoryApply(t *testing.T) {
	var h History
	const ms = int64(1e6)
	for i := range uint16(10) {
		h.Sent(500+i, 1000*ms+int64(i)*ms, 1000)
	}
	// 8 of 10 arrive, 1 ms apart from 64 ms on (4 units of 250 µs).
	arrivals := []int64{0, 4, -1, 12, 16, -1, 24, 28, 32, 36}
	f, err := ParseFeedback(fci(t, feedbackOf(500, arrivals, false)))
	if err != nil {
		t.Fatal(err)
	}
	s := h.Apply(&f)
	if s.Received != 8 || s.Lost != 2 || s.Bytes != 8000 {
		t.Fatalf("sample %+v", s)
	}
	if s.FirstSent != 1000*ms || s.LastSent != 1009*ms || s.LastArrival-s.FirstArrival != 9000 {
		t.Fatalf("times %+v", s)
	}
	// 8 000 bytes over 9 ms.
	if got, want := s.DeliveredBPS(), 8000*8/0.009; got < want*0.999 || got > want*1.001 {
		t.Fatalf("delivered %.0f bit/s, want %.0f", got, want)
	}
	// Packets it never sent, or sent historySize numbers ago, are left out.
	f, _ = ParseFeedback(fci(t, feedbackOf(500+historySize, []int64{0, 4}, false)))
	if s := h.Apply(&f); s.Received != 0 || s.Lost != 0 {
		t.Fatalf("unknown packets counted: %+v", s)
	}
}

// TestHistoryTimesAcrossTheWrap: the send times kept in 32 bits of
// microseconds read back whole when they wrap between two packets.
func TestHistoryTimesAcrossTheWrap(t *testing.T) {
	var h History
	start := int64(1<<32-3) * 1000 // 3 µs before the 32-bit microseconds wrap
	for i := range uint16(3) {
		h.Sent(7+i, start+int64(i)*2000, 100)
	}
	f, err := ParseFeedback(fci(t, feedbackOf(7, []int64{0, 4, 8}, false)))
	if err != nil {
		t.Fatal(err)
	}
	if s := h.Apply(&f); s.FirstSent != start || s.LastSent != start+4000 {
		t.Fatalf("sent %d and %d, want %d and %d", s.FirstSent, s.LastSent, start, start+4000)
	}
}

func FuzzParseFeedback(f *testing.F) {
	f.Add(fci(f, feedbackOf(1, []int64{0, 4, -1, 300}, false)))
	f.Add(fci(f, feedbackOf(9, []int64{0, 4, -1, 2000, 5}, true)))
	f.Fuzz(func(t *testing.T, b []byte) {
		fb, err := ParseFeedback(b)
		if err != nil {
			return
		}
		var h History
		it := fb.Packets()
		n := 0
		for _, _, _, ok := it.Next(); ok; _, _, _, ok = it.Next() {
			n++
		}
		if n != fb.Count {
			t.Fatalf("%d packets walked, %d reported", n, fb.Count)
		}
		h.Apply(&fb)
	})
}

func BenchmarkApply(b *testing.B) {
	var h History
	arrivals := make([]int64, 100)
	for i := range arrivals {
		h.Sent(uint16(i), int64(i)*1e6, 1100)
		arrivals[i] = int64(i) * 4
	}
	raw := fci(b, feedbackOf(0, arrivals, false))
	b.ReportAllocs()
	for b.Loop() {
		f, err := ParseFeedback(raw)
		if err != nil {
			b.Fatal(err)
		}
		h.Apply(&f)
	}
}
