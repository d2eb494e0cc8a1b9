package packetcache

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

func pkt(seq uint16) []byte { return []byte(fmt.Sprintf("packet %d", seq)) }

func TestCache(t *testing.T) {
	type step struct {
		store []uint16 // stored in this order
		has   []uint16 // then these are held
		not   []uint16 // and these are not
	}
	tests := []struct {
		name  string
		size  int
		steps []step
	}{
		{"in order", 8, []step{{store: []uint16{1, 2, 3}, has: []uint16{1, 2, 3}, not: []uint16{0, 4}}}},
		{"ring turns", 4, []step{{store: []uint16{1, 2, 3, 4, 5, 6}, has: []uint16{3, 4, 5, 6}, not: []uint16{1, 2, 7}}}},
		{"reordered and late", 8, []step{{store: []uint16{10, 12, 11, 9}, has: []uint16{9, 10, 11, 12}}}},
		{"too late for the window", 4, []step{{store: []uint16{10, 11, 12, 13, 9}, has: []uint16{10, 13}, not: []uint16{9}}}},
		{"a jump forgets the slots skipped", 4, []step{{store: []uint16{1, 2, 3, 4, 7}, has: []uint16{4, 7}, not: []uint16{5, 6, 3}}}},
		{"a jump past the ring", 4, []step{{store: []uint16{1, 2, 3, 4, 100}, has: []uint16{100}, not: []uint16{1, 2, 3, 4}}}},
		{"across the wrap of sequence numbers", 8, []step{{store: []uint16{65534, 65535, 0, 1}, has: []uint16{65534, 65535, 0, 1}, not: []uint16{2, 65533}}}},
		{"size rounds up to a power of two", 5, []step{{store: []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9}, has: []uint16{2, 9}, not: []uint16{1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.size)
			buf := make([]byte, SlotSize)
			for _, st := range tt.steps {
				for _, s := range st.store {
					c.Store(s, pkt(s))
				}
				for _, s := range st.has {
					n, ok := c.Get(s, buf)
					if !ok || !bytes.Equal(buf[:n], pkt(s)) {
						t.Errorf("Get(%d) = %q, %v; want %q", s, buf[:n], ok, pkt(s))
					}
				}
				for _, s := range st.not {
					if n, ok := c.Get(s, buf); ok {
						t.Errorf("Get(%d) = %q; want none", s, buf[:n])
					}
				}
			}
		})
	}
}

func TestCacheRefuses(t *testing.T) {
	c := New(4)
	if c.Store(1, make([]byte, SlotSize+1)) {
		t.Error("kept a packet longer than SlotSize")
	}
	c.Store(2, pkt(2))
	if _, ok := c.Get(2, make([]byte, 3)); ok {
		t.Error("Get into a too short buffer succeeded")
	}
	var zero Cache
	if zero.Store(1, pkt(1)) {
		t.Error("the zero cache kept a packet")
	}
	if _, ok := zero.Get(1, make([]byte, SlotSize)); ok {
		t.Error("the zero cache answered")
	}
	if got := New(1 << 20).Len(); got != MaxPackets {
		t.Errorf("Len of a huge cache = %d, want %d", got, MaxPackets)
	}
}

// TestCacheConcurrent reads while the stream is written, under -race:
// every packet read is whole.
func TestCacheConcurrent(t *testing.T) {
	c := New(64)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			buf := make([]byte, SlotSize)
			for {
				select {
				case <-done:
					return
				default:
				}
				for s := uint16(0); s < 2000; s += 7 {
					if n, ok := c.Get(s, buf); ok && !bytes.Equal(buf[:n], pkt(s)) {
						t.Errorf("Get(%d) = %q", s, buf[:n])
						return
					}
				}
			}
		})
	}
	for s := range uint16(2000) {
		c.Store(s, pkt(s))
	}
	close(done)
	wg.Wait()
}

func BenchmarkStore(b *testing.B) {
	c := New(256)
	p := make([]byte, 1200)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	var seq uint16
	for b.Loop() {
		c.Store(seq, p)
		seq++
	}
}

func BenchmarkGet(b *testing.B) {
	c := New(256)
	p := make([]byte, 1200)
	for s := range uint16(256) {
		c.Store(s, p)
	}
	buf := make([]byte, SlotSize)
	b.ReportAllocs()
	var seq uint16
	for b.Loop() {
		c.Get(seq&255, buf)
		seq++
	}
}
