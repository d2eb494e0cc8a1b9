package sfu

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
)

// DefaultWallSlots is how many points' cameras a hall console receives at
// once when Config.WallSlots is zero: the tiles of one page of its wall.
const DefaultWallSlots = 16

// WallStreamID is the MediaStream id of a hall participant's wall slots,
// whose tracks are wall-0, wall-1, and so on.
const WallStreamID = "wall"

// ErrNoWall is returned by SetWall for a participant without a wall.
var ErrNoWall = errors.New("participant has no video wall")

// wall is the video wall of a hall participant: slots, each a down-track
// that shows the camera of one point. The console chooses which points
// (SetWall); until it does, the wall shows the first points to publish.
// One goroutine owns the assignment of points to slots and applies every
// change in order.
type wall struct {
	p     *Participant
	slots []*downTrack
	kick  chan struct{} // asks the owner to bring the slots up to date

	mu   sync.Mutex
	want []string // the points wanted, first first; nil with auto
	auto bool

	shown []string // point id per slot, "" for none; the owner's
}

// newWall gives p a wall of n slots.
func newWall(p *Participant, n int) *wall {
	w := &wall{p: p, kick: make(chan struct{}, 1), auto: true}
	for i := range n {
		w.slots = append(w.slots, newSpeakerSlot(p, &p.sfu.stats, speakerCodec(webrtc.RTPCodecTypeVideo),
			webrtc.RTPCodecTypeVideo, WallStreamID, fmt.Sprintf("%s-%d", WallStreamID, i), needLow))
	}
	w.shown = make([]string, n)
	return w
}

// set makes the wall show the points of want (at most as many as it has
// slots, first first), or with auto the first points to publish.
func (w *wall) set(want []string, auto bool) {
	w.mu.Lock()
	w.want, w.auto = slices.Clone(want), auto
	w.mu.Unlock()
	w.refresh()
}

// refresh asks the owner to bring the slots up to date.
func (w *wall) refresh() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run applies changes until ctx ends.
func (w *wall) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
			w.apply()
		}
	}
}

// apply points the slots at the wanted points' cameras and tells the
// console when the assignment changed.
func (w *wall) apply() {
	w.mu.Lock()
	want, auto := w.want, w.auto
	w.mu.Unlock()
	order, video := w.p.room.pointCameras()
	if !auto {
		order = slices.DeleteFunc(slices.Clone(want), func(id string) bool { return video[id] == nil })
	}
	next := assignSlots(w.shown, order)
	for i, id := range next {
		w.slots[i].switchSource(video[id])
	}
	if !slices.Equal(next, w.shown) {
		w.shown = next
		w.p.sig.SendWall(slices.Clone(next))
	}
}

// assignSlots returns which of the points in want (first first) each slot
// shows, given what each shows now (its length is the number of slots):
// a slot keeps its point while the point is among those that fit, and
// free slots take the others in order. "" is an empty slot. It is a pure
// function of its arguments.
func assignSlots(shown, want []string) []string {
	fit := want[:min(len(want), len(shown))]
	next := make([]string, len(shown))
	placed := make(map[string]bool, len(fit))
	for i, id := range shown {
		if id != "" && slices.Contains(fit, id) && !placed[id] {
			next[i] = id
			placed[id] = true
		}
	}
	free := 0
	for _, id := range fit {
		if placed[id] {
			continue
		}
		for next[free] != "" {
			free++
		}
		next[free] = id
		placed[id] = true
	}
	return next
}

// pointCameras returns the points of r that publish video, in the order
// they joined, and the video track of each.
func (r *room) pointCameras() ([]string, map[string]*upTrack) {
	r.mu.Lock()
	parts := make([]*Participant, 0, len(r.participants))
	for _, p := range r.participants {
		if p.info.Role == conference.RolePoint {
			parts = append(parts, p)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(parts, func(a, b *Participant) int { return cmp.Compare(a.joinSeq, b.joinSeq) })
	order := make([]string, 0, len(parts))
	video := make(map[string]*upTrack, len(parts))
	for _, p := range parts {
		for _, up := range p.publishedTracks() {
			if up.kind == webrtc.RTPCodecTypeVideo {
				order = append(order, p.info.ID)
				video[p.info.ID] = up
				break
			}
		}
	}
	return order, video
}

// refreshWalls brings the wall of every hall participant of r up to date.
func (r *room) refreshWalls() {
	r.mu.Lock()
	var walls []*wall
	for _, p := range r.participants {
		if p.wall != nil {
			walls = append(walls, p.wall)
		}
	}
	r.mu.Unlock()
	for _, w := range walls {
		w.refresh()
	}
}

// SetWall makes the wall of hall participant id of conf show the cameras
// of the points in want, first first, as many as it has slots; with auto,
// it shows the first points to publish instead, as before any SetWall.
// Slots keep their point while it stays wanted, so that a tile that stays
// on the console's screen does not flicker. The participant's Signaler
// hears of the new assignment (SendWall) and each newly shown point is
// asked for a keyframe.
func (s *SFU) SetWall(conf, id string, want []string, auto bool) error {
	p := s.participant(conf, id)
	if p == nil || p.wall == nil {
		return ErrNoWall
	}
	p.wall.set(want, auto)
	return nil
}

// WallSlots returns how many slots a wall has.
func (s *SFU) WallSlots() int { return s.wallSlots }
