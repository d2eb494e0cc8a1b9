package sfu

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// poolUpTrack returns a test up-track whose large fan-outs go through a
// pool of n writers, and n subscribers' worth of down-tracks per writer
// are made by bindPool.
func poolUpTrack(t testing.TB, kind webrtc.RTPCodecType, mime string, writers int) *upTrack {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	u := testUpTrack(kind, mime)
	u.pool = newWriterPool(ctx, writers)
	return u
}

// bindPool adds a bound down-track of u for a subscriber of the pool's
// next writer.
func bindPool(u *upTrack, w webrtc.TrackLocalWriter, ssrc uint32) *downTrack {
	sub := &Participant{writer: u.pool.assign()}
	d := newDownTrack(u, sub)
	d.bound.Store(&binding{ssrc: ssrc, payloadType: 96, stream: w})
	return d
}

// forwarded sums what u's reader and the pool's writers forwarded.
func forwarded(u *upTrack) uint64 {
	var t trafficTotals
	t.add(&u.traffic)
	u.pool.add(&t)
	return t.forwarded
}

// waitForwarded waits until u and its writers forwarded want packets.
func waitForwarded(t testing.TB, u *upTrack, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for forwarded(u) < want {
		if time.Now().After(deadline) {
			t.Fatalf("forwarded %d packets, want %d", forwarded(u), want)
		}
		runtime.Gosched()
	}
}

// TestFanOutOverWriters: a track with more down-tracks than its reader
// writes itself reaches every one of them through the writers, each in
// order and rewritten as it would be inline, and the writers did part of
// the work.
func TestFanOutOverWriters(t *testing.T) {
	const subscribers, packets = 3 * inlineFanout, 50
	u := poolUpTrack(t, webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8, 2)
	u.codec.ClockRate = 90000
	ws := make([]*recordingWriter, subscribers)
	for i := range ws {
		ws[i] = &recordingWriter{}
		bindPool(u, ws[i], uint32(100+i))
	}
	plan := u.plan.Load()
	if plan.byWriter == nil || len(plan.byWriter[0]) != subscribers/2 || len(plan.byWriter[1]) != subscribers/2 {
		t.Fatalf("plan of %d down-tracks over 2 writers: %v", subscribers, plan.byWriter)
	}
	var h rtp.Header
	for i := range packets {
		u.forward(&h, vp8Packet(uint16(65500+i), uint32(3000*i), i == 0, true))
	}
	waitForwarded(t, u, subscribers*packets)
	for i, w := range ws {
		if len(w.headers) != packets {
			t.Fatalf("subscriber %d got %d packets, want %d", i, len(w.headers), packets)
		}
		checkContinuous(t, w.headers)
		if w.headers[0].SSRC != uint32(100+i) || w.headers[0].SequenceNumber != 65500 {
			t.Errorf("subscriber %d: first packet %+v", i, w.headers[0])
		}
	}
	var byWriters trafficTotals
	u.pool.add(&byWriters)
	if byWriters.forwarded != subscribers/2*packets {
		t.Errorf("the writers forwarded %d packets, want the half of the fan-out not written by the reader, %d",
			byWriters.forwarded, subscribers/2*packets)
	}
}

// TestFanOutAudioUsesTheCache: sound, which is not retransmitted, gets a
// packet cache once its fan-out goes through the writers, and not before.
func TestFanOutAudioUsesTheCache(t *testing.T) {
	u := poolUpTrack(t, webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, 2)
	for i := range inlineFanout {
		bindPool(u, discardWriter{}, uint32(i+1))
	}
	if u.cache.Load() != nil || u.plan.Load().byWriter != nil {
		t.Fatalf("a small audio fan-out has a cache or goes through the writers")
	}
	bindPool(u, discardWriter{}, 99)
	if u.cache.Load() == nil || u.plan.Load().byWriter == nil {
		t.Fatalf("a large audio fan-out has no cache or does not go through the writers")
	}
	var h rtp.Header
	for i := range 10 {
		u.forward(&h, opusPacket(uint16(i), uint32(960*i)))
	}
	waitForwarded(t, u, 10*(inlineFanout+1))
}

// blockingWriter blocks every write until release is closed.
type blockingWriter struct {
	release chan struct{}
}

func (w *blockingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	<-w.release
	return len(payload), nil
}

func (w *blockingWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestFanOutFullWriterDrops: a writer that cannot keep up loses packets
// for its slice, counted as dropped, while the reader's own slice goes on
// at once.
func TestFanOutFullWriterDrops(t *testing.T) {
	u := poolUpTrack(t, webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, 2)
	blocked := &blockingWriter{release: make(chan struct{})}
	live := make([]*recordingWriter, 0, inlineFanout)
	for i := range 2 * inlineFanout {
		d := bindPool(u, nil, uint32(i+1))
		if d.writer == int(u.ssrc%2) { // the reader's own slice
			w := &recordingWriter{}
			live = append(live, w)
			d.bound.Store(&binding{ssrc: uint32(i + 1), payloadType: 111, stream: w})
		} else {
			d.bound.Store(&binding{ssrc: uint32(i + 1), payloadType: 111, stream: blocked})
		}
	}
	packets := writerQueueLen + 100
	var h rtp.Header
	for i := range packets {
		u.forward(&h, opusPacket(uint16(i), uint32(960*i)))
	}
	for i, w := range live {
		if len(w.headers) != packets {
			t.Fatalf("subscriber %d of the reader's slice got %d packets, want %d", i, len(w.headers), packets)
		}
	}
	// Dropped by the reader (the writer's queue full) or by the writer
	// (a job whose packet the cache had let go while the writer was
	// slow to start): either way counted, never waited for.
	var drops trafficTotals
	drops.add(&u.traffic)
	u.pool.add(&drops)
	if drops.dropped == 0 {
		t.Errorf("no packet counted as dropped for the blocked writer's slice")
	}
	close(blocked.release)
}

// BenchmarkFanOut measures one incoming packet forwarded to n down-tracks
// over a pool of writers (one per core), up to the pion write stream,
// replaced by a discarding writer; the time is until every writer is done.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{10, 100, 400} {
		b.Run(fmt.Sprintf("downtracks=%d", n), func(b *testing.B) {
			u := poolUpTrack(b, webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8, 0)
			for i := range n {
				bindPool(u, discardWriter{}, uint32(i+1))
			}
			pkt := vp8Packet(0, 0, true, true)
			pkt = append(pkt, make([]byte, 1000)...)
			var h rtp.Header
			u.forward(&h, pkt) // start every down-track on the keyframe
			waitForwarded(b, u, uint64(n))
			start := forwarded(u)
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				pkt[2], pkt[3] = byte((i+1)>>8), byte(i+1)
				u.forward(&h, pkt)
				if i%64 == 63 { // keep the writers within the cache
					waitForwarded(b, u, start+uint64((i+1)*n))
				}
			}
			waitForwarded(b, u, start+uint64(b.N*n))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/downtrack")
		})
	}
}
