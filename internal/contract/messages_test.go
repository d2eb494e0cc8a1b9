package contract

import (
	"errors"
	"strings"
	"testing"
)

func loadMessages(t *testing.T) *Messages {
	t.Helper()
	m, err := LoadMessages()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidate(t *testing.T) {
	m := loadMessages(t)
	tests := []struct {
		name string
		dir  Direction
		raw  string
		// want names the field and a word of the problem; "" for a valid
		// message.
		field, want string
	}{
		{"welcome", ServerToClient, `{"type":"welcome","protocol_version":2,"participant_id":"bien-hoa","role":"point","point_id":"bien-hoa","name":"Điểm cầu","conference_id":"demo","conference_title":"Hội nghị","ice_servers":[]}`, "", ""},
		{"welcome without protocol_version", ServerToClient, `{"type":"welcome","participant_id":"bien-hoa","role":"point","name":"x","conference_id":"demo","conference_title":"x","ice_servers":[]}`, "", "protocol_version"},
		{"unknown field", ServerToClient, `{"type":"muted","muted":true,"extra":1}`, "", "extra"},
		{"unknown field of a shared part", ServerToClient, `{"type":"link_quality","participants":[{"id":"a","rtt_ms":1,"loss_percent":0,"kbps":3,"bogus":true}]}`, "/participants/0/bogus", "not a field"},
		{"client stats in link_quality", ServerToClient, `{"type":"link_quality","participants":[{"id":"a","rtt_ms":1,"loss_percent":0,"kbps":3,"send_width":1280,"client_network":"udp","grade":"good"}]}`, "", ""},
		{"zero time", ServerToClient, `{"type":"conference_state","status":"draft","running":false,"started_at":"0001-01-01T00:00:00Z","server_time":"2026-11-26T02:10:31Z"}`, "/started_at", ""},
		{"not a time", ServerToClient, `{"type":"conference_state","status":"draft","running":false,"server_time":"yesterday"}`, "/server_time", "date-time"},
		{"bad enum", ServerToClient, `{"type":"closing","reason":"bored","message":"x"}`, "/reason", ""},
		{"dropped", ServerToClient, `{"type":"closing","reason":"dropped","message":"x"}`, "", ""},
		{"error reason", ServerToClient, `{"type":"error","code":"conflict","message":"x","request":"floor","reason":"already_queued"}`, "", ""},
		{"wrong direction", ClientToServer, `{"type":"welcome"}`, "/type", "client"},
		{"no type", ClientToServer, `{"sdp":"v=0"}`, "/type", "missing"},
		{"not an object", ClientToServer, `[1]`, "", "object"},
		{"not JSON", ClientToServer, `{`, "", "JSON"},
		{"floor give", ClientToServer, `{"type":"floor","action":"give","point_id":"bien-hoa","seconds":420}`, "", ""},
		{"floor seconds below -1", ClientToServer, `{"type":"floor","action":"give","seconds":-5}`, "/seconds", ""},
		{"floor seconds over 4 h", ClientToServer, `{"type":"floor","action":"extend","seconds":14401}`, "/seconds", ""},
		{"unknown floor action", ClientToServer, `{"type":"floor","action":"shout"}`, "/action", ""},
		{"mark without status", ClientToServer, `{"type":"roll_call","action":"mark","point_id":"a"}`, "", "status"},
		{"check_in without delegates", ClientToServer, `{"type":"check_in"}`, "", "delegates"},
		{"browser candidate", ClientToServer, `{"type":"candidate","pc":"publish","candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":null}}`, "", ""},
		{"stats", ClientToServer, `{"type":"stats","send_kbps":512.3,"send_width":1280,"send_limit":"none"}`, "", ""},
		{"stats with a figure of link_quality", ClientToServer, `{"type":"stats","rtt_ms":3}`, "", "rtt_ms"},
		{"stats with a fractional width", ClientToServer, `{"type":"stats","send_width":12.5}`, "/send_width", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Validate(tc.dir, []byte(tc.raw))
			if tc.field == "" && tc.want == "" {
				if err != nil {
					t.Fatalf("%s: %v", tc.raw, err)
				}
				return
			}
			var me *MessageError
			if !errors.As(err, &me) {
				t.Fatalf("%s: got %v, want a *MessageError", tc.raw, err)
			}
			if tc.field != "" && !slicesContainsField(me.Problems, tc.field) {
				t.Errorf("%s: %v: no problem at %s", tc.raw, err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v: want it to mention %q", tc.raw, err, tc.want)
			}
			if typ := typeOfRaw(tc.raw); typ != "" && !strings.Contains(err.Error(), `"`+typ+`"`) {
				t.Errorf("%v: does not name the type %q", err, typ)
			}
		})
	}
}

func slicesContainsField(ps []Problem, field string) bool {
	for _, p := range ps {
		if p.Field == field {
			return true
		}
	}
	return false
}

// typeOfRaw returns the value of "type" in raw, when it has one.
func typeOfRaw(raw string) string {
	_, rest, ok := strings.Cut(raw, `"type":"`)
	if !ok {
		return ""
	}
	typ, _, _ := strings.Cut(rest, `"`)
	return typ
}

// TestTypes checks that each direction lists its messages and none twice.
func TestTypes(t *testing.T) {
	m := loadMessages(t)
	seen := map[string]Direction{}
	for _, d := range []Direction{ServerToClient, ClientToServer} {
		if len(m.Types(d)) == 0 {
			t.Errorf("no %s messages", d)
		}
		for _, typ := range m.Types(d) {
			if other, ok := seen[typ]; ok {
				t.Errorf("%s is a message of both %s and %s", typ, other, d)
			}
			seen[typ] = d
		}
	}
}

func TestValidatePart(t *testing.T) {
	m := loadMessages(t)
	tests := []struct {
		part, raw string
		ok        bool
	}{
		{"participant", `{"id":"a","role":"point","point_id":"a","name":"A"}`, true},
		{"participant", `{"id":"a","role":"king","name":"A"}`, false},
		{"participant", `{"id":"a","role":"chair","name":"A","extra":1}`, false},
		{"floor_holder", `{"turn_id":"1","point_id":"a","name":"A","given_by":"chair-1","since":"2026-11-26T02:11:00Z","online":true}`, true},
		{"no_such_part", `{}`, false},
		{"welcome", `{}`, false}, // a message, not a part
	}
	for _, tc := range tests {
		err := m.ValidatePart(tc.part, []byte(tc.raw))
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePart(%s, %s) = %v, want ok %v", tc.part, tc.raw, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.part) {
			t.Errorf("%v does not name %s", err, tc.part)
		}
	}
}
