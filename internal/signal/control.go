package signal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store"
)

var errNoParticipant = errors.New("no such participant connected")

// control carries out a technician's control of another participant:
// mute or unmute it in the SFU, ask its browser for a keyframe or to
// restart its camera, or drop it. Every control is written to the
// conference's audit log.
func (c *conn) control(ctx context.Context, m *protocol.Control) *protocol.Error {
	fail := func(code, format string, args ...any) *protocol.Error {
		return &protocol.Error{Code: code, Request: protocol.TypeControl, Message: fmt.Sprintf(format, args...)}
	}
	switch m.Action {
	case protocol.ControlMute, protocol.ControlUnmute, protocol.ControlKeyframe, protocol.ControlRestartCamera,
		protocol.ControlDrop, protocol.ControlProgramAudio, protocol.ControlProgramVideo:
	default:
		e := fail(protocol.CodeBadRequest, "%q is not a control action: use mute, unmute, keyframe, restart_camera, drop, program_audio or program_video", m.Action)
		e.Reason = protocol.UnknownAction
		return e
	}
	if c.role != conference.RoleTechnician {
		return fail(protocol.CodeForbidden, "role %s may not %s a participant: only the hall technician may", c.role, m.Action)
	}
	if m.Action == protocol.ControlProgramAudio || m.Action == protocol.ControlProgramVideo {
		return c.programSource(ctx, m.Action, m.ParticipantID)
	}
	targets := c.hub.conns(c.conf, func(t *conn) bool { return t.id == m.ParticipantID })
	if len(targets) == 0 {
		return fail(protocol.CodeBadRequest, "%s %q: %v", m.Action, m.ParticipantID, errNoParticipant)
	}
	t := targets[0]
	// The entry is written before the action, so that whoever sees the
	// action's effect finds it in the log, and a crash in between leaves
	// the intent recorded rather than an action without its entry.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	err := c.hub.d.Store.Audit(actx, c.conf, store.AuditEntry{
		At: time.Now().UTC(), By: c.id, Role: c.role, Action: m.Action, Target: t.id,
	})
	if err != nil {
		// The action is still done; the audit entry alone is missing.
		c.log.Error("write audit log", "action", m.Action, "target", t.id, "err", err)
	}
	media := c.hub.d.SFU
	switch m.Action {
	case protocol.ControlMute, protocol.ControlUnmute:
		muted := m.Action == protocol.ControlMute
		c.hub.setMuted(c.conf, t.id, muted)
		media.SetMuted(c.conf, t.id, muted)
		t.sendState(protocol.Muted{Type: protocol.TypeMuted, Muted: muted}, keyMuted)
		// In the conference's record too: a mute during a turn shows in
		// the speaking log.
		kind := conference.Unmuted
		if muted {
			kind = conference.Muted
		}
		ev := conference.AttendanceEvent{Kind: kind, ParticipantID: t.id, By: c.id}
		if t.role == conference.RolePoint {
			ev.PointID = t.adm.Point.ID
		}
		c.hub.record(store.AttendanceWrite{Conference: c.conf, Event: ev})
	case protocol.ControlKeyframe:
		media.RequestKeyframes(c.conf, t.id)
	case protocol.ControlRestartCamera:
		t.send(protocol.RestartCamera{Type: protocol.TypeRestartCamera})
	case protocol.ControlDrop:
		t.closeWith(protocol.ReasonDropped,
			"Kỹ thuật viên hội trường đã ngắt kết nối điểm cầu này. (The hall technician disconnected this point.)")
	}
	c.log.Info("control", "action", m.Action, "target", t.id)
	return nil
}

// programSource makes the sound (program_audio) or the picture
// (program_video) of hall participant id the hall program's ("" for the
// default), for c, the technician, and writes it to the audit log. A hall
// participant is a technician's or chair's console, or the mixer's WHIP
// source.
func (c *conn) programSource(ctx context.Context, action, id string) *protocol.Error {
	if id != "" {
		role, ok := c.hub.ingestRole(c.conf, id)
		if !ok {
			targets := c.hub.conns(c.conf, func(t *conn) bool { return t.id == id })
			if len(targets) == 0 {
				return &protocol.Error{Code: protocol.CodeBadRequest, Request: protocol.TypeControl,
					Message: fmt.Sprintf("%s %q: %v", action, id, errNoParticipant)}
			}
			role = targets[0].role
		}
		if !role.AtHall() && role != conference.RoleIngest {
			return &protocol.Error{Code: protocol.CodeBadRequest, Request: protocol.TypeControl,
				Message: fmt.Sprintf("%s %q: the program comes from a hall console or the WHIP source, not a %s", action, id, role)}
		}
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := c.hub.d.Store.Audit(actx, c.conf, store.AuditEntry{
		At: time.Now().UTC(), By: c.id, Role: c.role, Action: action, Target: id,
	}); err != nil {
		c.log.Error("write audit log", "action", action, "target", id, "err", err)
	}
	if action == protocol.ControlProgramVideo {
		c.hub.d.SFU.SetProgramVideo(c.conf, id)
	} else {
		c.hub.d.SFU.SetProgramAudio(c.conf, id)
	}
	c.log.Info("control", "action", action, "target", id)
	return nil
}

// setMuted remembers that a technician muted participant id of conf, so
// that the mute survives its reconnecting, and marks it in the roster.
func (h *Hub) setMuted(conf, id string, muted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.muted[conf]
	if m == nil {
		m = make(map[string]bool)
		h.muted[conf] = m
	}
	if muted {
		m[id] = true
	} else {
		delete(m, id)
	}
	if r := h.rooms[conf]; r != nil {
		r.mu.Lock()
		r.setMuted(id, muted)
		r.mu.Unlock()
	}
}

// isMuted reports whether participant id of conf is muted.
func (h *Hub) isMuted(conf, id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.muted[conf][id]
}
