package sfu

import (
	"testing"
	"time"

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
