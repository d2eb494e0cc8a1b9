package layer

import "testing"

// three returns the layers of a usual simulcast track (150, 500 and 1500
// kbit/s) with live as given.
func three(low, mid, high bool) []Layer {
	return []Layer{{Live: low, Bitrate: 150_000}, {Live: mid, Bitrate: 500_000}, {Live: high, Bitrate: 1_500_000}}
}

func TestChoose(t *testing.T) {
	tests := []struct {
		name   string
		layers []Layer
		want   int
		budget int
		choice Choice
	}{
		{"all live, high wanted", three(true, true, true), 2, 0, Choice{Index: 2}},
		{"all live, low wanted (a wall tile)", three(true, true, true), 0, 0, Choice{Index: 0}},
		{"want above the top is the top", three(true, true, true), 7, 0, Choice{Index: 2}},
		{"the link carries the middle", three(true, true, true), 2, 800_000, Choice{Index: 1, Limited: true}},
		{"the link carries the low only", three(true, true, true), 2, 200_000, Choice{Index: 0, Limited: true}},
		{"the link carries nothing", three(true, true, true), 2, 100_000, Choice{Index: -1, Limited: true}},
		{"a budget above need does not limit", three(true, true, true), 0, 200_000, Choice{Index: 0}},
		{"high paused: the highest live below", three(true, true, false), 2, 0, Choice{Index: 1}},
		{"low paused: the lowest live above", three(false, true, true), 0, 0, Choice{Index: 1}},
		{"low paused and the link too thin for the middle", three(false, true, true), 0, 200_000, Choice{Index: -1, Limited: true}},
		{"nothing live", three(false, false, false), 2, 0, Choice{Index: -1}},
		{"unknown bitrate fits", []Layer{{Live: true}, {Live: true}}, 1, 10, Choice{Index: 1}},
		{"one layer (no simulcast)", []Layer{{Live: true, Bitrate: 800_000}}, 2, 0, Choice{Index: 0}},
		{"one layer above the budget", []Layer{{Live: true, Bitrate: 800_000}}, 2, 400_000, Choice{Index: -1, Limited: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Choose(tt.layers, tt.want, tt.budget); got != tt.choice {
				t.Errorf("Choose(want %d, budget %d) = %+v, want %+v", tt.want, tt.budget, got, tt.choice)
			}
		})
	}
}

func TestWanted(t *testing.T) {
	tests := []struct {
		name   string
		layers []Layer
		want   int
		budget int
		index  int
	}{
		{"paused layers count", three(false, false, false), 2, 0, 2},
		{"low wanted", three(true, false, false), 0, 0, 0},
		{"the link carries the middle", three(true, true, false), 2, 800_000, 1},
		{"the link carries nothing", three(true, true, true), 2, 100_000, -1},
		{"never measured fits", []Layer{{}, {}, {}}, 2, 1, 2},
		{"want above the top", three(true, true, true), 9, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Wanted(tt.layers, tt.want, tt.budget); got != tt.index {
				t.Errorf("Wanted(want %d, budget %d) = %d, want %d", tt.want, tt.budget, got, tt.index)
			}
		})
	}
}

func BenchmarkChoose(b *testing.B) {
	layers := three(true, true, true)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Choose(layers, 2, 300_000+i%2_000_000)
	}
}

