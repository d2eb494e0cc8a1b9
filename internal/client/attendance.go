package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"hoinghi/internal/protocol"
)

// attendanceView is what the client knows of the conference's attendance
// from the server's messages.
type attendanceView struct {
	mu         sync.Mutex
	rollCall   protocol.RollCallState
	conference protocol.ConferenceState
	changes    int
	last       protocol.AttendanceChanged
}

// dispatchAttendance handles the attendance messages and reports whether
// raw was one.
func (c *Client) dispatchAttendance(typ string, raw []byte) (bool, error) {
	v := &c.att
	switch typ {
	case protocol.TypeRollCallState:
		var m protocol.RollCallState
		if err := json.Unmarshal(raw, &m); err != nil {
			return true, fmt.Errorf("decode roll_call_state: %w", err)
		}
		v.mu.Lock()
		v.rollCall = m
		v.mu.Unlock()
	case protocol.TypeConferenceState:
		var m protocol.ConferenceState
		if err := json.Unmarshal(raw, &m); err != nil {
			return true, fmt.Errorf("decode conference_state: %w", err)
		}
		v.mu.Lock()
		v.conference = m
		v.mu.Unlock()
	case protocol.TypeAttendanceChanged:
		var m protocol.AttendanceChanged
		if err := json.Unmarshal(raw, &m); err != nil {
			return true, fmt.Errorf("decode attendance_changed: %w", err)
		}
		v.mu.Lock()
		v.changes++
		v.last = m
		v.mu.Unlock()
	default:
		return false, nil
	}
	return true, nil
}

// CheckIn declares delegates present, and the representative's name, at
// the client's point; a technician names the point it corrects in pointID
// (empty for a point). A refusal arrives on Errors.
func (c *Client) CheckIn(delegates int, representative, pointID string) error {
	return c.Send(protocol.CheckIn{Type: protocol.TypeCheckIn, Delegates: &delegates,
		Representative: representative, PointID: pointID})
}

// RollCall sends a roll-call action (start, confirm, mark or close); a
// refusal arrives on Errors.
func (c *Client) RollCall(m protocol.RollCall) error {
	m.Type = protocol.TypeRollCall
	return c.Send(m)
}

// ConferenceAction sets the conference testing, starts, ends or reopens
// it (protocol.ConferenceTesting, ...Start, ...End, ...Reopen); a
// refusal arrives on Errors.
func (c *Client) ConferenceAction(action string) error {
	return c.Send(protocol.Conference{Type: protocol.TypeConference, Action: action})
}

// RollCallState returns the latest roll_call_state the server sent.
func (c *Client) RollCallState() protocol.RollCallState {
	c.att.mu.Lock()
	defer c.att.mu.Unlock()
	return c.att.rollCall
}

// ConferenceState returns the latest conference_state the server sent.
func (c *Client) ConferenceState() protocol.ConferenceState {
	c.att.mu.Lock()
	defer c.att.mu.Unlock()
	return c.att.conference
}

// AttendanceChanges returns how many attendance_changed messages the server
// sent, and the latest.
func (c *Client) AttendanceChanges() (int, protocol.AttendanceChanged) {
	c.att.mu.Lock()
	defer c.att.mu.Unlock()
	return c.att.changes, c.att.last
}

// WaitRollCall polls until pred holds for the latest roll-call state, or
// ctx ends.
func (c *Client) WaitRollCall(ctx context.Context, pred func(protocol.RollCallState) bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !pred(c.RollCallState()) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for roll-call state: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// WaitConference polls until pred holds for the latest conference state,
// or ctx ends.
func (c *Client) WaitConference(ctx context.Context, pred func(protocol.ConferenceState) bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !pred(c.ConferenceState()) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for conference state: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
