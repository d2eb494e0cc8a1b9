package sfu

import (
	"context"
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
				pkts = p.publisherFeedback(pkts[:0], now, twcc, reports)
				if len(pkts) > 0 {
					if err := pub.WriteRTCP(pkts); err != nil {
						p.log.Debug("send publisher feedback", "err", err)
					}
				}
			}
			if reports {
				pkts = p.senderReports(pkts[:0], now)
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
// that sent something.
func (p *Participant) senderReports(out []rtcp.Packet, now time.Time) []rtcp.Packet {
	p.mu.Lock()
	downs := make([]*downTrack, 0, len(p.subs)+len(p.slots))
	for _, s := range p.subs {
		downs = append(downs, s.down)
	}
	downs = append(downs, p.slots...)
	downs = append(downs, p.program...)
	p.mu.Unlock()
	if p.wall != nil {
		downs = append(downs, p.wall.slots...)
	}
	for _, d := range downs {
		if sr, ok := d.senderReport(now); ok {
			out = append(out, sr)
		}
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
