package servertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"testing"

	"hoinghi/internal/contract"
	"hoinghi/internal/protocol"
	"hoinghi/internal/signal"
)

// frameCheck checks the signaling traffic of a test server against the
// protocol's schema, docs/schema/signaling.json: every message the
// server writes, and every one it accepts from a client (the pages and
// the Go client), or refused for what it asks rather than how
// (forbidden, conflict, internal, store_unavailable): the schema says
// nothing of roles and states. Messages refused as malformed, and those
// dropped unread, are not checked (see unchecked): tests send them on
// purpose. A message that does not match fails the test.
//
// The check runs on a goroutine of its own, so that validating does not
// hold up the server's writers, and it validates each distinct message
// once: the same bytes broadcast to every connection, or a roster's
// entries, which every whole roster repeats (a roster of n is sent to
// each of n joiners), are checked only the first time.
type frameCheck struct {
	t    testing.TB
	msgs *contract.Messages
	wake chan struct{}
	done chan struct{}
	seed maphash.Seed

	mu      sync.Mutex
	queue   []signal.Frame
	stopped bool

	valid map[uint64]bool // hashes of what was found valid; used by run alone
}

// maxValid bounds the hashes frameCheck remembers.
const maxValid = 1 << 16

// checkFrames starts a check of the frames of a hub: see is its
// signal.Deps.Frames, and stop, called once the server stopped, checks
// what is left and ends the check.
func checkFrames(t testing.TB) (see func(signal.Frame), stop func()) {
	t.Helper()
	msgs, err := contract.LoadMessages()
	if err != nil {
		t.Fatal(err)
	}
	fc := &frameCheck{t: t, msgs: msgs, wake: make(chan struct{}, 1), done: make(chan struct{}),
		seed: maphash.MakeSeed(), valid: map[uint64]bool{}}
	go fc.run()
	return fc.see, fc.stop
}

// unchecked are the error codes of messages refused as malformed or
// dropped unread, which the check leaves alone.
var unchecked = []string{protocol.CodeBadJSON, protocol.CodeUnknownType, protocol.CodeTooLarge,
	protocol.CodeRateLimited, protocol.CodeBadRequest, protocol.CodeBadSDP}

func (fc *frameCheck) see(f signal.Frame) {
	if f.Received && f.Refused != nil && slices.Contains(unchecked, f.Refused.Code) {
		return
	}
	f.Data, f.Refused = bytes.Clone(f.Data), nil
	fc.mu.Lock()
	if !fc.stopped {
		fc.queue = append(fc.queue, f)
	}
	fc.mu.Unlock()
	fc.signal()
}

func (fc *frameCheck) signal() {
	select {
	case fc.wake <- struct{}{}:
	default:
	}
}

func (fc *frameCheck) stop() {
	fc.mu.Lock()
	fc.stopped = true
	fc.mu.Unlock()
	fc.signal()
	<-fc.done
}

func (fc *frameCheck) run() {
	defer close(fc.done)
	for range fc.wake {
		fc.mu.Lock()
		queue, stopped := fc.queue, fc.stopped
		fc.queue = nil
		fc.mu.Unlock()
		for _, f := range queue {
			dir, sender := contract.ServerToClient, "server to "+f.Participant
			if f.Received {
				dir, sender = contract.ClientToServer, f.Participant+" to server"
			}
			if err := fc.check(dir, f.Data); err != nil {
				data := string(f.Data)
				if len(data) > 2000 {
					data = data[:2000] + "…"
				}
				fc.t.Errorf("signaling message %s in conference %s: %v\n%s", sender, f.Conference, err, data)
			}
		}
		if stopped {
			return
		}
	}
}

// once runs validate unless what key names was found valid before.
func (fc *frameCheck) once(kind string, data []byte, validate func() error) error {
	var h maphash.Hash
	h.SetSeed(fc.seed)
	h.WriteString(kind)
	h.Write(data)
	key := h.Sum64()
	if fc.valid[key] {
		return nil
	}
	if err := validate(); err != nil {
		return err
	}
	if len(fc.valid) >= maxValid {
		clear(fc.valid)
	}
	fc.valid[key] = true
	return nil
}

// check validates data, a message of direction dir; a whole roster as its
// entries, one by one, and the rest of it.
func (fc *frameCheck) check(dir contract.Direction, data []byte) error {
	return fc.once(dir.String(), data, func() error {
		var fields map[string]json.RawMessage
		var entries []json.RawMessage
		if dir != contract.ServerToClient || json.Unmarshal(data, &fields) != nil ||
			string(fields["type"]) != `"`+protocol.TypeRoster+`"` || json.Unmarshal(fields["participants"], &entries) != nil {
			return fc.msgs.Validate(dir, data)
		}
		fields["participants"] = json.RawMessage("[]")
		rest, err := json.Marshal(fields)
		if err != nil {
			return err
		}
		if err := fc.msgs.Validate(dir, rest); err != nil {
			return err
		}
		for i, e := range entries {
			if err := fc.once("participant", e, func() error { return fc.msgs.ValidatePart("participant", e) }); err != nil {
				return fmt.Errorf("roster participants/%d: %w", i, err)
			}
		}
		return nil
	})
}
