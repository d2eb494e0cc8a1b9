package servertest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"hoinghi/internal/protocol"
	"hoinghi/internal/signal"
)

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCheckFrames: the check fails the test for a message the server
// wrote, or accepted, that does not match the schema, and for nothing
// else.
func TestCheckFrames(t *testing.T) {
	tests := []struct {
		name string
		f    signal.Frame
		want string // in the failure; "" for none
	}{
		{"valid server message", signal.Frame{Data: []byte(`{"type":"muted","muted":true}`)}, ""},
		{"unknown field", signal.Frame{Data: []byte(`{"type":"muted","muted":true,"loud":1}`)}, `server message "muted"`},
		{"client message from the server", signal.Frame{Data: []byte(`{"type":"floor","action":"ask"}`)}, `no server message`},
		{"accepted client message", signal.Frame{Received: true, Data: []byte(`{"type":"floor","action":"ask"}`)}, ""},
		{"accepted but invalid", signal.Frame{Received: true, Participant: "diem-1", Data: []byte(`{"type":"floor","action":"ask","subjekt":"x"}`)}, `diem-1 to server`},
		{"roster", signal.Frame{Data: []byte(`{"type":"roster","version":3,"participants":[{"id":"a","role":"point","point_id":"a","name":"A"},{"id":"b","role":"chair","name":"B"}]}`)}, ""},
		{"roster with a bad entry", signal.Frame{Data: []byte(`{"type":"roster","version":3,"participants":[{"id":"a","role":"point","point_id":"a","name":"A"},{"id":"b","role":"king","name":"B"}]}`)}, "participants/1"},
		{"roster with an unknown field", signal.Frame{Data: []byte(`{"type":"roster","version":3,"participants":[],"extra":true}`)}, "extra"},
		{"roster without participants", signal.Frame{Data: []byte(`{"type":"roster","version":3}`)}, "participants"},
		{"forbidden but valid", signal.Frame{Received: true, Data: []byte(`{"type":"floor","action":"ask"}`),
			Refused: &protocol.Error{Code: protocol.CodeForbidden}}, ""},
		{"forbidden and invalid", signal.Frame{Received: true, Data: []byte(`{"type":"floor","action":"ask","x":1}`),
			Refused: &protocol.Error{Code: protocol.CodeForbidden}}, "x"},
		{"bad_request and invalid", signal.Frame{Received: true, Data: []byte(`{"type":"floor","action":"ask","seconds":-7}`),
			Refused: &protocol.Error{Code: protocol.CodeBadRequest}}, ""},
		{"refused", signal.Frame{Received: true, Data: []byte(`{"type":"hello"}`),
			Refused: &protocol.Error{Code: protocol.CodeUnknownType}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			see, stop := checkFrames(r)
			see(tc.f)
			see(tc.f) // the same bytes again
			stop()
			see(tc.f) // after stop: not checked
			switch {
			case tc.want == "" && len(r.errs) > 0:
				t.Errorf("failed the test: %v", r.errs)
			case tc.want != "" && len(r.errs) == 0:
				t.Errorf("did not fail the test")
			case tc.want != "" && !strings.Contains(r.errs[0], tc.want):
				t.Errorf("failure %q does not say %q", r.errs[0], tc.want)
			}
		})
	}
}
