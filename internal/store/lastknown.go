package store

import (
	"errors"
	"sync"

	"hoinghi/internal/conference"
)

// lastKnown keeps the conferences and points the store last read, so that
// Conference and Point still answer while Redis is unreachable: a point
// whose page reconnects during an outage is admitted, and its attendance is
// recorded through the spool. A read that finds nothing forgets the entry.
type lastKnown struct {
	mu     sync.Mutex
	confs  map[string]conference.Conference
	points map[[2]string]conference.Point // (conference id, point id)
}

func (k *lastKnown) conference(id string) (conference.Conference, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.confs[id]
	return c, ok
}

// setConference remembers c, the result of reading id, or forgets id when
// err says there is no such conference.
func (k *lastKnown) setConference(id string, c conference.Conference, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case errors.Is(err, ErrNotFound):
		delete(k.confs, id)
	case err == nil:
		if k.confs == nil {
			k.confs = make(map[string]conference.Conference)
		}
		k.confs[id] = c
	}
}

func (k *lastKnown) point(confID, pointID string) (conference.Point, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p, ok := k.points[[2]string{confID, pointID}]
	return p, ok
}

// setPoint remembers p, the result of reading pointID of conference confID,
// or forgets it when err says there is no such point.
func (k *lastKnown) setPoint(confID, pointID string, p conference.Point, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case errors.Is(err, ErrNotFound):
		delete(k.points, [2]string{confID, pointID})
	case err == nil:
		if k.points == nil {
			k.points = make(map[[2]string]conference.Point)
		}
		k.points[[2]string{confID, pointID}] = p
	}
}
