package sfu

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fuzzWriter records what a down-track writes and fails the writes it is
// told to, as pion does before the subscriber's DTLS is up (0 bytes, no
// error) or once its transport closed (an error).
type fuzzWriter struct {
	fail    int // 0: write; 1: drop silently; 2: return an error
	calls   int
	headers []rtp.Header
	payload [][]byte
}

func (w *fuzzWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.calls++
	switch w.fail {
	case 1:
		return 0, nil
	case 2:
		return 0, errors.New("transport closed")
	}
	w.headers = append(w.headers, *h)
	w.payload = append(w.payload, append([]byte(nil), payload...))
	return len(payload) + 12, nil
}

func (w *fuzzWriter) Write(b []byte) (int, error) { return len(b), nil }

// fuzzSource is an up-track of the fuzz test and the packets it sent, by
// sequence number: what its cache may hold.
type fuzzSource struct {
	u    *upTrack
	seq  uint16
	ts   uint32
	sent map[uint16]fuzzPacket
}

type fuzzPacket struct {
	ts      uint32
	marker  bool
	payload []byte
}

// Fuzz operations, one per 4 bytes of FuzzDownTrackWrite's ops: the low 3
// bits of the first byte choose the operation, the rest are arguments.
const (
	opPacket  = iota // up to opBigJump: a packet; bit 3 picks the source, bits 4-7 keyframe, marker, failed write, padding
	_                // a packet
	_                // a packet
	opBigJump        // a packet after a jump of up to ±32767 sequence numbers
	opSwitch         // the slot switches to source a, b or none
	opPause          // the current source is gated and let through again
	opResend         // the subscriber NACKs three sequence numbers
	opWait           // time passes
)

