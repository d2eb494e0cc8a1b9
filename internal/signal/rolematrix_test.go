package signal_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store/storetest"
)

// signalRow is one client message and the roles that may send it. A role
// not listed gets the error "forbidden"; a listed one never does (it may
// get another error, such as conflict, when the floor does not allow it
// now: that is not a question of its role).
type signalRow struct {
	name  string
	msg   string // the JSON message; POINT is the other point's id
	roles []conference.Role
}

var (
	rTech         = conference.RoleTechnician
	rChair        = conference.RoleChair
	rSecretariat  = conference.RoleSecretariat
	rPoint        = conference.RolePoint
	chairAndTech  = []conference.Role{rTech, rChair}
	everySignaler = []conference.Role{rTech, rChair, rSecretariat, rPoint}
)

// signalMatrix covers every client message type of protocol.Decode, every
// floor, control, roll-call and conference action, for the sender's own
// point and for another. Rows run in order; the technician's drop comes
// last, since it ends the other point's connection.
var signalMatrix = []signalRow{
	{"publish_offer", `{"type":"publish_offer","sdp":"v=0"}`, []conference.Role{rTech, rChair, rPoint}},
	{"subscribe_answer", `{"type":"subscribe_answer","sdp":"v=0"}`, everySignaler},
	{"candidate", `{"type":"candidate","pc":"publish","candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}}`, everySignaler},

	{"floor ask", `{"type":"floor","action":"ask","subject":"Tham luận"}`, []conference.Role{rPoint}},
	{"floor ask for another point", `{"type":"floor","action":"ask","point_id":"POINT"}`, nil},
	{"floor withdraw", `{"type":"floor","action":"withdraw"}`, []conference.Role{rTech, rChair, rPoint}},
	{"floor withdraw another point", `{"type":"floor","action":"withdraw","point_id":"POINT"}`, chairAndTech},
	{"floor give", `{"type":"floor","action":"give","point_id":"POINT","seconds":60}`, chairAndTech},
	{"floor give the next", `{"type":"floor","action":"give"}`, chairAndTech},
	{"floor extend", `{"type":"floor","action":"extend","point_id":"POINT","seconds":30}`, chairAndTech},
	{"floor finish", `{"type":"floor","action":"finish"}`, []conference.Role{rTech, rChair, rPoint}},
	{"floor finish another point", `{"type":"floor","action":"finish","point_id":"POINT"}`, chairAndTech},
	{"floor take_back", `{"type":"floor","action":"take_back"}`, chairAndTech},
	{"floor open_discussion", `{"type":"floor","action":"open_discussion"}`, chairAndTech},
	{"floor close_discussion", `{"type":"floor","action":"close_discussion"}`, chairAndTech},

	{"check_in", `{"type":"check_in","delegates":12}`, []conference.Role{rTech, rPoint}},
	{"check_in another point", `{"type":"check_in","delegates":12,"point_id":"POINT"}`, []conference.Role{rTech}},
	{"roll_call start", `{"type":"roll_call","action":"start","seconds":60}`, chairAndTech},
	{"roll_call confirm", `{"type":"roll_call","action":"confirm"}`, []conference.Role{rPoint}},
	{"roll_call mark", `{"type":"roll_call","action":"mark","point_id":"POINT","status":"present"}`, []conference.Role{rTech}},
	{"roll_call close", `{"type":"roll_call","action":"close"}`, []conference.Role{rTech}},
	{"conference start", `{"type":"conference","action":"start"}`, []conference.Role{rTech}},
	{"conference end", `{"type":"conference","action":"end"}`, []conference.Role{rTech}},

	{"wall", `{"type":"wall","participants":["POINT"]}`, chairAndTech},
	{"wall auto", `{"type":"wall","auto":true}`, chairAndTech},
	{"stats", `{"type":"stats","send_width":640,"send_height":480,"send_fps":30,"client_network":"udp"}`, everySignaler},

	{"control mute", `{"type":"control","action":"mute","participant_id":"POINT"}`, []conference.Role{rTech}},
	{"control unmute", `{"type":"control","action":"unmute","participant_id":"POINT"}`, []conference.Role{rTech}},
	{"control keyframe", `{"type":"control","action":"keyframe","participant_id":"POINT"}`, []conference.Role{rTech}},
	{"control restart_camera", `{"type":"control","action":"restart_camera","participant_id":"POINT"}`, []conference.Role{rTech}},
	{"control program_audio", `{"type":"control","action":"program_audio","participant_id":""}`, []conference.Role{rTech}},
	{"control program_video", `{"type":"control","action":"program_video","participant_id":""}`, []conference.Role{rTech}},
	// A point may share content only while it holds the floor, which
	// TestContent covers; stop by a point that does not share is a
	// conflict.
	{"content start", `{"type":"content","action":"start","mid":"2"}`, []conference.Role{rTech, rChair}},
	{"content stop", `{"type":"content","action":"stop"}`, []conference.Role{rTech, rChair, rPoint}},
	{"control drop", `{"type":"control","action":"drop","participant_id":"POINT"}`, []conference.Role{rTech}},
}

