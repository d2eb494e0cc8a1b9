package client

import (
	"os"
	"testing"
)

func TestClip(t *testing.T) {
	raw, err := os.ReadFile("testdata/point-160x90.ivf")
	if err != nil {
		t.Fatal(err)
	}
	c, err := newClip(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.frames) != 50 || !c.frames[0].key || !c.frames[25].key || c.frames[1].key {
		t.Fatalf("%d frames, keyframes at 0: %v, 1: %v, 25: %v; want 50 frames with keyframes at 0 and 25",
			len(c.frames), c.frames[0].key, c.frames[1].key, c.frames[25].key)
	}
	for i := range 3 {
		pkts := c.NextFrame(false)
		if len(pkts) == 0 || len(pkts[0]) > MaxVideoPayload {
			t.Fatalf("frame %d: %d payloads", i, len(pkts))
		}
		// The payload descriptor with a 15-bit picture id takes 4 bytes;
		// the VP8 frame tag follows.
		if isKey := pkts[0][4]&1 == 0; isKey != (i == 0) {
			t.Errorf("frame %d: keyframe %v", i, isKey)
		}
	}
	// A keyframe request skips ahead to frame 25, and from its end back
	// round to frame 0.
	c.NextFrame(true)
	if c.next != 26 {
		t.Errorf("after a keyframe request the clip is at frame %d, want 26", c.next)
	}
	c.next = 30
	c.NextFrame(true)
	if c.next != 1 {
		t.Errorf("a keyframe request near the end goes to frame %d, want 1 (after frame 0)", c.next-1)
	}
	for _, bad := range [][]byte{nil, []byte("DKIF"), raw[:40]} {
		if _, err := newClip(bad); err == nil {
			t.Errorf("newClip of %d bytes: no error", len(bad))
		}
	}
}
