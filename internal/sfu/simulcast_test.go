package sfu

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// waitFor fails t unless cond holds within 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// testSimulcast returns the three encodings of one simulcast video track,
// lowest first, the first (rid q) its head.
func testSimulcast() []*upTrack {
	var ls *layerSet
	var out []*upTrack
	for i, rid := range []string{"q", "h", "f"} {
		u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
		u.codec.ClockRate = 90000
		u.ssrc = uint32(100 + i)
		u.rid, u.rank = rid, i
		if ls == nil {
			ls = &layerSet{head: u, mid: "1"}
			ls.list.Store(&[]*upTrack{})
		}
		u.layers = ls
		ls.add(u)
		out = append(out, u)
	}
	return out
}

func TestRIDRank(t *testing.T) {
	tests := []struct {
		rid  string
		rank int
		ok   bool
	}{
		{"q", 0, true}, {"h", 1, true}, {"f", 2, true},
		{"l", 0, true}, {"m", 1, true}, {"high", 2, true},
		{"0", 0, true}, {"2", 2, true}, {"3", 0, false}, {"x", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		if rank, ok := ridRank(tt.rid); rank != tt.rank || ok != tt.ok {
			t.Errorf("ridRank(%q) = %d, %v; want %d, %v", tt.rid, rank, ok, tt.rank, tt.ok)
		}
	}
}

func TestLayerSetOrdersByRank(t *testing.T) {
	ls := &layerSet{}
	ls.list.Store(&[]*upTrack{})
	for _, r := range []int{2, 0, 1} {
		ls.add(&upTrack{rank: r})
	}
	if ls.add(&upTrack{rank: 1}) {
		t.Error("a fourth encoding was taken")
	}
	var ranks []int
	for _, u := range ls.encodings() {
		ranks = append(ranks, u.rank)
	}
	if !slices.Equal(ranks, []int{0, 1, 2}) {
		t.Errorf("ranks %v, want 0 1 2", ranks)
	}
}

// TestLayerSwitchOnKeyframe: a down-track told to go over to another
// encoding forwards the one it has until the new one's keyframe, then the
// new one alone, with continuous sequence numbers and timestamps.
func TestLayerSwitchOnKeyframe(t *testing.T) {
	enc := testSimulcast()
	q, f := enc[0], enc[2]
	w := &recordingWriter{}
	d := newSpeakerSlot(nil, q.stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, SpeakerStreamID, "speaker-video", needHigh)
	d.bound.Store(&binding{ssrc: 42, payloadType: 96, stream: w})
	var h rtp.Header

	now := time.Now().UnixNano()
	for _, u := range enc {
		u.lastArrival.Store(now)
	}
	d.switchSource(q) // shows the track, by its head: takes the high encoding
	if got := d.target(); got != f {
		t.Fatalf("a slot needing the high encoding waits for rid %q, want f", got.rid)
	}
	for i := range 3 {
		f.forward(&h, vp8Packet(uint16(500+i), uint32(9000+3000*i), i == 0, true))
		q.forward(&h, vp8Packet(uint16(7000+i), uint32(1000+3000*i), i == 0, true))
	}
	if len(w.headers) != 3 {
		t.Fatalf("sent %d packets, want the 3 of f", len(w.headers))
	}
	d.retarget(q) // the link got thin
	f.forward(&h, vp8Packet(503, 18000, false, true))
	q.forward(&h, vp8Packet(7003, 10000, false, true)) // not a keyframe: f goes on
	if len(w.headers) != 4 {
		t.Fatalf("sent %d packets, want f's 4 while q has no keyframe", len(w.headers))
	}
	q.forward(&h, vp8Packet(7004, 13000, true, true))
	f.forward(&h, vp8Packet(504, 21000, false, true)) // f is left
	q.forward(&h, vp8Packet(7005, 16000, false, true))
	if len(w.headers) != 6 {
		t.Fatalf("sent %d packets, want 4 of f and 2 of q", len(w.headers))
	}
	checkContinuous(t, w.headers)
	waitFor(t, "the slot to leave f", func() bool { return len(f.plan.Load().all) == 0 && len(q.plan.Load().all) == 1 })
	if n := q.waiting.Load() + f.waiting.Load(); n != 0 {
		t.Errorf("%d down-tracks still counted as waiting for a keyframe", n)
	}
}

// TestLayerEndedMovesDownTracks: when one encoding ends, the down-tracks
// on it go over to another of the same track; when the head ends, the
// track is gone from the slot.
func TestLayerEndedMovesDownTracks(t *testing.T) {
	enc := testSimulcast()
	q, f := enc[0], enc[2]
	now := time.Now().UnixNano()
	for _, u := range enc {
		u.lastArrival.Store(now)
	}
	d := newSpeakerSlot(nil, q.stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, SpeakerStreamID, "speaker-video", needHigh)
	d.bound.Store(&binding{ssrc: 42, payloadType: 96, stream: &recordingWriter{}})
	d.switchSource(q)
	var h rtp.Header
	f.forward(&h, vp8Packet(1, 1, true, true))
	if d.source() != f {
		t.Fatal("the slot does not forward f after its keyframe")
	}
	f.lastArrival.Store(0)
	f.end()
	if got := d.target(); got != enc[1] {
		t.Fatalf("after f ended the slot waits for %v, want h", got)
	}
	q.end()
	if d.shown() != nil || d.target() != nil {
		t.Error("the slot still shows a track whose head ended")
	}
}

// recordingSignaler keeps the publish_layers asked of a publisher.
type recordingSignaler struct {
	mu     sync.Mutex
	layers [][]string
}

func (s *recordingSignaler) SendSubscribeOffer(string) {}
func (s *recordingSignaler) SendWall([]string)         {}
func (s *recordingSignaler) MediaConnected()           {}
func (s *recordingSignaler) MediaFailed(string)        {}
func (s *recordingSignaler) SendDownlink(string)       {}
func (s *recordingSignaler) SendLayers(mid string, active, paused []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.layers = append(s.layers, slices.Clone(active))
}

func (s *recordingSignaler) last() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.layers) == 0 {
		return nil
	}
	return s.layers[len(s.layers)-1]
}

// TestAskLayers: an encoding nobody wanted for pauseAfter is paused at
// the publisher, and asked for again as soon as someone wants it.
func TestAskLayers(t *testing.T) {
	enc := testSimulcast()
	sig := &recordingSignaler{}
	p := &Participant{sig: sig}
	start := time.Now().UnixNano()
	for _, u := range enc {
		u.chooser = layerState{wantedAt: start, asked: true}
	}
	ls := enc[0].layers
	askLayers(p, ls, start+int64(time.Second))
	if len(sig.layers) != 0 {
		t.Fatalf("asked %v within the grace after publishing", sig.layers)
	}
	enc[0].chooser.wantedAt = start + int64(pauseAfter) // a wall tile wants q
	askLayers(p, ls, start+int64(pauseAfter)+1)
	if got := sig.last(); !slices.Equal(got, []string{"q"}) {
		t.Fatalf("asked %v, want q alone", got)
	}
	enc[2].chooser.wantedAt = start + int64(pauseAfter) + 2 // the floor: f
	askLayers(p, ls, start+int64(pauseAfter)+3)
	if got := sig.last(); !slices.Equal(got, []string{"q", "f"}) {
		t.Fatalf("asked %v, want q and f", got)
	}
	if enc[2].resumedAt.Load() == 0 {
		t.Error("f resumed without its resume time")
	}
	askLayers(p, ls, start+int64(pauseAfter)+4)
	if len(sig.layers) != 2 {
		t.Errorf("asked again without a change: %v", sig.layers)
	}
}
