package signal_test

import (
	"context"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store/storetest"
)

// contentFrom counts the packets of the content slot c receives that
// participant sent.
func contentFrom(c *client.Client, participant string) uint64 {
	var n uint64
	for _, s := range c.Received() {
		if s.Participant == client.ContentStreamID && s.Kind == "video" && s.Sender == client.SenderHash(participant) {
			n += s.Packets
		}
	}
	return n
}

// contentPackets counts every packet of the content slot c receives.
func contentPackets(c *client.Client) uint64 {
	var n uint64
	for _, s := range c.Received() {
		if s.Participant == client.ContentStreamID {
			n += s.Packets
		}
	}
	return n
}

// contentError sends m as c and waits for the error it must get.
func contentError(t *testing.T, ctx context.Context, c *client.Client, m protocol.Content, code, reason string) {
	t.Helper()
	if err := c.Send(m); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-c.Errors():
		if e.Code != code || e.Reason != reason || e.Request != protocol.TypeContent {
			t.Errorf("content %s by %s: error %+v, want code %q reason %q", m.Action, c.Welcome().ParticipantID, e, code, reason)
		}
	case <-ctx.Done():
		t.Fatalf("content %s by %s: no error came back", m.Action, c.Welcome().ParticipantID)
	}
}

// waitContent waits until every client was told that id shares content
// ("" for nobody).
func waitContent(t *testing.T, ctx context.Context, id string, cs ...*client.Client) {
	t.Helper()
	for _, c := range cs {
		for c.ContentState().ParticipantID != id || c.ContentState().Type == "" {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: content_state %+v, want participant %q", c.Welcome().ParticipantID, c.ContentState(), id)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// waitContentFrom waits until each of cs received at least 20 more
// content packets of participant.
func waitContentFrom(t *testing.T, ctx context.Context, participant string, cs ...*client.Client) {
	t.Helper()
	for _, c := range cs {
		before := contentFrom(c, participant)
		for contentFrom(c, participant) < before+20 {
			select {
			case <-ctx.Done():
				t.Fatalf("%s receives no content of %s (%d packets)", c.Welcome().ParticipantID, participant, contentFrom(c, participant)-before)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// noContent fails the test if any of cs receives content packets during
// half a second, after a moment for what was on its way.
func noContent(t *testing.T, what string, cs ...*client.Client) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	before := make([]uint64, len(cs))
	for i, c := range cs {
		before[i] = contentPackets(c)
	}
	time.Sleep(500 * time.Millisecond)
	for i, c := range cs {
		if n := contentPackets(c) - before[i]; n > 2 {
			t.Errorf("%s: %s received %d content packets", what, c.Welcome().ParticipantID, n)
		}
	}
}

// TestContent shares content from the hall and from the point holding
// the floor, with Go clients that publish a content track beside their
// camera all along: the server forwards it to everyone's content slot
// only while the signaling allows it, and a point's only while it holds
// the floor.
func TestContent(t *testing.T) {
	s := startStack(t, storetest.Redis(t))
	points := seed(t, s.Store, "content", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dial := func(role conference.Role, point string) *client.Client {
		t.Helper()
		c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: s.token("content", role, point, time.Hour),
			Publish: true, Content: true, VideoBitrate: 300_000})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	chair := dial(conference.RoleChair, "")
	a, b := dial(conference.RolePoint, points[0]), dial(conference.RolePoint, points[1])
	chairID := chair.Welcome().ParticipantID
	for _, p := range []*client.Client{a, b} {
		if err := p.WaitMedia(ctx, atLeast(25, []string{chairID}, "video")); err != nil {
			t.Fatal(err)
		}
	}
	if err := chair.WaitMedia(ctx, atLeast(25, points, "video")); err != nil {
		t.Fatal(err)
	}
	waitContent(t, ctx, "", chair, a, b)
	all := []*client.Client{chair, a, b}
	// Everyone sends a content track, nobody shares: nothing is forwarded.
	noContent(t, "before any share", all...)

	// The media plane gates a point's content by the floor, whatever the
	// SFU is told.
	if !s.SFU.SetContent("content", points[0], a.ContentMid()) {
		t.Fatal("SetContent: the point is not in the SFU")
	}
	noContent(t, "the SFU told to show a point's content without the floor", all...)
	s.SFU.SetContent("content", "", "")

	// A point without the floor is refused, and its content goes nowhere.
	contentError(t, ctx, a, protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStart, Mid: a.ContentMid()},
		protocol.CodeForbidden, "not_holding")
	contentError(t, ctx, a, protocol.Content{Type: protocol.TypeContent, Action: "pause"}, protocol.CodeBadRequest, protocol.UnknownAction)
	contentError(t, ctx, chair, protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStart}, protocol.CodeBadRequest, "")
	noContent(t, "a point without the floor asked to share", all...)

	// The hall shares: every point receives it in its content slot; the
	// hall's camera is still the program.
	if err := chair.Send(protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStart, Mid: chair.ContentMid()}); err != nil {
		t.Fatal(err)
	}
	waitContent(t, ctx, chairID, all...)
	if st := b.ContentState(); st.Role != string(conference.RoleChair) || st.Name == "" || st.Since.IsZero() {
		t.Errorf("content_state = %+v, want the chair's with its name and since", st)
	}
	waitContentFrom(t, ctx, chairID, a, b)
	if err := a.WaitMedia(ctx, atLeast(25, []string{chairID}, "video")); err != nil {
		t.Fatal(err)
	}

	// a gets the floor; it may not replace the hall's content.
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[0], Seconds: -1}); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitFloor(ctx, func(f protocol.FloorState) bool { return len(f.Holders) == 1 }); err != nil {
		t.Fatal(err)
	}
	contentError(t, ctx, a, protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStart, Mid: a.ContentMid()},
		protocol.CodeConflict, protocol.ReasonHallContent)
	contentError(t, ctx, b, protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStop},
		protocol.CodeConflict, protocol.ReasonNotSharing)

	// The hall stops; a shares; b and the hall receive it.
	if err := chair.Send(protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStop}); err != nil {
		t.Fatal(err)
	}
	waitContent(t, ctx, "", all...)
	if st := a.ContentState(); st.Reason != protocol.ContentReasonStopped {
		t.Errorf("content_state after stop = %+v, want reason %s", st, protocol.ContentReasonStopped)
	}
	if err := a.Send(protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStart, Mid: a.ContentMid()}); err != nil {
		t.Fatal(err)
	}
	waitContent(t, ctx, points[0], all...)
	waitContentFrom(t, ctx, points[0], b, chair)

	// The floor is taken back: a's content ends everywhere.
	if err := chair.Floor(protocol.Floor{Action: "take_back"}); err != nil {
		t.Fatal(err)
	}
	waitContent(t, ctx, "", all...)
	if st := b.ContentState(); st.Reason != protocol.ContentReasonTaken {
		t.Errorf("content_state after take_back = %+v, want reason %s", st, protocol.ContentReasonTaken)
	}
	noContent(t, "the floor was taken back", all...)
	for _, c := range all {
		checkIntact(t, c.Welcome().ParticipantID, c.Received())
	}
}
