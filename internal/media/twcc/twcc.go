// Package twcc reads transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01) and keeps the
// record of the packets sent on one transport that it reports on: what a
// sender needs to see what its receiver's link delivers, without
// allocating per packet or per feedback.
package twcc

import (
	"encoding/binary"
	"errors"
)

// Errors of ParseFeedback.
var (
	ErrShort    = errors.New("twcc: feedback cut short")
	ErrReserved = errors.New("twcc: reserved packet status")
)

// Packet statuses (the two-bit symbols of the feedback).
const (
	statusNotReceived = 0
	statusSmallDelta  = 1
	statusLargeDelta  = 2
)

// Feedback is one parsed feedback message: its header and the raw packet
// status chunks and receive deltas, walked by Packets.
type Feedback struct {
	// BaseSeq is the transport-wide sequence number of the first packet
	// reported; Count the number of packets reported from it on.
	BaseSeq uint16
	Count   int
	// RefTime is the receiver's clock at the first packet, in
	// microseconds; FbCount counts the receiver's feedback messages.
	RefTime int64
	FbCount uint8
	chunks  []byte
	deltas  []byte
}

// ParseFeedback parses fci, the feedback control information of a
// transport-wide feedback message (the bytes after the media SSRC).
func ParseFeedback(fci []byte) (Feedback, error) {
	if len(fci) < 8 {
		return Feedback{}, ErrShort
	}
	f := Feedback{
		BaseSeq: binary.BigEndian.Uint16(fci),
		Count:   int(binary.BigEndian.Uint16(fci[2:])),
		FbCount: fci[7],
	}
	ref := int64(fci[4])<<16 | int64(fci[5])<<8 | int64(fci[6])
	if ref&0x800000 != 0 {
		ref -= 1 << 24 // signed, 24 bits
	}
	f.RefTime = ref * 64000
	// Walk the chunks to find where the deltas start, and check that they
	// hold one delta for each packet that has one.
	rest, statuses, deltaBytes := fci[8:], 0, 0
	n := 0
	for statuses < f.Count {
		if len(rest) < n+2 {
			return Feedback{}, ErrShort
		}
		c := binary.BigEndian.Uint16(rest[n:])
		n += 2
		for i, k := 0, chunkLen(c); i < k && statuses < f.Count; i++ {
			switch chunkStatus(c, i) {
			case statusSmallDelta:
				deltaBytes++
			case statusLargeDelta:
				deltaBytes += 2
			case statusNotReceived:
			default:
				return Feedback{}, ErrReserved
			}
			statuses++
		}
	}
	if len(rest) < n+deltaBytes {
		return Feedback{}, ErrShort
	}
	f.chunks, f.deltas = rest[:n], rest[n:n+deltaBytes]
	return f, nil
}

// chunkLen is the number of statuses a chunk carries.
func chunkLen(c uint16) int {
	switch {
	case c&0x8000 == 0:
		return int(c & 0x1fff) // run length
	case c&0x4000 == 0:
		return 14 // status vector of one-bit symbols
	default:
		return 7 // status vector of two-bit symbols
	}
}

// chunkStatus is the i-th status of a chunk.
func chunkStatus(c uint16, i int) int {
	switch {
	case c&0x8000 == 0:
		return int(c>>13) & 3
	case c&0x4000 == 0:
		return int(c>>(13-i)) & 1
	default:
		return int(c>>(12-2*i)) & 3
	}
}

// Packets returns an iterator over the packets f reports.
func (f *Feedback) Packets() PacketIter {
	return PacketIter{f: f, arrival: f.RefTime}
}

// PacketIter walks the packets of a feedback in sequence order.
type PacketIter struct {
	f       *Feedback
	done    int // packets returned
	chunk   int // offset of the current chunk in f.chunks
	inChunk int // statuses of the current chunk returned
	delta   int // offset of the next delta in f.deltas
	arrival int64
}

