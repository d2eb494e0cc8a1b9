package sfu

import (
	"slices"

	"hoinghi/internal/conference"
)

// ContentStreamID (protocol.ContentStreamID) is the MediaStream id of the content slot every point
// and hall console receives: the one screen, window or tab shared in the
// conference (SetContent), track ContentTrackID, empty while nobody
// shares.
const ContentStreamID = "content"

// ContentTrackID is the track id of the content slot.
const ContentTrackID = "content-video"

// SetContent makes the video that participant id of conf publishes on
// its publishing transceiver mid the conference's content, forwarded
// whole (one encoding, no wall) to everyone's content slot but its own;
// id "" takes the content away. From then on that transceiver's track is
// never taken for id's camera. A point's content is forwarded only while
// it holds the floor (SetFloor): the media plane gates it whatever the
// signaling says. It reports whether participant id is there (true for
// "").
func (s *SFU) SetContent(conf, id, mid string) bool {
	if id != "" {
		p := s.participant(conf, id)
		if p == nil {
			return false
		}
		p.mu.Lock()
		p.contentMid = mid
		p.mu.Unlock()
	}
	s.mu.Lock()
	r := s.roomLocked(conf)
	r.mu.Lock()
	s.mu.Unlock()
	r.contentID, r.contentMid = id, mid
	if id == "" {
		r.contentMid = ""
	}
	r.mu.Unlock()
	r.applyFloor()
	r.refreshWalls() // a track that was taken for a camera may be content now
	return true
}

// contentSource returns the track of r's content, nil for none: the
// content participant's video on its content transceiver, as long as it
// is a hall console or a point that holds the floor.
func (r *room) contentSource(byID map[string]*Participant, holders []string) *upTrack {
	r.mu.Lock()
	id, mid := r.contentID, r.contentMid
	r.mu.Unlock()
	owner := byID[id]
	if owner == nil {
		return nil
	}
	switch {
	case owner.info.Role.AtHall():
	case owner.info.Role == conference.RolePoint && slices.Contains(holders, owner.info.ID):
	default:
		return nil
	}
	return owner.contentTrack(mid)
}

// fillContent points p's content slot, if it has one, at up, unless up
// is p's own.
func (p *Participant) fillContent(up *upTrack) {
	p.mu.Lock()
	d := p.content
	p.mu.Unlock()
	if d == nil {
		return
	}
	if up != nil && up.owner == p {
		up = nil
	}
	d.switchSource(up)
}
