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
				p, ok := r.Rewrite(s.seq, s.ts, Picture{}, s.at*1e6)
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
	if m := r.Mapping(); func() bool { _, _, ok := m.Source(0); return ok }() {
		t.Fatal("a rewriter with no source maps a number")
	}
	for seq := uint16(200); seq < 210; seq++ {
		r.Rewrite(seq, uint32(seq)*960, Picture{}, int64(seq)*20e6)
	}
	r.Restart()
	for seq := uint16(9000); seq < 9005; seq++ {
		r.Rewrite(seq, uint32(seq)*960, Picture{}, 300e6+int64(seq-9000)*20e6)
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
		src, _, ok := m.Source(tt.out)
		if ok != tt.ok || (ok && src != tt.src) {
			t.Errorf("%s: Source(%d) = %d, %v; want %d, %v", tt.name, tt.out, src, ok, tt.src, tt.ok)
		}
	}
	_, o, _ := m.Source(214)
	if p, _ := r.Rewrite(9005, 9005*960, Picture{}, 400e6); o.Timestamp(9005*960) != p.Timestamp {
		t.Errorf("Timestamp maps %d to %d, Rewrite to %d", 9005*960, o.Timestamp(9005*960), p.Timestamp)
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
		if _, ok := r.Rewrite(seq, uint32(seq)*3000, Picture{ID: seq & 0x7fff, Bits: 15}, int64(seq)*8e6); !ok {
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
	r.Rewrite(100, 9000, Picture{}, 0)
	for want := uint16(101); want <= 102; want++ {
		if seq, ts := r.Pad(); seq != want || ts != 9000 {
			t.Fatalf("Pad = %d, %d; want %d, 9000", seq, ts, want)
		}
	}
	p, ok := r.Rewrite(7000, 1, Picture{}, 1e8)
	if !ok || p.Seq != 103 || !p.First {
		t.Fatalf("the next source starts at %d (first %v), want 103", p.Seq, p.First)
	}
}

// vp8Packet is one packet of a VP8 stream for the drop tests: its
// sequence number, picture id and TL0PICIDX, and whether it is dropped.
type vp8Packet struct {
	seq  uint16
	pid  uint16
	tl0  uint8
	drop bool
}

func (p vp8Packet) picture() Picture { return Picture{ID: p.pid, Bits: 15, TL0: p.tl0, HasTL0: true} }

// TestDropLeavesNoGap: packets dropped on purpose leave no gap in the
// output's sequence numbers and picture ids, whole pictures or one run of
// several; a lost packet still leaves its gap.
func TestDropLeavesNoGap(t *testing.T) {
	// Pictures 0x7ffe.. (wrapping) of two packets each, temporal layers
	// 0, 2, 1, 2: the pictures of layer 2 are dropped, then 1 and 2.
	in := []vp8Packet{
		{seq: 65530, pid: 0x7ffe, tl0: 255},
		{seq: 65531, pid: 0x7ffe, tl0: 255},
		{seq: 65532, pid: 0x7fff, tl0: 255, drop: true},
		{seq: 65533, pid: 0x7fff, tl0: 255, drop: true},
		{seq: 65534, pid: 0, tl0: 255},
		{seq: 65535, pid: 0, tl0: 255},
		{seq: 0, pid: 1, tl0: 255, drop: true},
		{seq: 1, pid: 1, tl0: 255, drop: true},
		{seq: 2, pid: 2, tl0: 0},
		// seq 3 is lost
		{seq: 4, pid: 3, tl0: 0, drop: true},
		{seq: 5, pid: 3, tl0: 0, drop: true},
		{seq: 6, pid: 4, tl0: 0, drop: true},
		{seq: 7, pid: 5, tl0: 0, drop: true},
		{seq: 8, pid: 6, tl0: 1},
	}
	r := Rewriter{ClockRate: 90000}
	var got []Packet
	for i, p := range in {
		if p.drop {
			r.Drop(p.seq, p.picture())
			continue
		}
		out, ok := r.Rewrite(p.seq, uint32(i)*3000, p.picture(), int64(i)*33e6)
		if !ok {
			t.Fatalf("packet %d refused", p.seq)
		}
		got = append(got, out)
	}
	// Each run dropped shifts what follows down; the lost seq 3 stays
	// a gap (65535). TL0PICIDX is not shifted: layer 0 is never dropped.
	expect := []struct {
		seq uint16
		pid uint16
		tl0 uint8
	}{
		{65530, 0x7ffe, 255}, {65531, 0x7ffe, 255},
		{65532, 0x7fff, 255}, {65533, 0x7fff, 255},
		{65534, 0, 0},
		{0, 1, 1},
	}
	if len(got) != len(expect) {
		t.Fatalf("%d packets out, want %d", len(got), len(expect))
	}
	for i, e := range expect {
		if got[i].Seq != e.seq || got[i].Picture.ID != e.pid || got[i].Picture.TL0 != e.tl0 {
			t.Errorf("packet %d: seq %d pid %#x tl0 %d; want %d %#x %d", i, got[i].Seq, got[i].Picture.ID, got[i].Picture.TL0, e.seq, e.pid, e.tl0)
		}
	}
}

// TestDropKeepsResendsTrue: after drops, an output number maps back to the
// source packet and the picture id it went out with, a late packet from
// before a drop keeps the numbers of its time, and a shift too old to be
// remembered maps nothing rather than something wrong.
func TestDropKeepsResendsTrue(t *testing.T) {
	r := Rewriter{ClockRate: 90000}
	type sent struct {
		src uint16
		out Packet
	}
	var outs []sent
	// One packet a picture, picture id = seq; every other dropped.
	for seq := uint16(1000); seq < 1010; seq++ {
		pic := Picture{ID: seq, Bits: 15}
		if seq%2 == 1 {
			r.Drop(seq, pic)
			continue
		}
		if seq == 1004 {
			continue // arrives late, below
		}
		p, ok := r.Rewrite(seq, uint32(seq)*3000, pic, int64(seq)*33e6)
		if !ok {
			t.Fatalf("packet %d refused", seq)
		}
		outs = append(outs, sent{seq, p})
	}
	late, ok := r.Rewrite(1004, 1004*3000, Picture{ID: 1004, Bits: 15}, 1011*33e6)
	if !ok {
		t.Fatal("the late packet is refused")
	}
	outs = append(outs, sent{1004, late})
	// 1000→1000, 1002→1001, 1004→1002, 1006→1003, 1008→1004.
	for _, s := range outs {
		if want := 1000 + (s.src-1000)/2; s.out.Seq != want || s.out.Picture.ID != want {
			t.Errorf("source %d went out as %d pid %d, want %d", s.src, s.out.Seq, s.out.Picture.ID, want)
		}
	}
	m := r.Mapping()
	for _, s := range outs {
		src, o, ok := m.Source(s.out.Seq)
		if !ok || src != s.src {
			t.Errorf("Source(%d) = %d, %v; want %d", s.out.Seq, src, ok, s.src)
			continue
		}
		if pic := o.Picture(Picture{ID: src, Bits: 15}); pic.ID != s.out.Picture.ID {
			t.Errorf("the resend of %d says pid %d, first sent as %d", src, pic.ID, s.out.Picture.ID)
		}
	}
	if _, _, ok := m.Source(1005); ok {
		t.Error("an output number not sent yet maps to a source packet")
	}

	// Many more runs: the oldest shifts are forgotten.
	for seq := uint16(1010); seq < 1010+4*historyLen; seq++ {
		if seq%2 == 1 {
			r.Drop(seq, Picture{ID: seq, Bits: 15})
		} else {
			r.Rewrite(seq, uint32(seq)*3000, Picture{ID: seq, Bits: 15}, int64(seq)*33e6)
		}
	}
	m = r.Mapping()
	if _, _, ok := m.Source(1001); ok {
		t.Error("a packet from a forgotten shift still maps")
	}
	newest := uint16(1010 + 4*historyLen - 2)
	if src, _, ok := m.Source(1000 + (newest-1000)/2); !ok || src != newest {
		t.Errorf("the newest packet maps to %d, %v; want %d", src, ok, newest)
	}
}

// TestPicturesContinueAcrossSources: a new source's picture ids and
// TL0PICIDX continue right after the last ones out, whatever its own.
func TestPicturesContinueAcrossSources(t *testing.T) {
	r := Rewriter{ClockRate: 90000}
	r.Rewrite(10, 0, Picture{ID: 500, Bits: 15, TL0: 7, HasTL0: true}, 0)
	p, _ := r.Rewrite(11, 3000, Picture{ID: 501, Bits: 15, TL0: 7, HasTL0: true}, 33e6)
	if p.Picture.ID != 501 || p.Picture.TL0 != 7 {
		t.Fatalf("the first source's numbers changed: pid %d tl0 %d", p.Picture.ID, p.Picture.TL0)
	}
	r.Restart()
	p, _ = r.Rewrite(40000, 77, Picture{ID: 0x7ff0, Bits: 15, TL0: 200, HasTL0: true}, 66e6)
	if p.Seq != 12 || p.Picture.ID != 502 || p.Picture.TL0 != 8 {
		t.Fatalf("the new source starts at seq %d pid %d tl0 %d, want 12 502 8", p.Seq, p.Picture.ID, p.Picture.TL0)
	}
	p, _ = r.Rewrite(40001, 3077, Picture{ID: 1, Bits: 15, TL0: 201, HasTL0: true}, 99e6) // its ids wrap
	if p.Picture.ID != 502+(0x8000-0x7ff0)+1 || p.Picture.TL0 != 9 {
		t.Fatalf("after the wrap: pid %d tl0 %d", p.Picture.ID, p.Picture.TL0)
	}
	// A source of 7-bit ids continues within 7 bits.
	r.Restart()
	p, _ = r.Rewrite(50000, 0, Picture{ID: 3, Bits: 7}, 132e6)
	if want := uint16(502+(0x8000-0x7ff0)+2) & 0x7f; p.Picture.ID != want {
		t.Fatalf("the 7-bit source starts at pid %d, want %d", p.Picture.ID, want)
	}
}

func BenchmarkRewriteDropping(b *testing.B) {
	r := Rewriter{ClockRate: 90000}
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		seq++
		pic := Picture{ID: (seq / 2) & 0x7fff, Bits: 15}
		if seq%4 == 2 || seq%4 == 3 {
			r.Drop(seq, pic)
			continue
		}
		if _, ok := r.Rewrite(seq, uint32(seq)*3000, pic, int64(seq)*8e6); !ok {
			b.Fatal("packet refused")
		}
	}
}

