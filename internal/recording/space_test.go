package recording

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hoinghi/internal/record"
	"hoinghi/internal/sfu"
)

type noMedia struct{}

func (noMedia) SetRecorder(string, sfu.Recorder) {}

// TestRecordingNeedsFreeSpace refuses a recording on a disk with less
// free space than the setting, measured by the file system itself.
func TestRecordingNeedsFreeSpace(t *testing.T) {
	dir := t.TempDir()
	free, err := FreeSpace(filepath.Join(dir, "not", "made", "yet"))
	if err != nil || free <= 0 {
		t.Fatalf("free space: %d, %v", free, err)
	}
	m := New(Config{Dir: dir, MinFree: free * 2, Media: noMedia{}})
	defer m.Close()
	_, err = m.Start("hoi-nghi", time.Now())
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "MB") {
		t.Fatalf("start on a disk with %d MB free, %d MB needed: %v, want ErrDiskFull", free>>20, free*2>>20, err)
	}
	if st := m.Status("hoi-nghi"); st.Active {
		t.Error("refused, yet active")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused recording left %d entries", len(entries))
	}
	m2 := New(Config{Dir: dir, MinFree: 1 << 20, Media: noMedia{}})
	defer m2.Close()
	if _, err := m2.Start("hoi-nghi", time.Now()); err != nil {
		t.Fatalf("start with room: %v", err)
	}
}

// TestRecordingStopsWhenTheDiskFills stops a running recording, cleanly,
// once the free space falls below half the setting, and tells the pages.
func TestRecordingStopsWhenTheDiskFills(t *testing.T) {
	dir := t.TempDir()
	var free atomic.Int64
	free.Store(10 << 30)
	changed := make(chan string, 4)
	m := New(Config{Dir: dir, MinFree: 1 << 30, Media: noMedia{}, CheckEvery: 20 * time.Millisecond,
		FreeSpace: func(string) (int64, error) { return free.Load(), nil },
		OnChange:  func(conf string) { changed <- conf }})
	defer m.Close()
	st, err := m.Start("hoi-nghi", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	<-changed
	time.Sleep(100 * time.Millisecond)
	if !m.Status("hoi-nghi").Active {
		t.Fatal("stopped with room left")
	}
	free.Store(400 << 20)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("still recording with 400 MB left of 1 GB needed")
	}
	if m.Status("hoi-nghi").Active {
		t.Error("told stopped, still active")
	}
	idx, err := record.ReadIndex(filepath.Join(dir, "hoi-nghi", st.ID, record.IndexName))
	if err != nil {
		t.Fatal(err)
	}
	if idx.Stop.IsZero() {
		t.Error("the index was not closed")
	}
	var reason string
	for _, e := range idx.Events {
		if e.Kind == "stopping" {
			reason = string(e.Fields)
		}
	}
	if !strings.Contains(reason, "disk_full") {
		t.Errorf("stop reason %q, want disk_full", reason)
	}
}

// TestNames checks the names a request may give for a conference, a
// recording or a file.
func TestNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"20261204T080000Z", true},
		{"hoi-nghi_diem-1_video_20261204T080000Z.webm", true},
		{"", false},
		{".", false},
		{"..", false},
		{".fonts", false},
		{"../index.jsonl", false},
		{"a/b", false},
		{`a\b`, false},
		{strings.Repeat("x", 201), false},
	} {
		if got := validName(tt.name); got != tt.ok {
			t.Errorf("validName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

// TestStopNamesTheRecording stops only the recording a stop names: one
// meant for an earlier recording leaves the running one alone.
func TestStopNamesTheRecording(t *testing.T) {
	m := New(Config{Dir: t.TempDir(), Media: noMedia{}})
	defer m.Close()
	st, err := m.Start("hoi-nghi", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Stop("hoi-nghi", "20200101T000000Z", time.Now()); !errors.Is(err, ErrNotRecording) {
		t.Errorf("a stop of another recording: %v, want ErrNotRecording", err)
	}
	if !m.Status("hoi-nghi").Active {
		t.Fatal("a stop of another recording ended the running one")
	}
	if _, err := m.Stop("hoi-nghi", st.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if m.Status("hoi-nghi").Active {
		t.Error("still active after its stop")
	}
}
