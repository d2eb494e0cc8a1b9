package client

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestTrackCounterSlotSwitch: a slot's new source must start with a
// keyframe, but the keyframe's first packet may come after the next
// picture's, as the answer to a NACK.
func TestTrackCounterSlotSwitch(t *testing.T) {
	type pkt struct{ frame, index int } // frame 0 is the new source's keyframe
	tests := []struct {
		name        string
		order       []pkt
		wantCorrupt uint64
	}{
		{"in order", []pkt{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}}, 0},
		{"keyframe's first resent late", []pkt{{0, 1}, {0, 2}, {1, 0}, {1, 1}, {0, 0}}, 0},
		{"no keyframe first", []pkt{{1, 0}, {1, 1}, {0, 0}}, 1},
		{"keyframe lost whole", []pkt{{1, 0}, {1, 1}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const sender = 0x5eed
			g := NewVideoGenerator(sender, 1_000_000)
			var frames [][][]byte
			for _, key := range []bool{true, false} {
				var f [][]byte // NextFrame reuses its buffers
				for _, p := range g.NextFrame(key) {
					f = append(f, append([]byte(nil), p...))
				}
				frames = append(frames, f)
			}
			if len(frames[0]) < 3 || len(frames[1]) < 2 {
				t.Fatalf("frames of %d and %d packets; the test needs 3 and 2", len(frames[0]), len(frames[1]))
			}
			rt := &TrackCounter{video: true} // a slot: sender 0
			start := time.Now()
			for _, p := range tt.order {
				h := rtp.Header{SequenceNumber: uint16(p.frame*100 + p.index), Timestamp: uint32(p.frame * 3000)}
				rt.add(start, &h, frames[p.frame][p.index], false)
			}
			st := rt.Stats()
			if st.Corrupt != tt.wantCorrupt {
				t.Errorf("corrupt %d, want %d", st.Corrupt, tt.wantCorrupt)
			}
			if st.Sender != sender || st.Switches != 1 {
				t.Errorf("sender %x, %d switches; want %x, 1", st.Sender, st.Switches, sender)
			}
		})
	}
}
