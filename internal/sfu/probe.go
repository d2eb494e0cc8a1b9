package sfu

import (
	"time"

	"github.com/pion/rtp"
)

// Probing. The estimate of a link rises only on evidence that it carries
// more (media/estimate), and a subscriber held back by its link gets only
// the encodings that fit: so now and then the SFU sends it, for a moment,
// more than its media, at the rate one encoding more would take. If its
// link carries that without a queue or loss, the estimate rises and the
// encoding follows; if not, the next probe waits twice as long, so that a
// thin link is not congested again and again. The extra packets are
// padding on a track of their own (ProbeStreamID), which the subscriber's
// page ignores.
const (
	probeTime      = 400 * time.Millisecond
	probeJudge     = 400 * time.Millisecond // after a probe: its feedback is in
	probeFirstWait = time.Second
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
	from    int   // the estimate when it started
	// media is the rate of what p is sent but probes, measured from
	// mediaBytes at mediaAt, the reporter's last round.
	media      int
	mediaBytes uint64
	mediaAt    int64
	told       string // the downlink state last sent
	sc         *scratch
}

// afterChoice follows one round of choosing p's encodings at now: tells p
// its downlink state when it changed, judges the probe that ended, and
// starts one when p is held back by its link (limited; off: even its
// lowest encodings do not fit) and the link is not congested. budget is
// what p's video was given, want what it would take for all it needs:
// the probe tries the rate that carries that, within probeOver and
// probeMax times the estimate.
func (ps *probeState) afterChoice(p *Participant, limited, off, congested bool, budget, want int, now int64) {
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
		p.downlinkState.Store(&state)
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
	if b := dp.sentMedia(); ps.mediaAt > 0 && now > ps.mediaAt {
		ps.media = int(float64(b-ps.mediaBytes) * 8 * 1e9 / float64(now-ps.mediaAt))
		ps.mediaBytes, ps.mediaAt = b, now
	} else {
		ps.mediaBytes, ps.mediaAt = b, now
	}
	if ps.wait == 0 {
		ps.wait = probeFirstWait
	}
	if ps.until > 0 && now >= ps.until {
		ps.until, ps.judgeAt = 0, now
	}
	// The probe is judged once its feedback is in, or given up on after
	// probeJudge.
	if ps.judgeAt > 0 && (dp.probeDone() || now >= ps.judgeAt+int64(probeJudge)) {
		p.log.Debug("probe", "from", ps.from, "target", ps.target, "estimate", rate)
		ps.judgeAt = 0
		// A probe that raised the estimate, if not all the way, is
		// followed soon by the next.
		if float64(rate) >= 0.9*float64(ps.target) || float64(rate) >= 1.1*float64(ps.from) {
			ps.wait = probeFirstWait
		} else {
			ps.wait = min(2*ps.wait, probeMaxWait)
		}
		ps.next = now + int64(ps.wait)
	}
	if !limited || congested || ps.until > 0 || ps.judgeAt > 0 || now < ps.next {
		return
	}
	if p.prober == nil || p.prober.bound.Load() == nil {
		return
	}
	ps.from = rate
	ps.target = int(min(probeMax*float64(rate), max(probeOver*float64(rate), float64(rate)+float64(want-budget)*10/9)))
	ps.until = now + int64(probeTime)
	dp.probe(now, ps.until)
	p.sfu.stats.probes.Add(1)
}

// sendProbe sends, at now, one tick's share (a feedbackInterval) of the
// probe under way of p: what the probe's rate adds to what p's link
// delivers now.
func (p *Participant) sendProbe(now int64) {
	ps := &p.probe
	dp := p.direct.Load()
	if ps.until == 0 || now >= ps.until || p.prober == nil || dp == nil {
		return
	}
	extra := float64(ps.target - ps.media)
	if extra <= 0 {
		return
	}
	if ps.sc == nil {
		ps.sc = newScratch()
	}
	// Rounded up, with SRTP's tag and the headers: a probe that falls
	// short of its rate proves less than it could.
	n := min(probeBurst, 1+int(extra*feedbackInterval.Seconds()/8)/padPacket)
	p.sfu.stats.probePackets.Add(uint64(p.prober.pad(n, ps.sc)))
}

// ProbeStreamID is the MediaStream id of the track that carries the
// probes of a subscriber's link: padding only, never a picture.
const ProbeStreamID = "probe"

// padSize is the padding of one padding packet, the most RTP allows;
// padPacket the bytes of such a packet on the wire, less UDP and IP.
const (
	padSize   = 255
	padPacket = padSize + 12 + 16
)

// pad sends n padding packets on d, which forwards no source: they take
// the next sequence numbers. A packet of padding only passes the
// subscriber's SRTP and counts in its transport-wide feedback, where a
// duplicate of a packet it has would not: SRTP drops replays. It returns
// how many went out.
func (d *downTrack) pad(n int, sc *scratch) int {
	b := d.bound.Load()
	if b == nil {
		return 0
	}
	var payload [padSize]byte
	payload[padSize-1] = padSize
	sc.sentAt = time.Now().UnixNano()
	sent := 0
	for range n {
		d.mu.Lock()
		if d.src != nil {
			d.mu.Unlock()
			break // a source took the numbers
		}
		seq, ts := d.rw.Pad()
		d.mu.Unlock()
		sc.out = rtp.Header{Version: 2, Padding: true, PayloadType: b.payloadType, SequenceNumber: seq, Timestamp: ts, SSRC: b.ssrc}
		sc.probe, sc.renumbered = true, false
		n, err := d.writeRTP(b, sc, payload[:])
		sc.probe = false
		if err == nil && n > 0 {
			sent++
		}
	}
	return sent
}
