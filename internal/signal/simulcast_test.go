package signal_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// sentBytes is what c published of its video encoding rid.
func sentBytes(c *client.Client, rid string) uint64 {
	for _, st := range c.Sent() {
		if st.Kind == "video" && st.RID == rid {
			return st.Bytes
		}
	}
	return 0
}

// layerOf returns the encoding and packets of the video c receives from
// participant in stream (a wall slot, a speaker slot, or the
// participant's own stream), and whether there is such a track.
func layerOf(c *client.Client, stream, participant string) (layer int, packets uint64, ok bool) {
	for _, st := range c.Received() {
		if st.Kind != "video" || st.From != participant {
			continue
		}
		if stream == participant && st.Participant != participant || stream != participant && st.Participant != stream {
			continue
		}
		return st.Layer, st.Packets, true
	}
	return 0, 0, false
}

// waitLayer waits until c receives participant's video in stream at
// encoding layer, with packets flowing.
func waitLayer(t *testing.T, ctx context.Context, c *client.Client, who, stream, participant string, layer int) {
	t.Helper()
	var last string
	for {
		l, n, ok := layerOf(c, stream, participant)
		if ok && l == layer {
			before := n
			time.Sleep(200 * time.Millisecond)
			if l2, n2, _ := layerOf(c, stream, participant); l2 == layer && n2 > before {
				return
			}
		}
		last = fmt.Sprintf("layer %d, %d packets, found %v", l, n, ok)
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %s of %s never at encoding %d (%s)", who, stream, participant, layer, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestSimulcast: points and the hall publish three encodings; the hall's
// wall receives the lowest of each point it shows, the speaker slots and
// the hall's program the highest, and an encoding nobody receives is
// paused at its publisher until someone needs it again.
func TestSimulcast(t *testing.T) {
	st := storetest.Embedded(t)
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{WallSlots: 2, VideoLayers: protocol.DefaultVideoLayers()}), t: t}
	const conf = "simulcast"
	points := seed(t, st, conf, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dial := func(role conference.Role, point string, publish bool) *client.Client {
		c, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: s.token(conf, role, point, time.Hour),
			Publish: publish, Simulcast: true, VideoBitrate: 600_000})
		if err != nil {
			t.Fatalf("dial %s %s: %v", role, point, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	hall := dial(conference.RoleTechnician, "", true)
	chair := dial(conference.RoleChair, "", false)
	hallID := hall.Welcome().ParticipantID
	var pts []*client.Client
	for _, p := range points {
		pts = append(pts, dial(conference.RolePoint, p, true))
		waitWallHas(t, ctx, hall, len(pts), points)
	}

	// The wall shows the first two points, each in its lowest encoding;
	// the points receive the hall's program in its highest.
	for _, p := range points[:2] {
		waitLayer(t, ctx, hall, "hall", client.WallStreamID, p, 0)
	}
	for i, pc := range pts {
		waitLayer(t, ctx, pc, points[i], client.ProgramStreamID, hallID, 2)
	}

	// The floor: every other point's speaker slot, and the hall's, show
	// the holder in the highest encoding.
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[0]}); err != nil {
		t.Fatal(err)
	}
	waitLayer(t, ctx, hall, "hall", client.SpeakerStreamID, points[0], 2)
	for i := 1; i < 3; i++ {
		waitLayer(t, ctx, pts[i], points[i], client.SpeakerStreamID, points[0], 2)
	}

	// What nobody receives stops: the third point, on no wall tile and
	// without the floor, sends no video at all; the second, on the wall
	// only, its lowest encoding alone; the holder, on the wall and in
	// the speaker slots, its lowest and highest.
	type enc struct {
		c       *client.Client
		who     string
		rid     string
		flowing bool
	}
	encs := []enc{
		{pts[0], points[0], "q", true}, {pts[0], points[0], "h", false}, {pts[0], points[0], "f", true},
		{pts[1], points[1], "q", true}, {pts[1], points[1], "h", false}, {pts[1], points[1], "f", false},
		{pts[2], points[2], "q", false}, {pts[2], points[2], "h", false}, {pts[2], points[2], "f", false},
	}
	settled := func() bool {
		before := make([]uint64, len(encs))
		for i, e := range encs {
			before[i] = sentBytes(e.c, e.rid)
		}
		time.Sleep(time.Second)
		for i, e := range encs {
			if grew := sentBytes(e.c, e.rid) > before[i]; grew != e.flowing {
				return false
			}
		}
		return true
	}
	for !settled() {
		if ctx.Err() != nil {
			for _, e := range encs {
				t.Errorf("%s %s: want flowing %v; sent %+v", e.who, e.rid, e.flowing, e.c.Sent())
			}
			t.Fatal("the encodings nobody receives were not paused")
		}
	}

	// The console sees it: what each point sends, and who receives it
	// (the walls of the technician and the chair).
	for {
		var second, third *protocol.ParticipantQuality
		for _, q := range hall.LinkQuality().Participants {
			switch q.ID {
			case points[1]:
				second = &q
			case points[2]:
				third = &q
			}
		}
		if second != nil && third != nil && slices.Equal(second.SendLayers, []string{"q"}) && second.Viewers["q"] == 2 && second.Viewers["f"] == 0 &&
			len(third.SendLayers) == 0 && len(third.Viewers) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the hall's link_quality does not show the paused encodings: %+v", hall.LinkQuality())
		case <-time.After(100 * time.Millisecond):
		}
	}

	// The third point gets the floor: its highest encoding comes back,
	// and the speaker slots show it.
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[2]}); err != nil {
		t.Fatal(err)
	}
	before := sentBytes(pts[2], "f")
	waitLayer(t, ctx, hall, "hall", client.SpeakerStreamID, points[2], 2)
	waitLayer(t, ctx, pts[1], points[1], client.SpeakerStreamID, points[2], 2)
	if sentBytes(pts[2], "f") <= before {
		t.Error("the new holder's highest encoding did not resume")
	}
	// Every switch of encoding or speaker came on a keyframe. (A packet
	// of the encoding left may still overtake the first of the new one:
	// the receiver reorders it; sequence jumps are not counted here.)
	// Picture ids ran on across every switch: a gap in them comes only
	// with a packet missing or late, which is a jump in sequence numbers.
	for i, c := range append([]*client.Client{hall}, pts...) {
		for _, st := range c.Received() {
			if st.Corrupt != 0 {
				t.Errorf("client %d: %s of %s: %d corrupt of %d packets", i, st.Kind, st.Participant, st.Corrupt, st.Packets)
			}
			if st.PictureGaps > st.SeqJumps {
				t.Errorf("client %d: video of %s: %d gaps in picture ids, %d sequence jumps", i, st.Participant, st.PictureGaps, st.SeqJumps)
			}
		}
	}
}

// waitWallHas waits until hall's roster holds the first n points.
func waitWallHas(t *testing.T, ctx context.Context, hall *client.Client, n int, points []string) {
	t.Helper()
	for {
		ids := rosterIDs(hall)
		have := 0
		for _, p := range points[:n] {
			for _, id := range ids {
				if id == p {
					have++
				}
			}
		}
		if have == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the hall's roster never held %v", points[:n])
		case <-time.After(5 * time.Millisecond):
		}
	}
}
