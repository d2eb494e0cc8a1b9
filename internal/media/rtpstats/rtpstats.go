// Package rtpstats follows one received RTP stream as its receiver must
// report it (RFC 3550 section 6.4: loss, the highest sequence number,
// interarrival jitter, the last sender report) and lists the packets that
// did not arrive, to be asked for again (NACK, RFC 4585).
//
// A Stream is plain state with no lock, and allocates nothing after its
// first packet; its owner serializes calls.
package rtpstats

import "github.com/pion/rtcp"

// Window is how many of the last sequence numbers a Stream remembers as
// received or not: the packets a NACK may ask for.
const Window = 512

// Stream is the receiver's view of one RTP stream. The zero value is
// ready; set ClockRate before the first packet.
type Stream struct {
	// ClockRate is the stream's RTP clock in ticks a second, for the jitter.
	ClockRate uint32

	started  bool
	base     uint64 // extended sequence number of the first packet
	highest  uint64 // highest extended sequence number
	received uint64

	// What the previous report covered, for its fraction lost.
	expectedPrior, receivedPrior uint64

	first   int64  // arrival of the first packet, unix nanoseconds
	transit int64  // of the previous packet, in RTP ticks
	jitter  uint64 // RFC 3550's J, scaled by 16

	lastSR   uint32 // middle 32 bits of the last sender report's NTP time
	lastSRAt int64  // when it arrived, unix nanoseconds; 0: none yet

	// got marks the sequence numbers of the window that arrived; asked
	// counts the NACKs sent for each missing one.
	got   [Window / 64]uint64
	asked [Window]uint8
}

// Add counts the packet with sequence number seq and timestamp ts, arrived
// at arrival (unix nanoseconds).
func (s *Stream) Add(seq uint16, ts uint32, arrival int64) {
	ext := uint64(seq)
	if !s.started {
		s.started = true
		s.base, s.highest = ext, ext
		s.first = arrival
	} else {
		// The extended number nearest to the highest.
		ext = s.highest&^0xffff | uint64(seq)
		switch d := int64(ext) - int64(s.highest); {
		case d > 0x8000:
			if ext >= 0x10000 {
				ext -= 0x10000
			}
		case d < -0x8000:
			ext += 0x10000
		}
		if ext < s.base {
			return // from before the first packet, or a wrapped old one
		}
	}
	if ext > s.highest {
		// The numbers between the old highest and ext enter the window
		// missing.
		for n := s.highest + 1; n < ext && n+Window > ext; n++ {
			s.setGot(n, false)
		}
		if ext-s.highest >= Window {
			clear(s.got[:])
			clear(s.asked[:])
		}
		s.highest = ext
	} else if s.highest-ext >= Window || s.hasGot(ext) {
		return // too old to track, or a duplicate
	}
	s.setGot(ext, true)
	s.received++

	if s.ClockRate > 0 {
		at := (arrival - s.first) * int64(s.ClockRate) / 1e9 // in RTP ticks
		transit := at - int64(ts)
		if s.received > 1 {
			d := transit - s.transit
			if d < 0 {
				d = -d
			}
			// J += (|D| - J) / 16, kept scaled by 16.
			s.jitter += uint64(d) - (s.jitter+8)>>4
		}
		s.transit = transit
	}
}

func (s *Stream) setGot(ext uint64, got bool) {
	i := ext % Window
	if got {
		s.got[i/64] |= 1 << (i % 64)
	} else {
		s.got[i/64] &^= 1 << (i % 64)
		s.asked[i] = 0
	}
}

func (s *Stream) hasGot(ext uint64) bool {
	i := ext % Window
	return s.got[i/64]&(1<<(i%64)) != 0
}

// SenderReport notes a sender report of the stream, with NTP time ntp,
// arrived at arrival (unix nanoseconds).
func (s *Stream) SenderReport(ntp uint64, arrival int64) {
	s.lastSR = uint32(ntp >> 16)
	s.lastSRAt = arrival
}

// Missing appends to dst the sequence numbers of the window that did not
// arrive, at least skip packets before the highest (a packet late by a
// little is not lost yet), that were asked for fewer than maxAsks times,
// and counts one more ask for each. It returns dst.
func (s *Stream) Missing(dst []uint16, skip int, maxAsks uint8) []uint16 {
	if !s.started {
		return dst
	}
	first := s.base
	if s.highest >= Window && s.highest-Window+1 > first {
		first = s.highest - Window + 1
	}
	for n := first; n+uint64(skip) <= s.highest; n++ {
		if s.hasGot(n) {
			continue
		}
		i := n % Window
		if s.asked[i] >= maxAsks {
			continue
		}
		s.asked[i]++
		dst = append(dst, uint16(n))
	}
	return dst
}

// Report returns the reception report block of the stream, whose SSRC is
// ssrc, at now (unix nanoseconds), and starts the interval of the next.
// ok is false before the first packet.
func (s *Stream) Report(ssrc uint32, now int64) (r rtcp.ReceptionReport, ok bool) {
	if !s.started {
		return r, false
	}
	expected := s.highest - s.base + 1
	lost := int64(expected) - int64(s.received)
	expectedInterval := expected - s.expectedPrior
	receivedInterval := s.received - s.receivedPrior
	s.expectedPrior, s.receivedPrior = expected, s.received
	var fraction uint8
	if lostInterval := int64(expectedInterval) - int64(receivedInterval); expectedInterval > 0 && lostInterval > 0 {
		fraction = uint8(lostInterval << 8 / int64(expectedInterval))
	}
	// Cumulative lost is a signed 24-bit field.
	lost = min(max(lost, -0x800000), 0x7fffff)
	r = rtcp.ReceptionReport{
		SSRC:               ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost) & 0xffffff,
		LastSequenceNumber: uint32(s.highest),
		Jitter:             uint32(s.jitter >> 4),
		LastSenderReport:   s.lastSR,
	}
	if s.lastSRAt != 0 {
		// In units of 1/65536 s.
		r.Delay = uint32((now - s.lastSRAt) * 65536 / 1e9)
	}
	return r, true
}
