package sfu

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/rtpstats"
)

// What the SFU tells publishers about what arrives, all from the one
// reporter goroutine (runReports):
//   - NACKs for the packets missing, every feedbackInterval, each asked
//     for at most maxNACKs times;
//   - transport-wide congestion control feedback, every twccInterval,
//     by which a browser adapts its sending rate;
//   - receiver reports (loss, jitter, the delay since its last sender
//     report), every reportInterval.
const (
	feedbackInterval = 50 * time.Millisecond
	twccInterval     = 100 * time.Millisecond
	maxNACKs         = 3
)

// receiveStats is what the reader of an up-track counts for the feedback
// to its publisher; the reader and the reporter share it under mu.
type receiveStats struct {
	mu     sync.Mutex
	stream rtpstats.Stream
	// missing is the reporter's scratch space.
	missing []uint16
}

// transportFeedback records the transport-wide sequence numbers of the
// packets that arrive on one publishing PeerConnection, from all its
// tracks, for the congestion control feedback.
type transportFeedback struct {
	mu       sync.Mutex
	recorder *twcc.Recorder
	start    time.Time
}

func newTransportFeedback(senderSSRC uint32) *transportFeedback {
	return &transportFeedback{recorder: twcc.NewRecorder(senderSSRC), start: time.Now()}
}

// record notes the packet of media SSRC ssrc with transport-wide sequence
// number seq, arrived at now.
func (f *transportFeedback) record(ssrc uint32, seq uint16, now time.Time) {
	f.mu.Lock()
	f.recorder.Record(ssrc, seq, now.Sub(f.start).Microseconds())
	f.mu.Unlock()
}

// packets returns the feedback of what arrived since the last call, or
// nil.
func (f *transportFeedback) packets() []rtcp.Packet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recorder.BuildFeedbackPacket()
}

// transportCCExtension returns the id of the transport-wide sequence number
// header extension negotiated for recv's track, or 0 when there is none.
func transportCCExtension(recv *webrtc.RTPReceiver) uint8 {
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			return uint8(e.ID)
		}
	}
	return 0
}

// received counts one packet of u that arrived at now, for the feedback
// to its publisher. Only the run loop calls it.
func (u *upTrack) received(h *rtp.Header, now time.Time) {
	u.rx.mu.Lock()
	u.rx.stream.Add(h.SequenceNumber, h.Timestamp, now.UnixNano())
	u.rx.mu.Unlock()
	if u.twccExt != 0 && u.feedback != nil {
		if ext := h.GetExtension(u.twccExt); len(ext) >= 2 {
			u.feedback.record(u.ssrc, binary.BigEndian.Uint16(ext), now)
		}
	}
}

// readReceiverRTCP reads what the publisher of u sends about it: its
// sender reports go into the receiver reports it gets back. An encoding
// of a simulcast track reads the RTCP of its own RID.
func (u *upTrack) readReceiverRTCP(recv *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		var n int
		var err error
		if u.rid != "" {
			n, _, err = recv.ReadSimulcast(buf, u.rid)
		} else {
			n, _, err = recv.Read(buf)
		}
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		now := time.Now().UnixNano()
		for _, pkt := range pkts {
			if sr, ok := pkt.(*rtcp.SenderReport); ok && sr.SSRC == u.ssrc {
				u.rx.mu.Lock()
				u.rx.stream.SenderReport(sr.NTPTime, now)
				u.rx.mu.Unlock()
				if t := u.tap.Load(); t != nil {
					t.senderReport(sr.NTPTime, sr.RTPTime, now)
				}
			}
		}
	}
}

// nack appends to out a NACK of the packets of u missing, if any.
func (u *upTrack) nack(out []rtcp.Packet, senderSSRC uint32) []rtcp.Packet {
	u.rx.mu.Lock()
	u.rx.missing = u.rx.stream.Missing(u.rx.missing[:0], 0, maxNACKs)
	var pairs []rtcp.NackPair
	if len(u.rx.missing) > 0 {
		pairs = rtcp.NackPairsFromSequenceNumbers(u.rx.missing)
	}
	u.rx.mu.Unlock()
	if pairs == nil {
		return out
	}
	return append(out, &rtcp.TransportLayerNack{SenderSSRC: senderSSRC, MediaSSRC: u.ssrc, Nacks: pairs})
}

// receptionReport returns the report block of u at now, and false before
// its first packet.
func (u *upTrack) receptionReport(now time.Time) (rtcp.ReceptionReport, bool) {
	u.rx.mu.Lock()
	defer u.rx.mu.Unlock()
	return u.rx.stream.Report(u.ssrc, now.UnixNano())
}

// publisherFeedback appends to out what p's publishing PeerConnection is
// owed at this tick: NACKs always, the congestion control feedback when
// twcc is set, the receiver reports when reports is. The delay since the
// last sender report in each receiver report is up to the clock's time
// when it is made, just before it goes out: the publisher's browser takes
// its round trip (remote-inbound-rtp) from it.
func (p *Participant) publisherFeedback(out []rtcp.Packet, twcc, reports bool) []rtcp.Packet {
	p.mu.Lock()
	published := append(p.scratch[:0], p.published...)
	p.scratch = published
	p.mu.Unlock()
	for _, u := range published {
		n := len(out)
		if out = u.nack(out, p.rtcpSSRC); len(out) > n && p.sfu != nil {
			p.sfu.stats.nacksSent.Add(1)
		}
	}
	if twcc && p.feedback != nil {
		out = append(out, p.feedback.packets()...)
	}
	if reports && len(published) > 0 {
		rr := &rtcp.ReceiverReport{SSRC: p.rtcpSSRC}
		now := time.Now()
		for _, u := range published {
			if r, ok := u.receptionReport(now); ok {
				rr.Reports = append(rr.Reports, r)
			}
		}
		if len(rr.Reports) > 0 {
			out = append(out, rr)
		}
	}
	clear(published)
	return out
}
