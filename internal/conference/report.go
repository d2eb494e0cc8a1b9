package conference

import (
	"cmp"
	"slices"
	"time"
)

// The attendance report is computed from the attendance events and the
// speaking log of a conference by BuildReport, which does no I/O. The rules
// it applies where the events alone leave a choice:
//
//   - Attendance counts within a window: from the first conference_started
//     event (the actual start) to the last conference_ended event after the
//     last start, or to now while the conference goes on. Without a start
//     event the window opens at the scheduled start, and without that at
//     the first join of a point. Time connected outside the window (the test
//     session an hour early, lingering after the end) is not counted, but a
//     point connected across the start counts from the start.
//   - Only participants in the point role with a point id count. The hall
//     and the secretariat are not attendance; their joins only name them in
//     the speaking log.
//   - Events are taken in the order of At, then ID; an event whose ID was
//     seen already is dropped. A leave without an open join of the same
//     participant is ignored; a join without a leave stays open to the end
//     of the window. A second join of a participant still connected is
//     ignored.
//   - A point is connected while any of its participants is (a page opened
//     twice overlaps, it does not add up). A reconnect no later than the
//     grace period (Conference.Grace) after a leave continues the same stay,
//     with a gap; a longer absence starts a new stay.
//   - A point is late if its first join is more than LateTolerance after the
//     start, and left early if it was not connected at the end of the
//     window and its last leave was more than EarlyLeaveTolerance before it
//     (so during a live conference a point that went away and has not come
//     back is shown as left early). Its status says the most serious:
//     absent, then left early, then late, then present.
//   - Delegates are the last check-in by time, before or during the
//     conference, whoever made it (the point or the technician). The
//     representative is the last one named in a check-in, else the point's
//     own.
//   - In a roll call, a result marked by the technician wins; otherwise a
//     confirmation within the window is present, a later one late, and no
//     confirmation absent, or pending while the roll call is open and its
//     window has not passed. A roll call without a window has no late
//     confirmations and stays pending until it is closed.

// Tolerances of the attendance status.
const (
	// LateTolerance is how long after the start a point may first join and
	// still be present rather than late.
	LateTolerance = 5 * time.Minute
	// EarlyLeaveTolerance is how long before the end a point may leave for
	// good and not be counted as leaving early.
	EarlyLeaveTolerance = 5 * time.Minute
)

// PointStatus is the attendance status of a point in a report.
type PointStatus string

// The attendance statuses, from the most to the least serious.
const (
	StatusAbsent    PointStatus = "absent"     // never connected within the window
	StatusLeftEarly PointStatus = "left_early" // left for good before the end
	StatusLate      PointStatus = "late"       // first joined after the start plus LateTolerance
	StatusPresent   PointStatus = "present"
)

// RollCallPending is the roll-call status of a point that has not confirmed
// while the roll call is still open.
const RollCallPending = "pending"

// Report is the attendance of a conference: when it ran, which points
// attended and how, the roll calls and the speaking log.
//
// In JSON (the body of GET /api/conferences/{id}/report, schema Report of
// docs/openapi.json) every name is snake_case, a time that is not set is
// left out, and every duration is a number of seconds (see MarshalJSON of
// the types that hold one).
type Report struct {
	Conference Conference `json:"conference"`
	// Location is the conference's time zone: its TimeZone, else
	// DefaultTimeZone, else UTC if neither loads.
	Location *time.Location `json:"-"`
	// GeneratedAt is the now the report was computed at.
	GeneratedAt time.Time `json:"generated_at"`
	// ActualStart and End are the times of the conference_started and
	// conference_ended events; zero if there is none (End is zero while
	// the conference goes on).
	ActualStart time.Time `json:"actual_start,omitzero"`
	End         time.Time `json:"end,omitzero"`
	// Sessions are the conference's sessions, from each
	// conference_started to the conference_ended after it (End zero
	// while it goes on): one, or more once an ended conference was
	// reopened. ActualStart is the first's start, End the last's end.
	Sessions []Session `json:"sessions,omitempty"`
	// From and Until are the window attendance counts in (see the rules
	// above). Until is End, or GeneratedAt while the conference goes on.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Points are the invited points in the order given, then points that
	// connected without being invited (deleted since), by id.
	Points    []PointAttendance `json:"points,omitempty"`
	RollCalls []RollCall        `json:"roll_calls,omitempty"`
	Turns     []TurnEntry       `json:"turns,omitempty"`
	Summary   Summary           `json:"summary"`

	names map[string]string // participant id -> display name
}

