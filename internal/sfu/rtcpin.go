package sfu

import "encoding/binary"

// RTCP packet types and feedback formats (RFC 3550, RFC 4585, RFC 5104).
const (
	rtcpTypeSR    = 200 // sender report
	rtcpTypeRR    = 201 // receiver report
	rtcpTypeRTPFB = 205 // transport layer feedback
	rtcpTypePSFB  = 206 // payload-specific feedback
	fmtNACK       = 1   // RTPFB: generic NACK
	fmtTWCC       = 15  // RTPFB: transport-wide congestion control feedback
	fmtPLI        = 1   // PSFB: picture loss indication
	fmtFIR        = 4   // PSFB: full intra request
)

// feedbackKind is what a subscriber's feedback asks of a media stream.
type feedbackKind uint8

const (
	feedbackKeyframe feedbackKind = iota + 1 // a PLI or a FIR: send a keyframe
	feedbackNACK                             // send these packets again
	feedbackTWCC                             // what arrived of the transport's packets, and when
	feedbackReport                           // a reception report: how long since our last sender report
)

// reportBlockSize is the size of a reception report block (RFC 3550 6.4.1).
const reportBlockSize = 24

// feedback is one request, in a subscriber's RTCP, about one of the
// streams it receives.
type feedback struct {
	kind feedbackKind
	ssrc uint32 // the stream's, as the subscriber knows it
	// nacks, for a NACK, are its (packet id, bitmask) pairs, 4 bytes each;
	// for transport-wide feedback, its feedback control information.
	nacks []byte
	// lsr and dlsr, for a reception report, are its last sender report
	// (the middle 32 bits of that report's NTP time) and the delay since
	// the subscriber received it, in units of 1/65536 s.
	lsr, dlsr uint32
}

// feedbackIter walks the requests of one compound RTCP packet without
// allocating, and the reception report blocks (of receiver and sender
// reports) that name a sender report; everything else in it (SDES, REMB,
// ...) is skipped, and so is the rest of a packet whose lengths are
// broken.
type feedbackIter struct {
	pkt    []byte // what is left of the compound packet
	fir    []byte // the FIR entries left of the current packet
	blocks []byte // the report blocks left of the current packet
}

// next returns the next request, or false at the end.
func (it *feedbackIter) next() (feedback, bool) {
	for {
		if len(it.fir) >= 8 {
			f := feedback{kind: feedbackKeyframe, ssrc: binary.BigEndian.Uint32(it.fir)}
			it.fir = it.fir[8:]
			return f, true
		}
		if len(it.blocks) >= reportBlockSize {
			b := it.blocks[:reportBlockSize]
			it.blocks = it.blocks[reportBlockSize:]
			lsr := binary.BigEndian.Uint32(b[16:])
			if lsr == 0 {
				continue // no sender report received yet: no round trip
			}
			return feedback{kind: feedbackReport, ssrc: binary.BigEndian.Uint32(b), lsr: lsr, dlsr: binary.BigEndian.Uint32(b[20:])}, true
		}
		if len(it.pkt) < 4 || it.pkt[0]>>6 != 2 {
			return feedback{}, false
		}
		size := 4 * (int(binary.BigEndian.Uint16(it.pkt[2:])) + 1)
		if size > len(it.pkt) {
			return feedback{}, false
		}
		p := it.pkt[:size]
		it.pkt = it.pkt[size:]
		if p[0]&0x20 != 0 { // padding: the last octet says how much
			pad := int(p[size-1])
			if pad == 0 || pad > size-4 {
				return feedback{}, false
			}
			p = p[:size-pad]
		}
		if len(p) < 12 {
			continue
		}
		format, media := p[0]&0x1f, binary.BigEndian.Uint32(p[8:])
		switch {
		case p[1] == rtcpTypeRR:
			it.blocks = reportBlocks(p[8:], format)
		case p[1] == rtcpTypeSR && len(p) >= 28:
			it.blocks = reportBlocks(p[28:], format)
		case p[1] == rtcpTypeRTPFB && format == fmtTWCC:
			return feedback{kind: feedbackTWCC, ssrc: media, nacks: p[12:]}, true
		case p[1] == rtcpTypeRTPFB && format == fmtNACK && len(p) >= 16:
			return feedback{kind: feedbackNACK, ssrc: media, nacks: p[12 : 12+(len(p)-12)/4*4]}, true
		case p[1] == rtcpTypePSFB && format == fmtPLI:
			return feedback{kind: feedbackKeyframe, ssrc: media}, true
		case p[1] == rtcpTypePSFB && format == fmtFIR:
			it.fir = p[12 : 12+(len(p)-12)/8*8]
		}
	}
}

// reportBlocks returns the first count report blocks of b, or as many
// whole ones as it holds.
func reportBlocks(b []byte, count uint8) []byte {
	return b[:min(int(count), len(b)/reportBlockSize)*reportBlockSize]
}

// appendNacked appends to seqs the sequence numbers that the (packet id,
// bitmask) pairs of a NACK ask for.
func appendNacked(seqs []uint16, pairs []byte) []uint16 {
	for ; len(pairs) >= 4; pairs = pairs[4:] {
		id, lost := binary.BigEndian.Uint16(pairs), binary.BigEndian.Uint16(pairs[2:])
		seqs = append(seqs, id)
		for i := range uint16(16) {
			if lost&(1<<i) != 0 {
				seqs = append(seqs, id+i+1)
			}
		}
	}
	return seqs
}
