package main

import (
	"context"
	"fmt"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/protocol"
)

// switchTimeout bounds the wait for one point to see a new speaker.
const switchTimeout = 5 * time.Second

// measureFloorSwitches gives the floor to the points in turn, n times, from
// the hall, and returns for every switch and every other point the time
// from sending the give to the first packet of the new speaker's video in
// that point's speaker slot (the SFU switches only on a keyframe). It takes
// the floor back at the end.
func measureFloorSwitches(ctx context.Context, hall *client.Client, points []*client.Client, n int) ([]time.Duration, error) {
	if len(points) < 2 {
		return nil, nil
	}
	var out []time.Duration
	for i := range n {
		speaker := points[i%len(points)]
		id := speaker.Welcome().ParticipantID
		hash := client.SenderHash(id)
		given := time.Now()
		if err := hall.Floor(protocol.Floor{Action: "give", PointID: id, Seconds: -1}); err != nil {
			return out, fmt.Errorf("give the floor to %s: %w", id, err)
		}
		for _, p := range points {
			if p == speaker {
				continue
			}
			var since time.Time
			wctx, cancel := context.WithTimeout(ctx, switchTimeout)
			err := p.WaitMedia(wctx, func(st []client.TrackStats) bool {
				for _, s := range st {
					if s.Participant == client.SpeakerStreamID && s.Kind == "video" && s.Sender == hash && s.SenderSince.After(given) {
						since = s.SenderSince
						return true
					}
				}
				return false
			})
			cancel()
			if err != nil {
				return out, fmt.Errorf("point %s did not see speaker %s within %s: %w",
					p.Welcome().ParticipantID, id, switchTimeout, err)
			}
			out = append(out, since.Sub(given))
		}
	}
	if err := hall.Floor(protocol.Floor{Action: "take_back"}); err != nil {
		return out, fmt.Errorf("take the floor back: %w", err)
	}
	return out, nil
}
