package sfu

import (
	"fmt"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// recordingWriter keeps the headers and payloads written to it.
type recordingWriter struct {
	headers  []rtp.Header
	payloads [][]byte
}

func (w *recordingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.headers = append(w.headers, *h)
	w.payloads = append(w.payloads, append([]byte(nil), payload...))
	return len(payload), nil
}

func (w *recordingWriter) Write(b []byte) (int, error) { return len(b), nil }

// discardWriter drops everything, for benchmarks.
type discardWriter struct{}

func (discardWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) { return len(payload), nil }
func (discardWriter) Write(b []byte) (int, error)                         { return len(b), nil }

func testUpTrack(kind webrtc.RTPCodecType, mime string) *upTrack {
	u := &upTrack{
		stats:    &counters{},
		sc:       newScratch(),
		kind:     kind,
		codec:    webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime}},
		ssrc:     1234,
		streamID: "hall",
		trackID:  "video-cam",
		sendPLI:  func(uint32) error { return nil },
	}
	u.readFrame = frameReader(mime)
	u.plan.Store(&fanPlan{})
	return u
}

func bindTest(u *upTrack, w webrtc.TrackLocalWriter, ssrc uint32, pt uint8) *downTrack {
	d := newDownTrack(u, nil)
	d.bound.Store(d.newBinding(ssrc, pt, w))
	return d
}

func vp8Packet(seq uint16, ts uint32, keyframe bool, marker bool) []byte {
	payload := []byte{0x10, 0x01, 0xaa, 0xbb}
	if keyframe {
		payload[1] = 0x00
	}
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 1234, Marker: marker,
		Extension: true, ExtensionProfile: 0xBEDE}
	if err := h.SetExtension(1, []byte{0x01, 0x02}); err != nil {
		panic(err)
	}
	pkt, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return pkt
}

func TestDownTrackStartsOnKeyframeAndRewrites(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	w := &recordingWriter{}
	bindTest(u, w, 777, 100)

	var h rtp.Header
	// Two interframes, then a keyframe and more frames.
	frames := []struct {
		key bool
	}{{false}, {false}, {true}, {false}, {false}}
	seq := uint16(65533) // crosses the wrap
	for i, f := range frames {
		u.forward(&h, vp8Packet(seq, uint32(i*3000), f.key, true))
		seq++
	}
	if len(w.headers) != 3 {
		t.Fatalf("forwarded %d packets, want 3 (from the keyframe on)", len(w.headers))
	}
	for i, got := range w.headers {
		if got.SSRC != 777 || got.PayloadType != 100 {
			t.Errorf("packet %d: ssrc %d pt %d, want 777 and 100", i, got.SSRC, got.PayloadType)
		}
		if got.Extension || len(got.Extensions) != 0 {
			t.Errorf("packet %d carries the publisher's header extensions", i)
		}
		if i > 0 && got.SequenceNumber != w.headers[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: sequence %d after %d", i, got.SequenceNumber, w.headers[i-1].SequenceNumber)
		}
		if i > 0 && got.Timestamp-w.headers[i-1].Timestamp != 3000 {
			t.Errorf("packet %d: timestamp step %d, want 3000", i, got.Timestamp-w.headers[i-1].Timestamp)
		}
		if string(w.payloads[i][2:]) != "\xaa\xbb" {
			t.Errorf("packet %d: payload % x changed", i, w.payloads[i])
		}
	}
	if u.waiting.Load() != 0 {
		t.Errorf("up-track still counts %d waiting down-tracks", u.waiting.Load())
	}
	// A late packet from before the start is not forwarded.
	u.forward(&h, vp8Packet(65533, 0, false, true))
	if len(w.headers) != 3 {
		t.Errorf("packet older than the start was forwarded")
	}
}

func TestDownTrackAudioStartsAtOnce(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	w := &recordingWriter{}
	bindTest(u, w, 5, 111)
	newDownTrack(u, nil) // never bound
	var h rtp.Header
	for i := range 3 {
		pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 9}, Payload: []byte{1, 2, 3}}).Marshal()
		u.forward(&h, pkt)
	}
	if len(w.headers) != 3 {
		t.Fatalf("forwarded %d audio packets, want 3", len(w.headers))
	}
	if got := u.traffic.forwarded.Load(); got != 3 {
		t.Errorf("packetsForwarded = %d, want 3 (the unbound down-track sends nothing)", got)
	}
}