// ActorName returns the name of whoever acted as by records it (the By of
// an event, the GivenBy of a turn): the role or point name of a participant
// seen joining, the name of a role, else by itself.
func (r Report) ActorName(by string) string {
	if n, ok := r.names[by]; ok {
		return n
	}
	if role := Role(by); role.Valid() {
		return DisplayName(role, "")
	}
	return by
}

// mutesByPoint returns, by point, the times its microphone was muted at
// the hall, from the events in order.
func mutesByPoint(evs []AttendanceEvent) map[string][]Mute {
	var out map[string][]Mute
	for _, e := range evs {
		if e.PointID == "" || e.Kind != Muted && e.Kind != Unmuted {
			continue
		}
		if out == nil {
			out = make(map[string][]Mute)
		}
		ms := out[e.PointID]
		open := len(ms) > 0 && ms[len(ms)-1].End.IsZero()
		switch {
		case e.Kind == Muted && !open:
			out[e.PointID] = append(ms, Mute{Start: e.At, By: e.By})
		case e.Kind == Unmuted && open:
			ms[len(ms)-1].End = e.At
		}
	}
	return out
}

// mutesWithin returns the parts of mutes within a turn from start to end
// (zero: not ended).
func mutesWithin(mutes []Mute, start, end time.Time) []Mute {
	var out []Mute
	for _, m := range mutes {
		if !end.IsZero() && !m.Start.Before(end) || !m.End.IsZero() && !m.End.After(start) {
			continue
		}
		if m.Start.Before(start) {
			m.Start = start
		}
		if !end.IsZero() && (m.End.IsZero() || m.End.After(end)) {
			m.End = end
		}
		out = append(out, m)
	}
	return out
}

// Session is one session of a conference: from a start to the end after
// it, End zero while it goes on. Reopened marks a session started by
// reopening the ended conference.
type Session struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end,omitzero"`
	Reopened bool      `json:"reopened,omitempty"`
}

// Ended reports whether the conference has an end event.
func (r Report) Ended() bool { return !r.End.IsZero() }

// PointAttendance is the attendance of one point.
type PointAttendance struct {
	Point   Point       `json:"point"`
	Invited bool        `json:"invited"`
	Status  PointStatus `json:"status"`
	Late    bool        `json:"late"` // first joined after From + LateTolerance
	// LeftEarly is true if the point was not connected at Until and its
	// last leave was more than EarlyLeaveTolerance before it.
	LeftEarly bool `json:"left_early"`
	// FirstJoin is the join that opened the first counted stay, which may
	// be before From; LastLeave the end of the last connection, zero if the
	// point is still connected. Both are zero for an absent point.
	FirstJoin time.Time `json:"first_join,omitzero"`
	LastLeave time.Time `json:"last_leave,omitzero"`
	// ConnectedAtEnd reports whether the point was connected at Until.
	ConnectedAtEnd bool          `json:"connected_at_end"`
	Stays          []Stay        `json:"stays,omitempty"`
	Connected      time.Duration `json:"connected"` // the stays' connected time, gaps excluded
	Gaps           int           `json:"gap_count"` // number of gaps in all stays
	GapTime        time.Duration `json:"gap_time"`  // their total
	// CheckedIn reports whether the point declared its delegates;
	// Delegates, DelegatesBy and DelegatesAt are then the last check-in.
	CheckedIn      bool      `json:"checked_in"`
	Delegates      int       `json:"delegates"`
	DelegatesBy    string    `json:"delegates_by,omitempty"`
	DelegatesAt    time.Time `json:"delegates_at,omitzero"`
	Representative string    `json:"representative,omitempty"`
	// RollCalls holds one result per roll call, in the order of
	// Report.RollCalls.
	RollCalls []RollCallResult `json:"roll_calls,omitempty"`
}

