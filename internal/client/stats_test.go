package client

import "testing"

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		name      string
		seqs      []uint16
		wantLost  uint64
		wantJumps uint64
	}{
		{"none", nil, 0, 0},
		{"one", []uint16{5}, 0, 0},
		{"consecutive", []uint16{1, 2, 3, 4}, 0, 0},
		{"wrap", []uint16{65534, 65535, 0, 1}, 0, 0},
		{"gap", []uint16{10, 11, 14, 15}, 2, 1},
		{"gap across wrap", []uint16{65534, 1, 2}, 2, 1},
		{"reordered", []uint16{1, 3, 2, 4}, 0, 3},
		{"retransmission fills gap", []uint16{1, 2, 4, 5, 3}, 0, 2},
		{"duplicate", []uint16{1, 2, 2, 3}, 0, 1},
		{"late packet before first", []uint16{10, 11, 9}, 0, 1},
		{"many wraps", wrapping(3 * 65536), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seqTracker
			for _, q := range tt.seqs {
				s.add(q)
			}
			if got := s.lost(); got != tt.wantLost {
				t.Errorf("lost %d, want %d", got, tt.wantLost)
			}
			if s.jumps != tt.wantJumps {
				t.Errorf("jumps %d, want %d", s.jumps, tt.wantJumps)
			}
		})
	}
}

func wrapping(n int) []uint16 {
	s := make([]uint16, n)
	for i := range s {
		s[i] = uint16(60000 + i)
	}
	return s
}

func TestSortStats(t *testing.T) {
	st := []TrackStats{
		{Participant: "b", Kind: "audio"},
		{Participant: "a", Kind: "video"},
		{Participant: "a", Kind: "audio", SSRC: 2},
		{Participant: "a", Kind: "audio", SSRC: 1},
	}
	sortStats(st)
	want := []TrackStats{
		{Participant: "a", Kind: "audio", SSRC: 1},
		{Participant: "a", Kind: "audio", SSRC: 2},
		{Participant: "a", Kind: "video"},
		{Participant: "b", Kind: "audio"},
	}
	for i := range want {
		if st[i] != want[i] {
			t.Errorf("position %d: %+v, want %+v", i, st[i], want[i])
		}
	}
}
