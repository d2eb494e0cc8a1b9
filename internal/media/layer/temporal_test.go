package layer

import "testing"

// picture is one picture of a stream of three temporal layers in the
// pattern 0, 2, 1, 2, each of two packets.
type picture struct {
	tid  uint8
	sync bool
	key  bool
}

func pattern(n int) []picture {
	tids := []uint8{0, 2, 1, 2}
	var out []picture
	for i := range n {
		tid := tids[i%4]
		// The layer 1 picture and the first layer 2 picture after the
		// base refer only to the base: layer sync.
		out = append(out, picture{tid: tid, sync: i%4 == 1 || i%4 == 2, key: i == 0})
	}
	return out
}

func TestTemporal(t *testing.T) {
	tests := []struct {
		name  string
		start int // the filter's target from the start
		later int // and from picture 8 on
		taken string
	}{
		{"all", AllTemporal, AllTemporal, "1111 1111 1111 1111"},
		{"down to half at once", AllTemporal, 1, "1111 1111 1010 1010"},
		{"down to the base at once", AllTemporal, 0, "1111 1111 1000 1000"},
		{"up from the base at the next sync picture", 0, AllTemporal, "1000 1000 1111 1111"},
		{"up from half: layer 2 at its sync picture", 1, AllTemporal, "1010 1010 1111 1111"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Temporal
			f.SetTarget(tt.start)
			got := ""
			for i, p := range pattern(16) {
				if i == 8 {
					f.SetTarget(tt.later)
				}
				if i > 0 && i%4 == 0 {
					got += " "
				}
				first := f.Take(p.tid, true, p.sync, p.key)
				if second := f.Take(p.tid, false, false, false); second != first {
					t.Fatalf("picture %d: its packets get different answers", i)
				}
				if first {
					got += "1"
				} else {
					got += "0"
				}
			}
			if got != tt.taken {
				t.Errorf("taken %s, want %s", got, tt.taken)
			}
		})
	}
}

// TestTemporalUpWaitsForSync: without a sync picture the filter stays
// down until a keyframe.
func TestTemporalUpWaitsForSync(t *testing.T) {
	var f Temporal
	f.SetTarget(0)
	f.SetTarget(AllTemporal)
	if f.Take(2, true, false, false) || f.Take(1, true, false, false) {
		t.Fatal("an upper layer taken without a sync picture")
	}
	if !f.Take(0, true, false, false) {
		t.Fatal("the base layer dropped")
	}
	if !f.Take(0, true, false, true) || !f.Take(2, true, false, false) || f.Current() != AllTemporal {
		t.Fatal("a keyframe does not take the target")
	}
}

func BenchmarkTemporal(b *testing.B) {
	var f Temporal
	f.SetTarget(1)
	ps := pattern(64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := ps[i%len(ps)]
		f.Take(p.tid, true, p.sync, p.key)
	}
}
