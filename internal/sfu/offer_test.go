package sfu

import (
	"errors"
	"strings"
	"testing"
)

// sdpWith returns a publish offer whose m-lines are media, each a media
// line ("video 9 UDP/TLS/RTP/SAVPF 96") followed by its attribute lines.
func sdpWith(media ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")
	for i, m := range media {
		lines := strings.Split(m, "\n")
		b.WriteString("m=" + lines[0] + "\r\nc=IN IP4 0.0.0.0\r\n")
		b.WriteString("a=mid:" + string(rune('0'+i)) + "\r\n")
		for _, l := range lines[1:] {
			b.WriteString("a=" + l + "\r\n")
		}
	}
	return b.String()
}

func TestCheckPublishOffer(t *testing.T) {
	const (
		vp8  = "video 9 UDP/TLS/RTP/SAVPF 100\nrtpmap:100 VP8/90000"
		opus = "audio 9 UDP/TLS/RTP/SAVPF 109\nrtpmap:109 opus/48000/2"
	)
	tests := []struct {
		name  string
		offer string
		// ingest checks the offer of the mixer's WHIP source.
		ingest bool
		// bad are what the error must name; none: no error.
		bad []string
	}{
		{"VP8 and Opus", sdpWith(vp8, opus), false, nil},
		{"VP8 among others", sdpWith("video 9 UDP/TLS/RTP/SAVPF 98 45 100\nrtpmap:98 VP9/90000\nrtpmap:45 AV1/90000\nrtpmap:100 vp8/90000", opus), false, nil},
		{"video without VP8", sdpWith("video 9 UDP/TLS/RTP/SAVPF 98 127\nrtpmap:98 VP9/90000\nrtpmap:127 H264/90000", opus), false,
			[]string{`m-line 0 (video, mid "0") offers VP9/90000, H264/90000`, "video VP8/90000", "audio opus/48000/2"}},
		{"H.264 alone from the WHIP source", sdpWith("video 9 UDP/TLS/RTP/SAVPF 127\nrtpmap:127 H264/90000", opus), true, nil},
		{"VP9 alone from the WHIP source", sdpWith("video 9 UDP/TLS/RTP/SAVPF 98\nrtpmap:98 VP9/90000", opus), true,
			[]string{`m-line 0 (video, mid "0") offers VP9/90000`, "video VP8/90000, video H264/90000"}},
		{"audio without Opus", sdpWith(vp8, "audio 9 UDP/TLS/RTP/SAVPF 9\nrtpmap:9 G722/8000"), false,
			[]string{`m-line 1 (audio, mid "1") offers G722/8000`}},
		{"static payload types alone", sdpWith(vp8, "audio 9 UDP/TLS/RTP/SAVPF 0 8"), false,
			[]string{`m-line 1 (audio, mid "1") offers payload types 0 8`}},
		{"VP8 at another clock rate", sdpWith("video 9 UDP/TLS/RTP/SAVPF 100\nrtpmap:100 VP8/48000"), false,
			[]string{"offers VP8/48000"}},
		{"Opus as video", sdpWith("video 9 UDP/TLS/RTP/SAVPF 109\nrtpmap:109 opus/48000/2"), false,
			[]string{"offers opus/48000"}},
		{"both", sdpWith("video 9 UDP/TLS/RTP/SAVPF 98\nrtpmap:98 VP9/90000", "audio 9 UDP/TLS/RTP/SAVPF 9\nrtpmap:9 G722/8000"), false,
			[]string{"m-line 0 (video", "; m-line 1 (audio"}},
		{"a stopped m-line is not checked", sdpWith("video 0 UDP/TLS/RTP/SAVPF 98\nrtpmap:98 VP9/90000", opus), false, nil},
		{"data channel alone", sdpWith("application 9 UDP/DTLS/SCTP webrtc-datachannel"), false, nil},
		{"no m-line", sdpWith(), false, nil},
		{"not SDP: left to pion", "hello", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := codecs()
			if tt.ingest {
				cs = ingestCodecs()
			}
			err := checkPublishOffer(tt.offer, cs)
			if len(tt.bad) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadSDP) {
				t.Fatalf("error %v, want ErrBadSDP", err)
			}
			for _, want := range tt.bad {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