func TestUpTrackRemoveDown(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	w1, w2 := &recordingWriter{}, &recordingWriter{}
	d1 := bindTest(u, w1, 1, 111)
	bindTest(u, w2, 2, 111)
	d1.close()
	var h rtp.Header
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 9}, Payload: []byte{1}}).Marshal()
	u.forward(&h, pkt)
	if len(w1.headers) != 0 || len(w2.headers) != 1 {
		t.Errorf("after removal: %d and %d packets, want 0 and 1", len(w1.headers), len(w2.headers))
	}
}

// BenchmarkForward measures one incoming packet forwarded to n down-tracks,
// up to the pion write stream (which is replaced by a discarding writer).
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("downtracks=%d", n), func(b *testing.B) {
			u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
			for i := range n {
				bindTest(u, discardWriter{}, uint32(i+1), 96)
			}
			pkt := vp8Packet(0, 0, true, true)
			pkt = append(pkt, make([]byte, 1000)...)
			var h rtp.Header
			u.forward(&h, pkt) // start every down-track on the keyframe
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				pkt[2], pkt[3] = byte(i>>8), byte(i)
				u.forward(&h, pkt)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/downtrack")
		})
	}
}

func TestDownTrackKeepsForwardingPastHalfTheSequenceSpace(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	w := &recordingWriter{}
	bindTest(u, w, 5, 111)
	var h rtp.Header
	pkt := func(seq uint16) []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, SSRC: 9}, Payload: []byte{1}}).Marshal()
		return b
	}
	const start = 100
	for i := range 40000 {
		u.forward(&h, pkt(uint16(start+i)))
	}
	if len(w.headers) != 40000 {
		t.Fatalf("forwarded %d of 40000 packets", len(w.headers))
	}
	u.forward(&h, pkt(uint16(start+40000-5))) // a late retransmission
	if len(w.headers) != 40001 {
		t.Errorf("late packet within the span was dropped")
	}
}

func opusPacket(seq uint16, ts uint32) []byte {
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: 9}, Payload: []byte{1, 2}}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// checkContinuous fails unless the written packets have consecutive
// sequence numbers and timestamps that never go back.
func checkContinuous(t *testing.T, hs []rtp.Header) {
	t.Helper()
	for i := 1; i < len(hs); i++ {
		if hs[i].SequenceNumber != hs[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: sequence %d after %d", i, hs[i].SequenceNumber, hs[i-1].SequenceNumber)
		}
		if step := hs[i].Timestamp - hs[i-1].Timestamp; step == 0 || step > 1<<31 {
			t.Errorf("packet %d: timestamp %d after %d", i, hs[i].Timestamp, hs[i-1].Timestamp)
		}
	}
}

func TestSpeakerSlotSwitchesSeamlessly(t *testing.T) {
	a := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	b := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	a.codec.ClockRate, b.codec.ClockRate = 90000, 90000
	w := &recordingWriter{}
	slot := newSpeakerSlot(nil, a.stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, SpeakerStreamID, "speaker-video", needHigh)
	slot.bound.Store(&binding{ssrc: 42, payloadType: 96, stream: w})
	var h rtp.Header

	slot.switchSource(a)
	for i := range 4 {
		a.forward(&h, vp8Packet(uint16(1000+i), uint32(5000+3000*i), i == 0, true))
	}
	slot.switchSource(b)
	if len(a.plan.Load().all) != 1 || len(b.plan.Load().all) != 1 {
		t.Fatalf("during the switch a has %d and b %d down-tracks, want 1 and 1", len(a.plan.Load().all), len(b.plan.Load().all))
	}
	a.forward(&h, vp8Packet(1004, 17000, false, true)) // the old source goes on until b's keyframe
	b.forward(&h, vp8Packet(60000, 900, false, true))  // not a keyframe: waits
	for i := range 3 {
		b.forward(&h, vp8Packet(uint16(60001+i), uint32(4000+3000*i), i == 0, true))
	}
	a.forward(&h, vp8Packet(1005, 20000, false, true)) // after b's keyframe: not forwarded
	if len(w.headers) != 8 {
		t.Fatalf("slot sent %d packets, want 5 from a and 3 from b", len(w.headers))
	}
	waitFor(t, "the slot to leave a", func() bool { return len(a.plan.Load().all) == 0 })
	checkContinuous(t, w.headers)
	for i, hd := range w.headers {
		if hd.SSRC != 42 {
			t.Errorf("packet %d: SSRC %d, want the slot's 42", i, hd.SSRC)
		}
	}
	slot.switchSource(nil)
	if len(b.plan.Load().all) != 0 || b.waiting.Load() != 0 {
		t.Errorf("an emptied slot is still attached to its source")
	}
}

