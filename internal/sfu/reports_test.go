package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestNTPTime(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want uint64
	}{
		{time.Unix(0, 0), ntpEpochOffset << 32},
		{time.Unix(1, 500_000_000), (ntpEpochOffset+1)<<32 | 1<<31},
		{time.Unix(1796000000, 250_000_000), (ntpEpochOffset+1796000000)<<32 | 1<<30},
	} {
		if got := ntpTime(tt.t); got != tt.want {
			t.Errorf("ntpTime(%v) = %#x, want %#x", tt.t, got, tt.want)
		}
	}
}

// TestSenderReportFollowsWhatWasSent: a down-track's report counts the
// packets and payload bytes that went out (not one that failed), and its
// RTP time is the last timestamp out advanced by the time since.
func TestSenderReportFollowsWhatWasSent(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	u.codec.ClockRate = 48000
	w := &fuzzWriter{}
	d := newDownTrack(u, nil)
	if _, ok := d.senderReport(time.Now()); ok {
		t.Fatal("an unbound down-track reports")
	}
	d.bound.Store(&binding{ssrc: 77, payloadType: 111, stream: w})
	if _, ok := d.senderReport(time.Now()); ok {
		t.Fatal("a down-track that sent nothing reports")
	}
	var h rtp.Header
	start := time.Now()
	for i := range 5 {
		w.fail = 0
		if i == 4 {
			w.fail = 1 // the last one fails
		}
		u.forward(&h, opusPacket(uint16(i), uint32(i*960)))
	}
	at := start.Add(100 * time.Millisecond)
	sr, ok := d.senderReport(at)
	if !ok {
		t.Fatal("no report after 4 packets sent")
	}
	if sr.SSRC != 77 || sr.PacketCount != 4 || sr.OctetCount != 4*2 {
		t.Errorf("report %+v, want SSRC 77, 4 packets of 2 bytes", sr)
	}
	// The last packet out had timestamp 3*960; the failed one is not it.
	ts, lastAt, _ := d.rw.LastOut()
	want := uint32((at.UnixNano() - lastAt) * 48000 / 1e9)
	if ts != 3*960 || sr.RTPTime-ts != want {
		t.Errorf("RTP time %d is %d ticks after the last packet out (%d), want %d", sr.RTPTime, sr.RTPTime-ts, ts, want)
	}
	if sr.NTPTime != ntpTime(at) {
		t.Errorf("NTP time %#x, want %#x", sr.NTPTime, ntpTime(at))
	}
}

// TestRoundTrip checks the arithmetic of a reception report's round trip:
// the middle 32 bits of the arrival's NTP time, less the last sender
// report, less the delay since it, in 1/65536 s.
func TestRoundTrip(t *testing.T) {
	ntp := func(secs, frac uint32) uint64 { return uint64(secs)<<32 | uint64(frac) }
	for _, tt := range []struct {
		name      string
		arrival   uint64
		lsr, dlsr uint32
		want      time.Duration
		ok        bool
	}{
		// RFC 3550 6.4.1, figure 2: A 0xb710:8000 (46864.500 s), LSR
		// 0xb705:2000 (46853.125 s), DLSR 0x0005:4000 (5.250 s): 6.125 s.
		{"RFC 3550's example", ntp(0xb710, 0x8000_0000), 0xb705_2000, 0x0005_4000, 6125 * time.Millisecond, true},
		// Sent at 10.0 s, held 250 ms (16384 units), back at 10.290 s.
		{"40 ms", ntpTime(time.Unix(10, 290e6)), uint32(ntpTime(time.Unix(10, 0)) >> 16), 16384, 40 * time.Millisecond, true},
		{"across the wrap of the middle 32 bits", ntp(0x1_0000, 0x0800_0000), 0xffff_f000, 0x0000_1000, time.Second / 32, true},
		{"no sender report yet", ntp(0xb710, 0), 0, 0, 0, false},
		{"truncation below zero is 0", ntp(0xb710, 0), 0xb70f_0000, 0x0001_0001, 0, true},
		{"held longer than it took: another time's report", ntp(0xb710, 0), 0xb70f_0000, 0x0002_0000, 0, false},
		{"over a minute", ntp(0xb710, 0), 0xb600_0000, 0, 0, false},
	} {
		got, ok := roundTrip(tt.arrival, tt.lsr, tt.dlsr)
		// The middle 32 bits count 1/65536 s: allow one unit.
		if ok != tt.ok || got < tt.want-16*time.Microsecond || got > tt.want+16*time.Microsecond {
			t.Errorf("%s: roundTrip = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRoundTripOfTheSubscribersReport: a subscriber's receiver report about
// a down-track, naming the sender report the down-track sent and how long
// the subscriber held it, gives the down-track's round trip, and the
// participant's; a report about another stream, read by this down-track's
// reader, is left to that stream's reader.
func TestRoundTripOfTheSubscribersReport(t *testing.T) {
	p := &Participant{sfu: testSFU()}
	u := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	u.codec.ClockRate = 48000
	d := newDownTrack(u, p)
	d.bound.Store(&binding{ssrc: 77, payloadType: 111, stream: &fuzzWriter{}})
	p.slots = []*downTrack{d}
	var h rtp.Header
	u.forward(&h, opusPacket(1, 960))
	if _, ok := p.mediaRoundTrip(time.Now()); ok {
		t.Fatal("a round trip before any report")
	}

	// Our sender report went out 290 ms ago; the subscriber held it 250 ms.
	sentAt := time.Now().Add(-290 * time.Millisecond)
	sr, ok := d.senderReport(sentAt)
	if !ok {
		t.Fatal("no sender report")
	}
	block := func(ssrc uint32) rtcp.ReceptionReport {
		return rtcp.ReceptionReport{SSRC: ssrc, LastSenderReport: uint32(sr.NTPTime >> 16), Delay: 250 * 65536 / 1000}
	}
	var st feedbackState
	p.handleFeedback(marshalRTCP(t, &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{block(78)}}), d, &st)
	if d.rttAt.Load() != 0 {
		t.Fatalf("d's reader kept the round trip of another stream's report: %v", time.Duration(d.rtt.Load()))
	}
	p.handleFeedback(marshalRTCP(t, &rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{block(78), block(77)}}), d, &st)
	rtt, ok := p.mediaRoundTrip(time.Now())
	if !ok || rtt < 40*time.Millisecond-time.Millisecond || rtt > 40*time.Millisecond+10*time.Millisecond {
		t.Fatalf("round trip %v (%v), want 40 ms and a little", rtt, ok)
	}

	// Through the direct path (no down-track given) the report finds its
	// down-track by SSRC, also inside a sender report.
	d.rtt.Store(0)
	d.rttAt.Store(0)
	p.handleFeedback(marshalRTCP(t, &rtcp.SenderReport{SSRC: 1, Reports: []rtcp.ReceptionReport{block(77)}}), nil, &st)
	if rtt, ok := p.mediaRoundTrip(time.Now()); !ok || rtt < 39*time.Millisecond || rtt > 50*time.Millisecond {
		t.Errorf("round trip from a sender report's block %v (%v), want 40 ms and a little", rtt, ok)
	}
	if _, ok := p.mediaRoundTrip(time.Now().Add(rttFresh + time.Second)); ok {
		t.Errorf("a round trip stands longer than %v", rttFresh)
	}
}