// decodedTypes returns the message types that protocol.Decode accepts, read
// from its switch in the source, so that a new type cannot be missed.
func decodedTypes(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "protocol")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	consts := map[string]string{}
	var cases []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[id.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.FuncDecl:
				if n.Name.Name != "Decode" || n.Recv != nil {
					return false
				}
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if cc, ok := m.(*ast.CaseClause); ok {
						for _, e := range cc.List {
							if id, ok := e.(*ast.Ident); ok {
								cases = append(cases, id.Name)
							}
						}
					}
					return true
				})
				return false
			}
			return true
		})
	}
	var types []string
	for _, c := range cases {
		v, ok := consts[c]
		if !ok {
			t.Fatalf("Decode's case %s is not a string constant of package protocol", c)
		}
		types = append(types, v)
	}
	if len(types) < 8 {
		t.Fatalf("found only %d message types in protocol.Decode: %v; has it changed shape?", len(types), types)
	}
	return types
}

// TestRedisSignalingRoleMatrix sends every client message as every role and
// checks that it is refused with "forbidden" exactly when the role may not
// send it.
func TestRedisSignalingRoleMatrix(t *testing.T) {
	// Every message type and every action has a row.
	covered := map[string]bool{}
	for _, row := range signalMatrix {
		typ, _, _ := strings.Cut(row.name, " ")
		covered[typ] = true
		covered[strings.Join(strings.Fields(row.name)[:min(2, len(strings.Fields(row.name)))], " ")] = true
	}
	for _, typ := range decodedTypes(t) {
		if !covered[typ] {
			t.Errorf("client message type %q has no row in signalMatrix", typ)
		}
	}
	actions := map[string][]string{
		protocol.TypeControl: {protocol.ControlMute, protocol.ControlUnmute, protocol.ControlKeyframe, protocol.ControlRestartCamera, protocol.ControlDrop,
			protocol.ControlProgramAudio, protocol.ControlProgramVideo},
		protocol.TypeRollCall:   {protocol.RollCallStart, protocol.RollCallConfirm, protocol.RollCallMark, protocol.RollCallClose},
		protocol.TypeConference: {protocol.ConferenceStart, protocol.ConferenceEnd},
		protocol.TypeContent:    {protocol.ContentStart, protocol.ContentStop},
	}
	for _, a := range conference.FloorActions {
		actions[protocol.TypeFloor] = append(actions[protocol.TypeFloor], string(a))
	}
	for typ, list := range actions {
		for _, a := range list {
			if !covered[typ+" "+a] {
				t.Errorf("%s action %q has no row in signalMatrix", typ, a)
			}
		}
	}
	if t.Failed() {
		return
	}

	st := storetest.Redis(t)
	s := startStack(t, st)
	points := seed(t, st, "matrix", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	other := points[1]
	s.dial(ctx, s.token("matrix", rPoint, other, time.Hour), false) // the other point, target of the rows

	senders := map[conference.Role]*client.Client{
		rTech:        s.dial(ctx, s.token("matrix", rTech, "", time.Hour), false),
		rChair:       s.dial(ctx, s.token("matrix", rChair, "", time.Hour), false),
		rSecretariat: s.dial(ctx, s.token("matrix", rSecretariat, "", time.Hour), false),
		rPoint:       s.dial(ctx, s.token("matrix", rPoint, points[0], time.Hour), false),
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for role, c := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, row := range signalMatrix {
				got, err := exchange(ctx, c, strings.ReplaceAll(row.msg, "POINT", other))
				var problem string
				switch {
				case err != nil:
					problem = err.Error()
				case slices.Contains(row.roles, role) && got.Code == protocol.CodeForbidden:
					problem = "refused with forbidden; the role may send it"
				case !slices.Contains(row.roles, role) && got.Code != protocol.CodeForbidden:
					problem = fmt.Sprintf("answered %q; want forbidden", got.Code)
				}
				if problem != "" {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s as %s: %s", row.name, role, problem))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(failures)
	for _, f := range failures {
		t.Error(f)
	}
}

// exchange sends msg, then a probe of an unknown type, and returns the
// error that msg caused (Code "" for none): the server handles a
// connection's messages in order, so the probe's error comes after msg's.
// It paces itself under the server's message rate.
func exchange(ctx context.Context, c *client.Client, msg string) (protocol.Error, error) {
	const probe = "matrix_probe"
	pace := time.After(110 * time.Millisecond) // two messages per 110 ms: under 20 a second
	var got protocol.Error
	if err := c.SendRaw([]byte(msg)); err != nil {
		return got, err
	}
	if err := c.SendRaw([]byte(`{"type":"` + probe + `"}`)); err != nil {
		return got, err
	}
	for {
		select {
		case e := <-c.Errors():
			if e.Code == protocol.CodeUnknownType && e.Request == probe {
				select {
				case <-pace:
				case <-ctx.Done():
				}
				return got, nil
			}
			if got.Code == "" {
				got = e
			}
		case <-c.Done():
			return got, fmt.Errorf("connection closed")
		case <-ctx.Done():
			return got, fmt.Errorf("no answer to the probe: %w", ctx.Err())
		}
	}
}

// TestRedisUnknownActionsAndLimits checks the refusals every role gets
// alike: an action its message type does not have is a bad_request with
// reason unknown_action, before any question of role, and a time limit
// outside -1, 0 and 1 s to 4 h is invalid_limit.
func TestRedisUnknownActionsAndLimits(t *testing.T) {
	st := storetest.Redis(t)
	s := startStack(t, st)
	points := seed(t, st, "unknown-actions", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	senders := map[conference.Role]*client.Client{
		rTech:        s.dial(ctx, s.token("unknown-actions", rTech, "", time.Hour), false),
		rSecretariat: s.dial(ctx, s.token("unknown-actions", rSecretariat, "", time.Hour), false),
		rPoint:       s.dial(ctx, s.token("unknown-actions", rPoint, points[0], time.Hour), false),
	}
	for _, typ := range []string{protocol.TypeFloor, protocol.TypeControl, protocol.TypeRollCall, protocol.TypeConference, protocol.TypeContent} {
		for role, c := range senders {
			got, err := exchange(ctx, c, `{"type":"`+typ+`","action":"shout","participant_id":"x"}`)
			if err != nil {
				t.Fatal(err)
			}
			if got.Code != protocol.CodeBadRequest || got.Reason != protocol.UnknownAction || got.Request != typ {
				t.Errorf("%s action shout as %s: got %+v; want bad_request, reason unknown_action", typ, role, got)
			}
		}
	}
	max := int(conference.MaxSpeakingLimit.Seconds())
	for _, tc := range []struct {
		msg    string
		reason string
	}{
		{`{"type":"floor","action":"give","point_id":"POINT","seconds":-5}`, "invalid_limit"},
		{`{"type":"floor","action":"give","point_id":"POINT","seconds":-2}`, "invalid_limit"},
		{fmt.Sprintf(`{"type":"floor","action":"give","point_id":"POINT","seconds":%d}`, max+1), "invalid_limit"},
		{`{"type":"floor","action":"extend","point_id":"POINT","seconds":-1}`, "invalid_limit"},
		{fmt.Sprintf(`{"type":"floor","action":"give","point_id":"POINT","seconds":%d}`, max), ""},
		{`{"type":"floor","action":"take_back"}`, ""},
		{`{"type":"floor","action":"give","point_id":"POINT","seconds":-1}`, ""},
	} {
		got, err := exchange(ctx, senders[rTech], strings.ReplaceAll(tc.msg, "POINT", points[0]))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.reason == "" && got.Code != "":
			t.Errorf("%s: refused %+v; want it taken", tc.msg, got)
		case tc.reason != "" && (got.Code != protocol.CodeBadRequest || got.Reason != tc.reason):
			t.Errorf("%s: got %+v; want bad_request, reason %s", tc.msg, got, tc.reason)
		}
	}
}