// Stay is one uninterrupted attendance of a point, clipped to the report's
// window, with the short absences (gaps) it had.
type Stay struct {
	PointID string    `json:"point_id"`
	Start   time.Time `json:"start"` // clipped to From
	End     time.Time `json:"end"`   // clipped to Until
	// Open reports whether the point was still connected at End, the
	// end of the window.
	Open bool `json:"open"`
	// EndReason is why the last connection of the stay left (one of
	// Left*), empty if it is open.
	EndReason string        `json:"end_reason,omitempty"`
	Gaps      []Gap         `json:"gaps,omitempty"`
	Connected time.Duration `json:"connected"` // End - Start minus the gaps
}

// Gap is a time a point was away within a stay: it left and came back
// within the grace period.
type Gap struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason,omitempty"` // why it left, one of Left*
}

// Duration returns how long the gap lasted.
func (g Gap) Duration() time.Duration { return g.End.Sub(g.Start) }

// RollCall is one roll call the technician ran.
type RollCall struct {
	ID       string        `json:"id"`
	Start    time.Time     `json:"start"`
	Window   time.Duration `json:"window"` // 0: none
	By       string        `json:"by,omitempty"`
	Closed   time.Time     `json:"closed_at,omitzero"` // zero while open
	ClosedBy string        `json:"closed_by,omitempty"`
}

// RollCallResult is one point's result in one roll call.
type RollCallResult struct {
	RollCallID string    `json:"roll_call_id"`
	Status     string    `json:"status"`           // one of RollCall*, or RollCallPending
	Reason     string    `json:"reason,omitempty"` // why absent, as the technician gave it
	At         time.Time `json:"at,omitzero"`      // when the point confirmed or the technician marked it
	By         string    `json:"by,omitempty"`     // who marked it; empty for a confirmation
}

// TurnEntry is one turn of the speaking log with the names resolved.
type TurnEntry struct {
	Turn
	PointName string `json:"point_name"`
	// GivenByName is who gave the floor: the name of the role or point of
	// the participant, else GivenBy as recorded.
	GivenByName string `json:"given_by_name"`
	// Ongoing reports that the turn had not ended; Duration then runs to
	// the report's Until.
	Ongoing bool `json:"ongoing"`
	// Mutes are the times within the turn the hall had the point's
	// microphone muted (End zero: still muted at the turn's end).
	Mutes []Mute `json:"mutes,omitempty"`
}

// Mute is a time a point's microphone was muted at the hall during its
// turn.
type Mute struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	By    string    `json:"by,omitempty"`
}

// Summary holds the totals of a report, over the invited points.
type Summary struct {
	PointsExpected    int           `json:"points_expected"` // invited points
	PointsAttended    int           `json:"points_attended"` // connected at some time within the window
	PointsAbsent      int           `json:"points_absent"`
	PointsLate        int           `json:"points_late"`
	PointsLeftEarly   int           `json:"points_left_early"`
	Delegates         int           `json:"delegates"`          // declared by the points that attended
	ExpectedDelegates int           `json:"expected_delegates"` // Point.ExpectedDelegates of all invited points
	ScheduledStart    time.Time     `json:"scheduled_start,omitzero"`
	ActualStart       time.Time     `json:"actual_start,omitzero"`
	End               time.Time     `json:"end,omitzero"`
	Connected         time.Duration `json:"connected"` // of all points together
	Turns             int           `json:"turns"`
	SpeakingTime      time.Duration `json:"speaking_time"`
}

// interval is one participant connection.
type interval struct {
	start, end time.Time
	open       bool   // still connected at the end of the window
	reason     string // why it ended
}

