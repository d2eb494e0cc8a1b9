package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStatsNormalize(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string // the report re-encoded after Normalize
		wantErr string // a part of the error, when one is wanted
	}{
		{name: "empty", raw: `{}`, want: `{}`},
		{
			name: "full, rounded",
			raw: `{"send_kbps":512.345,"send_width":1280,"send_height":720,"send_fps":29.97,"send_limit":"bandwidth",
				"recv_kbps":1024.04,"recv_loss_percent":0,"jitter_ms":4.26,"recv_fps":30,"client_rtt_ms":12.34,"client_network":"udp","client_candidate":"host"}`,
			want: `{"send_kbps":512.3,"send_width":1280,"send_height":720,"send_fps":30,"send_limit":"bandwidth",` +
				`"recv_kbps":1024,"recv_loss_percent":0,"jitter_ms":4.3,"recv_fps":30,"client_rtt_ms":12.3,"client_network":"udp","client_candidate":"host"}`,
		},
		{
			name: "clamped",
			raw:  `{"send_kbps":1e12,"send_width":100000,"send_fps":1000,"recv_loss_percent":250,"client_rtt_ms":1e9}`,
			want: `{"send_kbps":1000000,"send_width":8192,"send_fps":240,"recv_loss_percent":100,"client_rtt_ms":60000}`,
		},
		{name: "negative bitrate", raw: `{"recv_kbps":-1}`, wantErr: "recv_kbps"},
		{name: "negative width", raw: `{"send_width":-640}`, wantErr: "send_width"},
		{name: "unknown network", raw: `{"client_network":"carrier-pigeon"}`, wantErr: "client_network"},
		{name: "unknown candidate", raw: `{"client_candidate":"mdns"}`, wantErr: "client_candidate"},
		{name: "unknown limit", raw: `{"send_limit":"thermal"}`, wantErr: "send_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s ClientStats
			if err := json.Unmarshal([]byte(tt.raw), &s); err != nil {
				t.Fatal(err)
			}
			err := s.Normalize()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Normalize() = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize() = %v", err)
			}
			got, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("after Normalize:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestDecodeStats(t *testing.T) {
	msg, perr := Decode([]byte(`{"type":"stats","send_width":640,"send_height":480,"send_fps":25,"client_network":"tcp"}`))
	if perr != nil {
		t.Fatalf("Decode: %+v", perr)
	}
	s, ok := msg.(*Stats)
	if !ok {
		t.Fatalf("Decode returned %T, want *Stats", msg)
	}
	if s.SendWidth == nil || *s.SendWidth != 640 || s.SendFPS == nil || *s.SendFPS != 25 || s.ClientNetwork != "tcp" || s.RecvKbps != nil {
		t.Errorf("decoded %+v", s.ClientStats)
	}
	for _, raw := range []string{
		`{"type":"stats","send_width":640.5}`,
		`{"type":"stats","recv_kbps":"fast"}`,
		`{"type":"stats","jitter_ms":NaN}`,
	} {
		if _, perr := Decode([]byte(raw)); perr == nil || perr.Code != CodeBadJSON {
			t.Errorf("Decode(%s) = %+v, want %s", raw, perr, CodeBadJSON)
		}
	}
}
