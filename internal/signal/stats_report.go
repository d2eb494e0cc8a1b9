package signal

import (
	"fmt"
	"sync"
	"time"

	"hoinghi/internal/protocol"
)

// Stats reports: every page sends what its browser measures of its own
// media (protocol.Stats) every 2 s. The hub keeps the latest report of each
// participant, passes it on to the hall in link_quality, and judges from
// it and the server's own figures whether a point's link is poor.

// statsMinGap is the shortest time between two reports of one connection;
// a report that comes sooner is refused with rate_limited.
const statsMinGap = time.Second

// statsTTL is how long a report stands: a participant whose page stopped
// reporting shows only the server's figures after it.
const statsTTL = 3 * qualityInterval

// Quality alert thresholds; docs/protocol.md ("Link quality") states them.
// An interval is bad when the loss of the point's packets on the way in (as
// the server counts) or on the way out (as the point's browser reports) is
// over alertLossPercent, or the round trip (the larger of the server's and
// the browser's) over alertRTTMs. alertBadIntervals bad intervals in a row,
// or alertSilentIntervals intervals in a row in which the server received
// no media from the point, raise the alert. It is cleared after
// clearIntervals clean intervals in a row: media received, loss at most
// clearLossPercent and round trip at most clearRTTMs. Between the two
// bounds the alert stays as it is, so that a link on the edge does not
// flap.
const (
	alertLossPercent     = 8.0
	alertRTTMs           = 400.0
	alertBadIntervals    = 2
	alertSilentIntervals = 3 // 6 s: at least 5 s without media
	clearLossPercent     = 3.0
	clearRTTMs           = 300.0
	clearIntervals       = 3
)

// statsReport is the latest report of one participant.
type statsReport struct {
	from  *conn
	at    time.Time
	stats protocol.ClientStats
}

// statsReports holds the latest report and the alert state of every
// participant, by conference. The zero value is ready to use.
type statsReports struct {
	mu      sync.Mutex
	reports map[string]map[string]statsReport // conference -> participant -> latest report
	alerts  map[string]map[string]alertState  // conference -> point -> its alert state
}

// stats keeps the connection's report of its own media.
func (c *conn) stats(m *protocol.Stats) *protocol.Error {
	if err := m.ClientStats.Normalize(); err != nil {
		return &protocol.Error{Code: protocol.CodeBadRequest, Request: protocol.TypeStats, Message: fmt.Sprintf("stats: %v", err)}
	}
	if !c.hub.reports.put(c, m.ClientStats, time.Now()) {
		return &protocol.Error{Code: protocol.CodeRateLimited, Request: protocol.TypeStats,
			Message: fmt.Sprintf("at most one stats report every %v; report dropped", statsMinGap)}
	}
	return nil
}

// put keeps s as c's latest report, unless c's previous report came less
// than statsMinGap before now; it reports whether it kept it.
func (r *statsReports) put(c *conn, s protocol.ClientStats, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reports == nil {
		r.reports = make(map[string]map[string]statsReport)
	}
	m := r.reports[c.conf]
	if m == nil {
		m = make(map[string]statsReport)
		r.reports[c.conf] = m
	}
	if prev, ok := m[c.id]; ok && prev.from == c && now.Sub(prev.at) < statsMinGap {
		return false
	}
	m[c.id] = statsReport{from: c, at: now, stats: s}
	return true
}

// latest returns the report of participant id of conf, if one came within
// statsTTL before now.
func (r *statsReports) latest(conf, id string, now time.Time) (protocol.ClientStats, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep, ok := r.reports[conf][id]
	if !ok || now.Sub(rep.at) > statsTTL {
		return protocol.ClientStats{}, false
	}
	return rep.stats, true
}

// judge adds one interval's sample of point id of conf to its alert state
// and returns the new state, and whether its level changed.
func (r *statsReports) judge(conf, id string, m alertSample) (alertState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.alerts == nil {
		r.alerts = make(map[string]map[string]alertState)
	}
	a := r.alerts[conf]
	if a == nil {
		a = make(map[string]alertState)
		r.alerts[conf] = a
	}
	s, changed := stepAlert(a[id], m)
	a[id] = s
	return s, changed
}

// keep forgets the reports and alert states of conf's participants not in
// present.
func (r *statsReports) keep(conf string, present map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.reports[conf] {
		if !present[id] {
			delete(r.reports[conf], id)
		}
	}
	for id := range r.alerts[conf] {
		if !present[id] {
			delete(r.alerts[conf], id)
		}
	}
}

// keepConferences forgets everything of the conferences not in confs.
func (r *statsReports) keepConferences(confs []string) {
	open := make(map[string]bool, len(confs))
	for _, c := range confs {
		open[c] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.reports {
		if !open[c] {
			delete(r.reports, c)
		}
	}
	for c := range r.alerts {
		if !open[c] {
			delete(r.alerts, c)
		}
	}
}

// alertSample is one interval's figures of a point's link.
type alertSample struct {
	lossPercent     float64 // of the point's packets, on the way to the server
	recvLossPercent float64 // of the packets sent to the point, as its browser reports
	rttMs           float64 // the larger of the server's and the browser's round trip
	media           bool    // the server received media from the point in the interval
}

// sampleOf returns the alert sample of a participant's link_quality entry.
func sampleOf(q protocol.ParticipantQuality) alertSample {
	m := alertSample{lossPercent: q.LossPercent, rttMs: q.RTTMs, media: q.Kbps > 0}
	if v := q.RecvLossPercent; v != nil {
		m.recvLossPercent = *v
	}
	if v := q.ClientRTTMs; v != nil {
		m.rttMs = max(m.rttMs, *v)
	}
	return m
}

// alertState is where a point's quality alert stands.
type alertState struct {
	poor   bool
	reason string  // a protocol.Alert* reason while poor
	value  float64 // the figure behind reason: percent, milliseconds or seconds
	bad    int     // bad intervals in a row
	clean  int     // clean intervals in a row
	silent int     // intervals without media in a row
}

// badReason returns why the interval of m is bad, and the figure, or ""
// when it is not.
func badReason(m alertSample) (string, float64) {
	switch {
	case m.lossPercent > alertLossPercent:
		return protocol.AlertLoss, m.lossPercent
	case m.recvLossPercent > alertLossPercent:
		return protocol.AlertRecvLoss, m.recvLossPercent
	case m.rttMs > alertRTTMs:
		return protocol.AlertRTT, m.rttMs
	}
	return "", 0
}

// stepAlert returns the alert state s after one more interval, sampled in
// m, and whether it changed between poor and ok. It is a pure function of
// its arguments.
func stepAlert(s alertState, m alertSample) (alertState, bool) {
	reason, value := badReason(m)
	if m.media {
		s.silent = 0
	} else {
		s.silent++
	}
	if reason != "" {
		s.bad++
	} else {
		s.bad = 0
	}
	if m.media && m.lossPercent <= clearLossPercent && m.recvLossPercent <= clearLossPercent && m.rttMs <= clearRTTMs {
		s.clean++
	} else {
		s.clean = 0
	}
	was := s.poor
	switch {
	case s.silent >= alertSilentIntervals:
		s.poor, s.reason, s.value = true, protocol.AlertNoMedia, float64(s.silent)*qualityInterval.Seconds()
	case s.bad >= alertBadIntervals:
		s.poor, s.reason, s.value = true, reason, value
	case s.poor && s.clean >= clearIntervals:
		s.poor, s.reason, s.value = false, "", 0
	}
	return s, s.poor != was
}