func TestGatedAudioResumesWithoutGap(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	u.codec.ClockRate = 48000
	w := &recordingWriter{}
	bindTest(u, w, 5, 111)
	var h rtp.Header
	seq, ts := uint16(10), uint32(0)
	send := func(n int) {
		for range n {
			u.forward(&h, opusPacket(seq, ts))
			seq++
			ts += 960
		}
	}
	send(3)
	u.setGated(true)
	send(50) // held back: the point does not hold the floor
	if len(w.headers) != 3 {
		t.Fatalf("gated track forwarded %d packets, want 3", len(w.headers))
	}
	u.setGated(false)
	send(3)
	if len(w.headers) != 6 {
		t.Fatalf("after opening: %d packets, want 6", len(w.headers))
	}
	checkContinuous(t, w.headers)
}

func TestInCountersLossAcrossWrap(t *testing.T) {
	var c inCounters
	seq := uint16(65530)
	for i := range 20 {
		if i == 7 || i == 8 { // two packets lost, after the wrap
			seq++
			continue
		}
		c.add(seq, 100)
		seq++
	}
	expected := c.highest.Load() - c.first.Load() + 1
	if expected != 20 || c.packets.Load() != 18 || c.bytes.Load() != 1800 {
		t.Errorf("expected %d, got %d packets and %d bytes; want 20, 18, 1800", expected, c.packets.Load(), c.bytes.Load())
	}
	c.add(65531, 100) // a late retransmission changes nothing but the count
	if got := c.highest.Load() - c.first.Load() + 1; got != 20 {
		t.Errorf("expected after a late packet = %d, want 20", got)
	}
}

// TestDownTrackResendsFromTheCache: a NACKed packet is written again from
// the source's cache with the header it had the first time; packets from
// before the current source started on the down-track are not.
func TestDownTrackResendsFromTheCache(t *testing.T) {
	a := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	b := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	a.codec.ClockRate, b.codec.ClockRate = 90000, 90000
	w := &recordingWriter{}
	slot := newSpeakerSlot(nil, a.stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, SpeakerStreamID, "speaker-video", needHigh)
	slot.bound.Store(&binding{ssrc: 42, payloadType: 96, stream: w})
	var h rtp.Header
	feed := func(u *upTrack, from uint16, n int) {
		for i := range n {
			u.forward(&h, vp8Packet(from+uint16(i), 3000*uint32(i), i == 0, true))
		}
	}
	slot.switchSource(a)
	feed(a, 100, 10)
	slot.switchSource(b)
	feed(b, 7000, 10)
	if len(w.headers) != 20 {
		t.Fatalf("%d packets written, want 20", len(w.headers))
	}
	first := map[uint16]rtp.Header{}
	for _, hd := range w.headers {
		first[hd.SequenceNumber] = hd
	}
	fromA, fromB := w.headers[3].SequenceNumber, w.headers[15].SequenceNumber
	buf := make([]byte, 1500)
	if n, _ := slot.resend([]uint16{fromB, fromB + 1, fromA, fromB + 100}, buf, &h, newScratch()); n != 2 {
		t.Errorf("resent %d packets, want 2 (of the current source, still cached)", n)
	}
	for _, hd := range w.headers[20:] {
		want := first[hd.SequenceNumber]
		if hd.SequenceNumber != want.SequenceNumber || hd.Timestamp != want.Timestamp || hd.SSRC != 42 || hd.PayloadType != 96 {
			t.Errorf("resent %+v, first sent %+v", hd, want)
		}
	}
	if got := w.payloads[20]; string(got) != string(w.payloads[15]) {
		t.Errorf("resent payload %x, first %x", got, w.payloads[15])
	}
}