func TestAllocate(t *testing.T) {
	all := three(true, true, true)
	tests := []struct {
		name   string
		tracks []Track
		budget int
		want   []Choice
	}{
		{"no limit: each its need", []Track{{all, 2}, {all, 0}}, 0, []Choice{{Index: 2}, {Index: 0}}},
		{"room for all", []Track{{all, 2}, {all, 2}}, 3_000_000, []Choice{{Index: 2}, {Index: 2}}},
		{"the first climbs first", []Track{{all, 2}, {all, 2}}, 1_700_000, []Choice{{Index: 2}, {Index: 0, Limited: true}}},
		{"both low before either climbs", []Track{{all, 2}, {all, 2}}, 400_000, []Choice{{Index: 0, Limited: true}, {Index: 0, Limited: true}}},
		{"the middle fits the first", []Track{{all, 2}, {all, 2}}, 700_000, []Choice{{Index: 1, Limited: true}, {Index: 0, Limited: true}}},
		{"room for the first alone", []Track{{all, 2}, {all, 2}}, 200_000, []Choice{{Index: 0, Limited: true}, {Index: -1, Limited: true}}},
		{"a wall tile needs no more than low", []Track{{all, 0}, {all, 0}}, 400_000, []Choice{{Index: 0}, {Index: 0}}},
		{"paused layers are skipped", []Track{{three(true, false, true), 2}}, 2_000_000, []Choice{{Index: 2}}},
		{"nothing live", []Track{{three(false, false, false), 2}}, 2_000_000, []Choice{{Index: -1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Allocate(tt.tracks, tt.budget, nil)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d choices, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("track %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func BenchmarkAllocate(b *testing.B) {
	all := three(true, true, true)
	tracks := make([]Track, 18) // a hall: 16 wall tiles, the speaker, the program
	for i := range tracks {
		tracks[i] = Track{all, 0}
	}
	tracks[0].Want = 2
	out := make([]Choice, 0, len(tracks))
	b.ReportAllocs()
	for b.Loop() {
		out = Allocate(tracks, 4_000_000, out)
	}
}

// temporal3 returns the layers of a simulcast track whose encodings carry
// three temporal layers each, the base 40% of the bitrate and the first
// two 60%, as a browser's VP8 sends them.
func temporal3() []Layer {
	ls := three(true, true, true)
	for i := range ls {
		b := ls[i].Bitrate
		ls[i].Temporal = 3
		ls[i].TemporalRates = [MaxTemporal]int{b * 4 / 10, b * 6 / 10, b}
	}
	return ls
}

func TestChooseTemporal(t *testing.T) {
	tests := []struct {
		name   string
		want   int
		budget int
		choice Choice
	}{
		{"no limit: all the pictures of the top", 2, 0, Choice{Index: 2}},
		{"half the pictures of the top fit", 2, 1_000_000, Choice{Index: 2, Skip: 1, Limited: true}},
		{"below that, the middle whole rather than a quarter of the top", 2, 700_000, Choice{Index: 1, Limited: true}},
		{"half the middle", 2, 350_000, Choice{Index: 1, Skip: 1, Limited: true}},
		{"the low whole", 2, 160_000, Choice{Index: 0, Limited: true}},
		{"the low's base layer", 2, 70_000, Choice{Index: 0, Skip: 2, Limited: true}},
		{"not even that", 2, 50_000, Choice{Index: -1, Limited: true}},
		{"a tile at half its pictures", 0, 100_000, Choice{Index: 0, Skip: 1, Limited: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Choose(temporal3(), tt.want, tt.budget); got != tt.choice {
				t.Errorf("Choose(want %d, budget %d) = %+v, want %+v", tt.want, tt.budget, got, tt.choice)
			}
		})
	}
	if got := Wanted(temporal3(), 2, 70_000); got != 0 {
		t.Errorf("Wanted with room for the low's base layer = %d, want 0", got)
	}
}

func TestAllocateTemporal(t *testing.T) {
	ls := temporal3()
	tests := []struct {
		name   string
		tracks []Track
		budget int
		want   []Choice
	}{
		{"room for all", []Track{{ls, 2}, {ls, 0}}, 2_000_000, []Choice{{Index: 2}, {Index: 0}}},
		{"the speaker at half its pictures, the tile whole", []Track{{ls, 2}, {ls, 0}}, 1_100_000,
			[]Choice{{Index: 2, Skip: 1, Limited: true}, {Index: 0}}},
		{"both at their base layer first", []Track{{ls, 2}, {ls, 2}}, 130_000,
			[]Choice{{Index: 0, Skip: 2, Limited: true}, {Index: 0, Skip: 2, Limited: true}}},
		{"then the first climbs, the second with what is left", []Track{{ls, 2}, {ls, 2}}, 240_000,
			[]Choice{{Index: 0, Limited: true}, {Index: 0, Skip: 1, Limited: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Allocate(tt.tracks, tt.budget, nil)
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("track %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
