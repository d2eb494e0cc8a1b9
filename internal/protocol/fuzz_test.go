package protocol

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// clientMessages are the client's messages of docs/protocol.md, and a few
// of the server's, which Decode must refuse as of an unknown type.
var clientMessages = []string{
	`{"type":"publish_offer","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\na=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F\r\na=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"}`,
	`{"type":"subscribe_answer","sdp":"v=0\r\n..."}`,
	`{"type":"candidate","pc":"publish","candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
	`{"type":"candidate","pc":"subscribe","candidate":{"candidate":"","usernameFragment":"EsAw"}}`,
	`{"type":"wall","participants":["bien-hoa","long-thanh","dinh-quan"]}`,
	`{"type":"wall","participants":[],"auto":true}`,
	`{"type":"floor","action":"ask","subject":"Tham luận về chuyển đổi số"}`,
	`{"type":"floor","action":"give","point_id":"bien-hoa","seconds":420}`,
	`{"type":"floor","action":"give"}`,
	`{"type":"floor","action":"take_back"}`,
	`{"type":"floor","action":"extend","point_id":"bien-hoa","seconds":-1}`,
	`{"type":"stats","send_kbps":512.3,"send_width":1280,"send_height":720,"send_fps":30,"send_limit":"none","recv_kbps":1480,"recv_loss_percent":0.4,"jitter_ms":3.2,"recv_fps":29.5,"client_rtt_ms":12,"client_network":"udp","client_candidate":"host"}`,
	`{"type":"stats","send_kbps":1e12,"send_width":100000,"recv_loss_percent":250,"client_candidate":"relay","client_network":"tls"}`,
	`{"type":"stats","recv_kbps":-1}`,
	`{"type":"control","action":"mute","participant_id":"bien-hoa"}`,
	`{"type":"check_in","delegates":25,"representative":"Bà Nguyễn Thị Hoa"}`,
	`{"type":"check_in","delegates":30,"point_id":"long-thanh"}`,
	`{"type":"check_in","delegates":null}`,
	`{"type":"roll_call","action":"start","seconds":120}`,
	`{"type":"roll_call","action":"confirm"}`,
	`{"type":"roll_call","action":"mark","point_id":"long-thanh","status":"absent","reason":"Mất điện cục bộ"}`,
	`{"type":"roll_call","action":"close"}`,
	`{"type":"conference","action":"start"}`,
	`{"type":"welcome","participant_id":"bien-hoa","role":"point","point_id":"bien-hoa","name":"Điểm cầu TP. Biên Hòa","conference_id":"demo","conference_title":"Hội nghị thử nghiệm","ice_servers":[]}`,
	`{"type":"error","code":"unknown_type","message":"unknown message type \"hello\"","request":"hello"}`,
	`{"type":"hello"}`,
	`{"type":""}`,
	`{"type":7}`,
	`{"TYPE":"floor","Action":"ask"}`,
	`{"type":"floor","seconds":"420"}`,
	`{"type":"floor","seconds":1e10}`,
	`{"type":"stats","jitter_ms":NaN}`,
	`["type","floor"]`,
	`null`,
	``,
	"{\"type\":\"floor\",\"subject\":\"\xff\xfe\"}",
}

// FuzzDecode checks that Decode never panics, answers every message with
// either a message or an error ready to send, and that a decoded message
// encodes back to itself; a decoded stats report goes on through
// Normalize.
func FuzzDecode(f *testing.F) {
	for _, m := range clientMessages {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, perr := Decode(raw)
		if (msg == nil) == (perr == nil) {
			t.Fatalf("Decode(%q) = %v, %v: want exactly one of a message and an error", raw, msg, perr)
		}
		if perr != nil {
			if perr.Type != TypeError || perr.Message == "" ||
				(perr.Code != CodeBadJSON && perr.Code != CodeUnknownType) ||
				(perr.Code == CodeUnknownType && perr.Request == "") {
				t.Fatalf("Decode(%q): error %+v is not one to send", raw, perr)
			}
			if _, err := json.Marshal(perr); err != nil {
				t.Fatalf("Decode(%q): error %+v does not encode: %v", raw, perr, err)
			}
			return
		}
		v := reflect.ValueOf(msg)
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			t.Fatalf("Decode(%q) = %T, want a pointer to a message struct", raw, msg)
		}
		var env Envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("Decode(%q) decoded what is not JSON: %v", raw, err)
		}
		if typ := v.Elem().FieldByName("Type"); !typ.IsValid() || typ.String() != env.Type {
			t.Fatalf("Decode(%q) = %+v, whose type is not %q", raw, msg, env.Type)
		}
		again, err := json.Marshal(msg)
		if err != nil {
			t.Fatalf("Decode(%q) = %+v, which does not encode: %v", raw, msg, err)
		}
		msg2, perr := Decode(again)
		if perr != nil {
			t.Fatalf("Decode(%q) = %+v, encoded as %s, which does not decode: %+v", raw, msg, again, perr)
		}
		if !reflect.DeepEqual(msg, msg2) {
			t.Fatalf("Decode(%q) = %+v, encoded as %s, decodes as %+v", raw, msg, again, msg2)
		}
		if s, ok := msg.(*Stats); ok {
			checkNormalize(t, s.ClientStats)
		}
	})
}

// FuzzStatsNormalize gives Normalize every figure a browser could report,
// including those JSON cannot carry (NaN, infinities, -0): present says
// which fields are set, one bit each in the order of the arguments.
func FuzzStatsNormalize(f *testing.F) {
	f.Add(uint16(0xffff), 512.3, 30.0, 1480.0, 0.4, 3.2, 29.5, 12.0, 1280, 720, "none", "udp", "host")
	f.Add(uint16(0xffff), 1e12, 1000.0, 2e6, 250.0, 1e9, 241.0, math.Inf(1), 100000, 9000, "bandwidth", "tls", "relay")
	f.Add(uint16(0x0001), -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, "", "", "")
	f.Add(uint16(0x0100), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -640, 0, "", "", "")
	f.Add(uint16(0x0004), 0.0, 0.0, math.NaN(), 0.0, 0.0, 0.0, 0.0, 0, 0, "", "", "")
	f.Add(uint16(0x0010), 0.0, 0.0, 0.0, 0.0, math.Copysign(0, -1), 0.0, 0.0, 0, 0, "", "", "")
	f.Add(uint16(0x0000), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, "thermal", "carrier-pigeon", "mdns")
	f.Add(uint16(0x00ff), 0.05, 0.04999, 0.15, 99.95, 59999.96, 239.96, 0.25, 8192, 8193, "cpu", "tcp", "srflx")
	f.Fuzz(func(t *testing.T, present uint16, sendKbps, sendFPS, recvKbps, loss, jitter, recvFPS, rtt float64,
		width, height int, limit, network, candidate string) {
		var s ClientStats
		for i, set := range []func(){
			func() { s.SendKbps = &sendKbps },
			func() { s.SendFPS = &sendFPS },
			func() { s.RecvKbps = &recvKbps },
			func() { s.RecvLossPercent = &loss },
			func() { s.JitterMs = &jitter },
			func() { s.RecvFPS = &recvFPS },
			func() { s.ClientRTTMs = &rtt },
			func() { s.SendWidth = &width },
			func() { s.SendHeight = &height },
		} {
			if present&(1<<i) != 0 {
				set()
			}
		}
		s.SendLimit, s.ClientNetwork, s.ClientCandidate = limit, network, candidate
		checkNormalize(t, s)
	})
}

// statsFloat is a figure of ClientStats with its bound.
type statsFloat struct {
	name string
	v    *float64
	max  float64
}

func statsFloats(s *ClientStats) []statsFloat {
	return []statsFloat{
		{"send_kbps", s.SendKbps, MaxStatsKbps},
		{"send_fps", s.SendFPS, MaxStatsFPS},
		{"recv_kbps", s.RecvKbps, MaxStatsKbps},
		{"recv_loss_percent", s.RecvLossPercent, 100},
		{"jitter_ms", s.JitterMs, MaxStatsMs},
		{"recv_fps", s.RecvFPS, MaxStatsFPS},
		{"client_rtt_ms", s.ClientRTTMs, MaxStatsMs},
	}
}

// checkNormalize normalizes a copy of in and checks the result against the
// rule of Normalize: an error exactly when a figure is negative or not a
// number or a word is not allowed; otherwise every figure within its bound,
// rounded to one decimal, close to what was reported, encodable as JSON,
// and normalized already (a second Normalize changes nothing).
func checkNormalize(t *testing.T, in ClientStats) {
	t.Helper()
	s := copyStats(in)
	err := s.Normalize()
	bad := ""
	for _, f := range statsFloats(&in) {
		if f.v != nil && (math.IsNaN(*f.v) || *f.v < 0) {
			bad = f.name
		}
	}
	for name, v := range map[string]*int{"send_width": in.SendWidth, "send_height": in.SendHeight} {
		if v != nil && *v < 0 {
			bad = name
		}
	}
	for name, w := range map[string]struct {
		v       string
		allowed []string
	}{
		"send_limit":       {in.SendLimit, SendLimits},
		"client_network":   {in.ClientNetwork, ClientNetworks},
		"client_candidate": {in.ClientCandidate, ClientCandidates},
	} {
		if w.v != "" && !slices.Contains(w.allowed, w.v) {
			bad = name
		}
	}
	if (err != nil) != (bad != "") {
		t.Fatalf("Normalize(%s) = %v; a bad figure: %q", describeStats(in), err, bad)
	}
	if err != nil {
		return
	}
	got, want := statsFloats(&s), statsFloats(&in)
	for i, f := range got {
		if (f.v == nil) != (want[i].v == nil) {
			t.Fatalf("Normalize(%s): %s set or cleared", describeStats(in), f.name)
		}
		if f.v == nil {
			continue
		}
		v, orig := *f.v, min(*want[i].v, f.max)
		if !(v >= 0 && v <= f.max) || math.Abs(v-orig) > 0.05+1e-9*f.max {
			t.Fatalf("Normalize(%s): %s = %v from %v, want it rounded within [0, %v]", describeStats(in), f.name, v, *want[i].v, f.max)
		}
	}
	for _, p := range []struct {
		name    string
		v, orig *int
	}{{"send_width", s.SendWidth, in.SendWidth}, {"send_height", s.SendHeight, in.SendHeight}} {
		if p.v != nil && *p.v != min(*p.orig, MaxStatsPixels) {
			t.Fatalf("Normalize(%s): %s = %d", describeStats(in), p.name, *p.v)
		}
	}
	if s.SendLimit != in.SendLimit || s.ClientNetwork != in.ClientNetwork || s.ClientCandidate != in.ClientCandidate {
		t.Fatalf("Normalize(%s) changed a word: %s", describeStats(in), describeStats(s))
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("Normalize(%s) = %s, which does not encode: %v", describeStats(in), describeStats(s), err)
	}
	twice := copyStats(s)
	if err := twice.Normalize(); err != nil || !reflect.DeepEqual(twice, s) {
		t.Fatalf("Normalize(%s) = %s; once more: %s, %v", describeStats(in), describeStats(s), describeStats(twice), err)
	}
}

// copyStats returns s with its figures copied, not shared.
func copyStats(s ClientStats) ClientStats {
	c := s
	for _, p := range []**float64{&c.SendKbps, &c.SendFPS, &c.RecvKbps, &c.RecvLossPercent, &c.JitterMs, &c.RecvFPS, &c.ClientRTTMs} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	for _, p := range []**int{&c.SendWidth, &c.SendHeight} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return c
}

// describeStats shows the figures of s, not their addresses.
func describeStats(s ClientStats) string {
	var b strings.Builder
	b.WriteString("{")
	for _, f := range statsFloats(&s) {
		if f.v != nil {
			fmt.Fprintf(&b, "%s:%v ", f.name, *f.v)
		}
	}
	if s.SendWidth != nil {
		fmt.Fprintf(&b, "send_width:%d ", *s.SendWidth)
	}
	if s.SendHeight != nil {
		fmt.Fprintf(&b, "send_height:%d ", *s.SendHeight)
	}
	fmt.Fprintf(&b, "send_limit:%q client_network:%q client_candidate:%q}", s.SendLimit, s.ClientNetwork, s.ClientCandidate)
	return b.String()
}