// BuildReport computes the attendance report of conference c with its
// invited points from its attendance events and speaking log, as of now.
// It does not change its arguments.
func BuildReport(c Conference, points []Point, events []AttendanceEvent, turns []Turn, now time.Time) Report {
	r := Report{Conference: c, Location: location(c.TimeZone), GeneratedAt: now}
	evs := orderEvents(events)

	// The window.
	var firstPointJoin time.Time
	for _, e := range evs {
		switch e.Kind {
		case ConferenceStarted:
			if r.ActualStart.IsZero() {
				r.ActualStart = e.At
			}
			r.End = time.Time{} // started (again) after an end: running
			if n := len(r.Sessions); n == 0 || !r.Sessions[n-1].End.IsZero() {
				r.Sessions = append(r.Sessions, Session{Start: e.At, Reopened: e.Reason == StartReopened})
			}
		case ConferenceEnded:
			r.End = e.At
			if n := len(r.Sessions); n > 0 && r.Sessions[n-1].End.IsZero() {
				r.Sessions[n-1].End = e.At
			}
		case Joined:
			if firstPointJoin.IsZero() && e.Role == RolePoint && e.PointID != "" {
				firstPointJoin = e.At
			}
		}
	}
	switch {
	case !r.ActualStart.IsZero():
		r.From = r.ActualStart
	case !c.ScheduledStart.IsZero():
		r.From = c.ScheduledStart
	default:
		r.From = firstPointJoin
	}
	r.Until = now
	if !r.End.IsZero() {
		r.Until = r.End
	}
	if r.Until.Before(r.From) {
		r.Until = r.From
	}

	// Points: invited first, in order, then others seen in the events.
	index := make(map[string]int, len(points))
	for _, p := range points {
		if _, dup := index[p.ID]; dup {
			continue
		}
		index[p.ID] = len(r.Points)
		r.Points = append(r.Points, PointAttendance{Point: p, Invited: true, Representative: p.Representative})
	}
	var extra []string
	for _, e := range evs {
		if e.PointID == "" {
			continue
		}
		if _, ok := index[e.PointID]; !ok && (e.Kind == Joined && e.Role == RolePoint || e.Kind == CheckedIn) {
			index[e.PointID] = -1
			extra = append(extra, e.PointID)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		index[id] = len(r.Points)
		r.Points = append(r.Points, PointAttendance{Point: Point{ID: id, Name: id}})
	}

	// Connections per participant, check-ins, roll calls, participant names.
	open := make(map[string]int)         // participant -> index in conns of its open connection
	owner := make(map[string]string)     // participant -> point
	names := make(map[string]string)     // participant -> display name
	conns := make(map[string][]interval) // point -> connections
	rollIndex := make(map[string]int)    // roll call id -> index in r.RollCalls
	confirmed := make(map[[2]string]time.Time)
	marked := make(map[[2]string]AttendanceEvent)
	for _, e := range evs {
		switch e.Kind {
		case Joined:
			if e.ParticipantID != "" {
				names[e.ParticipantID] = DisplayName(e.Role, r.pointName(index, e.PointID))
			}
			if e.Role != RolePoint || e.PointID == "" || e.ParticipantID == "" {
				continue
			}
			if _, already := open[e.ParticipantID]; already {
				continue
			}
			open[e.ParticipantID] = len(conns[e.PointID])
			owner[e.ParticipantID] = e.PointID
			conns[e.PointID] = append(conns[e.PointID], interval{start: e.At, open: true})
		case Left:
			i, ok := open[e.ParticipantID]
			if !ok {
				continue
			}
			iv := &conns[owner[e.ParticipantID]][i]
			iv.end, iv.open, iv.reason = e.At, false, e.Reason
			delete(open, e.ParticipantID)
		case CheckedIn:
			i, ok := index[e.PointID]
			if !ok {
				continue
			}
			p := &r.Points[i]
			p.CheckedIn, p.Delegates, p.DelegatesBy, p.DelegatesAt = true, e.Delegates, e.By, e.At
			if e.Representative != "" {
				p.Representative = e.Representative
			}
		case RollCallStarted:
			if _, dup := rollIndex[e.RollCallID]; dup || e.RollCallID == "" {
				continue
			}
			rollIndex[e.RollCallID] = len(r.RollCalls)
			r.RollCalls = append(r.RollCalls, RollCall{ID: e.RollCallID, Start: e.At, Window: time.Duration(e.Window), By: e.By})
		case RollCallConfirmed:
			k := [2]string{e.RollCallID, e.PointID}
			if _, seen := confirmed[k]; !seen {
				confirmed[k] = e.At
			}
		case RollCallMarked:
			marked[[2]string{e.RollCallID, e.PointID}] = e
		case RollCallClosed:
			if i, ok := rollIndex[e.RollCallID]; ok && r.RollCalls[i].Closed.IsZero() {
				r.RollCalls[i].Closed, r.RollCalls[i].ClosedBy = e.At, e.By
			}
		}
	}

	r.names = names
	grace := c.Grace()
	for i := range r.Points {
		p := &r.Points[i]
		p.computeStays(conns[p.Point.ID], grace, r.From, r.Until)
		p.status(r.From, r.Until)
		p.RollCalls = make([]RollCallResult, len(r.RollCalls))
		for j, rc := range r.RollCalls {
			p.RollCalls[j] = rollCallResult(rc, p.Point.ID, confirmed, marked, now)
		}
	}

	mutes := mutesByPoint(evs)
	for _, t := range turns {
		te := TurnEntry{Turn: t, PointName: r.pointName(index, t.PointID), GivenByName: r.ActorName(t.GivenBy)}
		if t.End.IsZero() {
			te.Ongoing = true
			te.Duration = max(r.Until.Sub(t.Start), 0)
		}
		te.Mutes = mutesWithin(mutes[t.PointID], t.Start, t.End)
		r.Turns = append(r.Turns, te)
	}
	r.Summary = r.summarize()
	return r
}

// orderEvents returns the events sorted by At then ID, each ID once.
func orderEvents(events []AttendanceEvent) []AttendanceEvent {
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b AttendanceEvent) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	seen := make(map[string]bool, len(evs))
	out := evs[:0]
	for _, e := range evs {
		if e.ID != "" {
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
		}
		out = append(out, e)
	}
	return out
}