// FuzzDropMapping drives one source through forwarded, dropped, lost and
// late packets (one packet a picture, its id its sequence number) and
// checks the rewriter against a model: every packet not dropped owns the
// next output number and picture id in turn (a lost one leaves its number
// as a gap), a dropped one owns none; a late packet and a resend get the
// numbers their packet owns, or nothing once its shift is forgotten, never
// another's.
func FuzzDropMapping(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 1, 1, 0, 3})
	f.Add([]byte{1, 1, 1, 0, 2, 2, 0, 3, 3, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := Rewriter{ClockRate: 90000}
		const first = 65500 // wraps soon
		src := uint16(first)
		owned := map[uint16]uint16{} // source number -> output number, for packets not dropped
		var lost []uint16
		next := uint16(first) // the next output number
		started := false
		for i, op := range ops {
			switch op % 4 {
			case 0, 2: // forwarded, or lost on the way
				if !started && op%4 == 2 {
					continue // the source starts with a packet that came
				}
				owned[src] = next
				next++
				if op%4 == 2 {
					lost = append(lost, src)
					break
				}
				p, ok := r.Rewrite(src, uint32(src)*3000, pic15(src), int64(i)*1e6)
				if !ok {
					t.Fatalf("op %d: packet %d refused", i, src)
				}
				started = true
				if p.Seq != owned[src] || p.Picture.ID != owned[src]&0x7fff {
					t.Fatalf("op %d: packet %d out as %d pid %d, owns %d", i, src, p.Seq, p.Picture.ID, owned[src])
				}
			case 1: // dropped
				if !started {
					continue
				}
				r.Drop(src, pic15(src))
			case 3: // a lost packet arrives late
				if len(lost) == 0 {
					continue
				}
				s := lost[int(op>>2)%len(lost)]
				p, ok := r.Rewrite(s, uint32(s)*3000, pic15(s), int64(i)*1e6)
				if ok && (p.Seq != owned[s] || p.Picture.ID != owned[s]&0x7fff) {
					t.Fatalf("op %d: late packet %d out as %d pid %d, owns %d", i, s, p.Seq, p.Picture.ID, owned[s])
				}
				continue
			}
			src++
		}
		m := r.Mapping()
		for s, out := range owned {
			got, o, ok := m.Source(out)
			if !ok {
				continue // forgotten, or never sent yet: not resent
			}
			if got != s {
				t.Fatalf("output %d maps to source %d, owned by %d", out, got, s)
			}
			if pid := o.Picture(pic15(s)).ID; pid != out&0x7fff {
				t.Fatalf("the resend of %d says pid %d, owns %d", s, pid, out&0x7fff)
			}
		}
	})
}

// pic15 is the picture of source packet s in FuzzDropMapping: its id is
// its number.
func pic15(s uint16) Picture { return Picture{ID: s & 0x7fff, Bits: 15} }
