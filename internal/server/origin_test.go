package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/auth"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/token"
)

// TestWebSocketOrigin wires the real hub as cmd/hoinghi does and checks
// that a page of another site cannot open the signaling WebSocket, with a
// token or with a logged-in user's cookie, while the server's own pages and
// clients without an Origin (the Go client) can.
func TestWebSocketOrigin(t *testing.T) {
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
	secret := []byte(strings.Repeat("k", 32))
	iss, err := token.NewIssuer(secret)
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.HashPassword("mật khẩu", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{Secret: secret, Users: []auth.User{{Name: "lan", Role: conference.RoleTechnician, PasswordHash: h}}})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		check func(*http.Request) bool
	}{
		{"public url", auth.SameOrigin("hoinghi.example.vn")},
		{"hub default", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := signal.NewHub(signal.Deps{SFU: media, Store: st, Log: log, Instance: "test", CheckOrigin: tc.check})
			srv := httptest.NewServer(New(Deps{Store: st, Issuer: iss, Hub: hub, Auth: au, Log: log, BaseURL: "https://hoinghi.example.vn"}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				hub.Shutdown(sctx)
			})
			sess, err := au.Login("lan", "mật khẩu")
			if err != nil {
				t.Fatal(err)
			}
			cookie := (&http.Cookie{Name: auth.SessionCookie, Value: au.Encode(sess)}).String()
			tok, err := iss.Issue(DemoID, conference.RolePoint, "bien-hoa", time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			base := "ws" + strings.TrimPrefix(srv.URL, "http")
			dial := func(path string, h http.Header) (protocol.Welcome, *http.Response, error) {
				ws, res, err := websocket.DefaultDialer.DialContext(ctx, base+path, h)
				if err != nil {
					return protocol.Welcome{}, res, err
				}
				defer ws.Close()
				ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				var w protocol.Welcome
				if err := ws.ReadJSON(&w); err != nil {
					return w, res, err
				}
				return w, res, nil
			}
			allowed := []struct {
				name, path string
				header     http.Header
				role       conference.Role
			}{
				{"token, no origin", "/ws?t=" + tok, nil, conference.RolePoint},
				{"token, same origin", "/ws?t=" + tok, http.Header{"Origin": {srv.URL}}, conference.RolePoint},
				{"cookie, same origin", "/ws?conference=demo", http.Header{"Origin": {srv.URL}, "Cookie": {cookie}}, conference.RoleTechnician},
			}
			if tc.check != nil {
				allowed = append(allowed, struct {
					name, path string
					header     http.Header
					role       conference.Role
				}{"token, public url", "/ws?t=" + tok, http.Header{"Origin": {"https://hoinghi.example.vn"}}, conference.RolePoint})
			}
			for _, a := range allowed {
				w, _, err := dial(a.path, a.header)
				if err != nil || w.Type != protocol.TypeWelcome || w.Role != string(a.role) {
					t.Errorf("%s: welcome %+v, %v", a.name, w, err)
				}
			}
			for _, r := range []struct {
				name, path string
				header     http.Header
			}{
				{"token, other site", "/ws?t=" + tok, http.Header{"Origin": {"https://evil.example"}}},
				{"cookie, other site", "/ws?conference=demo", http.Header{"Origin": {"https://evil.example"}, "Cookie": {cookie}}},
				{"cookie, other port", "/ws?conference=demo", http.Header{"Origin": {"http://127.0.0.1:1"}, "Cookie": {cookie}}},
			} {
				_, res, err := dial(r.path, r.header)
				if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
					status := 0
					if res != nil {
						status = res.StatusCode
					}
					t.Errorf("%s: upgraded or wrong refusal: %v, status %d", r.name, err, status)
				}
			}
			// A cookie for the WebSocket names its conference.
			_, res, err := dial("/ws", http.Header{"Cookie": {cookie}})
			if err == nil || res == nil || res.StatusCode != http.StatusBadRequest {
				t.Errorf("cookie without a conference: %v, %+v", err, res)
			} else {
				var e apiError
				json.NewDecoder(res.Body).Decode(&e)
				if e.Code != CodeConferenceMissing {
					t.Errorf("cookie without a conference: %+v", e)
				}
			}
		})
	}
}
