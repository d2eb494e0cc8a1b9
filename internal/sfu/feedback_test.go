package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TestPublisherFeedback: what the reader of a published track counts
// becomes, at the reporter's ticks, a NACK of the missing packets (asked
// for at most maxNACKs times), the congestion control feedback of the
// transport-wide sequence numbers, and a receiver report whose delay since
// the publisher's last sender report runs to when the report is made.
func TestPublisherFeedback(t *testing.T) {
	p := &Participant{sfu: testSFU(), rtcpSSRC: 5, feedback: newTransportFeedback(5)}
	u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	u.owner, u.twccExt, u.feedback = p, 3, p.feedback
	u.rx.stream.ClockRate = 90000
	p.published = []*upTrack{u}
	var h rtp.Header
	for i, seq := range []uint16{100, 101, 104, 105} {
		pkt := vp8Packet(seq, 3000*uint32(i), i == 0, true)
		hd := rtp.Header{}
		if _, err := hd.Unmarshal(pkt); err != nil {
			t.Fatal(err)
		}
		if err := hd.SetExtension(3, []byte{0, byte(i)}); err != nil {
			t.Fatal(err)
		}
		raw, err := (&rtp.Packet{Header: hd, Payload: []byte{0x10, 0x00, 1, 2}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		u.forward(&h, raw)
	}
	// The publisher's sender report arrived 300 ms ago.
	srAt := time.Now().Add(-300 * time.Millisecond)
	u.rx.stream.SenderReport(0x1234_5678_9abc_def0, srAt.UnixNano())
	kinds := func(pkts []rtcp.Packet) (nacks []*rtcp.TransportLayerNack, cc int, rr *rtcp.ReceiverReport) {
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.TransportLayerNack:
				nacks = append(nacks, pkt)
			case *rtcp.TransportLayerCC:
				cc++
			case *rtcp.ReceiverReport:
				rr = pkt
			}
		}
		return nacks, cc, rr
	}
	nacks, cc, rr := kinds(p.publisherFeedback(nil, true, true))
	held := time.Since(srAt)
	if len(nacks) != 1 || nacks[0].MediaSSRC != u.ssrc || nacks[0].SenderSSRC != 5 {
		t.Fatalf("NACKs %+v, want one for SSRC %d", nacks, u.ssrc)
	}
	if got := nacks[0].Nacks[0].PacketList(); len(got) != 2 || got[0] != 102 || got[1] != 103 {
		t.Errorf("NACK asks for %v, want [102 103]", got)
	}
	if cc != 1 {
		t.Errorf("%d congestion control feedback packets, want 1", cc)
	}
	if rr == nil || len(rr.Reports) != 1 || rr.Reports[0].TotalLost != 2 || rr.Reports[0].LastSequenceNumber != 105 {
		t.Fatalf("receiver report %+v, want 2 of 6 lost up to 105", rr)
	}
	// The delay is in 1/65536 s, up to when the report was made: between
	// 300 ms and the time since the sender report now.
	delay := time.Duration(rr.Reports[0].Delay) * time.Second / 65536
	if r := rr.Reports[0]; r.LastSenderReport != 0x5678_9abc || delay < 300*time.Millisecond-time.Millisecond || delay > held {
		t.Errorf("last sender report %#x, delay %v; want 0x56789abc and between 300 ms and %v", r.LastSenderReport, delay, held)
	}
	for range maxNACKs - 1 {
		if nacks, _, _ := kinds(p.publisherFeedback(nil, false, false)); len(nacks) != 1 {
			t.Fatalf("a missing packet asked for fewer than %d times", maxNACKs)
		}
	}
	if nacks, cc, rr := kinds(p.publisherFeedback(nil, false, false)); len(nacks) != 0 || cc != 0 || rr != nil {
		t.Errorf("after %d asks: %d NACKs, %d feedback, report %v; want none", maxNACKs, len(nacks), cc, rr)
	}
}
