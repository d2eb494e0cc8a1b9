package rewrite

import "testing"

// step is one call on a Rewriter: a packet of the current source, or a
// Restart (a new source follows), with what must come out.
type step struct {
	restart bool
	seq     uint16
	ts      uint32
	at      int64 // milliseconds
	forget  bool  // the packet could not be sent

	ok      bool
	out     uint16
	outTS   uint32
	first   bool
	atStart bool
}

func TestRewriter(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"the first source keeps its numbers", []step{
			{seq: 100, ts: 9000, ok: true, out: 100, outTS: 9000, first: true, atStart: true},
			{seq: 101, ts: 12000, ok: true, out: 101, outTS: 12000},
			{seq: 103, ts: 15000, ok: true, out: 103, outTS: 15000}, // a loss stays a gap
			{seq: 102, ts: 15000, ok: true, out: 102, outTS: 15000}, // late, still after the start
			{seq: 99, ts: 6000, ok: false},                          // before the start
		}},
		{"a new source continues after the last packet out", []step{
			{seq: 65534, ts: 1000, at: 0, ok: true, out: 65534, outTS: 1000, first: true, atStart: true},
			{seq: 65535, ts: 4000, at: 33, ok: true, out: 65535, outTS: 4000},
			{seq: 0, ts: 7000, at: 66, ok: true, out: 0, outTS: 7000}, // wraps
			{restart: true},
			// 100 ms later at 90 kHz: 9000 ticks after the last timestamp.
			{seq: 5000, ts: 123456, at: 166, ok: true, out: 1, outTS: 16000, first: true, atStart: true},
			{seq: 5001, ts: 126456, at: 199, ok: true, out: 2, outTS: 19000},
			{seq: 4999, ts: 120456, at: 200, ok: false}, // the new source's own past
		}},
		{"a packet not sent is forgotten", []step{
			{seq: 10, ts: 100, ok: true, out: 10, outTS: 100, first: true, atStart: true},
			{seq: 11, ts: 200, at: 10, ok: true, out: 11, outTS: 200, forget: true},
			{restart: true},
			{seq: 500, ts: 0, at: 20, ok: true, out: 11, outTS: 100 + 1800, first: true, atStart: true},
		}},
		{"the span is bounded by half the sequence space", []step{
			{seq: 0, ts: 0, ok: true, out: 0, first: true, atStart: true},
			{seq: 0x4000, ts: 0, ok: true, out: 0x4000},
			{seq: 0x8000, ts: 0, ok: true, out: 0x8000},
			{seq: 0xc000, ts: 0, ok: true, out: 0xc000},
			{seq: 0x4100, ts: 0, ok: true, out: 0x4100}, // within 0x7fff of the highest
			{seq: 0x4000, ts: 0, ok: false},             // too far back
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Rewriter{ClockRate: 90000}
			for i, s := range tt.steps {
				if s.restart {
					r.Restart()
					if r.Started() {
						t.Fatalf("step %d: started after Restart", i)
					}
					continue
				}
				p, ok := r.Rewrite(s.seq, s.ts, s.at*1e6)
				if ok != s.ok {
					t.Fatalf("step %d: ok = %v, want %v", i, ok, s.ok)
				}
				if !ok {
					continue
				}
				if p.Seq != s.out || p.Timestamp != s.outTS || p.First != s.first || r.AtStart() != s.atStart {
					t.Fatalf("step %d: got seq %d ts %d first %v at start %v, want %d %d %v %v",
						i, p.Seq, p.Timestamp, p.First, r.AtStart(), s.out, s.outTS, s.first, s.atStart)
				}
				if s.forget {
					r.Forget(p)
				}
			}
		})
	}
}

// TestMappingFindsTheSource: an output number maps back to the source's
// number it came from, and only for packets of the current source.
func TestMappingFindsTheSource(t *testing.T) {
	var r Rewriter
	r.ClockRate = 48000
	if _, ok := r.Mapping().Source(0); ok {
		t.Fatal("a rewriter with no source maps a number")
	}
	for seq := uint16(200); seq < 210; seq++ {
		r.Rewrite(seq, uint32(seq)*960, int64(seq)*20e6)
	}
	r.Restart()
	for seq := uint16(9000); seq < 9005; seq++ {
		r.Rewrite(seq, uint32(seq)*960, 300e6+int64(seq-9000)*20e6)
	}
	m := r.Mapping()
	for _, tt := range []struct {
		out  uint16
		src  uint16
		ok   bool
		name string
	}{
		{210, 9000, true, "the new source's first packet"},
		{214, 9004, true, "its newest"},
		{215, 0, false, "not sent yet"},
		{209, 0, false, "the old source's last"},
	} {
		src, ok := m.Source(tt.out)
		if ok != tt.ok || (ok && src != tt.src) {
			t.Errorf("%s: Source(%d) = %d, %v; want %d, %v", tt.name, tt.out, src, ok, tt.src, tt.ok)
		}
	}
	if p, _ := r.Rewrite(9005, 9005*960, 400e6); m.Timestamp(9005*960) != p.Timestamp {
		t.Errorf("Timestamp maps %d to %d, Rewrite to %d", 9005*960, m.Timestamp(9005*960), p.Timestamp)
	}
}

func BenchmarkRewrite(b *testing.B) {
	r := Rewriter{ClockRate: 90000}
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		seq++
		if seq%1000 == 0 {
			r.Restart()
		}
		if _, ok := r.Rewrite(seq, uint32(seq)*3000, int64(seq)*8e6); !ok {
			b.Fatal("packet refused")
		}
	}
}

// TestPad: padding between two sources takes the next numbers with the
// last timestamp, and the next source continues after it.
func TestPad(t *testing.T) {
	var fresh Rewriter
	if seq, _ := fresh.Pad(); seq != 1 {
		t.Fatalf("the first padding of a fresh stream is %d, want 1", seq)
	}
	r := Rewriter{ClockRate: 90000}
	r.Rewrite(100, 9000, 0)
	for want := uint16(101); want <= 102; want++ {
		if seq, ts := r.Pad(); seq != want || ts != 9000 {
			t.Fatalf("Pad = %d, %d; want %d, 9000", seq, ts, want)
		}
	}
	p, ok := r.Rewrite(7000, 1, 1e8)
	if !ok || p.Seq != 103 || !p.First {
		t.Fatalf("the next source starts at %d (first %v), want 103", p.Seq, p.First)
	}
}
