package signal_test

import (
	"context"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store"
)

func TestTechnicianControls(t *testing.T) { eachStore(t, testTechnicianControls) }

func testTechnicianControls(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	points := seed(t, st, "controls", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tech := s.dial(ctx, s.token("controls", conference.RoleTechnician, "", time.Hour), true)
	chair := s.dial(ctx, s.token("controls", conference.RoleChair, "", time.Hour), false)
	a := s.dial(ctx, s.token("controls", conference.RolePoint, points[0], time.Hour), true)
	b := s.dial(ctx, s.token("controls", conference.RolePoint, points[1], time.Hour), true)

	// a holds the floor and b hears it.
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[0], Seconds: -1}); err != nil {
		t.Fatal(err)
	}
	speakerAudio := func() uint64 { n, _ := speaker(b.Received(), "audio", points[0]); return n }
	grows := func(what string, f func() uint64) {
		t.Helper()
		start := f()
		if err := b.WaitMedia(ctx, func([]client.TrackStats) bool { return f() > start+10 }); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	grows("speaker audio before mute", speakerAudio)

	// Only the technician controls participants.
	floorControl := func(c *client.Client, action, target, code string) {
		t.Helper()
		if err := c.Send(protocol.Control{Type: protocol.TypeControl, Action: action, ParticipantID: target}); err != nil {
			t.Fatal(err)
		}
		select {
		case e := <-c.Errors():
			if e.Code != code {
				t.Errorf("%s of %s: error %+v, want %q", action, target, e, code)
			}
		case <-ctx.Done():
			t.Fatalf("%s of %s: no error", action, target)
		}
	}
	floorControl(chair, protocol.ControlMute, points[0], protocol.CodeForbidden)
	floorControl(a, protocol.ControlDrop, points[1], protocol.CodeForbidden)
	floorControl(tech, protocol.ControlMute, "nobody", protocol.CodeBadRequest)

	control := func(action, target string) {
		t.Helper()
		if err := tech.Send(protocol.Control{Type: protocol.TypeControl, Action: action, ParticipantID: target}); err != nil {
			t.Fatal(err)
		}
	}

	// Mute: the speaker's audio stops in the SFU, and the point is told.
	control(protocol.ControlMute, points[0])
	if err := a.WaitMedia(ctx, func([]client.TrackStats) bool { return a.Muted() }); err != nil {
		t.Fatalf("point not told it is muted: %v", err)
	}
	if err := tech.WaitMedia(ctx, func([]client.TrackStats) bool {
		for _, p := range tech.Roster() {
			if p.ID == points[0] {
				return p.Muted
			}
		}
		return false
	}); err != nil {
		t.Errorf("the hall's roster does not show the point muted: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	before := speakerAudio()
	// In the same window the speaker's video still reaches b, and the
	// muted point still sends its audio: the mute holds it back, not a
	// stalled path.
	speakerSeen := keepsFlowing(t, "muted speaker's video", func() uint64 { n, _ := speaker(b.Received(), "video", points[0]); return n })
	mutedSends := keepsFlowing(t, "muted speaker sends audio", func() uint64 { return sent(a, "audio") })
	time.Sleep(500 * time.Millisecond)
	if after := speakerAudio(); after != before {
		t.Errorf("muted speaker still heard: %d more packets", after-before)
	}
	speakerSeen()
	mutedSends()
	control(protocol.ControlUnmute, points[0])
	grows("speaker audio after unmute", speakerAudio)
	// The mute is in the conference's record, and the speaking log shows
	// it within the turn.
	evs := waitEvents(t, st, "controls", func(evs []conference.AttendanceEvent) bool {
		return count(evs, conference.Muted, points[0]) == 1 && count(evs, conference.Unmuted, points[0]) == 1
	})
	turns, err := st.Turns(ctx, "controls")
	if err != nil {
		t.Fatal(err)
	}
	r := conference.BuildReport(conference.Conference{ID: "controls"}, nil, evs, turns, time.Now())
	if len(r.Turns) != 1 || len(r.Turns[0].Mutes) != 1 || r.Turns[0].Mutes[0].End.IsZero() || r.Turns[0].Mutes[0].By != tech.Welcome().ParticipantID {
		t.Errorf("the speaking log's mutes: %+v", r.Turns)
	}

	// Keyframe and camera restart reach the publisher.
	kf := s.SFU.Stats().KeyframeRequests
	control(protocol.ControlKeyframe, points[0])
	control(protocol.ControlRestartCamera, points[0])
	if err := a.WaitMedia(ctx, func([]client.TrackStats) bool {
		return a.CameraRestarts() == 1 && s.SFU.Stats().KeyframeRequests > kf
	}); err != nil {
		t.Fatalf("keyframe request or camera restart missing: %v", err)
	}

	// Drop: b is disconnected with the reason, and leaves the roster.
	control(protocol.ControlDrop, points[1])
	select {
	case <-b.Done():
	case <-ctx.Done():
		t.Fatal("dropped point still connected")
	}
	if cl, ok := b.Closing(); !ok || cl.Reason != protocol.ReasonDropped {
		t.Errorf("closing = %+v, want reason %q", cl, protocol.ReasonDropped)
	}
	if err := tech.WaitMedia(ctx, func([]client.TrackStats) bool {
		for _, p := range tech.Roster() {
			if p.ID == points[1] {
				return false
			}
		}
		return true
	}); err != nil {
		t.Errorf("dropped point still in the roster: %v", err)
	}

	log, err := st.AuditLog(ctx, "controls")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+" "+e.Target)
		if e.By != tech.Welcome().ParticipantID || e.Role != conference.RoleTechnician {
			t.Errorf("audit entry %+v: by %s %s, want the technician", e, e.By, e.Role)
		}
	}
	want := []string{"mute " + points[0], "unmute " + points[0], "keyframe " + points[0], "restart_camera " + points[0], "drop " + points[1]}
	if len(actions) != len(want) {
		t.Fatalf("audit log = %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Errorf("audit entry %d = %q, want %q", i, actions[i], want[i])
		}
	}
}
