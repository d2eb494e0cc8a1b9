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

// The grade of a link and its quality alert; docs/protocol.md ("Quality
// alerts") states the rule, and web/static/js/stats.js (THRESHOLDS) has
// the same bounds. An interval's figures grade the link poor when the
// server received no media from the participant, or a loss (of its packets
// on the way to the server, as the server counts, or of those sent to it,
// as its browser reports) is over poorLossPercent, or the round trip over
// poorRTTMs; fair when a loss is over fairLossPercent or the round trip
// over fairRTTMs; good otherwise. A point's alert is raised once its
// intervals have graded poor for alertHold without a break, and cleared
// once they have graded good or fair for alertHold without a break: a
// link on the edge of a bound does not flip the alert.
const (
	fairLossPercent = 2.0
	poorLossPercent = 8.0
	fairRTTMs       = 150.0
	poorRTTMs       = 400.0
	alertHold       = 10 * time.Second
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
	alerts  map[string]map[string]alertState  // conference -> participant -> its alert state
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

// judge adds the sample of participant id of conf for the interval that
// ended at now to its alert state, and returns the new state, the grade
// to show, and whether the alert was raised or cleared.
func (r *statsReports) judge(conf, id string, m alertSample, now time.Time) (alertState, string, bool) {
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
	s, grade, changed := stepAlert(a[id], m, now)
	a[id] = s
	return s, grade, changed
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

// alertSample is one interval's figures of a participant's link, as its
// entry in link_quality gives them.
type alertSample struct {
	lossPercent     float64 // of its packets, on the way to the server
	recvLossPercent float64 // of the packets sent to it, as its browser reports
	rttMs           float64 // the server's round trip of its media (rtt_ms)
	media           bool    // the server received media from it in the interval
}

// sampleOf returns the alert sample of a participant's link_quality entry.
// The round trip is the server's alone: the figure the hall is shown as
// the link's round trip is the one judged.
func sampleOf(q protocol.ParticipantQuality) alertSample {
	m := alertSample{lossPercent: q.LossPercent, rttMs: q.RTTMs, media: q.Kbps > 0}
	if v := q.RecvLossPercent; v != nil {
		m.recvLossPercent = *v
	}
	return m
}

// gradeOf returns the grade of one interval's figures and, when poor, why
// (a protocol.Alert* reason) and the figure behind it (0 for no media).
func gradeOf(m alertSample) (grade, reason string, value float64) {
	switch {
	case !m.media:
		return protocol.GradePoor, protocol.AlertNoMedia, 0
	case m.lossPercent > poorLossPercent:
		return protocol.GradePoor, protocol.AlertLoss, m.lossPercent
	case m.recvLossPercent > poorLossPercent:
		return protocol.GradePoor, protocol.AlertRecvLoss, m.recvLossPercent
	case m.rttMs > poorRTTMs:
		return protocol.GradePoor, protocol.AlertRTT, m.rttMs
	case m.lossPercent > fairLossPercent || m.recvLossPercent > fairLossPercent || m.rttMs > fairRTTMs:
		return protocol.GradeFair, "", 0
	}
	return protocol.GradeGood, "", 0
}

// alertState is where a participant's quality alert stands. The zero
// value is a link with no alert.
type alertState struct {
	poor bool // the alert stands
	// since is the start of the first of the intervals in a row that
	// graded the other way than the alert stands (poor while it does not,
	// better while it does); zero when the last one agreed with it.
	since time.Time
	// silentSince is the start of the first of the intervals in a row
	// without media; zero when the last one had media.
	silentSince time.Time
	reason      string  // a protocol.Alert* reason while poor
	value       float64 // the figure behind reason: percent, milliseconds or seconds
}

// stepAlert returns the alert state s after the interval of
// qualityInterval that ended at now, sampled in m; the grade the hall is
// shown (poor while the alert stands, else the interval's grade, poor
// counting as fair until it has held for alertHold); and whether the alert
// was raised or cleared. It is a pure function of its arguments: with
// 2 s intervals, the fifth poor interval in a row raises the alert and the
// fifth better one clears it. While the alert stands its reason and value
// follow the latest poor interval; no media's value is the seconds of the
// intervals in a row without media.
func stepAlert(s alertState, m alertSample, now time.Time) (alertState, string, bool) {
	grade, reason, value := gradeOf(m)
	start := now.Add(-qualityInterval) // of the interval sampled
	if m.media {
		s.silentSince = time.Time{}
	} else if s.silentSince.IsZero() {
		s.silentSince = start
	}
	if reason == protocol.AlertNoMedia {
		value = now.Sub(s.silentSince).Seconds()
	}
	bad := grade == protocol.GradePoor
	changed := false
	switch {
	case bad == s.poor:
		s.since = time.Time{}
	case s.since.IsZero():
		s.since = start
	}
	if bad != s.poor && now.Sub(s.since) >= alertHold {
		s.poor, s.since, changed = bad, time.Time{}, true
	}
	switch {
	case s.poor && bad:
		s.reason, s.value = reason, value
	case !s.poor:
		s.reason, s.value = "", 0
	}
	switch {
	case s.poor:
		grade = protocol.GradePoor
	case bad:
		grade = protocol.GradeFair
	}
	return s, grade, changed
}
