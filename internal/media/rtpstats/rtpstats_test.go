package rtpstats

import (
	"slices"
	"testing"
)

// feed adds the packets seqs to s, 20 ms apart at 48 kHz and arriving on
// time, from arrival 1 s.
func feed(s *Stream, seqs ...uint16) {
	for _, seq := range seqs {
		s.Add(seq, uint32(seq)*960, 1e9+int64(seq)*20e6)
	}
}

func TestMissingAndReport(t *testing.T) {
	tests := []struct {
		name     string
		seqs     []uint16
		missing  []uint16 // with skip 0
		lost     uint32
		fraction uint8
		highest  uint32
	}{
		{"none lost", []uint16{10, 11, 12, 13}, nil, 0, 0, 13},
		{"a gap", []uint16{10, 11, 14, 15}, []uint16{12, 13}, 2, 2 * 256 / 6, 15},
		{"reordered, then filled", []uint16{10, 12, 11, 13}, nil, 0, 0, 13},
		{"a duplicate counts once", []uint16{10, 11, 11, 12}, nil, 0, 0, 12},
		{"across the wrap", []uint16{65534, 65535, 1, 2}, []uint16{0}, 1, 256 / 5, 65536 + 2},
		{"an old packet from before the start is ignored", []uint16{100, 101, 50, 102}, nil, 0, 0, 102},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Stream
			s.ClockRate = 48000
			feed(&s, tt.seqs...)
			if got := s.Missing(nil, 0, 3); !slices.Equal(got, tt.missing) {
				t.Errorf("Missing = %v, want %v", got, tt.missing)
			}
			r, ok := s.Report(42, 2e9)
			if !ok {
				t.Fatal("no report")
			}
			if r.SSRC != 42 || r.TotalLost != tt.lost || r.FractionLost != tt.fraction || r.LastSequenceNumber != tt.highest {
				t.Errorf("report %+v, want lost %d, fraction %d, highest %d", r, tt.lost, tt.fraction, tt.highest)
			}
			if r.Jitter != 0 {
				t.Errorf("jitter %d for packets on time", r.Jitter)
			}
		})
	}
}

func TestMissingAsksAtMostMaxAsksAndSkipsTheLatest(t *testing.T) {
	var s Stream
	feed(&s, 1, 2, 4, 5, 6, 9)
	if got := s.Missing(nil, 3, 2); !slices.Equal(got, []uint16{3}) {
		t.Errorf("with skip 3: %v, want [3] (7 and 8 may still come)", got)
	}
	if got := s.Missing(nil, 0, 2); !slices.Equal(got, []uint16{3, 7, 8}) {
		t.Errorf("second ask: %v, want [3 7 8]", got)
	}
	if got := s.Missing(nil, 0, 2); !slices.Equal(got, []uint16{7, 8}) {
		t.Errorf("third ask: %v, want [7 8] (3 asked twice)", got)
	}
	feed(&s, 7)
	if got := s.Missing(nil, 0, 5); !slices.Equal(got, []uint16{3, 8}) {
		t.Errorf("after 7 arrived: %v, want [3 8]", got)
	}
	// A jump past the window forgets what was missing before it.
	feed(&s, 9+Window+10)
	got := s.Missing(nil, 0, 5)
	if len(got) != Window-1 || got[0] != 9+11 {
		t.Errorf("after a jump: %d missing from %v, want the %d before the new highest", len(got), got[:1], Window-1)
	}
}

func TestReportIntervalAndDelay(t *testing.T) {
	var s Stream
	s.ClockRate = 48000
	feed(&s, 0, 1, 2, 3)
	s.SenderReport(0x1234_5678_9abc_def0, 1.5e9)
	if r, _ := s.Report(1, 2e9); r.FractionLost != 0 || r.LastSenderReport != 0x5678_9abc || r.Delay != 32768 {
		t.Errorf("first report %+v, want no loss, LSR 0x56789abc, delay 0.5 s (32768)", r)
	}
	feed(&s, 4, 7) // 5 and 6 lost in this interval
	r, _ := s.Report(1, 3e9)
	if r.FractionLost != 2*256/4 || r.TotalLost != 2 {
		t.Errorf("second report %+v, want half of this interval's 4 lost, 2 in all", r)
	}
}

func TestJitter(t *testing.T) {
	var s Stream
	s.ClockRate = 48000
	// Every other packet 10 ms late: |D| is 480 ticks each time.
	for i := range 200 {
		late := int64(0)
		if i%2 == 1 {
			late = 10e6
		}
		s.Add(uint16(i), uint32(i)*960, int64(i)*20e6+late)
	}
	r, _ := s.Report(1, 5e9)
	if r.Jitter < 440 || r.Jitter > 480 {
		t.Errorf("jitter %d, want close to 480 ticks", r.Jitter)
	}
}

func BenchmarkAdd(b *testing.B) {
	var s Stream
	s.ClockRate = 90000
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		seq++
		if seq%100 == 0 {
			seq++ // a loss now and then
		}
		s.Add(seq, uint32(seq)*3000, int64(seq)*8e6)
	}
}

func BenchmarkMissing(b *testing.B) {
	var s Stream
	for i := range Window {
		if i%50 != 0 {
			s.Add(uint16(i), 0, int64(i))
		}
	}
	dst := make([]uint16, 0, Window)
	b.ReportAllocs()
	for b.Loop() {
		dst = s.Missing(dst[:0], 0, 255)
		clear(s.asked[:])
	}
}
