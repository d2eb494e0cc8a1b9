package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/token"
)

// TestWebSocketWelcome wires the real hub and SFU behind the server, as
// cmd/hoinghi does, and checks that an admitted point is welcomed.
func TestWebSocketWelcome(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	st := storetest.Embedded(t)
	if _, _, err := Demo(ctx, st); err != nil {
		t.Fatal(err)
	}
	media, err := sfu.New(sfu.Config{TCPPort: -1, IncludeLoopback: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { media.Close() })
	iss, err := token.NewIssuer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	hub := signal.NewHub(signal.Deps{SFU: media, Store: st, Log: log, Instance: "test"})
	srv := httptest.NewServer(New(Deps{Store: st, Issuer: iss, Hub: hub, Stats: media.Stats, Log: log}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		hub.Shutdown(sctx)
	})

	tok, err := iss.Issue("demo", conference.RolePoint, "long-thanh", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?t=" + tok
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, raw, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read welcome: %v", err)
	}
	var w protocol.Welcome
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	if w.Type != protocol.TypeWelcome || w.PointID != "long-thanh" || w.ConferenceID != "demo" ||
		w.Name != "Điểm cầu huyện Long Thành" {
		t.Errorf("welcome = %+v", w)
	}

	// A refused token gets the JSON 401 and no upgrade.
	_, res, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?t=bad", nil)
	if err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("bad token: err %v, response %+v", err, res)
	}
}
