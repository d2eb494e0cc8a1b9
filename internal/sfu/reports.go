package sfu

import (
	"context"
	"slices"
	"time"

	"github.com/pion/rtcp"
)

// reportInterval is how often every subscriber gets a sender report of each
// of its down-tracks.
const reportInterval = time.Second

// sentCounters are what a down-track sent, for its sender reports: written
// by the one goroutine writing the down-track at a time, read by the
// reporter.
type sentCounters struct {
	packets, octets uint32
}

// runReports sends all the RTCP the SFU originates, from this one
// goroutine, until ctx ends: to publishers their NACKs, congestion control
// feedback and receiver reports (see feedbackInterval), to subscribers the
// sender reports of their down-tracks every reportInterval; at most one
// compound packet per PeerConnection and tick. It replaces a goroutine and
// a ticker per PeerConnection and interceptor, and their locks and
// hand-offs on every packet. Every layerInterval it also chooses the
// encodings of simulcast tracks that each subscriber receives and each
// publisher sends (chooseLayers).
func (s *SFU) runReports(ctx context.Context) {
	t := time.NewTicker(feedbackInterval)
	defer t.Stop()
	var parts []*Participant
	var pkts []rtcp.Packet
	var layers layerChooser
	for tick := 1; ; tick++ {
		var now time.Time
		select {
		case <-ctx.Done():
			return
		case now = <-t.C:
		}
		twcc := tick%int(twccInterval/feedbackInterval) == 0
		reports := tick%int(reportInterval/feedbackInterval) == 0
		parts = s.participants(parts[:0])
		for _, p := range parts {
			p.sendProbe(now.UnixNano())
			if pub := p.pub.Load(); pub != nil {
				pkts = p.publisherFeedback(pkts[:0], twcc, reports)
				if len(pkts) > 0 {
					if err := pub.WriteRTCP(pkts); err != nil {
						p.log.Debug("send publisher feedback", "err", err)
					}
				}
			}
			if reports && p.sub != nil {
				pkts = p.senderReports(pkts[:0])
				if len(pkts) > 0 {
					if err := p.sub.WriteRTCP(pkts); err != nil {
						p.log.Debug("send sender reports", "err", err)
					}
				}
			}
		}
		if tick%int(layerInterval/feedbackInterval) == 0 {
			layers.chooseLayers(parts, now)
		}
		clear(parts) // let closed participants go
		clear(pkts)
	}
}

// participants appends every participant of every room to out.
func (s *SFU) participants(out []*Participant) []*Participant {
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		for _, p := range r.participants {
			out = append(out, p)
		}
		r.mu.Unlock()
	}
	return out
}

// senderReports appends to out a sender report for each down-track of p
// that sent something. Their NTP and RTP times are the clock's when they
// are made, just before they go out: not the reporter's tick, which is
// late by however long the reporter took to come round (a subscriber's
// round trip is measured against these times, see roundTrip).
func (p *Participant) senderReports(out []rtcp.Packet) []rtcp.Packet {
	downs := p.downTracks(nil)
	now := time.Now()
	for _, d := range downs {
		if sr, ok := d.senderReport(now); ok {
			out = append(out, sr)
		}
	}
	return out
}

// downTracks appends to out every down-track of p: its speaker slots,
// its hall program and its wall.
func (p *Participant) downTracks(out []*downTrack) []*downTrack {
	p.mu.Lock()
	out = append(out, p.slots...)
	out = append(out, p.program...)
	p.mu.Unlock()
	if p.wall != nil {
		out = append(out, p.wall.slots...)
	}
	return out
}

// senderReport returns the sender report of d at now, or false when d is
// not bound or sent nothing yet. Its RTP time is the last packet's
// timestamp advanced by the time since it went out.
func (d *downTrack) senderReport(now time.Time) (*rtcp.SenderReport, bool) {
	b := d.bound.Load()
	if b == nil {
		return nil, false
	}
	d.mu.Lock()
	ts, at, ok := d.rw.LastOut()
	sent := d.sent
	d.mu.Unlock()
	if !ok {
		return nil, false
	}
	ticks := max(0, now.UnixNano()-at) * int64(d.rw.ClockRate) / 1e9
	return &rtcp.SenderReport{
		SSRC:        b.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     ts + uint32(ticks),
		PacketCount: sent.packets,
		OctetCount:  sent.octets,
	}, true
}

// ntpEpochOffset is the number of seconds from the NTP epoch (1900) to the
// Unix epoch (1970).
const ntpEpochOffset = 2208988800

// ntpTime returns t as a 64-bit NTP timestamp: seconds since 1900 in the
// high 32 bits, the fraction of a second in the low 32.
func ntpTime(t time.Time) uint64 {
	ns := uint64(t.UnixNano())
	secs := ns/1e9 + ntpEpochOffset
	frac := (ns % 1e9) << 32 / 1e9
	return secs<<32 | frac
}

// maxRoundTrip is the longest round trip a reception report is believed
// to show; a longer one names a sender report of another time.
const maxRoundTrip = time.Minute

// roundTrip returns the round trip that a reception report block shows
// (RFC 3550 6.4.1): arrived at arrival (a 64-bit NTP time of our clock),
// naming our sender report lsr (the middle 32 bits of its NTP time),
// held dlsr by the subscriber (in 1/65536 s) before its report went out.
// The round trip is arrival - lsr - dlsr, all three as the middle 32
// bits of NTP times (1/65536 s, wrapping every 18 hours). It is false
// when the report names no sender report (lsr 0) or the figure is not a
// round trip (below zero or over maxRoundTrip). A result a little below
// zero, from the truncation of the three figures, is 0.
func roundTrip(arrival uint64, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	units := int32(uint32(arrival>>16) - lsr - dlsr)
	const tolerance = 65536 / 1000 // 1 ms
	switch {
	case units < -tolerance:
		return 0, false
	case units < 0:
		units = 0
	}
	rtt := time.Duration(int64(units) * int64(time.Second) / 65536)
	if rtt > maxRoundTrip {
		return 0, false
	}
	return rtt, true
}

// noteReport keeps the round trip of a reception report about d, naming
// sender report lsr with delay dlsr, arrived at now. Only the reader of
// d's RTCP calls it.
func (d *downTrack) noteReport(lsr, dlsr uint32, now time.Time) {
	if rtt, ok := roundTrip(ntpTime(now), lsr, dlsr); ok {
		d.rtt.Store(int64(rtt))
		d.rttAt.Store(now.UnixNano())
	}
}

// rttFresh is how long the round trip of a down-track's reception report
// stands. Browsers report a received video about every second, a sound
// alone every 5 s or so.
const rttFresh = 10 * time.Second

// mediaRoundTrip returns the round trip of p's media at now: the median of
// the round trips its reception reports showed, over those of its
// down-tracks reported within rttFresh; false when none was.
func (p *Participant) mediaRoundTrip(now time.Time) (time.Duration, bool) {
	var buf [16]int64
	rtts := buf[:0]
	for _, d := range p.downTracks(nil) {
		if at := d.rttAt.Load(); at != 0 && now.UnixNano()-at <= int64(rttFresh) {
			rtts = append(rtts, d.rtt.Load())
		}
	}
	if len(rtts) == 0 {
		return 0, false
	}
	slices.Sort(rtts)
	return time.Duration(rtts[len(rtts)/2]), true
}