func BenchmarkResend(b *testing.B) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	u.codec.ClockRate = 90000
	d := bindTest(u, discardWriter{}, 42, 96)
	var h rtp.Header
	for i := range 300 {
		u.forward(&h, vp8Packet(uint16(i), 3000*uint32(i), i == 0, true))
	}
	buf := make([]byte, 1500)
	seqs := []uint16{290} // the first source keeps its numbers
	sc := newScratch()
	b.ReportAllocs()
	for b.Loop() {
		d.resend(seqs, buf, &h, sc)
	}
}

func h264Packet(seq uint16, ts uint32, payload []byte) []byte {
	pkt, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 127, SequenceNumber: seq, Timestamp: ts, SSRC: 1234, Marker: true},
		Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return pkt
}

// TestProgramSlotCarriesH264: the program's video slot goes over from a
// VP8 source to an H.264 one at its first IDR (or SPS), each packet with
// the payload type the subscriber negotiated for its codec, the H.264
// payloads as they came, and back to VP8 at its keyframe, with continuous
// numbers; a slot whose subscriber did not negotiate H.264, and a speaker
// slot, refuse the H.264 source.
func TestProgramSlotCarriesH264(t *testing.T) {
	idr := []byte{0x65, 0x88, 0x84, 0x21}                       // a single NAL unit: an IDR slice
	stapSPS := []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce} // STAP-A of an SPS and a PPS
	slice := []byte{0x41, 0x9a, 0x02}                           // a non-IDR slice
	tests := []struct {
		name      string
		h264      bool  // the slot may carry H.264 (the program's video)
		h264Type  uint8 // the payload type negotiated for H.264, 0: none
		wantTypes []uint8
	}{
		{"program slot, H.264 negotiated", true, 102, []uint8{96, 96, 96, 102, 102, 102, 96, 96}},
		// The H.264 source is refused: the slot shows nothing until the
		// VP8 one is back (fillProgram gives such a slot the VP8 picture).
		{"program slot, VP8 alone", true, 0, []uint8{96, 96, 96, 96}},
		{"speaker slot", false, 102, []uint8{96, 96, 96, 96}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cam := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
			mixer := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeH264)
			cam.codec.ClockRate, mixer.codec.ClockRate = 90000, 90000
			w := &recordingWriter{}
			slot := newSpeakerSlot(nil, cam.stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, ProgramStreamID, "program-video", needHigh)
			slot.h264 = tt.h264
			slot.bound.Store(&binding{ssrc: 42, payloadType: 96, h264Type: tt.h264Type, stream: w})
			var h rtp.Header

			slot.switchSource(cam)
			cam.forward(&h, vp8Packet(100, 1000, true, true))
			cam.forward(&h, vp8Packet(101, 4000, false, true))
			slot.switchSource(mixer)
			mixer.forward(&h, h264Packet(500, 90000, slice)) // not a keyframe: waits
			cam.forward(&h, vp8Packet(102, 7000, false, true))
			mixer.forward(&h, h264Packet(501, 93600, stapSPS))
			mixer.forward(&h, h264Packet(502, 93600, idr))
			mixer.forward(&h, h264Packet(503, 97200, slice))
			cam.forward(&h, vp8Packet(103, 10000, false, true))
			slot.switchSource(cam)
			cam.forward(&h, vp8Packet(104, 13000, true, true))
			cam.forward(&h, vp8Packet(105, 16000, false, true))

			var types []uint8
			for i, hd := range w.headers {
				types = append(types, hd.PayloadType)
				if hd.PayloadType == 102 && (i < 3 || i > 5 || string(w.payloads[i]) != string([][]byte{stapSPS, idr, slice}[i-3])) {
					t.Errorf("packet %d: H.264 payload %x changed", i, w.payloads[i])
				}
			}
			if fmt.Sprint(types) != fmt.Sprint(tt.wantTypes) {
				t.Fatalf("payload types %v, want %v", types, tt.wantTypes)
			}
			// The SPS and the IDR picture are one access unit: one
			// timestamp.
			for i := 1; i < len(w.headers); i++ {
				a, b := w.headers[i-1], w.headers[i]
				if b.SequenceNumber != a.SequenceNumber+1 || b.Timestamp-a.Timestamp > 1<<31 {
					t.Errorf("packet %d: sequence %d, timestamp %d after %d, %d", i, b.SequenceNumber, b.Timestamp, a.SequenceNumber, a.Timestamp)
				}
			}
		})
	}
}
