package signal

import (
	"math"
	"time"

	"hoinghi/internal/conference"
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
		var now time.Time
		select {
		case <-h.done:
			return
		case now = <-t.C:
		}
		h.mu.Lock()
		confs := make([]string, 0, len(h.rooms))
		for id := range h.rooms {
			confs = append(confs, id)
		}
		h.mu.Unlock()
		h.reports.keepConferences(confs)
		h.sweep(time.Now())
		for _, conf := range confs {
			h.sendQuality(conf, now)
		}
	}
}

// sendQuality measures the links of conf, merges each participant's own
// latest stats report, grades each link and judges whether each point's
// is poor (for the interval that ended at now, the tick's time: the alerts'
// hold counts whole intervals), and sends the figures, and the alerts
// that were raised or cleared, to its hall. The points are judged also
// while no one is at the hall, so that a console that connects later sees
// the alerts that stand.
func (h *Hub) sendQuality(conf string, now time.Time) {
	conns := h.conns(conf, nil)
	byID := make(map[string]*conn, len(conns))
	present := make(map[string]bool, len(conns))
	hall := false
	for _, c := range conns {
		byID[c.id] = c
		present[c.id] = true
		hall = hall || c.role.AtHall()
	}
	qs := h.d.SFU.Quality(conf)
	msg := protocol.LinkQuality{Type: protocol.TypeLinkQuality, Participants: make([]protocol.ParticipantQuality, 0, len(qs))}
	var alerts []protocol.QualityAlert
	for _, q := range qs {
		if h.isViewer(conf, q.ID) {
			continue // a WHEP viewer is no participant of the roster
		}
		pq := protocol.ParticipantQuality{
			ID:          q.ID,
			RTTMs:       round1(q.RTT.Seconds() * 1000),
			LossPercent: round1(q.Loss * 100),
			Kbps:        round1(q.Kbps),
			Network:     q.Network,
		}
		if q.Down {
			kbps, loss := round1(q.DownKbps), round1(q.DownLoss*100)
			pq.DownKbps, pq.DownLossPercent = &kbps, &loss
		}
		if q.EstimateKbps > 0 {
			est := round1(q.EstimateKbps)
			pq.DownEstimateKbps = &est
			pq.Downlink = q.Downlink
		}
		pq.SendLayers, pq.SendTemporal, pq.Viewers, pq.Receives, pq.ReducedRate = q.SendLayers, q.SendTemporal, q.Viewers, q.Receives, q.ReducedRate
		if cs, ok := h.reports.latest(conf, q.ID, now); ok {
			pq.ClientStats = cs
		}
		if c := byID[q.ID]; c != nil {
			// Every link is graded; only points are alerted.
			st, grade, changed := h.reports.judge(conf, q.ID, sampleOf(pq), now)
			pq.Grade = grade
			if c.role == conference.RolePoint {
				pq.Alert, pq.AlertValue = st.reason, round1(st.value)
				if changed {
					a := protocol.QualityAlert{Type: protocol.TypeQualityAlert, ParticipantID: q.ID, Name: c.name,
						Level: protocol.LevelOK}
					if st.poor {
						a.Level, a.Reason, a.Value = protocol.LevelPoor, st.reason, round1(st.value)
					}
					c.log.Info("link quality alert", "level", a.Level, "reason", a.Reason, "value", a.Value)
					alerts = append(alerts, a)
				}
			}
		}
		msg.Participants = append(msg.Participants, pq)
	}
	h.reports.keep(conf, present)
	if !hall {
		return
	}
	atHall := func(c *conn) bool { return c.role.AtHall() }
	h.broadcastTo(conf, atHall, msg, classState, keyLinkQuality)
	for _, a := range alerts {
		h.broadcastTo(conf, atHall, a, classState, keyQualityAlert+a.ParticipantID)
	}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
