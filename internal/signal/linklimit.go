package signal

import (
	"time"

	"golang.org/x/time/rate"
)

// Limits of one link across all its connections; docs/protocol.md states
// them for clients. A link reconnecting gets no new burst of messages, and
// a link that reconnects faster than a page's backoff ever would is
// refused before the upgrade, before it costs anyone a roster change or an
// attendance event.
const (
	connectsPerMinute = 20
	connectBurst      = 10
	// linkLimitsIdle is how long the limits of a link with no connection
	// are kept, so that closing and reopening does not reset them.
	linkLimitsIdle = time.Minute
)

// linkLimits are the rate limits of one link, shared by its connections.
type linkLimits struct {
	messages *rate.Limiter
	connects *rate.Limiter
	conns    int       // open connections; guarded by Hub.mu
	idle     time.Time // when conns fell to 0; guarded by Hub.mu
}

func newLinkLimits() *linkLimits {
	return &linkLimits{
		messages: rate.NewLimiter(messagesPerSec, messageBurst),
		connects: rate.NewLimiter(rate.Every(time.Minute/connectsPerMinute), connectBurst),
	}
}

// limitsLocked returns the limits of link, creating them. h.mu must be
// held.
func (h *Hub) limitsLocked(link string) *linkLimits {
	l := h.limits[link]
	if l == nil {
		l = newLinkLimits()
		h.limits[link] = l
	}
	return l
}

// sweepLimitsLocked forgets the limits of links without a connection for
// linkLimitsIdle before now. h.mu must be held.
func (h *Hub) sweepLimitsLocked(now time.Time) {
	for link, l := range h.limits {
		if l.conns == 0 && now.Sub(l.idle) > linkLimitsIdle {
			delete(h.limits, link)
		}
	}
}
