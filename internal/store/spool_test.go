package store

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hoinghi/internal/conference"
)

func TestReadSpool(t *testing.T) {
	line := func(id string) string {
		return `{"conference":"c","event":{"id":"` + id + `","kind":"checked_in","at":"2025-03-14T07:30:00Z","point_id":"p"}}` + "\n"
	}
	tests := []struct {
		name string
		data string
		ids  []string
		good int
	}{
		{"empty", "", nil, 0},
		{"two writes", line("a") + line("b"), []string{"a", "b"}, len(line("a") + line("b"))},
		{"torn last line", line("a") + line("b")[:20], []string{"a"}, len(line("a"))},
		{"line that does not decode", line("a") + "{not json}\n" + line("c"), []string{"a", "c"}, len(line("a")+line("c")) + 11},
		{"blank line", line("a") + "\n", []string{"a"}, len(line("a")) + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), spoolName)
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ws, good, err := readSpool(f, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, w := range ws {
				ids = append(ids, w.Event.ID)
				if w.Event.Kind != conference.CheckedIn || !w.Event.At.Equal(time.Date(2025, 3, 14, 7, 30, 0, 0, time.UTC)) {
					t.Errorf("write %+v", w)
				}
			}
			if len(ids) != len(tt.ids) || int(good) != tt.good {
				t.Fatalf("ids %v, good %d; want %v, %d", ids, good, tt.ids, tt.good)
			}
			for i := range ids {
				if ids[i] != tt.ids[i] {
					t.Errorf("ids %v; want %v", ids, tt.ids)
				}
			}
		})
	}
}

func TestCompareAttendanceIDs(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1700000000000-hoinghi-9", "1700000000000-hoinghi-10", -1},
		{"1700000000001-hoinghi-1", "1700000000000-hoinghi-10", 1},
		{"1700000000000-a-b-2", "1700000000000-a-b-2", 0},
		{"1700000000000-hall-1", "1700000000000-zone-1", -1},
		{"legacy", "1700000000000-x-1", 1},
	}
	for _, tt := range tests {
		if got := compareAttendanceIDs(tt.a, tt.b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