// FuzzDownTrackWrite drives a speaker slot through arbitrary packets of
// two sources (any sequence numbers and timestamps, reordered, repeated,
// with jumps and wraps), source switches, pauses, failed writes, time and
// NACKs, and checks what the subscriber receives:
//
//   - nothing panics, and every packet carries the slot's SSRC and payload
//     type and the source's payload, marker and padding unchanged;
//   - only the current source is written, and video starts on a keyframe
//     after every switch;
//   - within one run of a source, output sequence numbers and timestamps
//     keep the source's spacing (a fixed offset), so gaps stay gaps;
//   - the first packet after a switch or pause continues right after the
//     newest packet sent (sequence number + 1, timestamp advanced by the
//     time that passed) and never goes back;
//   - a running slot writes the packet that follows the last one it wrote:
//     it does not stall;
//   - a resent packet is the source packet at that place, with the
//     timestamp it had, and none from before the current run.
func FuzzDownTrackWrite(f *testing.F) {
	// A video call: a's keyframe and frames, a lost packet, a switch to b
	// whose first packet is no keyframe, b's keyframe, a NACK, a pause,
	// back to a, a repeated packet.
	f.Add(true, uint16(65530), uint32(4294900000), uint16(100), uint32(0), []byte{
		0x04, 0, 0, 0, 0x30, 1, 30, 33, 0x20, 1, 30, 33, 0x20, 2, 30, 33, 0x20, 1, 30, 33,
		0x04, 1, 0, 0, 0x28, 1, 30, 10, 0x38, 1, 30, 33, 0x28, 1, 30, 33, 0x06, 1, 2, 3,
		0x05, 200, 0, 0, 0x28, 1, 30, 33, 0x07, 0, 200, 0,
		0x04, 0, 0, 0, 0x20, 1, 30, 33, 0x30, 1, 30, 33, 0x20, 1, 30, 33, 0x20, 0xff, 30, 1, 0x06, 0, 1, 130,
	})
	// An audio slot: a failed write, a pause (gated and let through), a
	// jump of half the sequence space, a switch to nobody and back, a
	// packet from before the run, a switch to b.
	f.Add(false, uint16(65534), uint32(1000), uint16(7), uint32(4294967000), []byte{
		0x04, 0, 0, 0, 0x00, 1, 10, 20, 0x00, 1, 10, 20, 0x40, 1, 10, 20, 0x00, 1, 10, 20,
		0x05, 250, 0, 0, 0x00, 1, 10, 20, 0x03, 0x80, 0x00, 20, 0x00, 1, 10, 20,
		0x04, 2, 0, 0, 0x00, 1, 10, 20, 0x04, 0, 0, 0, 0x00, 0xff, 10, 20, 0x00, 0xfe, 10, 20, 0x00, 3, 10, 20,
		0x06, 0, 1, 5, 0x04, 1, 0, 0, 0x08, 1, 0, 0, 0x08, 1, 10, 20, 0x07, 0xff, 0xff, 0, 0x08, 1, 10, 20,
	})
	// Video whose first keyframes are lost on the way (DTLS not up yet).
	f.Add(true, uint16(0), uint32(0), uint16(0), uint32(0), []byte{
		0x04, 0, 0, 0, 0x50, 2, 30, 1, 0x00, 1, 30, 1, 0x50, 2, 30, 1, 0x10, 1, 30, 1, 0x00, 1, 30, 1, 0x06, 0, 1, 2,
	})
	f.Fuzz(func(t *testing.T, video bool, seqA uint16, tsA uint32, seqB uint16, tsB uint32, ops []byte) {
		kind, mime, pt := webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, uint8(111)
		if video {
			kind, mime, pt = webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8, 96
		}
		codec := speakerCodec(kind)
		srcs := [2]*fuzzSource{}
		for i, start := range [][2]uint32{{uint32(seqA), tsA}, {uint32(seqB), tsB}} {
			u := testUpTrack(kind, mime)
			u.codec.ClockRate = codec.ClockRate
			srcs[i] = &fuzzSource{u: u, seq: uint16(start[0]), ts: start[1], sent: map[uint16]fuzzPacket{}}
		}
		w := &fuzzWriter{}
		slot := newSpeakerSlot(nil, srcs[0].u.stats, codec, kind, SpeakerStreamID, "speaker-"+kind.String(), needHigh)
		slot.bound.Store(&binding{ssrc: 42, payloadType: pt, stream: w})
		defer slot.close()

		now := int64(1_800_000_000) * 1e9
		var (
			cur *fuzzSource // the slot's source, as the test chose it
			// fwd is the source the slot forwards: for video, after a
			// switch, the one before until the first keyframe of cur
			// reaches the writer.
			fwd *fuzzSource

			// The newest packet written, by sequence number.
			haveNewest bool
			newestSeq  uint16
			newestTS   uint32
			newestAt   int64

			// The run since the latest switch or pause.
			runFresh    bool   // no packet of the run written yet
			runFailed   bool   // a write failed in the run
			runStartIn  uint16 // first packet that reached the writer, while !runFailed
			runStarted  bool
			runHighest  uint16 // newest packet that reached the writer since runStartIn
			runProgress int    // sequence numbers from runStartIn to runHighest
			runAny      bool   // a packet of the run reached the writer
			runAnyHigh  uint16 // newest packet of the run that reached the writer
			runAnySpan  int    // sequence numbers from the run's first such packet to runAnyHigh
			needKey     bool   // video: the run's first packet must be a keyframe
			offKnown    bool   // offsets of the run, from its last restart on
			seqOff      uint16
			tsOff       uint32
			armed       bool // the run writes; the next packet must go out
			lastWritten uint16
		)
		boundary := func() {
			runFresh, runFailed, runStarted, runAny, offKnown, armed = true, false, false, false, false, false
		}
		boundary()

		for len(ops) >= 4 {
			op, x, y, z := ops[0], ops[1], ops[2], ops[3]
			ops = ops[4:]
			switch op & 7 {
			case opSwitch:
				var next *fuzzSource
				if x%3 < 2 {
					next = srcs[x%3]
				}
				if next == cur {
					continue
				}
				var u *upTrack
				if next != nil {
					u = next.u
				}
				slot.switchSource(u)
				cur = next
				switch {
				case video && next != nil && fwd != nil:
					// fwd goes on until cur's keyframe; back to fwd, it
					// goes on as it was.
				default:
					fwd = next
					boundary()
					needKey = video && next != nil
				}
			case opPause:
				if cur != nil {
					cur.u.setGated(true)
					cur.u.setGated(false)
					boundary()
				}
				now += int64(x) * 1e6
			case opWait:
				now += int64(uint16(x)<<8|uint16(y)) * 1e6
			case opResend:
				if !haveNewest {
					continue
				}
				seqs := []uint16{newestSeq - uint16(x%64), newestSeq - uint16(y%64), newestSeq + uint16(z) - 128}
				before, calls := len(w.headers), w.calls
				w.fail = int(x>>6) % 3
				n, _ := slot.resend(seqs, make([]byte, 1500), &rtp.Header{}, newScratch())
				if n != len(w.headers)-before || w.calls-calls > len(seqs) || (w.fail == 0 && w.calls-calls != n) {
					t.Fatalf("resend reported %d packets, wrote %d in %d calls", n, len(w.headers)-before, w.calls-calls)
				}
				if n > 0 && fwd == nil {
					t.Fatalf("an empty slot resent %d packets", n)
				}
				for i := before; i < len(w.headers); i++ {
					h, payload := w.headers[i], w.payload[i]
					if h.SSRC != 42 || h.PayloadType != pt {
						t.Fatalf("resent packet with SSRC %d, payload type %d", h.SSRC, h.PayloadType)
					}
					if !offKnown {
						continue // the run's offsets are the slot's to choose
					}
					in := h.SequenceNumber - seqOff
					p, ok := fwd.sent[in]
					if !ok {
						t.Fatalf("resent sequence number %d, which maps to %d that source never sent", h.SequenceNumber, in)
					}
					if h.Timestamp != p.ts+tsOff || h.Marker != p.marker || !bytes.Equal(payload, p.payload) {
						t.Fatalf("resent %d: timestamp %d, marker %v, payload %x; the source's packet %d: %d, %v, %x",
							h.SequenceNumber, h.Timestamp, h.Marker, payload, in, p.ts+tsOff, p.marker, p.payload)
					}
					if runStarted && !runFailed && runProgress < 0x7fff && int(in-runStartIn) > runProgress {
						t.Fatalf("resent source packet %d from before the run started at %d", in, runStartIn)
					}
				}
			default: // a packet
				s := srcs[op>>3&1]
				key, marker, fail, padding := op&0x10 != 0, op&0x20 != 0, op&0x40 != 0, op&0x80 != 0
				if op&7 == opBigJump {
					s.seq += uint16(x)<<8 | uint16(y)
				} else {
					s.seq += uint16(int8(x))
				}
				s.ts += uint32(int32(int8(y)) * 100)
				now += int64(z) * 1e6
				payload := []byte{0x10, 0x01, x, y, z}
				if key {
					payload[1] = 0x00
				}
				hdr := rtp.Header{Version: 2, Marker: marker, PayloadType: 100, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: 9}
				if padding {
					hdr.Padding, hdr.PaddingSize = true, 2
				}
				pkt, err := (&rtp.Packet{Header: hdr, Payload: payload}).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				// What forward does before writing to the down-tracks.
				var h rtp.Header
				hl, err := h.Unmarshal(pkt)
				if err != nil {
					t.Fatal(err)
				}
				if c := s.u.cache.Load(); c != nil && c.Store(h.SequenceNumber, pkt) {
					s.sent[h.SequenceNumber] = fuzzPacket{ts: h.Timestamp, marker: marker, payload: pkt[hl:]}
				}

				w.fail = 0
				if fail {
					w.fail = 1 + int(x&1)
				}
				calls, written := w.calls, len(w.headers)
				sc := newScratch()
				fi := readVP8(payload)
				ok := slot.write(s.u, &h, sc, pkt[hl:], &fi, now) == writeSent
				attempted := w.calls > calls
				if ok != (len(w.headers) > written) {
					t.Fatalf("write reported %v, wrote %d packets", ok, len(w.headers)-written)
				}
				if s != cur && s != fwd {
					if attempted {
						t.Fatalf("a packet of a source the slot neither shows nor still forwards reached the writer")
					}
					continue
				}
				if s == cur && fwd != cur {
					// The switch to cur: its first packet to reach the
					// writer is its keyframe, and starts a new run.
					if !attempted {
						continue
					}
					if !key {
						t.Fatalf("the slot went over to a new source on packet %d, which is not a keyframe", h.SequenceNumber)
					}
					fwd = cur
					boundary()
					needKey = true
				}
				if armed && h.SequenceNumber == lastWritten+1 && !attempted {
					t.Fatalf("packet %d after the last written %d was not written: the slot stalled", h.SequenceNumber, lastWritten)
				}
				if !attempted {
					continue
				}
				if !runAny {
					runAny, runAnyHigh, runAnySpan = true, h.SequenceNumber, 0
				} else if d := int16(h.SequenceNumber - runAnyHigh); d > 0 {
					runAnyHigh, runAnySpan = h.SequenceNumber, runAnySpan+int(d)
				}
				if !runStarted && !runFailed {
					runStarted, runStartIn, runHighest, runProgress = true, h.SequenceNumber, h.SequenceNumber, 0
				} else if d := int16(h.SequenceNumber - runHighest); d > 0 {
					runHighest, runProgress = h.SequenceNumber, runProgress+int(d)
				}
				if !ok {
					runFailed, armed = true, false
					if key {
						offKnown = false // the slot may wait for the next keyframe and restart there
					}
					continue
				}
				out := w.headers[len(w.headers)-1]
				if out.SSRC != 42 || out.PayloadType != pt || out.Version != 2 || out.Marker != marker || out.Padding != padding ||
					out.Extension || len(out.CSRC) != 0 || !bytes.Equal(w.payload[len(w.payload)-1], pkt[hl:]) {
					t.Fatalf("packet %d written as %+v, payload %x; sent %x", h.SequenceNumber, out, w.payload[len(w.payload)-1], pkt[hl:])
				}
				if needKey && !key {
					t.Fatalf("video started on packet %d, which is not a keyframe", h.SequenceNumber)
				}
				needKey = false
				if offKnown && (out.SequenceNumber-h.SequenceNumber != seqOff || out.Timestamp-h.Timestamp != tsOff) {
					t.Fatalf("packet %d (timestamp %d) written as %d (%d): offsets %d, %d changed within a run to %d, %d",
						h.SequenceNumber, h.Timestamp, out.SequenceNumber, out.Timestamp, seqOff, tsOff,
						out.SequenceNumber-h.SequenceNumber, out.Timestamp-h.Timestamp)
				}
				if runFresh && haveNewest {
					// Unless the source went further than half the sequence
					// space since the run's first packet, which makes
					// "after" ambiguous.
					if d := int16(out.SequenceNumber - newestSeq); d <= 0 && runAnySpan < 0x7fff {
						t.Fatalf("the run's first packet has sequence number %d, not after the newest sent %d", out.SequenceNumber, newestSeq)
					}
					if !runFailed {
						ticks := uint32(max(1, (now-newestAt)*int64(codec.ClockRate)/1e9))
						if out.SequenceNumber != newestSeq+1 || out.Timestamp != newestTS+ticks {
							t.Fatalf("the run's first packet is %d at %d; want %d at %d (%d ticks after the newest)",
								out.SequenceNumber, out.Timestamp, newestSeq+1, newestTS+ticks, ticks)
						}
					}
				}
				runFresh, offKnown, armed, lastWritten = false, true, true, h.SequenceNumber
				seqOff, tsOff = out.SequenceNumber-h.SequenceNumber, out.Timestamp-h.Timestamp
				if !haveNewest || int16(out.SequenceNumber-newestSeq) > 0 {
					haveNewest, newestSeq, newestTS, newestAt = true, out.SequenceNumber, out.Timestamp, now
				}
			}
		}
	})
}

