package signal_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoinghi/internal/conference"
	"hoinghi/internal/store/storetest"
)

// readTypes reads messages from ws for d and returns their types in order.
func readTypes(t *testing.T, ws *websocket.Conn, d time.Duration) []string {
	t.Helper()
	var types []string
	end := time.Now().Add(d)
	for {
		_ = ws.SetReadDeadline(end)
		_, data, err := ws.ReadMessage()
		if err != nil {
			return types
		}
		var env struct{ Type string }
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatalf("message %q: %v", data, err)
		}
		types = append(types, env.Type)
	}
}

// TestRedisConnectSequence walks the connect sequence of docs/protocol.md
// ("Flow") as a client written from the document sees it on a bare
// WebSocket: welcome, then roster, then, in no fixed order, the states
// every participant gets and, for a role that receives media, the
// subscribe offer; no other message comes before the client speaks.
func TestRedisConnectSequence(t *testing.T) {
	st := storetest.Redis(t)
	s := startStack(t, st)
	points := seed(t, st, "sequence", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.dial(ctx, s.token("sequence", conference.RoleTechnician, "", time.Hour), true)
	states := []string{"conference_state", "floor_state", "content_state"}
	for _, tc := range []struct {
		role  conference.Role
		point string
		want  []string // after welcome and roster, in any order
		may   []string // may come too
	}{
		{conference.RoleChair, "", append([]string{"subscribe_offer", "program"}, states...), []string{"roster_update", "attendance_changed", "downlink", "wall_state", "link_quality"}},
		{conference.RolePoint, points[0], append([]string{"subscribe_offer"}, states...), []string{"roster_update", "downlink"}},
		{conference.RoleSecretariat, "", states, []string{"roster_update", "attendance_changed", "downlink"}},
	} {
		u := "ws" + strings.TrimPrefix(s.URL, "http") + "/ws?t=" + s.token("sequence", tc.role, tc.point, time.Hour)
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{})
		if err != nil {
			t.Fatal(err)
		}
		got := readTypes(t, ws, 1500*time.Millisecond)
		ws.Close()
		if len(got) < 2 || got[0] != "welcome" || got[1] != "roster" {
			t.Errorf("%s: %v; want welcome, then roster first", tc.role, got)
			continue
		}
		for _, w := range tc.want {
			if !slices.Contains(got[2:], w) {
				t.Errorf("%s: %v; want %s after the roster", tc.role, got, w)
			}
		}
		for _, g := range got[2:] {
			if !slices.Contains(tc.want, g) && !slices.Contains(tc.may, g) {
				t.Errorf("%s: %v: %s is not in the documented sequence", tc.role, got, g)
			}
		}
	}
}
