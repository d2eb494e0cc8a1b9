package sfu

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/layer"
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
	d.retarget(q, layer.AllTemporal) // the link got thin
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
func (s *recordingSignaler) SendProgram(Program)       {}
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

// temporalStream makes the packets of a VP8 encoding with three temporal
// layers (pattern 0, 2, 1, 2; the layer 1 picture and the first layer 2
// picture after the base are layer sync), two packets a picture, picture
// ids from pid and sequence numbers from seq.
type temporalStream struct {
	seq     uint16
	pid     uint16
	tl0     uint8
	picture int
	ts      uint32
}

// next returns the two packets of the next picture and its layer.
func (s *temporalStream) next(keyframe bool) ([2][]byte, uint8) {
	tid := []uint8{0, 2, 1, 2}[s.picture%4]
	sync := s.picture%4 == 1 || s.picture%4 == 2
	if tid == 0 && s.picture > 0 {
		s.tl0++
	}
	var out [2][]byte
	for i := range 2 {
		b0 := byte(0x80) // X
		if i == 0 {
			b0 |= 0x10 // S, partition 0
		}
		t := tid << 6
		if sync {
			t |= 0x20
		}
		tag := byte(0x01)
		if keyframe {
			tag = 0x00
		}
		payload := []byte{b0, 0xe0, 0x80 | byte(s.pid>>8), byte(s.pid), s.tl0, t, tag, 0xaa}
		h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: 1234, Marker: i == 1}
		pkt, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if err != nil {
			panic(err)
		}
		out[i] = pkt
		s.seq++
	}
	s.picture++
	s.pid = (s.pid + 1) & 0x7fff
	s.ts += 3000
	return out, tid
}

// TestTemporalLayersStepDownWithoutKeyframe: a down-track told to take
// fewer temporal layers drops the pictures above at once, with no gap in
// sequence numbers or picture ids and no keyframe asked; it climbs back
// at a layer sync picture; a NACK of a packet sent while dropping is
// answered with the numbers it went out with.
func TestTemporalLayersStepDownWithoutKeyframe(t *testing.T) {
	enc := testSimulcast()
	f := enc[2]
	w := &recordingWriter{}
	d := newSpeakerSlot(nil, f.stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, SpeakerStreamID, "speaker-video", needHigh)
	d.bound.Store(&binding{ssrc: 42, payloadType: 96, stream: w})
	now := time.Now().UnixNano()
	for _, u := range enc {
		u.lastArrival.Store(now)
	}
	d.switchSource(enc[0])
	var h rtp.Header
	s := &temporalStream{seq: 65000, pid: 0x7ff0, tl0: 250}
	send := func(pictures int, first bool) (tids []uint8) {
		for i := range pictures {
			pkts, tid := s.next(first && i == 0)
			for _, p := range pkts {
				f.forward(&h, p)
			}
			tids = append(tids, tid)
		}
		return tids
	}
	send(8, true)
	if len(w.headers) != 16 {
		t.Fatalf("sent %d packets of 8 pictures, want 16", len(w.headers))
	}
	keyReqs := f.stats.keyframeRequests.Load()

	d.retarget(f, 0) // the link got thin: the base layer only
	send(8, false)
	if len(w.headers) != 16+4 {
		t.Fatalf("sent %d packets after stepping down, want 4 more: the 2 base pictures", len(w.headers)-16)
	}
	if n := f.stats.keyframeRequests.Load(); n != keyReqs {
		t.Errorf("stepping down asked %d keyframes", n-keyReqs)
	}
	sentAt := len(w.headers) - 1 // a packet sent while dropping, for the NACK below

	d.retarget(f, layer.AllTemporal)
	tids := send(8, false)
	if tids[0] != 0 || len(w.headers) != 20+16 {
		t.Fatalf("sent %d packets after stepping up, want all 16 from the sync picture on", len(w.headers)-20)
	}
	for i := 1; i < len(w.headers); i++ {
		if a, b := w.headers[i-1], w.headers[i]; b.SequenceNumber != a.SequenceNumber+1 || int32(b.Timestamp-a.Timestamp) < 0 {
			t.Errorf("packet %d: seq %d ts %d after %d %d", i, b.SequenceNumber, b.Timestamp, a.SequenceNumber, a.Timestamp)
		}
	}
	pid := func(p []byte) uint16 {
		v, _ := vp8Parse(p)
		return v
	}
	for i := 2; i < len(w.payloads); i += 2 {
		if got, want := pid(w.payloads[i]), pid(w.payloads[i-2])+1; got != want&0x7fff {
			t.Errorf("picture %d: id %#x after %#x", i/2, got, pid(w.payloads[i-2]))
		}
	}

	buf := make([]byte, 1500)
	rw := &recordingWriter{}
	d.bound.Store(&binding{ssrc: 42, payloadType: 96, stream: rw})
	if n, _ := d.resend([]uint16{w.headers[sentAt].SequenceNumber}, buf, &h, newScratch()); n != 1 {
		t.Fatalf("resent %d packets, want 1", n)
	}
	if rw.headers[0].Timestamp != w.headers[sentAt].Timestamp || pid(rw.payloads[0]) != pid(w.payloads[sentAt]) {
		t.Errorf("resent ts %d pid %#x, first sent as %d %#x", rw.headers[0].Timestamp, pid(rw.payloads[0]),
			w.headers[sentAt].Timestamp, pid(w.payloads[sentAt]))
	}
}

// vp8Parse returns the picture id of a VP8 payload.
func vp8Parse(p []byte) (uint16, bool) {
	fi := readVP8(p)
	return fi.desc.PictureID, fi.vp8
}

// BenchmarkForwardTemporal measures one packet of a VP8 encoding with
// three temporal layers forwarded to n down-tracks, half of which take
// its base layer alone (dropping three pictures of four and renumbering
// the others), up to the pion write stream (a discarding writer).
func BenchmarkForwardTemporal(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("downtracks=%d", n), func(b *testing.B) {
			u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
			u.codec.ClockRate = 90000
			for i := range n {
				d := bindTest(u, discardWriter{}, uint32(i+1), 96)
				if i%2 == 1 {
					d.tWant = 0
				}
			}
			s := &temporalStream{seq: 1, pid: 100}
			var h rtp.Header
			pkts, _ := s.next(true)
			for _, p := range pkts {
				u.forward(&h, p) // start every down-track on the keyframe
			}
			// A picture of each layer, in the pattern, padded to 1000
			// bytes; sequence numbers and picture ids advance as sent.
			var pattern [][]byte
			for range 4 {
				pkts, _ := s.next(false)
				for _, p := range pkts {
					pattern = append(pattern, append(p, make([]byte, 1000)...))
				}
			}
			b.SetBytes(int64(len(pattern[0])))
			b.ReportAllocs()
			b.ResetTimer()
			seq, pid := s.seq, s.pid
			for i := range b.N {
				p := pattern[i%len(pattern)]
				if i%len(pattern) == 0 && i > 0 {
					pid += 4
				}
				k := uint16(i % len(pattern))
				p[2], p[3] = byte((seq+uint16(i))>>8), byte(seq+uint16(i))
				pp := pid + k/2
				p[14], p[15] = 0x80|byte(pp>>8)&0x7f, byte(pp)
				u.forward(&h, p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/downtrack")
		})
	}
}
