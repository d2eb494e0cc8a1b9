package sfu

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// sendQueueLen is how many packets wait for a subscriber whose writes may
// block: about a second of a 1 Mbit/s camera and its sound.
const sendQueueLen = 128

// maxCSRC is the most contributing sources a queued packet keeps.
const maxCSRC = 15

// sendQueue holds the packets of one subscriber whose connection may block
// a write (ICE-TCP: a congested TCP connection blocks until the peer reads),
// and writes them from a goroutine of its own, so that the publishers'
// loops, which hold a down-track's lock while they write, never wait for
// it. When the queue is full a packet is dropped, as a congested link
// drops it; the subscriber's NACKs and keyframe requests repair what they
// can. Its slots are allocated once.
type sendQueue struct {
	mu    sync.Mutex
	jobs  [sendQueueLen]sendJob
	head  int // next to write
	n     int // waiting
	wake  chan struct{}
	stats *counters

	dropped atomic.Uint64
}

// sendJob is one packet waiting: the stream to write it to, its header
// (with its CSRC list copied) and its payload.
type sendJob struct {
	stream  webrtc.TrackLocalWriter
	hdr     rtp.Header
	csrc    [maxCSRC]uint32
	payload [1500]byte
	size    int
}

func newSendQueue(stats *counters) *sendQueue {
	return &sendQueue{wake: make(chan struct{}, 1), stats: stats}
}

// push copies the packet of h and payload for stream into the queue and
// reports whether it fit; it never blocks. Only the header's fixed fields
// and CSRC list are kept (down-tracks send no header extensions).
func (q *sendQueue) push(stream webrtc.TrackLocalWriter, h *rtp.Header, payload []byte) bool {
	if len(payload) > len(q.jobs[0].payload) || len(h.CSRC) > maxCSRC {
		return false
	}
	q.mu.Lock()
	if q.n == len(q.jobs) {
		q.mu.Unlock()
		q.dropped.Add(1) // the caller counts it in the SFU's stats
		return false
	}
	j := &q.jobs[(q.head+q.n)%len(q.jobs)]
	j.stream = stream
	j.hdr = *h
	j.hdr.CSRC = j.csrc[:copy(j.csrc[:], h.CSRC)]
	j.hdr.Extensions = nil
	j.size = copy(j.payload[:], payload)
	q.n++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// run writes the queued packets until ctx ends; a write that blocks holds
// up this subscriber only.
func (q *sendQueue) run(ctx context.Context) {
	var hdr rtp.Header
	var csrc [maxCSRC]uint32
	var payload [1500]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			if q.n == 0 {
				q.mu.Unlock()
				break
			}
			j := &q.jobs[q.head]
			stream := j.stream
			hdr = j.hdr
			hdr.CSRC = csrc[:copy(csrc[:], j.hdr.CSRC)]
			size := copy(payload[:], j.payload[:j.size])
			j.stream = nil
			q.head = (q.head + 1) % len(q.jobs)
			q.n--
			q.mu.Unlock()
			// The copy is written outside the lock, so that push never
			// waits for the network.
			if _, err := stream.WriteRTP(&hdr, payload[:size]); err != nil {
				q.stats.packetsDropped.Add(1)
			}
		}
	}
}