func (r *Report) pointName(index map[string]int, id string) string {
	if i, ok := index[id]; ok && i >= 0 {
		return r.Points[i].Point.Name
	}
	return id
}

// computeStays merges the point's connections into stays within [from,
// until] and fills in the times derived from them.
func (p *PointAttendance) computeStays(conns []interval, grace time.Duration, from, until time.Time) {
	if len(conns) == 0 {
		return
	}
	for i := range conns {
		if conns[i].open {
			conns[i].end = until
		}
		if conns[i].end.Before(conns[i].start) {
			conns[i].end = conns[i].start
		}
	}
	slices.SortStableFunc(conns, func(a, b interval) int { return a.start.Compare(b.start) })

	// The union of the connections: overlapping ones merge.
	var merged []interval
	for _, iv := range conns {
		if n := len(merged); n > 0 && !iv.start.After(merged[n-1].end) {
			last := &merged[n-1]
			if iv.end.After(last.end) || iv.end.Equal(last.end) && iv.open {
				last.end, last.open, last.reason = iv.end, iv.open, iv.reason
			}
			continue
		}
		merged = append(merged, iv)
	}

	// Stays: a reconnect within the grace period continues the stay.
	type rawStay struct {
		start, end time.Time
		open       bool
		reason     string
		gaps       []Gap
	}
	var raws []rawStay
	for _, iv := range merged {
		if n := len(raws); n > 0 && iv.start.Sub(raws[n-1].end) <= grace {
			last := &raws[n-1]
			last.gaps = append(last.gaps, Gap{Start: last.end, End: iv.start, Reason: last.reason})
			last.end, last.open, last.reason = iv.end, iv.open, iv.reason
			continue
		}
		raws = append(raws, rawStay{start: iv.start, end: iv.end, open: iv.open, reason: iv.reason})
	}

	// Clip to the window.
	for _, rs := range raws {
		s := Stay{PointID: p.Point.ID, Start: maxTime(rs.start, from), End: minTime(rs.end, until),
			Open: rs.open || !rs.end.Before(until)}
		if !s.End.After(s.Start) {
			continue
		}
		if !s.Open {
			s.EndReason = rs.reason
		}
		s.Connected = s.End.Sub(s.Start)
		for _, g := range rs.gaps {
			g.Start, g.End = maxTime(g.Start, s.Start), minTime(g.End, s.End)
			if !g.End.After(g.Start) {
				continue
			}
			s.Gaps = append(s.Gaps, g)
			s.Connected -= g.Duration()
			p.Gaps++
			p.GapTime += g.Duration()
		}
		if len(p.Stays) == 0 {
			p.FirstJoin = rs.start
		}
		p.Stays = append(p.Stays, s)
		p.Connected += s.Connected
		if rs.open {
			p.LastLeave = time.Time{}
		} else {
			p.LastLeave = rs.end
		}
	}
	if n := len(p.Stays); n > 0 {
		p.ConnectedAtEnd = p.Stays[n-1].Open
	}
}

