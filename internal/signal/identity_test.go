package signal_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// TestRedisHallIdentity checks who a hall connection is: the same link and
// instance is the same participant on every connection (the newer replaces
// the older, even when the link holds all the connections it may), another
// instance is another participant, and no instance a fresh one each time.
func TestRedisHallIdentity(t *testing.T) {
	st := storetest.Redis(t)
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{HallConnectionsPerLink: 2}), t: t}
	seed(t, st, "identity", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok := s.token("identity", conference.RoleTechnician, "", time.Hour)
	dial := func(instance string) *client.Client {
		t.Helper()
		c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: tok, Instance: instance, SignalingOnly: true})
		if err != nil {
			t.Fatalf("dial instance %q: %v", instance, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	desk := dial("desk")
	other := dial("wall-screen") // the link now holds its two connections
	again := dial("desk")        // replaces the first, not refused
	if a, b := desk.Welcome().ParticipantID, again.Welcome().ParticipantID; a != b || !strings.HasPrefix(a, "technician-") {
		t.Errorf("the same instance got ids %q and %q; want one technician id", a, b)
	}
	if other.Welcome().ParticipantID == desk.Welcome().ParticipantID {
		t.Errorf("another instance got the same id %q", other.Welcome().ParticipantID)
	}
	select {
	case <-desk.Done():
		if cl, _ := desk.Closing(); cl.Reason != protocol.ReasonReplaced {
			t.Errorf("the replaced connection was closed with %+v; want reason replaced", cl)
		}
	case <-ctx.Done():
		t.Fatal("the first connection of instance desk was not replaced")
	}
	if got := again.Welcome().ProtocolVersion; got != protocol.Version {
		t.Errorf("welcome protocol_version %d; want %d", got, protocol.Version)
	}
	// A third instance finds the link full.
	_, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: tok, Instance: "third", SignalingOnly: true})
	var refused *client.RefusedError
	if !errors.As(err, &refused) || refused.Code != "too_many_connections" {
		t.Errorf("a third instance: %v; want too_many_connections", err)
	}
	// Without an instance, every connection is a new participant (version 1).
	tok = s.token("identity", conference.RoleTechnician, "", 2*time.Hour) // another link
	a, b := dial(""), dial("")
	if a.Welcome().ParticipantID == b.Welcome().ParticipantID {
		t.Errorf("two connections without instance share id %q", a.Welcome().ParticipantID)
	}
}

// TestRedisProtocolVersion checks the v parameter of /ws: a version the
// server serves is told back in welcome; another, or a bad instance, is
// refused before the upgrade with a JSON body that says why.
func TestRedisProtocolVersion(t *testing.T) {
	st := storetest.Redis(t)
	s := startStack(t, st)
	seed(t, st, "versions", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := "ws" + strings.TrimPrefix(s.URL, "http") + "/ws?t=" + s.token("versions", conference.RoleSecretariat, "", time.Hour)
	for _, tc := range []struct {
		query   string
		status  int
		code    string
		version int
	}{
		{"", http.StatusSwitchingProtocols, "", protocol.Version},
		{"&v=1", http.StatusSwitchingProtocols, "", 1},
		{"&v=2", http.StatusSwitchingProtocols, "", 2},
		{"&v=3", http.StatusBadRequest, "unsupported_version", 0},
		{"&v=0", http.StatusBadRequest, "unsupported_version", 0},
		{"&v=two", http.StatusBadRequest, "unsupported_version", 0},
		{"&instance=a%20b", http.StatusBadRequest, "bad_instance", 0},
		{"&instance=" + strings.Repeat("x", 65), http.StatusBadRequest, "bad_instance", 0},
		{"&instance=", http.StatusBadRequest, "bad_instance", 0},
	} {
		ws, resp, err := websocket.DefaultDialer.DialContext(ctx, base+tc.query, nil)
		if resp == nil {
			t.Fatalf("%q: %v", tc.query, err)
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%q: HTTP %d; want %d", tc.query, resp.StatusCode, tc.status)
			continue
		}
		if ws == nil {
			var body struct {
				Error     string `json:"error"`
				MessageEN string `json:"message_en"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error != tc.code || body.MessageEN == "" {
				t.Errorf("%q: body %+v (%v); want error %s with a message", tc.query, body, err, tc.code)
			}
			continue
		}
		var w protocol.Welcome
		if err := ws.ReadJSON(&w); err != nil || w.Type != protocol.TypeWelcome || w.ProtocolVersion != tc.version {
			t.Errorf("%q: first message %+v (%v); want welcome with protocol_version %d", tc.query, w, err, tc.version)
		}
		ws.Close()
	}
}
