package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// LinkQuality is how a participant's link to the server fares, as the
// server measures it: the round trip of its media, and the loss and
// bitrate of what it sends, since the previous Quality call.
type LinkQuality struct {
	ID string
	// RTT is the round trip of the media the server sends the
	// participant, from its reception reports (see mediaRoundTrip); while
	// it has sent none lately, the ICE round trip of its publishing
	// connection (or, without one, its subscribing one); 0 when not
	// measured yet.
	RTT     time.Duration
	Loss    float64 // fraction of the participant's packets that did not arrive
	Kbps    float64 // kilobits a second received from the participant
	Network string  // "udp", "tcp" or "relay"; empty before ICE connects
	// DownKbps and DownLoss are what the participant's transport-wide
	// feedback says of the media sent to it: the kilobits a second its
	// link delivered and the share of packets lost, smoothed; Down is
	// false when there is no such feedback (no direct path, or none yet).
	DownKbps float64
	DownLoss float64
	Down     bool
	// EstimateKbps is what the participant's downlink is estimated to
	// carry (0 when not estimated: no direct path, or no transport-wide
	// feedback); Downlink is what it was last told of it (DownlinkGood,
	// DownlinkReduced, DownlinkAudioOnly; "" before the first choice).
	EstimateKbps float64
	Downlink     string
	// SendLayers are the RIDs of the encodings of its video arriving now,
	// lowest first ("" for one sent without simulcast); Viewers counts,
	// by RID, the down-tracks of others that forward each (or wait for
	// its next keyframe); Receives counts, by RID, what its own video
	// down-tracks forward; ReducedRate counts those of them that take
	// fewer pictures a second than their encoding carries (its upper
	// temporal layers left out for the link). SendTemporal counts, by
	// RID, the temporal layers of each encoding arriving that has more
	// than one.
	SendLayers   []string
	SendTemporal map[string]int
	Viewers      map[string]int
	Receives     map[string]int
	ReducedRate  int
}

// inCounters follow the packets of one up-track as they arrive: the run
// loop writes them, Quality reads them.
type inCounters struct {
	packets atomic.Uint64
	bytes   atomic.Uint64
	highest atomic.Uint64 // extended highest sequence number, plus 1; 0 before the first packet
	first   atomic.Uint64 // extended first sequence number, plus 1

	cycles  uint64 // run loop only: wraps of the sequence number
	lastSeq uint16
}

// add counts one packet of n bytes with sequence number seq, and reports
// whether it is the first. Only the run loop calls it.
func (c *inCounters) add(seq uint16, n int) (first bool) {
	c.packets.Add(1)
	c.bytes.Add(uint64(n))
	if c.highest.Load() == 0 {
		c.lastSeq = seq
		ext := uint64(seq) + 1
		c.first.Store(ext)
		c.highest.Store(ext)
		return true
	}
	if diff := int16(seq - c.lastSeq); diff > 0 {
		if seq < c.lastSeq {
			c.cycles += 1 << 16
		}
		c.lastSeq = seq
		c.highest.Store(c.cycles + uint64(seq) + 1)
	}
	return false
}

// inSnapshot is what Quality saw of an up-track last time.
type inSnapshot struct {
	packets, bytes, expected uint64
	at                       time.Time
}

// Quality returns the link quality of every participant of conf.
func (s *SFU) Quality(conf string) []LinkQuality {
	s.mu.Lock()
	r := s.rooms[conf]
	s.mu.Unlock()
	var parts []*Participant
	if r != nil {
		r.mu.Lock()
		for _, p := range r.participants {
			parts = append(parts, p)
		}
		r.mu.Unlock()
	}
	out := make([]LinkQuality, 0, len(parts))
	for _, p := range parts {
		out = append(out, p.quality())
	}
	return out
}

// iceUp reports whether pc's ICE is connected. pion's ICE transport sets
// what its candidate pair getters read while it starts, without a lock
// they share; once connected, the start has happened before.
func iceUp(pc *webrtc.PeerConnection) bool {
	switch pc.ICEConnectionState() {
	case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
		return true
	}
	return false
}

