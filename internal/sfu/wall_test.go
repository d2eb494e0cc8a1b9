package sfu

import (
	"slices"
	"testing"
)

func TestAssignSlots(t *testing.T) {
	tests := []struct {
		name        string
		shown, want []string
		next        []string
	}{
		{"empty wall fills in order", []string{"", "", ""}, []string{"a", "b"}, []string{"a", "b", ""}},
		{"more wanted than slots", []string{"", ""}, []string{"a", "b", "c"}, []string{"a", "b"}},
		{"a kept point keeps its slot", []string{"a", "b", "c"}, []string{"c", "d"}, []string{"d", "", "c"}},
		{"next page", []string{"a", "b"}, []string{"c", "d"}, []string{"c", "d"}},
		{"priority decides who fits", []string{"a", "b"}, []string{"z", "b", "a"}, []string{"z", "b"}},
		{"nothing wanted", []string{"a", "b"}, nil, []string{"", ""}},
		{"a repeated id takes one slot", []string{"", "", ""}, []string{"a", "a", "b"}, []string{"a", "b", ""}},
		{"no slots", nil, []string{"a"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := assignSlots(tt.shown, tt.want)
			if !slices.Equal(got, tt.next) {
				t.Errorf("assignSlots(%q, %q) = %q, want %q", tt.shown, tt.want, got, tt.next)
			}
		})
	}
}

func BenchmarkAssignSlots(b *testing.B) {
	shown := make([]string, DefaultWallSlots)
	want := make([]string, 250)
	for i := range want {
		want[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	b.ReportAllocs()
	for b.Loop() {
		shown = assignSlots(shown, want[len(shown):])
	}
}
