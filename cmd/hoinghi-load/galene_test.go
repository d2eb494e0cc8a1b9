package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

func TestGaleneMessageEncoding(t *testing.T) {
	tests := []struct {
		name string
		msg  galeneMessage
		want string
	}{
		{name: "handshake", msg: galeneMessage{Type: "handshake", Version: []string{"2"}, ID: "hall"},
			want: `{"type":"handshake","version":["2"],"id":"hall"}`},
		{name: "join", msg: galeneMessage{Type: "join", Kind: "join", Group: "bench", Username: "diem-001", Password: "x"},
			want: `{"type":"join","kind":"join","username":"diem-001","password":"x","group":"bench"}`},
		{name: "request", msg: galeneMessage{Type: "request", Request: map[string][]string{"": {"audio", "video"}}},
			want: `{"type":"request","request":{"":["audio","video"]}}`},
		{name: "offer", msg: galeneMessage{Type: "offer", ID: "up-hall", Label: "camera", Username: "hall", SDP: "v=0\r\n"},
			want: `{"type":"offer","id":"up-hall","username":"hall","label":"camera","sdp":"v=0\r\n"}`},
		{name: "pong", msg: galeneMessage{Type: "pong"}, want: `{"type":"pong"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestGaleneMessageDecoding(t *testing.T) {
	raw := `{"type":"ice","id":"d1","candidate":{"candidate":"candidate:1 1 udp 2130706431 192.0.2.2 51890 typ host","sdpMid":"0","sdpMLineIndex":0}}`
	var m galeneMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "ice" || m.ID != "d1" || m.Candidate == nil || !strings.Contains(m.Candidate.Candidate, "51890 typ host") ||
		m.Candidate.SDPMid == nil || *m.Candidate.SDPMid != "0" {
		t.Errorf("decoded %+v", m)
	}

	// Fields the client does not know, such as a status object, are skipped.
	raw = `{"type":"joined","kind":"fail","error":"not-authorised","group":"bench","value":"not authorised","status":{"name":"bench"},"rtcConfiguration":{"iceServers":[]}}`
	m = galeneMessage{}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.Kind != "fail" || m.Error != "not-authorised" || m.text() != "not authorised" {
		t.Errorf("decoded %+v, text %q", m, m.text())
	}
	e := &GaleneError{Type: m.Type, Kind: m.Kind, Code: m.Error, Message: m.text()}
	if got, want := e.Error(), "galene joined/fail not-authorised: not authorised"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}

	// A value that is not a string reads as its JSON.
	m = galeneMessage{Value: json.RawMessage(`{"a":1}`)}
	if got := m.text(); got != `{"a":1}` {
		t.Errorf("text of an object: %q", got)
	}
}

// TestGaleneSignaling runs the client's signaling against a fake server:
// handshake, join, the subscriber's request, and a ping answered.
func TestGaleneSignaling(t *testing.T) {
	got := make(chan galeneMessage, 16)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			var m galeneMessage
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			got <- m
			var reply []galeneMessage
			switch m.Type {
			case "handshake":
				reply = []galeneMessage{{Type: "handshake", Version: []string{"2"}}}
			case "join":
				if m.Group != "bench" {
					reply = []galeneMessage{{Type: "joined", Kind: "fail", Error: "not-authorised", Value: json.RawMessage(`"no such group"`)}}
					break
				}
				reply = []galeneMessage{{Type: "joined", Kind: "join", Group: m.Group, Username: m.Username, Permissions: []string{"present"}}}
			case "request":
				reply = []galeneMessage{{Type: "ping"}}
			}
			for _, r := range reply {
				if err := ws.WriteJSON(r); err != nil {
					return
				}
			}
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	c, err := dialGalene(ctx, galeneOptions{url: url, group: "bench", id: "diem-001", password: "p", log: log})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for len(types) < 4 {
		select {
		case m := <-got:
			types = append(types, m.Type)
			switch m.Type {
			case "handshake":
				if m.ID != "diem-001" || !reflect.DeepEqual(m.Version, []string{galeneVersion}) {
					t.Errorf("handshake %+v", m)
				}
			case "join":
				if m.Kind != "join" || m.Username != "diem-001" || m.Password != "p" {
					t.Errorf("join %+v", m)
				}
			case "request":
				if !reflect.DeepEqual(m.Request, map[string][]string{"": {"audio", "video"}}) {
					t.Errorf("request %+v", m.Request)
				}
			}
		case <-ctx.Done():
			t.Fatalf("messages so far %v: %v", types, ctx.Err())
		}
	}
	if want := []string{"handshake", "join", "request", "pong"}; !reflect.DeepEqual(types, want) {
		t.Errorf("messages %v, want %v", types, want)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}

	_, err = dialGalene(ctx, galeneOptions{url: url, group: "other", id: "diem-002", log: log})
	var ge *GaleneError
	if !errors.As(err, &ge) || ge.Kind != "fail" || ge.Message != "no such group" {
		t.Errorf("join refused: got %v", err)
	}
}

// TestGaleneCandidatesKept checks that a candidate coming before its
// stream's remote description waits for it.
func TestGaleneCandidatesKept(t *testing.T) {
	c := &galeneConn{pcs: map[string]*webrtc.PeerConnection{}, pending: map[string][]webrtc.ICECandidateInit{}}
	cand := webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 192.0.2.2 9 typ host"}
	if err := c.addCandidate(galeneMessage{Type: "ice", ID: "s", Candidate: &cand}); err != nil {
		t.Fatal(err)
	}
	if len(c.pending["s"]) != 1 {
		t.Errorf("pending %v", c.pending)
	}
	if err := c.addCandidate(galeneMessage{Type: "ice", ID: "s"}); err != nil || len(c.pending["s"]) != 1 {
		t.Errorf("a message without a candidate: err %v, pending %v", err, c.pending)
	}
}
