package conference

import (
	"fmt"
	"testing"
	"time"
)

var ict = time.FixedZone("ICT", 7*3600)

// t0 is 08:00 in Hanoi on the day of the test conference.
var t0 = time.Date(2026, 3, 15, 8, 0, 0, 0, ict)

// mins returns t0 plus m minutes.
func mins(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }

func dur(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

type eventMaker struct{ n int }

func (g *eventMaker) id() string { g.n++; return fmt.Sprintf("e%04d", g.n) }

func (g *eventMaker) join(part, point string, at time.Time) AttendanceEvent {
	return AttendanceEvent{ID: g.id(), Kind: Joined, At: at, ParticipantID: part, Role: RolePoint, PointID: point, Instance: "a"}
}

func (g *eventMaker) leave(part, point, reason string, at time.Time) AttendanceEvent {
	return AttendanceEvent{ID: g.id(), Kind: Left, At: at, ParticipantID: part, Role: RolePoint, PointID: point, Reason: reason}
}

func (g *eventMaker) start(at time.Time) AttendanceEvent {
	return AttendanceEvent{ID: g.id(), Kind: ConferenceStarted, At: at, By: "technician"}
}

func (g *eventMaker) end(at time.Time) AttendanceEvent {
	return AttendanceEvent{ID: g.id(), Kind: ConferenceEnded, At: at, By: "technician"}
}

func TestReportStays(t *testing.T) {
	g := &eventMaker{}
	dupJoin := g.join("a", "p1", mins(0))
	dupLeave := g.leave("a", "p1", LeftClosed, mins(50))
	midnightStart := time.Date(2026, 3, 15, 23, 30, 0, 0, ict)
	type want struct {
		status    PointStatus
		stays     int
		connected time.Duration
		gaps      int
		gapTime   time.Duration
		firstJoin time.Time
		lastLeave time.Time
		atEnd     bool
	}
	tests := []struct {
		name   string
		sched  time.Time
		events []AttendanceEvent
		now    time.Time
		want   want
	}{
		{
			name: "connected from the test session to the end",
			events: []AttendanceEvent{
				g.join("a", "p1", mins(-60)), g.start(mins(0)), g.end(mins(120)), g.leave("a", "p1", LeftClosed, mins(121)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(120), firstJoin: mins(-60), lastLeave: mins(121), atEnd: true},
		},
		{
			name: "reconnect within the grace period is one stay with a gap",
			events: []AttendanceEvent{
				g.start(mins(0)), g.join("a", "p1", mins(0)), g.leave("a", "p1", LeftNetwork, mins(30)),
				g.join("b", "p1", mins(30.25)), g.end(mins(60)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(60) - 15*time.Second, gaps: 1, gapTime: 15 * time.Second, firstJoin: mins(0), atEnd: true},
		},
		{
			name: "reconnect exactly at the grace period is still one stay",
			events: []AttendanceEvent{
				g.start(mins(0)), g.join("a", "p1", mins(0)), g.leave("a", "p1", LeftNetwork, mins(30)),
				g.join("b", "p1", mins(30.5)), g.end(mins(60)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(59.5), gaps: 1, gapTime: dur(0.5), firstJoin: mins(0), atEnd: true},
		},
		{
			name: "a longer absence starts a new stay",
			events: []AttendanceEvent{
				g.start(mins(0)), g.join("a", "p1", mins(0)), g.leave("a", "p1", LeftNetwork, mins(30)),
				g.join("b", "p1", mins(40)), g.end(mins(60)),
			},
			want: want{status: StatusPresent, stays: 2, connected: dur(50), firstJoin: mins(0), atEnd: true},
		},
		{
			name:   "late",
			events: []AttendanceEvent{g.start(mins(0)), g.join("a", "p1", mins(10)), g.end(mins(60))},
			want:   want{status: StatusLate, stays: 1, connected: dur(50), firstJoin: mins(10), atEnd: true},
		},
		{
			name:   "within the late tolerance is present",
			events: []AttendanceEvent{g.start(mins(0)), g.join("a", "p1", mins(5)), g.end(mins(60))},
			want:   want{status: StatusPresent, stays: 1, connected: dur(55), firstJoin: mins(5), atEnd: true},
		},
		{
			name: "left early",
			events: []AttendanceEvent{
				g.start(mins(0)), g.join("a", "p1", mins(0)), g.leave("a", "p1", LeftClosed, mins(30)), g.end(mins(60)),
			},
			want: want{status: StatusLeftEarly, stays: 1, connected: dur(30), firstJoin: mins(0), lastLeave: mins(30)},
		},
		{
			name: "leaving just before the end is not early",
			events: []AttendanceEvent{
				g.start(mins(0)), g.join("a", "p1", mins(0)), g.leave("a", "p1", LeftClosed, mins(58)), g.end(mins(60)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(58), firstJoin: mins(0), lastLeave: mins(58)},
		},
		{
			name:   "never came",
			events: []AttendanceEvent{g.start(mins(0)), g.join("x", "p2", mins(0)), g.end(mins(60))},
			want:   want{status: StatusAbsent},
		},
		{
			name: "only in the test session",
			events: []AttendanceEvent{
				g.join("a", "p1", mins(-60)), g.leave("a", "p1", LeftClosed, mins(-50)), g.start(mins(0)), g.end(mins(60)),
			},
			want: want{status: StatusAbsent},
		},
		{
			name: "across midnight",
			events: []AttendanceEvent{
				g.join("a", "p1", midnightStart.Add(-10*time.Minute)), g.start(midnightStart),
				g.leave("a", "p1", LeftNetwork, midnightStart.Add(40*time.Minute)),
				g.join("b", "p1", midnightStart.Add(40*time.Minute+20*time.Second)),
				g.end(midnightStart.Add(70 * time.Minute)),
			},
			want: want{status: StatusPresent, stays: 1, connected: 70*time.Minute - 20*time.Second, gaps: 1, gapTime: 20 * time.Second,
				firstJoin: midnightStart.Add(-10 * time.Minute), atEnd: true},
		},
		{
			name: "duplicate events are kept once",
			events: []AttendanceEvent{
				g.start(mins(0)), dupJoin, dupJoin, dupLeave, dupLeave, g.end(mins(60)),
			},
			want: want{status: StatusLeftEarly, stays: 1, connected: dur(50), firstJoin: mins(0), lastLeave: mins(50)},
		},
		{
			name: "events out of order",
			events: []AttendanceEvent{
				g.end(mins(60)), g.join("b", "p1", mins(20.1)), g.leave("a", "p1", LeftNetwork, mins(20)),
				g.join("a", "p1", mins(1)), g.start(mins(0)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(59) - 6*time.Second, gaps: 1, gapTime: 6 * time.Second, firstJoin: mins(1), atEnd: true},
		},
		{
			name: "a leave without a join is ignored, a join without a leave runs to now",
			events: []AttendanceEvent{
				g.start(mins(0)), g.leave("z", "p1", LeftNetwork, mins(2)), g.join("a", "p1", mins(3)),
			},
			now:  mins(90),
			want: want{status: StatusPresent, stays: 1, connected: dur(87), firstJoin: mins(3), atEnd: true},
		},
		{
			name: "two pages of one point overlap",
			events: []AttendanceEvent{
				g.start(mins(0)), g.join("a", "p1", mins(0)), g.join("b", "p1", mins(10)),
				g.leave("a", "p1", LeftReplaced, mins(20)), g.leave("b", "p1", LeftClosed, mins(59)), g.end(mins(60)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(59), firstJoin: mins(0), lastLeave: mins(59)},
		},
		{
			name: "a gap across the start counts from the start",
			events: []AttendanceEvent{
				g.join("a", "p1", mins(-30)), g.leave("a", "p1", LeftNetwork, mins(-0.25)),
				g.start(mins(0)), g.join("b", "p1", mins(0.25)), g.end(mins(60)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(59.75), gaps: 1, gapTime: dur(0.25), firstJoin: mins(-30), atEnd: true},
		},
		{
			name:   "no start event: the scheduled start",
			sched:  mins(0),
			events: []AttendanceEvent{g.join("a", "p1", mins(10)), g.end(mins(60))},
			want:   want{status: StatusLate, stays: 1, connected: dur(50), firstJoin: mins(10), atEnd: true},
		},
		{
			name: "no start event and no schedule: the first join",
			events: []AttendanceEvent{
				g.join("x", "p2", mins(10)), g.join("a", "p1", mins(14)), g.end(mins(60)),
			},
			want: want{status: StatusPresent, stays: 1, connected: dur(46), firstJoin: mins(14), atEnd: true},
		},
		{
			name: "the hall does not count",
			events: []AttendanceEvent{
				g.start(mins(0)),
				{ID: g.id(), Kind: Joined, At: mins(0), ParticipantID: "h", Role: RoleTechnician},
				{ID: g.id(), Kind: Joined, At: mins(0), ParticipantID: "h2", Role: RoleChair, PointID: "p1"},
				g.end(mins(60)),
			},
			want: want{status: StatusAbsent},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Conference{ID: "c", Title: "T", ScheduledStart: tt.sched}
			points := []Point{{ID: "p1", Name: "Biên Hòa"}, {ID: "p2", Name: "Long Khánh"}}
			now := tt.now
			if now.IsZero() {
				now = mins(600)
			}
			r := BuildReport(c, points, tt.events, nil, now)
			p := r.Points[0]
			got := want{p.Status, len(p.Stays), p.Connected, p.Gaps, p.GapTime, p.FirstJoin, p.LastLeave, p.ConnectedAtEnd}
			if got.status != tt.want.status || got.stays != tt.want.stays || got.connected != tt.want.connected ||
				got.gaps != tt.want.gaps || got.gapTime != tt.want.gapTime || !got.firstJoin.Equal(tt.want.firstJoin) ||
				!got.lastLeave.Equal(tt.want.lastLeave) || got.atEnd != tt.want.atEnd {
				t.Errorf("got  %+v\nwant %+v\nstays %+v", got, tt.want, p.Stays)
			}
			var sum time.Duration
			for _, s := range p.Stays {
				sum += s.Connected
				if s.Start.Before(r.From) || s.End.After(r.Until) {
					t.Errorf("stay %v-%v outside the window %v-%v", s.Start, s.End, r.From, r.Until)
				}
			}
			if sum != p.Connected {
				t.Errorf("stays add up to %v, total %v", sum, p.Connected)
			}
		})
	}
}

func TestReportLiveLeftEarly(t *testing.T) {
	g := &eventMaker{}
	events := []AttendanceEvent{g.start(mins(0)), g.join("a", "p1", mins(0)), g.leave("a", "p1", LeftNetwork, mins(20))}
	c := Conference{ID: "c", Title: "T"}
	points := []Point{{ID: "p1", Name: "A"}}
	tests := []struct {
		now  time.Time
		want PointStatus
	}{
		{mins(21), StatusPresent},
		{mins(40), StatusLeftEarly},
	}
	for _, tt := range tests {
		r := BuildReport(c, points, events, nil, tt.now)
		if got := r.Points[0].Status; got != tt.want {
			t.Errorf("at %v: status %s, want %s", tt.now.Sub(t0), got, tt.want)
		}
		if r.Ended() || !r.Until.Equal(tt.now) {
			t.Errorf("at %v: ended %v, until %v", tt.now.Sub(t0), r.Ended(), r.Until)
		}
	}
}

// knownConference is a small conference whose figures the tests know.
func knownConference() (Conference, []Point, []AttendanceEvent, []Turn) {
	g := &eventMaker{}
	c := Conference{ID: "hn-2026", Title: "Hội nghị sơ kết quý I", TimeZone: DefaultTimeZone, ScheduledStart: mins(0)}
	points := []Point{
		{ID: "bien-hoa", Name: "Biên Hòa", Representative: "Nguyễn Văn An", ExpectedDelegates: 20},
		{ID: "long-khanh", Name: "Long Khánh", ExpectedDelegates: 15},
		{ID: "nhon-trach", Name: "Nhơn Trạch", ExpectedDelegates: 12},
		{ID: "dinh-quan", Name: "Định Quán", ExpectedDelegates: 10},
	}
	events := []AttendanceEvent{
		g.join("bh1", "bien-hoa", mins(-50)),
		{ID: g.id(), Kind: CheckedIn, At: mins(-45), PointID: "bien-hoa", Delegates: 18, By: "bh1"},
		{ID: g.id(), Kind: Joined, At: mins(-40), ParticipantID: "tech1", Role: RoleTechnician},
		g.join("lk1", "long-khanh", mins(-10)),
		{ID: g.id(), Kind: CheckedIn, At: mins(-9), PointID: "long-khanh", Delegates: 15, Representative: "Trần Thị Bình", By: "lk1"},
		g.start(mins(2)),
		{ID: g.id(), Kind: CheckedIn, At: mins(3), PointID: "bien-hoa", Delegates: 19, By: "technician"},
		{ID: g.id(), Kind: RollCallStarted, At: mins(5), RollCallID: "rc1", Window: Seconds(2 * time.Minute), By: "tech1"},
		{ID: g.id(), Kind: RollCallConfirmed, At: mins(5.5), RollCallID: "rc1", PointID: "bien-hoa", ParticipantID: "bh1"},
		g.join("nt1", "nhon-trach", mins(15)),
		{ID: g.id(), Kind: CheckedIn, At: mins(16), PointID: "nhon-trach", Delegates: 9, By: "nt1"},
		{ID: g.id(), Kind: RollCallConfirmed, At: mins(16), RollCallID: "rc1", PointID: "nhon-trach", ParticipantID: "nt1"},
		{ID: g.id(), Kind: RollCallMarked, At: mins(17), RollCallID: "rc1", PointID: "long-khanh", Status: RollCallAbsent, Reason: "Mất điện", By: "tech1"},
		{ID: g.id(), Kind: RollCallClosed, At: mins(18), RollCallID: "rc1", By: "tech1"},
		g.leave("bh1", "bien-hoa", LeftNetwork, mins(30)),
		g.join("bh2", "bien-hoa", mins(30.5)),
		g.leave("lk1", "long-khanh", LeftClosed, mins(60)),
		g.end(mins(122)),
	}
	turns := []Turn{
		{ID: "t1", PointID: "bien-hoa", Subject: "Báo cáo tình hình", GivenBy: "tech1", Start: mins(20), End: mins(27.5),
			Duration: dur(7.5), Limit: dur(7), EndReason: EndFinished, EndedBy: "bh1"},
		{ID: "t2", PointID: "nhon-trach", Subject: "Kiến nghị", GivenBy: "chair", Start: mins(40)},
	}
	return c, points, events, turns
}

func TestReportKnownConference(t *testing.T) {
	c, points, events, turns := knownConference()
	r := BuildReport(c, points, events, turns, mins(300))
	if !r.ActualStart.Equal(mins(2)) || !r.End.Equal(mins(122)) || !r.From.Equal(mins(2)) || !r.Until.Equal(mins(122)) {
		t.Errorf("times: start %v end %v window %v-%v", r.ActualStart, r.End, r.From, r.Until)
	}
	if r.Location.String() != DefaultTimeZone {
		t.Errorf("location %v", r.Location)
	}
	type row struct {
		status    PointStatus
		connected time.Duration
		gaps      int
		delegates int
		by        string
		rep       string
		roll      string
		reason    string
	}
	want := []row{
		{StatusPresent, dur(120) - 30*time.Second, 1, 19, "technician", "Nguyễn Văn An", RollCallPresent, ""},
		{StatusLeftEarly, dur(58), 0, 15, "lk1", "Trần Thị Bình", RollCallAbsent, "Mất điện"},
		{StatusLate, dur(107), 0, 9, "nt1", "", RollCallLate, ""},
		{StatusAbsent, 0, 0, 0, "", "", RollCallAbsent, ""},
	}
	if len(r.Points) != len(want) {
		t.Fatalf("%d points, want %d", len(r.Points), len(want))
	}
	for i, w := range want {
		p := r.Points[i]
		got := row{p.Status, p.Connected, p.Gaps, p.Delegates, p.DelegatesBy, p.Representative, p.RollCalls[0].Status, p.RollCalls[0].Reason}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", p.Point.ID, got, w)
		}
	}
	wantSum := Summary{
		PointsExpected: 4, PointsAttended: 3, PointsAbsent: 1, PointsLate: 1, PointsLeftEarly: 1,
		Delegates: 43, ExpectedDelegates: 57, ScheduledStart: mins(0), ActualStart: mins(2), End: mins(122),
		Connected: dur(120) - 30*time.Second + dur(58) + dur(107), Turns: 2, SpeakingTime: dur(7.5) + dur(82),
	}
	if r.Summary != wantSum {
		t.Errorf("summary\ngot  %+v\nwant %+v", r.Summary, wantSum)
	}
	if len(r.Turns) != 2 {
		t.Fatalf("%d turns", len(r.Turns))
	}
	if tn := r.Turns[0]; tn.PointName != "Biên Hòa" || tn.GivenByName != "Hội trường (kỹ thuật)" || tn.Ongoing || tn.Duration != dur(7.5) {
		t.Errorf("turn 1: %+v", tn)
	}
	if tn := r.Turns[1]; tn.PointName != "Nhơn Trạch" || tn.GivenByName != "Chủ tọa" || !tn.Ongoing || tn.Duration != dur(82) {
		t.Errorf("turn 2: %+v", tn)
	}
	if got := r.ActorName("bh1"); got != "Biên Hòa" {
		t.Errorf("ActorName(bh1) = %q", got)
	}
	if got := r.ActorName("technician"); got != "Hội trường (kỹ thuật)" {
		t.Errorf("ActorName(technician) = %q", got)
	}
	if len(r.RollCalls) != 1 || r.RollCalls[0].Window != 2*time.Minute || !r.RollCalls[0].Closed.Equal(mins(18)) {
		t.Errorf("roll calls: %+v", r.RollCalls)
	}
}

func TestReportRollCallPending(t *testing.T) {
	g := &eventMaker{}
	events := []AttendanceEvent{
		g.start(mins(0)), g.join("a", "p1", mins(0)),
		{ID: g.id(), Kind: RollCallStarted, At: mins(10), RollCallID: "rc", Window: Seconds(time.Minute)},
	}
	points := []Point{{ID: "p1", Name: "A"}}
	tests := []struct {
		now  time.Time
		want string
	}{
		{mins(10.5), RollCallPending},
		{mins(12), RollCallAbsent},
	}
	for _, tt := range tests {
		r := BuildReport(Conference{ID: "c"}, points, events, nil, tt.now)
		if got := r.Points[0].RollCalls[0].Status; got != tt.want {
			t.Errorf("at %v: %s, want %s", tt.now.Sub(t0), got, tt.want)
		}
	}
}

func TestReportUninvitedPoint(t *testing.T) {
	g := &eventMaker{}
	events := []AttendanceEvent{g.start(mins(0)), g.join("a", "gone", mins(0)), g.end(mins(10))}
	r := BuildReport(Conference{ID: "c"}, []Point{{ID: "p1", Name: "A"}}, events, nil, mins(20))
	if len(r.Points) != 2 || r.Points[1].Invited || r.Points[1].Point.Name != "gone" || r.Points[1].Connected != dur(10) {
		t.Fatalf("points: %+v", r.Points)
	}
	if r.Summary.PointsExpected != 1 || r.Summary.PointsAttended != 0 {
		t.Errorf("summary counts the uninvited point: %+v", r.Summary)
	}
}

func TestReportDoesNotChangeArguments(t *testing.T) {
	c, points, events, turns := knownConference()
	first := events[0]
	BuildReport(c, points, events, turns, mins(300))
	if events[0] != first {
		t.Errorf("events reordered")
	}
}

// TestTurnMutes: the hall's mutes of a point show in its turns, cut to
// each turn; mutes of another point or outside a turn do not.
func TestTurnMutes(t *testing.T) {
	at := func(m, s int) time.Time { return time.Date(2026, 3, 15, 9, m, s, 0, time.UTC) }
	events := []AttendanceEvent{
		{ID: "1", Kind: ConferenceStarted, At: at(0, 0)},
		{ID: "2", Kind: Muted, At: at(5, 0), PointID: "a", By: "tech"},    // before the turn
		{ID: "3", Kind: Unmuted, At: at(11, 0), PointID: "a", By: "tech"}, // within it
		{ID: "4", Kind: Muted, At: at(12, 0), PointID: "b", By: "tech"},   // another point
		{ID: "5", Kind: Muted, At: at(14, 0), PointID: "a", By: "tech"},   // until after the turn
		{ID: "6", Kind: Unmuted, At: at(30, 0), PointID: "a", By: "tech"},
	}
	turns := []Turn{
		{ID: "t1", PointID: "a", Start: at(10, 0), End: at(20, 0)},
		{ID: "t2", PointID: "a", Start: at(40, 0), End: at(45, 0)},
	}
	r := BuildReport(Conference{ID: "c"}, []Point{{ID: "a"}, {ID: "b"}}, events, turns, at(50, 0))
	want := []Mute{{Start: at(10, 0), End: at(11, 0), By: "tech"}, {Start: at(14, 0), End: at(20, 0), By: "tech"}}
	if got := r.Turns[0].Mutes; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("first turn's mutes %+v, want %+v", got, want)
	}
	if got := r.Turns[1].Mutes; len(got) != 0 {
		t.Errorf("second turn's mutes %+v, want none", got)
	}
}
