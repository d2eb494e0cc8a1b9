package signal

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/token"
)

// TestFramesSeesEveryFrame: Deps.Frames is told of every message the
// server writes, the closing message too, and of every one it reads,
// with the error it answered.
func TestFramesSeesEveryFrame(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	media, err := sfu.New(sfu.Config{TCPPort: -1, IncludeLoopback: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { media.Close() })
	var mu sync.Mutex
	var frames []Frame
	h := NewHub(Deps{SFU: media, Store: storetest.Embedded(t), Log: log, Instance: "test",
		Frames: func(f Frame) {
			f.Data = slices.Clone(f.Data) // Frames must not keep it
			mu.Lock()
			frames = append(frames, f)
			mu.Unlock()
		}})
	conf := conference.Conference{ID: "frames", Title: "Frames"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Serve(w, r, Admission{Claims: &token.Claims{Conference: conf.ID, Role: conference.RoleSecretariat}, Conference: conf})
	}))
	t.Cleanup(srv.Close)

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, m := range []string{`{"type":"stats","send_kbps":12}`, `{"type":"hello"}`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	// Read until the error that answers hello, then shut the hub down.
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var read []string
	for {
		_, raw, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v (read %v)", err, read)
		}
		var env protocol.Envelope
		json.Unmarshal(raw, &env)
		read = append(read, env.Type)
		if env.Type == protocol.TypeError {
			break
		}
	}
	h.Shutdown(t.Context())
	for {
		if _, raw, err := ws.ReadMessage(); err != nil {
			break
		} else {
			var env protocol.Envelope
			json.Unmarshal(raw, &env)
			read = append(read, env.Type)
		}
	}
	if !slices.Contains(read, protocol.TypeClosing) {
		t.Fatalf("the client read %v, no closing", read)
	}

	mu.Lock()
	defer mu.Unlock()
	var sent []string
	var stats, hello *Frame
	for i, f := range frames {
		if f.Conference != conf.ID || !strings.HasPrefix(f.Participant, "secretariat") {
			t.Errorf("frame %d of %s/%s", i, f.Conference, f.Participant)
		}
		var env protocol.Envelope
		if err := json.Unmarshal(f.Data, &env); err != nil {
			t.Errorf("frame %d: %q: %v", i, f.Data, err)
		}
		switch {
		case !f.Received:
			sent = append(sent, env.Type)
		case env.Type == protocol.TypeStats:
			stats = &frames[i]
		case env.Type == "hello":
			hello = &frames[i]
		}
	}
	if !slices.Equal(sent, read) {
		t.Errorf("Frames saw the server write %v; the client read %v", sent, read)
	}
	if stats == nil || stats.Refused != nil {
		t.Errorf("the accepted stats: %+v", stats)
	}
	if hello == nil || hello.Refused == nil || hello.Refused.Code != protocol.CodeUnknownType {
		t.Errorf("the refused hello: %+v", hello)
	}
}