// Next returns the next packet: its sequence number, whether it arrived
// and, if so, when by the receiver's clock (microseconds); ok is false at
// the end.
func (it *PacketIter) Next() (seq uint16, received bool, arrival int64, ok bool) {
	f := it.f
	if it.done >= f.Count {
		return 0, false, 0, false
	}
	c := binary.BigEndian.Uint16(f.chunks[it.chunk:])
	for it.inChunk >= chunkLen(c) {
		it.chunk, it.inChunk = it.chunk+2, 0
		c = binary.BigEndian.Uint16(f.chunks[it.chunk:])
	}
	status := chunkStatus(c, it.inChunk)
	it.inChunk++
	seq = f.BaseSeq + uint16(it.done)
	it.done++
	switch status {
	case statusSmallDelta:
		it.arrival += int64(f.deltas[it.delta]) * 250
		it.delta++
	case statusLargeDelta:
		it.arrival += int64(int16(binary.BigEndian.Uint16(f.deltas[it.delta:]))) * 250
		it.delta += 2
	default:
		return seq, false, 0, true
	}
	return seq, true, it.arrival, true
}

// historySize is how many sent packets History remembers: about 3 s of a
// point's program (the hall's camera and sound, the speaker's) at full
// rate, in 4 KB; feedback comes every 100 ms or so.
const historySize = 1 << 9

// History is the record of the packets sent on one transport, by
// transport-wide sequence number. It is not safe for concurrent use.
type History struct {
	ring [historySize]sentPacket
	// newest is when the newest packet was sent (unix nanoseconds): the
	// ring keeps times as microseconds in 32 bits, which wrap every 71
	// minutes, read back against it.
	newest int64
}

// sentPacket is one sent packet in 8 bytes: when it was sent, in unix
// microseconds cut to 32 bits; its size, 0 for no packet; its number.
type sentPacket struct {
	at   uint32
	size uint16
	seq  uint16
}

// Sent records the packet seq of size bytes, sent at at (unix nanoseconds).
func (h *History) Sent(seq uint16, at int64, size int) {
	h.newest = max(h.newest, at)
	h.ring[seq%historySize] = sentPacket{at: uint32(at / 1000), size: uint16(min(max(size, 1), 0xffff)), seq: seq}
}

// sentAt returns when p was sent, in unix nanoseconds (to the
// microsecond).
func (h *History) sentAt(p *sentPacket) int64 {
	back := uint32(h.newest/1000) - p.at
	return (h.newest/1000 - int64(back)) * 1000
}

// Sample is what one feedback says of the packets History sent.
type Sample struct {
	// Received and Lost count the reported packets History knew.
	Received, Lost int
	// Bytes is the size of the received ones; FirstArrival and
	// LastArrival their first and last arrival by the receiver's clock
	// (microseconds); FirstSent and LastSent when they were sent (unix
	// nanoseconds).
	Bytes                     int
	FirstArrival, LastArrival int64
	FirstSent, LastSent       int64
}

// DeliveredBPS is the rate, in bits a second, at which the received
// packets arrived; 0 when they span no time.
func (s Sample) DeliveredBPS() float64 {
	span := s.LastArrival - s.FirstArrival
	if s.Received < 2 || span <= 0 {
		return 0
	}
	return float64(s.Bytes*8) * 1e6 / float64(span)
}

// Apply matches a feedback against the packets sent and returns what it
// says of them. Packets History does not remember (too old, never sent)
// are left out.
func (h *History) Apply(f *Feedback) Sample {
	var s Sample
	it := f.Packets()
	for seq, received, arrival, ok := it.Next(); ok; seq, received, arrival, ok = it.Next() {
		p := &h.ring[seq%historySize]
		if p.size == 0 || p.seq != seq {
			continue
		}
		if !received {
			s.Lost++
			continue
		}
		at := h.sentAt(p)
		if s.Received == 0 {
			s.FirstArrival, s.FirstSent = arrival, at
		}
		s.Received++
		s.Bytes += int(p.size)
		s.LastArrival, s.LastSent = arrival, at
	}
	return s
}
