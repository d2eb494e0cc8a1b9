package sfu

import (
	"time"

	"github.com/pion/rtp"

	"hoinghi/internal/media/packetcache"
)

// Probing. The estimate of a link rises only on evidence that it carries
// more (media/estimate), and a subscriber held back by its link gets only
// the encodings that fit: so now and then the SFU sends it, for a moment,
// more than its media, at the rate one encoding more would take. If its
// link carries that without a queue or loss, the estimate rises and the
// encoding follows; if not, the next probe waits twice as long, so that a
// thin link is not congested again and again. The extra packets are
// duplicates of the subscriber's latest video packets (its browser drops
// them as such) or, while its video is stopped, padding on a stopped
// track.
const (
	probeTime      = 400 * time.Millisecond
	probeJudge     = 400 * time.Millisecond // after a probe: its feedback is in
	probeFirstWait = 2 * time.Second
	probeMaxWait   = 8 * time.Second
	// probeOver is how far over the estimate a probe goes at least, and
	// probeMax at most.
	probeOver = 1.2
	probeMax  = 3.0
	// probeBurst bounds the packets of one tick of a probe.
	probeBurst = 40
)

// Downlink states told a subscriber (Signaler.SendDownlink).
const (
	DownlinkGood      = "good"       // it receives all it needs
	DownlinkReduced   = "reduced"    // its link holds it to lower encodings
	DownlinkAudioOnly = "audio_only" // its link carries no video: pictures stay on their last frame
)

// probeState is the reporter's (runReports) state of one subscriber's
// probes and of what it was told of its downlink.
type probeState struct {
	next    int64 // earliest start of the next probe, unix nanoseconds
	wait    time.Duration
	until   int64 // end of the probe under way; 0: none
	judgeAt int64 // when to judge the probe that ended; 0: none
	target  int   // the rate the probe tries, bits a second
	down    *downTrack
	told    string // the downlink state last sent

	seqs []uint16
	buf  []byte
	h    rtp.Header
	sc   *scratch
}

// afterChoice follows one round of choosing p's encodings at now: tells p
// its downlink state when it changed, judges the probe that ended, and
// starts one when p is held back by its link (limited; off: even its
// lowest encodings do not fit) and the link is not congested.
func (ps *probeState) afterChoice(p *Participant, limited, off, congested bool, budget int, now int64) {
	state := DownlinkGood
	switch {
	case off:
		state = DownlinkAudioOnly
	case limited:
		state = DownlinkReduced
	}
	if state != ps.told {
		p.log.Debug("downlink", "state", state, "video_budget", budget)
		ps.told = state
		p.sig.SendDownlink(state)
	}
	dp := p.direct.Load()
	if dp == nil {
		return
	}
	rate, _, ok := dp.estimate()
	if !ok {
		return
	}
	if ps.wait == 0 {
		ps.wait = probeFirstWait
	}
	if ps.until > 0 && (congested || now >= ps.until) {
		ps.until, ps.judgeAt = 0, now+int64(probeJudge)
	}
	if ps.judgeAt > 0 && now >= ps.judgeAt {
		ps.judgeAt = 0
		if float64(rate) >= 0.9*float64(ps.target) {
			ps.wait = probeFirstWait
		} else {
			ps.wait = min(2*ps.wait, probeMaxWait)
		}
		ps.next = now + int64(ps.wait)
	}
	if !limited || congested || ps.until > 0 || ps.judgeAt > 0 || now < ps.next {
		return
	}
	d := p.probeTrack()
	if d == nil {
		return
	}
	ps.down = d
	ps.target = int(min(probeMax*float64(rate), max(probeOver*float64(rate), float64(rate+p.nextStep(budget)))))
	ps.until = now + int64(probeTime)
	p.sfu.stats.probes.Add(1)
}

// nextStep is how many more bits a second p's link would need for the
// smallest step up of one of its video tracks held back, beyond budget;
// 0 when none is.
func (p *Participant) nextStep(budget int) int {
	step := 0
	for _, d := range p.videoDownTracks(nil) {
		pub := d.shown()
		if pub == nil || pub.layers == nil {
			continue
		}
		list := pub.layers.encodings()
		cur := d.target()
		for i, u := range list {
			if u != cur || i+1 >= len(list) || i >= d.need {
				continue
			}
			if s := int(list[i+1].bitrate.Load() - u.bitrate.Load()); s > 0 && (step == 0 || s < step) {
				step = s
			}
		}
		if cur == nil && len(list) > 0 {
			if s := int(list[0].bitrate.Load()); s > 0 && (step == 0 || s < step) {
				step = s
			}
		}
	}
	return step * 10 / 9
}

// probeTrack returns the video down-track of p a probe goes on: the most
// important one, bound.
func (p *Participant) probeTrack() *downTrack {
	for _, d := range p.videoDownTracks(nil) {
		if d.bound.Load() != nil && d.shown() != nil {
			return d
		}
	}
	return nil
}

// sendProbe sends, at now, one tick's share (a feedbackInterval) of the
// probe under way of p: what the probe's rate adds to what p's link
// delivers now.
func (p *Participant) sendProbe(now int64) {
	ps := &p.probe
	dp := p.direct.Load()
	if ps.until == 0 || now >= ps.until || ps.down == nil || dp == nil {
		return
	}
	delivered, _, _ := dp.downlink()
	extra := float64(ps.target) - delivered
	if extra <= 0 {
		return
	}
	n := int(extra * feedbackInterval.Seconds() / 8 / 1000) // packets of about 1 000 bytes
	n = min(max(n, 1), probeBurst)
	if ps.sc == nil {
		ps.sc, ps.buf = newScratch(), make([]byte, packetcache.SlotSize)
	}
	sent := ps.down.probe(n, ps)
	p.sfu.stats.probePackets.Add(uint64(sent))
}

// probe sends n probe packets on d: duplicates of its latest packets
// while it forwards a source, padding while it is stopped. It returns how
// many went out.
func (d *downTrack) probe(n int, ps *probeState) int {
	d.mu.Lock()
	last, ok := d.rw.LastSeq()
	forwarding := d.src != nil
	d.mu.Unlock()
	if !ok {
		return 0
	}
	if forwarding {
		ps.seqs = ps.seqs[:0]
		for i := n - 1; i >= 0; i-- {
			ps.seqs = append(ps.seqs, last-uint16(i))
		}
		return d.resend(ps.seqs, ps.buf, &ps.h, ps.sc)
	}
	return d.pad(n, ps.sc)
}

// padSize is the padding of one padding packet, the most RTP allows.
const padSize = 255

// pad sends n padding packets on d, which forwards no source: they take
// the next sequence numbers, and the source d is given next continues
// after them. It returns how many went out.
func (d *downTrack) pad(n int, sc *scratch) int {
	b := d.bound.Load()
	if b == nil {
		return 0
	}
	var payload [padSize]byte
	payload[padSize-1] = padSize
	sent := 0
	for range n {
		d.mu.Lock()
		if d.src != nil {
			d.mu.Unlock()
			break // a source came back: its packets take the numbers now
		}
		seq, ts, ok := d.rw.Pad()
		d.mu.Unlock()
		if !ok {
			break
		}
		sc.out = rtp.Header{Version: 2, Padding: true, PayloadType: b.payloadType, SequenceNumber: seq, Timestamp: ts, SSRC: b.ssrc}
		if n, err := d.writeRTP(b, sc, payload[:]); err == nil && n > 0 {
			sent++
		}
	}
	return sent
}
