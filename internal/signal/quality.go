package signal

import (
	"math"
	"time"

	"hoinghi/internal/protocol"
)

// qualityInterval is how often the hall gets the link quality of every
// participant.
const qualityInterval = 2 * time.Second

// qualityLoop sends link_quality to the hall of every conference until the
// hub shuts down.
func (h *Hub) qualityLoop() {
	t := time.NewTicker(qualityInterval)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
		}
		h.mu.Lock()
		confs := make([]string, 0, len(h.confs))
		for id := range h.confs {
			confs = append(confs, id)
		}
		h.mu.Unlock()
		for _, conf := range confs {
			h.sendQuality(conf)
		}
	}
}

// sendQuality measures the links of conf and sends them to its hall.
func (h *Hub) sendQuality(conf string) {
	hall := func(c *conn) bool { return c.role.AtHall() }
	if len(h.conns(conf, hall)) == 0 {
		return
	}
	qs := h.d.SFU.Quality(conf)
	msg := protocol.LinkQuality{Type: protocol.TypeLinkQuality, Participants: make([]protocol.ParticipantQuality, len(qs))}
	for i, q := range qs {
		msg.Participants[i] = protocol.ParticipantQuality{
			ID:          q.ID,
			RTTMs:       round1(q.RTT.Seconds() * 1000),
			LossPercent: round1(q.Loss * 100),
			Kbps:        round1(q.Kbps),
			Network:     q.Network,
		}
	}
	h.broadcastTo(conf, hall, msg)
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