// FuzzUpTrackForward feeds an up-track arbitrary bytes as packets (each
// preceded by its length in one byte) and checks that forwarding never
// panics, writes the packet's payload unchanged, and starts video only on
// what the codec's detector calls a keyframe.
func FuzzUpTrackForward(f *testing.F) {
	vp8 := vp8Packet(65535, 3000, true, true)
	vp8Inter := vp8Packet(0, 6000, false, true)
	h264IDR, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 1, Timestamp: 90}, Payload: []byte{0x65, 0x88, 0x84}}).Marshal()
	stapA, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 2}, Payload: []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}}).Marshal()
	fuA, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 3, Padding: true}, Payload: []byte{0x7c, 0x85, 0xb8, 0, 0, 2}}).Marshal()
	join := func(pkts ...[]byte) []byte {
		var b []byte
		for _, p := range pkts {
			b = append(b, byte(len(p)))
			b = append(b, p...)
		}
		return b
	}
	f.Add(uint8(0), join(vp8Inter, vp8, vp8Inter))
	f.Add(uint8(1), join(h264IDR, stapA, fuA))
	f.Add(uint8(2), join(opusPacket(1, 960), opusPacket(2, 1920), []byte{0x80}, opusPacket(4, 3840)))
	f.Add(uint8(0), join(vp8[:13], vp8[:12], append(append([]byte(nil), vp8[:len(vp8)-1]...), 0xff)))
	f.Fuzz(func(t *testing.T, codec uint8, data []byte) {
		kind, mime := webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8
		switch codec % 3 {
		case 1:
			mime = webrtc.MimeTypeH264
		case 2:
			kind, mime = webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus
		}
		u := testUpTrack(kind, mime)
		w := &fuzzWriter{}
		bindTest(u, w, 42, 100)
		var h rtp.Header
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			pkt := data[1 : 1+n]
			data = data[1+n:]
			written := len(w.headers)
			u.forward(&h, pkt)
			if len(w.headers) == written {
				continue
			}
			var p rtp.Header
			hl, err := p.Unmarshal(pkt)
			if err != nil {
				t.Fatalf("forwarded %x, which is not RTP: %v", pkt, err)
			}
			if !bytes.Equal(w.payload[written], pkt[hl:]) {
				t.Fatalf("forwarded payload %x of %x", w.payload[written], pkt)
			}
			if written == 0 && kind == webrtc.RTPCodecTypeVideo {
				media := pkt[hl:]
				if p.Padding && len(media) > 0 {
					media = media[:len(media)-int(media[len(media)-1])]
				}
				if !u.readFrame(media).keyframe {
					t.Fatalf("video started on %x, which is not a keyframe", pkt)
				}
			}
		}
	})
}