// status sets Status, Late and LeftEarly from the stays.
func (p *PointAttendance) status(from, until time.Time) {
	if len(p.Stays) == 0 {
		p.Status = StatusAbsent
		return
	}
	p.Late = p.FirstJoin.After(from.Add(LateTolerance))
	p.LeftEarly = !p.ConnectedAtEnd && p.LastLeave.Before(until.Add(-EarlyLeaveTolerance))
	switch {
	case p.LeftEarly:
		p.Status = StatusLeftEarly
	case p.Late:
		p.Status = StatusLate
	default:
		p.Status = StatusPresent
	}
}

func rollCallResult(rc RollCall, pointID string, confirmed map[[2]string]time.Time, marked map[[2]string]AttendanceEvent, now time.Time) RollCallResult {
	k := [2]string{rc.ID, pointID}
	res := RollCallResult{RollCallID: rc.ID}
	if m, ok := marked[k]; ok {
		res.Status, res.Reason, res.At, res.By = m.Status, m.Reason, m.At, m.By
		return res
	}
	if at, ok := confirmed[k]; ok {
		res.At = at
		res.Status = RollCallPresent
		if rc.Window > 0 && at.After(rc.Start.Add(rc.Window)) {
			res.Status = RollCallLate
		}
		return res
	}
	res.Status = RollCallAbsent
	if rc.Closed.IsZero() && (rc.Window <= 0 || now.Before(rc.Start.Add(rc.Window))) {
		res.Status = RollCallPending
	}
	return res
}

func (r *Report) summarize() Summary {
	s := Summary{
		ScheduledStart: r.Conference.ScheduledStart,
		ActualStart:    r.ActualStart,
		End:            r.End,
		Turns:          len(r.Turns),
	}
	for _, p := range r.Points {
		if !p.Invited {
			continue
		}
		s.PointsExpected++
		s.ExpectedDelegates += p.Point.ExpectedDelegates
		s.Connected += p.Connected
		if p.Status == StatusAbsent {
			s.PointsAbsent++
			continue
		}
		s.PointsAttended++
		s.Delegates += p.Delegates
		if p.Late {
			s.PointsLate++
		}
		if p.LeftEarly {
			s.PointsLeftEarly++
		}
	}
	for _, t := range r.Turns {
		s.SpeakingTime += t.Duration
	}
	return s
}

// location loads the time zone name, falling back to DefaultTimeZone and
// then UTC.
func location(name string) *time.Location {
	for _, n := range []string{name, DefaultTimeZone} {
		if n == "" {
			continue
		}
		if loc, err := time.LoadLocation(n); err == nil {
			return loc
		}
	}
	return time.UTC
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
