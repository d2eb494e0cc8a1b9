package sfu

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// blockingWriter blocks every write until released, as a congested TCP
// connection does, then records what it is given.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	seqs    []uint16
}

func (w *blockingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seqs = append(w.seqs, h.SequenceNumber)
	return len(payload), nil
}

func (w *blockingWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestBlockedSubscriberDoesNotDelayOthers: a subscriber whose writes block
// gets its packets through its send queue, which drops when full; the
// publisher's loop goes on and every other subscriber gets every packet.
func TestBlockedSubscriberDoesNotDelayOthers(t *testing.T) {
	up := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	up.codec.ClockRate = 90000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stalled := &Participant{}
	q := newSendQueue(up.stats)
	stalled.sendQueue.Store(q)
	go q.run(ctx)
	blocked := &blockingWriter{release: make(chan struct{})}
	d1 := newDownTrack(up, stalled)
	d1.bound.Store(&binding{ssrc: 1, payloadType: 96, stream: blocked})
	fine := &recordingWriter{}
	bindTest(up, fine, 2, 96)

	const n = 1000
	done := make(chan struct{})
	go func() {
		defer close(done)
		var h rtp.Header
		for i := range n {
			up.forward(&h, vp8Packet(uint16(i), 3000*uint32(i), i == 0, true))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(blocked.release)
		t.Fatal("the publisher's loop waited for the blocked subscriber")
	}
	if len(fine.headers) != n {
		t.Errorf("the other subscriber got %d of %d packets", len(fine.headers), n)
	}
	if got := q.dropped.Load(); got < n-sendQueueLen-1 {
		t.Errorf("the full queue dropped %d packets, want at least %d", got, n-sendQueueLen-1)
	}

	// Unblocked, the subscriber gets what waited, in order.
	close(blocked.release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		blocked.mu.Lock()
		got := len(blocked.seqs)
		blocked.mu.Unlock()
		if got >= sendQueueLen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the release the subscriber got %d packets, want %d", got, sendQueueLen)
		}
		time.Sleep(5 * time.Millisecond)
	}
	blocked.mu.Lock()
	defer blocked.mu.Unlock()
	for i := 1; i < len(blocked.seqs); i++ {
		if int16(blocked.seqs[i]-blocked.seqs[i-1]) <= 0 {
			t.Fatalf("queued packets out of order: %v", blocked.seqs[:i+1])
		}
	}
}

func BenchmarkSendQueue(b *testing.B) {
	q := newSendQueue(&counters{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.run(ctx)
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}
	payload := make([]byte, 1200)
	b.ReportAllocs()
	for b.Loop() {
		for !q.push(discardWriter{}, &h, payload) {
		}
		h.SequenceNumber++
	}
}
