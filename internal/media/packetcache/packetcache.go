// Package packetcache keeps the last packets of one RTP stream by sequence
// number, so that the retransmission requests (NACKs) of every subscriber
// of the stream are answered from one copy, instead of a copy per
// subscriber.
//
// A Cache is written by one goroutine (the stream's reader) and read by
// any number; it allocates nothing after New.
package packetcache

import (
	"sync"
)

// SlotSize is the largest packet a cache keeps; a longer one is not kept.
const SlotSize = 1500

// MaxPackets bounds the packets of a cache.
const MaxPackets = 1 << 15

// Cache is a ring of the last packets of a stream, indexed by sequence
// number. The zero value keeps nothing; use New.
type Cache struct {
	mu      sync.RWMutex
	slots   []slot
	buf     []byte // len(slots) * SlotSize
	mask    uint16
	highest uint16
	started bool
}

type slot struct {
	seq   uint16
	size  uint16
	valid bool
}

// New returns a cache of the last packets packets (rounded up to a power of
// two, at least 1, at most MaxPackets).
func New(packets int) *Cache {
	n := 1
	for n < packets && n < MaxPackets {
		n <<= 1
	}
	return &Cache{slots: make([]slot, n), buf: make([]byte, n*SlotSize), mask: uint16(n - 1)}
}

// Len returns how many packets the cache holds at most.
func (c *Cache) Len() int { return len(c.slots) }

// Store keeps a copy of pkt, the packet with sequence number seq, in the
// place of the packet Len() before it. A packet older than the window of
// the Len() packets before the highest seen is not kept, nor one longer
// than SlotSize. It reports whether it kept pkt.
func (c *Cache) Store(seq uint16, pkt []byte) bool {
	if len(pkt) > SlotSize || len(c.slots) == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.started:
		c.started, c.highest = true, seq
	case int16(seq-c.highest) > 0:
		// Slots between the old highest and seq now hold packets a ring
		// turn old: forget them, so that Get does not answer with them.
		if gap := int(seq - c.highest); gap > 1 {
			for i := 1; i < min(gap, len(c.slots)); i++ {
				c.slots[(c.highest+uint16(i))&c.mask].valid = false
			}
		}
		c.highest = seq
	case int(c.highest-seq) >= len(c.slots):
		return false // older than the window
	}
	i := int(seq & c.mask)
	copy(c.buf[i*SlotSize:], pkt)
	c.slots[i] = slot{seq: seq, size: uint16(len(pkt)), valid: true}
	return true
}

// Get copies the packet with sequence number seq into dst and returns its
// length; ok is false when the cache does not hold it (too old, never
// received, or dst too short).
func (c *Cache) Get(seq uint16, dst []byte) (n int, ok bool) {
	if len(c.slots) == 0 {
		return 0, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.slots[seq&c.mask]
	if !s.valid || s.seq != seq || int(s.size) > len(dst) {
		return 0, false
	}
	i := int(seq & c.mask)
	return copy(dst, c.buf[i*SlotSize:i*SlotSize+int(s.size)]), true
}