// quality measures p's link since the previous call.
func (p *Participant) quality() LinkQuality {
	now := time.Now()
	q := LinkQuality{ID: p.info.ID}
	rtt, fromMedia := p.mediaRoundTrip(now)
	q.RTT = rtt
	pc := p.pub.Load()
	if pc == nil {
		pc = p.sub
	}
	if pc == nil {
		return q
	}
	if t := pc.SCTP().Transport().ICETransport(); t != nil && iceUp(pc) {
		if !fromMedia {
			if st, ok := t.GetSelectedCandidatePairStats(); ok {
				q.RTT = time.Duration(st.CurrentRoundTripTime * float64(time.Second))
			}
		}
		if pair, err := t.GetSelectedCandidatePair(); err == nil && pair != nil {
			q.Network = pair.Remote.Protocol.String()
			if pair.Local.Typ == webrtc.ICECandidateTypeRelay || pair.Remote.Typ == webrtc.ICECandidateTypeRelay {
				q.Network = "relay"
			}
		}
	}

	if dp := p.direct.Load(); dp != nil {
		bps, lost, ok := dp.downlink()
		q.DownKbps, q.DownLoss, q.Down = bps/1000, lost, ok
		if rate, _, ok := dp.estimate(); ok {
			q.EstimateKbps = float64(rate) / 1000
		}
	}
	if st := p.downlinkState.Load(); st != nil {
		q.Downlink = *st
	}
	q.SendLayers, q.SendTemporal, q.Viewers, q.Receives, q.ReducedRate = p.layerFigures(now.UnixNano())

	var packets, expected, bytes uint64
	var elapsed time.Duration
	p.mu.Lock()
	seen := make(map[*upTrack]inSnapshot, len(p.published))
	for _, up := range p.published {
		c := &up.in
		hi, first := c.highest.Load(), c.first.Load()
		if hi == 0 {
			continue
		}
		cur := inSnapshot{packets: c.packets.Load(), bytes: c.bytes.Load(), expected: hi - first + 1, at: now}
		prev, ok := p.lastIn[up]
		if !ok {
			prev = inSnapshot{at: now}
		}
		seen[up] = cur
		packets += cur.packets - prev.packets
		expected += cur.expected - prev.expected
		bytes += cur.bytes - prev.bytes
		elapsed = max(elapsed, now.Sub(prev.at))
	}
	p.lastIn = seen // forgets tracks that ended
	p.mu.Unlock()
	if expected > packets {
		q.Loss = float64(expected-packets) / float64(expected)
	}
	if elapsed > 0 {
		q.Kbps = float64(bytes) * 8 / 1000 / elapsed.Seconds()
	}
	return q
}

// layerFigures returns what p sends of its video and what it receives, as
// LinkQuality says, at now.
func (p *Participant) layerFigures(now int64) (send []string, temporal, viewers, receives map[string]int, reduced int) {
	for _, up := range p.publishedTracks() {
		if up.layers == nil {
			continue
		}
		for _, u := range up.layers.encodings() {
			if now-u.lastArrival.Load() < int64(liveWindow) {
				send = append(send, u.rid)
				if n := u.temporal.layers(); n > 1 {
					if temporal == nil {
						temporal = make(map[string]int)
					}
					temporal[u.rid] = n
				}
			}
			if n := len(u.plan.Load().all); n > 0 {
				if viewers == nil {
					viewers = make(map[string]int)
				}
				viewers[u.rid] += n
			}
		}
	}
	for _, d := range p.videoDownTracks(nil) {
		if u := d.source(); u != nil {
			if receives == nil {
				receives = make(map[string]int)
			}
			receives[u.rid]++
			if _, tid := d.targets(); tid < u.temporal.layers()-1 {
				reduced++
			}
		}
	}
	return send, temporal, viewers, receives, reduced
}
