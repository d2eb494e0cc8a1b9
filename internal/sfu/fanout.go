package sfu

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"

	"hoinghi/internal/media/packetcache"
)

// inlineFanout is the most down-tracks an up-track's reader writes itself;
// a larger fan-out is spread over the writer pool, so that one published
// track is not bounded by one core.
const inlineFanout = 8

// writerQueueLen is how many packets wait for one writer: about half a
// second of the program of a conference (camera and sound of the speaker
// and the hall) at full rate.
const writerQueueLen = 512

// writerPool is a fixed set of writer goroutines, one per core, that share
// the fan-out of large up-tracks. Each subscriber belongs to one writer,
// so its down-tracks are always written by the same goroutine (or, for a
// small fan-out, by the up-track's reader), and a writer's work is one
// slice of every large fan-out.
type writerPool struct {
	writers []*writer
	next    atomic.Uint32 // round robin of subscribers over writers
}

// writer writes the packets of its slice of the large fan-outs. Its
// counters are its own, summed when Stats is read.
type writer struct {
	jobs    chan fanJob
	traffic traffic
}

// fanJob asks a writer to send the packet with sequence number seq of up,
// kept in up's packet cache, to the down-tracks downs; frame is what up's
// reader learned of it.
type fanJob struct {
	up    *upTrack
	downs []*downTrack
	seq   uint16
	frame frameInfo
	now   int64 // arrival, unix nanoseconds
}

// newWriterPool starts n writers (GOMAXPROCS when n <= 0) that run until
// ctx ends.
func newWriterPool(ctx context.Context, n int) *writerPool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &writerPool{writers: make([]*writer, n)}
	for i := range p.writers {
		w := &writer{jobs: make(chan fanJob, writerQueueLen)}
		p.writers[i] = w
		go w.run(ctx)
	}
	return p
}

// assign returns the writer index of a new subscriber.
func (p *writerPool) assign() int {
	if p == nil {
		return 0
	}
	return int(p.next.Add(1)-1) % len(p.writers)
}

// size is the number of writers; 1 for a nil pool (the reader writes all).
func (p *writerPool) size() int {
	if p == nil {
		return 1
	}
	return len(p.writers)
}

// add sums the writers' traffic into t.
func (p *writerPool) add(t *trafficTotals) {
	if p == nil {
		return
	}
	for _, w := range p.writers {
		t.add(&w.traffic)
	}
}

// run writes the packets given to w until ctx ends. It copies each packet
// out of the cache once, whatever the number of its down-tracks; a packet
// the cache no longer holds (the writer fell a whole cache behind) is
// dropped for all of them.
func (w *writer) run(ctx context.Context) {
	buf, sc := make([]byte, packetcache.SlotSize), newScratch()
	var in rtp.Header
	for {
		var j fanJob
		select {
		case <-ctx.Done():
			return
		case j = <-w.jobs:
		}
		cache := j.up.cache.Load()
		n, ok := 0, false
		if cache != nil {
			n, ok = cache.Get(j.seq, buf)
		}
		if !ok {
			w.traffic.dropped.Add(uint64(len(j.downs)))
			continue
		}
		hl, err := in.Unmarshal(buf[:n])
		if err != nil {
			w.traffic.dropped.Add(uint64(len(j.downs)))
			continue
		}
		writeAll(&w.traffic, j.up, j.downs, &in, sc, buf[hl:n], n, &j.frame, j.now)
	}
}

// writeAll writes one packet of up (header h, payload, size bytes in all)
// to downs and counts the outcome in t; sc is the caller's scratch space.
func writeAll(t *traffic, up *upTrack, downs []*downTrack, h *rtp.Header, sc *scratch, payload []byte, size int, fi *frameInfo, now int64) {
	var sent, dropped uint64
	sc.sentAt = now // the arrival: what the writers add to it is small against a link's delays
	for _, d := range downs {
		switch d.write(up, h, sc, payload, fi, now) {
		case writeSent:
			sent++
		case writeDropped:
			dropped++
		}
	}
	if sent > 0 {
		t.forwarded.Add(sent)
		t.bytesForwarded.Add(sent * uint64(size))
	}
	if dropped > 0 {
		t.dropped.Add(dropped)
	}
}

// fanPlan is who an up-track's packets go to: all its down-tracks, and
// the same split by writer. It is built whole on every change and read
// without a lock.
type fanPlan struct {
	all      []*downTrack
	byWriter [][]*downTrack // nil while the reader writes all (a small fan-out)
}

// newFanPlan returns the plan of downs over writers writers.
func newFanPlan(downs []*downTrack, writers int) *fanPlan {
	p := &fanPlan{all: downs}
	if len(downs) <= inlineFanout || writers <= 1 {
		return p
	}
	p.byWriter = make([][]*downTrack, writers)
	for _, d := range downs {
		i := d.writer % writers
		p.byWriter[i] = append(p.byWriter[i], d)
	}
	return p
}

// traffic counts packets on the forwarding path. Each is written by one
// goroutine (an up-track's reader, or a writer) and padded to its own
// cache lines, so that counting never contends between cores.
type traffic struct {
	packetsIn, bytesIn        atomic.Uint64
	forwarded, bytesForwarded atomic.Uint64
	dropped                   atomic.Uint64
	_                         [24]byte
}

// trafficTotals is a sum of traffic counters.
type trafficTotals struct {
	packetsIn, bytesIn        uint64
	forwarded, bytesForwarded uint64
	dropped                   uint64
}

// add adds the counts of t to s.
func (s *trafficTotals) add(t *traffic) {
	s.packetsIn += t.packetsIn.Load()
	s.bytesIn += t.bytesIn.Load()
	s.forwarded += t.forwarded.Load()
	s.bytesForwarded += t.bytesForwarded.Load()
	s.dropped += t.dropped.Load()
}

// merge adds the sums of o to s.
func (s *trafficTotals) merge(o trafficTotals) {
	s.packetsIn += o.packetsIn
	s.bytesIn += o.bytesIn
	s.forwarded += o.forwarded
	s.bytesForwarded += o.bytesForwarded
	s.dropped += o.dropped
}

// trafficBook keeps the traffic of the live up-tracks and the sum of the
// ended ones, so that the totals only grow.
type trafficBook struct {
	mu      sync.Mutex
	live    map[*traffic]struct{}
	retired trafficTotals
}

// open registers the counters of a new up-track.
func (b *trafficBook) open(t *traffic) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.live == nil {
		b.live = make(map[*traffic]struct{})
	}
	b.live[t] = struct{}{}
}

// retire moves the counts of an up-track that ended into the sum; its
// reader must have stopped.
func (b *trafficBook) retire(t *traffic) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.live[t]; !ok {
		return
	}
	delete(b.live, t)
	b.retired.add(t)
}

// totals returns the sum of every up-track's counts so far.
func (b *trafficBook) totals() trafficTotals {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.retired
	for t := range b.live {
		s.add(t)
	}
	return s
}
