package client

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/protocol"
)

// echoServer is a minimal signaling server and forwarder for testing the
// client alone: it sends every participant's own media back to it on the
// subscribe PeerConnection, one renegotiation per track, and asks for a
// keyframe once after 30 video packets.
type echoServer struct {
	t   *testing.T
	api *webrtc.API
}

func newEchoServer(t *testing.T) *httptest.Server {
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	es := &echoServer{t: t, api: webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))}
	srv := httptest.NewServer(http.HandlerFunc(es.serveWS))
	t.Cleanup(srv.Close)
	return srv
}

func (es *echoServer) serveWS(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("t")
	if id == "" || id == "forged" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{
			"error": "token_invalid", "message": "Đường dẫn không hợp lệ.", "message_en": "This link is not valid.", "technician_phone": "0251 3822 123",
		})
		return
	}
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	var wmu sync.Mutex
	send := func(v any) {
		wmu.Lock()
		defer wmu.Unlock()
		ws.WriteJSON(v)
	}
	send(protocol.Welcome{Type: protocol.TypeWelcome, ParticipantID: id, Role: "point", PointID: id, Name: "Điểm cầu " + id, ConferenceID: "demo", ICEServers: []protocol.ICEServer{}})
	send(protocol.Roster{Type: protocol.TypeRoster, Participants: []protocol.Participant{{ID: id, Role: "point", PointID: id}}})

	sub, err := es.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		es.t.Error(err)
		return
	}
	defer sub.Close()
	var pub *webrtc.PeerConnection
	defer func() {
		if pub != nil {
			pub.Close()
		}
	}()
	answers := make(chan string, 1)
	renegotiate := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // one subscribe offer at a time
		for {
			select {
			case <-ctx.Done():
				return
			case <-renegotiate:
			}
			offer, err := sub.CreateOffer(nil)
			if err != nil {
				es.t.Error(err)
				return
			}
			gathered := webrtc.GatheringCompletePromise(sub)
			if err := sub.SetLocalDescription(offer); err != nil {
				es.t.Error(err)
				return
			}
			<-gathered
			send(protocol.SDP{Type: protocol.TypeSubscribeOffer, SDP: sub.LocalDescription().SDP})
			select {
			case <-ctx.Done():
				return
			case a := <-answers:
				if err := sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a}); err != nil {
					es.t.Error(err)
					return
				}
			}
		}
	}()

	for {
		_, raw, err := ws.ReadMessage()
		if err != nil {
			return
		}
		msg, perr := protocol.Decode(raw)
		if perr != nil {
			send(perr)
			continue
		}
		m, ok := msg.(*protocol.SDP)
		switch {
		case ok && m.Type == protocol.TypePublishOffer && id == "clerk":
			send(protocol.Error{Type: protocol.TypeError, Code: protocol.CodeForbidden, Message: "secretariat does not publish", Request: m.Type})
		case ok && m.Type == protocol.TypePublishOffer:
			if pub, err = es.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
				es.t.Error(err)
				return
			}
			pub.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
				local, err := webrtc.NewTrackLocalStaticRTP(tr.Codec().RTPCodecCapability, tr.ID(), tr.StreamID())
				if err != nil {
					es.t.Error(err)
					return
				}
				s, err := sub.AddTrack(local)
				if err != nil {
					es.t.Error(err)
					return
				}
				go func() {
					buf := make([]byte, 1500)
					for {
						if _, _, err := s.Read(buf); err != nil {
							return
						}
					}
				}()
				renegotiate <- struct{}{}
				buf := make([]byte, 1500)
				for pkts := 1; ; pkts++ {
					n, _, err := tr.Read(buf)
					if err != nil {
						return
					}
					local.Write(buf[:n])
					if pkts == 30 && tr.Kind() == webrtc.RTPCodecTypeVideo {
						pub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}})
					}
				}
			})
			if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
				send(protocol.Error{Type: protocol.TypeError, Code: protocol.CodeBadSDP, Message: err.Error(), Request: m.Type})
				continue
			}
			answer, err := pub.CreateAnswer(nil)
			if err != nil {
				es.t.Error(err)
				return
			}
			gathered := webrtc.GatheringCompletePromise(pub)
			if err := pub.SetLocalDescription(answer); err != nil {
				es.t.Error(err)
				return
			}
			<-gathered
			send(protocol.SDP{Type: protocol.TypePublishAnswer, SDP: pub.LocalDescription().SDP})
		case ok && m.Type == protocol.TypeSubscribeAnswer:
			answers <- m.SDP
		}
	}
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("HOINGHI_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestClientEcho(t *testing.T) {
	srv := newEchoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{ServerURL: srv.URL, Token: "bien-hoa", Publish: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if w := c.Welcome(); w.ParticipantID != "bien-hoa" || w.ConferenceID != "demo" {
		t.Errorf("welcome %+v", w)
	}

	// Both tracks come back, with a keyframe.
	err = c.WaitMedia(ctx, func(st []TrackStats) bool {
		return len(st) == 2 && st[0].Packets >= 25 && st[1].Packets >= 45 && st[1].Keyframes >= 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Roster(); len(r) != 1 || r[0].ID != "bien-hoa" {
		t.Errorf("roster %+v", r)
	}
	recv := c.Received()
	sent := c.Sent()
	if len(sent) != 2 || sent[0].Kind != "audio" || sent[1].Kind != "video" {
		t.Fatalf("sent %+v", sent)
	}
	for i, r := range recv {
		if r.Participant != "bien-hoa" || r.Kind != sent[i].Kind {
			t.Errorf("received track %+v", r)
		}
		if r.Corrupt != 0 || r.SeqJumps != 0 || r.Lost != 0 {
			t.Errorf("%s: corrupt %d, jumps %d, lost %d", r.Kind, r.Corrupt, r.SeqJumps, r.Lost)
		}
		if r.FirstPacket <= 0 || r.FirstPacket > 5*time.Second {
			t.Errorf("%s: first packet after %v", r.Kind, r.FirstPacket)
		}
		if r.Packets > sent[i].Packets {
			t.Errorf("%s: received %d packets, sent only %d", r.Kind, r.Packets, sent[i].Packets)
		}
	}
	// The server's PLI after 30 packets (10 frames) brought a second keyframe
	// before the periodic one at frame 50.
	if frames := sent[1].Packets / 3; sent[1].Keyframes < 2 && frames < VideoKeyframeEvery {
		t.Errorf("sent %d keyframes in %d frames, want 2", sent[1].Keyframes, frames)
	}

	// Malformed input is answered with an error and the connection stays.
	if err := c.SendRaw([]byte(`{"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-c.Errors():
		if e.Code != protocol.CodeUnknownType || e.Request != "hello" {
			t.Errorf("error %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("no error message")
	}

	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Close")
	}
}

func TestDialRefused(t *testing.T) {
	srv := newEchoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, Options{ServerURL: srv.URL, Token: "forged"})
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want *RefusedError", err, err)
	}
	want := RefusedError{Status: 401, Code: "token_invalid", Message: "Đường dẫn không hợp lệ.", MessageEN: "This link is not valid.", TechnicianPhone: "0251 3822 123"}
	if *re != want {
		t.Errorf("got %+v, want %+v", *re, want)
	}
}

func TestWSURL(t *testing.T) {
	tests := []struct {
		base, instance, want string
		bad                  bool
	}{
		{base: "http://127.0.0.1:8080", want: "ws://127.0.0.1:8080/ws?t=a.b-c&v=2"},
		{base: "https://hn.example/", want: "wss://hn.example/ws?t=a.b-c&v=2"},
		{base: "https://hn.example/prefix", instance: "desk-1", want: "wss://hn.example/prefix/ws?instance=desk-1&t=a.b-c&v=2"},
		{base: "ftp://hn.example", bad: true},
		{base: "127.0.0.1:8080", bad: true},
	}
	for _, tt := range tests {
		got, err := wsURL(tt.base, "a.b-c", tt.instance)
		if (err != nil) != tt.bad || got != tt.want && !tt.bad {
			t.Errorf("wsURL(%q) = %q, %v", tt.base, got, err)
		}
	}
}

func TestDialPublishForbidden(t *testing.T) {
	srv := newEchoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, Options{ServerURL: srv.URL, Token: "clerk", Publish: true})
	var se *ServerError
	if !errors.As(err, &se) || se.Err == nil || se.Err.Code != protocol.CodeForbidden {
		t.Fatalf("error %v, want a *ServerError with code forbidden", err)
	}
	// Without Publish the same participant connects and only listens.
	c, err := Dial(ctx, Options{ServerURL: srv.URL, Token: "clerk"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Sent() != nil {
		t.Errorf("sent %+v without publishing", c.Sent())
	}
}
