package conference

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCheckFloor(t *testing.T) {
	const (
		allow = true
		deny  = false
	)
	// For each action: whether a point may do it to itself, to another
	// point, and whether the chair, the technician and the secretariat may.
	tests := []struct {
		action                         FloorAction
		pointOwn, pointOther           bool
		chair, technician, secretariat bool
	}{
		{FloorAsk, allow, deny, deny, deny, deny},
		{FloorWithdraw, allow, deny, allow, allow, deny},
		{FloorGive, deny, deny, allow, allow, deny},
		{FloorExtend, deny, deny, allow, allow, deny},
		{FloorTakeBack, deny, deny, allow, allow, deny},
		{FloorFinish, allow, deny, allow, allow, deny},
		{FloorOpenDiscussion, deny, deny, allow, allow, deny},
		{FloorCloseDiscussion, deny, deny, allow, allow, deny},
	}
	if len(tests) != len(FloorActions) {
		t.Fatalf("table covers %d actions; FloorActions has %d", len(tests), len(FloorActions))
	}
	for _, tt := range tests {
		cases := []struct {
			role          Role
			actor, target string
			want          bool
		}{
			{RolePoint, "p1", "p1", tt.pointOwn},
			{RolePoint, "p1", "", tt.pointOwn},
			{RolePoint, "p1", "p2", tt.pointOther},
			{RolePoint, "", "p1", deny}, // a point participant without a point
			{RoleChair, "", "p1", tt.chair},
			{RoleTechnician, "", "p1", tt.technician},
			{RoleSecretariat, "", "p1", tt.secretariat},
			{RoleSecretariat, "", "", tt.secretariat},
		}
		for _, c := range cases {
			err := CheckFloor(c.role, tt.action, c.actor, c.target)
			if got := err == nil; got != c.want {
				t.Errorf("CheckFloor(%s, %s, %q, %q) = %v; want allowed %v", c.role, tt.action, c.actor, c.target, err, c.want)
			}
			if err != nil && !errors.Is(err, ErrForbidden) {
				t.Errorf("CheckFloor(%s, %s) error %v does not wrap ErrForbidden", c.role, tt.action, err)
			}
		}
	}
	// The refusals the issue names.
	if err := CheckFloor(RolePoint, FloorGive, "p1", "p1"); !errors.Is(err, ErrForbidden) {
		t.Errorf("a point giving itself the floor: %v; want ErrForbidden", err)
	}
	if err := CheckFloor(RoleSecretariat, FloorTakeBack, "", "p1"); !errors.Is(err, ErrForbidden) {
		t.Errorf("the secretariat taking the floor back: %v; want ErrForbidden", err)
	}
	if err := CheckFloor(RolePoint, FloorWithdraw, "p1", "p2"); !errors.Is(err, ErrForbidden) {
		t.Errorf("a point withdrawing another's request: %v; want ErrForbidden", err)
	}
	// Unknown actions and roles.
	for _, role := range []Role{RoleChair, RolePoint, RoleSecretariat} {
		if err := CheckFloor(role, "shout", "p1", ""); !errors.Is(err, ErrUnknownAction) {
			t.Errorf("unknown action of %s: %v; want ErrUnknownAction", role, err)
		}
	}
	if err := CheckFloor("guest", FloorAsk, "p1", "p1"); !errors.Is(err, ErrForbidden) {
		t.Errorf("unknown role: %v; want ErrForbidden", err)
	}
}

func TestCleanSubject(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  Tham luận về chuyển đổi số  ", "Tham luận về chuyển đổi số", true},
		{strings.Repeat("ệ", MaxSubjectRunes), strings.Repeat("ệ", MaxSubjectRunes), true},
		{strings.Repeat("ệ", MaxSubjectRunes+1), "", false},
		{"hai\ndòng", "", false},
		{"bad \xff byte", "", false},
	}
	for _, tt := range tests {
		got, err := CleanSubject(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("CleanSubject(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("CleanSubject(%q) error %v does not wrap ErrInvalidSubject", tt.in, err)
		}
	}
}

func TestCheckLimit(t *testing.T) {
	tests := []struct {
		d             time.Duration
		limit, extend bool
	}{
		{-time.Second, false, false},
		{0, true, false},
		{time.Second, true, true},
		{MaxSpeakingLimit, true, true},
		{MaxSpeakingLimit + 1, false, false},
	}
	for _, tt := range tests {
		if err := CheckLimit(tt.d); (err == nil) != tt.limit || (err != nil && !errors.Is(err, ErrInvalidLimit)) {
			t.Errorf("CheckLimit(%v) = %v; want ok %v", tt.d, err, tt.limit)
		}
		if err := CheckExtension(tt.d); (err == nil) != tt.extend || (err != nil && !errors.Is(err, ErrInvalidLimit)) {
			t.Errorf("CheckExtension(%v) = %v; want ok %v", tt.d, err, tt.extend)
		}
	}
}

func TestReasons(t *testing.T) {
	for _, r := range []string{EndFinished, EndTakenBack, EndTimeOut, EndDisconnected} {
		if !ValidEndReason(r) {
			t.Errorf("ValidEndReason(%q) = false", r)
		}
	}
	for _, r := range []string{WithdrawnByPoint, WithdrawnByChair, WithdrawnOffline} {
		if !ValidWithdrawReason(r) {
			t.Errorf("ValidWithdrawReason(%q) = false", r)
		}
	}
	if ValidEndReason("") || ValidEndReason("bored") || ValidWithdrawReason("") || ValidWithdrawReason(EndTimeOut) {
		t.Error("an invalid reason is accepted")
	}
}

var ft0 = time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)

func at(min int) time.Time { return ft0.Add(time.Duration(min) * time.Minute) }

// TestFloorTransitions runs every transition, valid and refused, through
// Apply, checking the state after each step.
func TestFloorTransitions(t *testing.T) {
	type step struct {
		e       FloorEvent
		ok      bool
		queue   []string // point ids in the queue after the step
		holders []string // point ids holding the floor after the step
	}
	ev := func(id string, k FloorEventKind, point string) FloorEvent {
		e := FloorEvent{ID: id, Kind: k, PointID: point, At: ft0}
		if k == FloorGiven {
			e.TurnID = id
		}
		return e
	}
	turn := func(e FloorEvent, turnID string) FloorEvent { e.TurnID = turnID; return e }
	tests := []struct {
		name  string
		steps []step
	}{
		{"ask and withdraw", []step{
			{ev("1", FloorAsked, "a"), true, []string{"a"}, nil},
			{ev("2", FloorAsked, "b"), true, []string{"a", "b"}, nil},
			{ev("3", FloorAsked, "a"), false, []string{"a", "b"}, nil},
			{ev("4", FloorWithdrawn, "a"), true, []string{"b"}, nil},
			{ev("5", FloorWithdrawn, "a"), false, []string{"b"}, nil},
			{ev("6", FloorAsked, "a"), true, []string{"b", "a"}, nil},
		}},
		{"give from the queue and to a point that did not ask", []step{
			{ev("1", FloorAsked, "a"), true, []string{"a"}, nil},
			{ev("2", FloorAsked, "b"), true, []string{"a", "b"}, nil},
			{ev("3", FloorGiven, "a"), true, []string{"b"}, []string{"a"}},
			{ev("4", FloorAsked, "a"), false, []string{"b"}, []string{"a"}},
			{ev("5", FloorGiven, "a"), false, []string{"b"}, []string{"a"}},
			{ev("6", FloorGiven, "c"), false, []string{"b"}, []string{"a"}}, // a still holds
			{turn(ev("7", FloorEnded, "a"), "3"), true, []string{"b"}, nil},
			{ev("8", FloorGiven, "c"), true, []string{"b"}, []string{"c"}},
		}},
		{"extend and end", []step{
			{ev("1", FloorGiven, "a"), true, nil, []string{"a"}},
			{turn(ev("2", FloorExtended, "a"), "1"), true, nil, []string{"a"}},
			{turn(ev("3", FloorExtended, "a"), "x"), false, nil, []string{"a"}},
			{turn(ev("4", FloorEnded, "a"), "x"), false, nil, []string{"a"}},
			{turn(ev("5", FloorEnded, "a"), "1"), true, nil, nil},
			{turn(ev("6", FloorEnded, "a"), "1"), false, nil, nil},
			{turn(ev("7", FloorExtended, "a"), "1"), false, nil, nil},
		}},
		{"discussion", []step{
			{ev("1", FloorGiven, "a"), true, nil, []string{"a"}},
			{ev("2", DiscussionOpened, ""), true, nil, []string{"a"}},
			{ev("3", FloorGiven, "b"), true, nil, []string{"a", "b"}},
			{ev("4", FloorGiven, "b"), false, nil, []string{"a", "b"}},
			{ev("5", DiscussionClosed, ""), false, nil, []string{"a", "b"}},
			{turn(ev("6", FloorEnded, "a"), "1"), true, nil, []string{"b"}},
			{ev("7", DiscussionClosed, ""), true, nil, []string{"b"}},
			{ev("8", FloorGiven, "c"), false, nil, []string{"b"}},
		}},
		{"unknown kind", []step{
			{ev("1", "floor_stolen", "a"), false, nil, nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s FloorState
			for i, st := range tt.steps {
				before := s.Version
				err := s.Apply(st.e)
				if (err == nil) != st.ok {
					t.Fatalf("step %d (%s %s): Apply = %v; want ok %v", i, st.e.Kind, st.e.PointID, err, st.ok)
				}
				wantVersion := before
				if st.ok {
					wantVersion++
				}
				if s.Version != wantVersion {
					t.Errorf("step %d: version %d; want %d", i, s.Version, wantVersion)
				}
				var q, h []string
				for _, r := range s.Queue {
					q = append(q, r.PointID)
				}
				for _, x := range s.Holders {
					h = append(h, x.PointID)
				}
				if !reflect.DeepEqual(q, st.queue) || !reflect.DeepEqual(h, st.holders) {
					t.Fatalf("step %d (%s %s): queue %v holders %v; want %v %v", i, st.e.Kind, st.e.PointID, q, h, st.queue, st.holders)
				}
				if !s.Discussion && len(s.Holders) > 1 {
					t.Fatalf("step %d: %d holders outside a discussion", i, len(s.Holders))
				}
			}
		})
	}
}

func TestFloorStateHelpers(t *testing.T) {
	s := FloorState{
		Queue:   []FloorRequest{{PointID: "a"}, {PointID: "b"}, {PointID: "c"}},
		Holders: []FloorHolder{{TurnID: "t1", PointID: "d", Since: at(0), Limit: 7 * time.Minute}},
	}
	for p, want := range map[string]int{"a": 1, "b": 2, "c": 3, "d": 0, "x": 0} {
		if got := s.Position(p); got != want {
			t.Errorf("Position(%s) = %d; want %d", p, got, want)
		}
	}
	h, ok := s.Holder("d")
	if !ok || h.TurnID != "t1" || !s.Holds("d") || s.Holds("a") {
		t.Errorf("Holder(d) = %+v, %v; Holds(d) %v, Holds(a) %v", h, ok, s.Holds("d"), s.Holds("a"))
	}
	if got := h.Deadline(); !got.Equal(at(7)) {
		t.Errorf("Deadline = %v; want %v", got, at(7))
	}
	if left, ok := h.Remaining(at(5)); !ok || left != 2*time.Minute {
		t.Errorf("Remaining at 5 min = %v, %v; want 2m, true", left, ok)
	}
	if left, ok := h.Remaining(at(8)); !ok || left != -time.Minute {
		t.Errorf("Remaining at 8 min = %v, %v; want -1m, true", left, ok)
	}
	open := FloorHolder{Since: at(0)}
	if _, ok := open.Remaining(at(5)); ok || !open.Deadline().IsZero() {
		t.Error("a turn without limit has a deadline")
	}
}

func TestTurns(t *testing.T) {
	events := []FloorEvent{
		{ID: "1", Kind: FloorAsked, PointID: "a", Subject: "Chuyển đổi số", At: at(0)},
		{ID: "2", Kind: FloorGiven, TurnID: "2", PointID: "a", Subject: "Chuyển đổi số", By: "chair", Limit: 7 * time.Minute, At: at(1)},
		{ID: "3", Kind: FloorExtended, TurnID: "2", PointID: "a", By: "chair", Limit: 9 * time.Minute, At: at(7)},
		{ID: "4", Kind: FloorEnded, TurnID: "2", PointID: "a", By: "chair", Reason: EndTakenBack, At: at(10)},
		{ID: "5", Kind: FloorGiven, TurnID: "5", PointID: "b", By: "technician", At: at(10)},
		{ID: "6", Kind: FloorEnded, TurnID: "5", PointID: "b", By: "server", Reason: EndDisconnected, At: at(12)},
		{ID: "7", Kind: FloorEnded, TurnID: "5", PointID: "b", Reason: EndFinished, At: at(13)},  // ignored: already ended
		{ID: "8", Kind: FloorEnded, TurnID: "zz", PointID: "c", Reason: EndFinished, At: at(13)}, // ignored: unknown turn
		{ID: "9", Kind: FloorGiven, TurnID: "9", PointID: "c", By: "chair", Limit: time.Minute, At: at(14)},
	}
	want := []Turn{
		{ID: "2", PointID: "a", Subject: "Chuyển đổi số", GivenBy: "chair", Start: at(1), End: at(10), Duration: 9 * time.Minute, Limit: 9 * time.Minute, EndReason: EndTakenBack, EndedBy: "chair"},
		{ID: "5", PointID: "b", GivenBy: "technician", Start: at(10), End: at(12), Duration: 2 * time.Minute, EndReason: EndDisconnected, EndedBy: "server"},
		{ID: "9", PointID: "c", GivenBy: "chair", Start: at(14), Limit: time.Minute},
	}
	if got := Turns(events); !reflect.DeepEqual(got, want) {
		t.Errorf("Turns =\n%+v\nwant\n%+v", got, want)
	}
	if got := Turns(nil); len(got) != 0 {
		t.Errorf("Turns(nil) = %v", got)
	}
}

func TestReplayFloor(t *testing.T) {
	events := []FloorEvent{
		{ID: "1", Kind: FloorAsked, PointID: "a", Subject: "s", At: at(0)},
		{ID: "2", Kind: FloorAsked, PointID: "b", At: at(1)},
		{ID: "3", Kind: FloorGiven, TurnID: "3", PointID: "a", Subject: "s", By: "chair", Limit: time.Minute, At: at(2)},
	}
	s, err := ReplayFloor(events)
	if err != nil {
		t.Fatal(err)
	}
	want := FloorState{
		Version: 3,
		Queue:   []FloorRequest{{PointID: "b", AskedAt: at(1)}},
		Holders: []FloorHolder{{TurnID: "3", PointID: "a", Subject: "s", GivenBy: "chair", Since: at(2), Limit: time.Minute}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("ReplayFloor = %+v; want %+v", s, want)
	}
	if _, err := ReplayFloor(append(events, FloorEvent{ID: "4", Kind: FloorAsked, PointID: "b"})); err == nil {
		t.Error("ReplayFloor accepted a second request of b")
	}
}

func TestConferenceFloorSettings(t *testing.T) {
	var c Conference
	if c.SpeakingTime() != StandardSpeakingTime || c.Grace() != StandardGracePeriod {
		t.Errorf("zero settings: %v, %v; want the standard values", c.SpeakingTime(), c.Grace())
	}
	c.DefaultSpeakingTime, c.GracePeriod = Seconds(5*time.Minute), Seconds(time.Minute)
	if c.SpeakingTime() != 5*time.Minute || c.Grace() != time.Minute {
		t.Errorf("set settings: %v, %v", c.SpeakingTime(), c.Grace())
	}

	bad := []Conference{
		{ID: "c", Title: "t", DefaultSpeakingTime: Seconds(-time.Second)},
		{ID: "c", Title: "t", DefaultSpeakingTime: Seconds(MaxSpeakingLimit + time.Second)},
		{ID: "c", Title: "t", GracePeriod: Seconds(-time.Second)},
		{ID: "c", Title: "t", GracePeriod: Seconds(MaxGracePeriod + time.Second)},
	}
	for _, b := range bad {
		if err := b.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", b)
		}
	}
}

func TestConferenceJSON(t *testing.T) {
	c := Conference{
		ID: "demo", Title: "Hội nghị", TimeZone: DefaultTimeZone,
		DefaultSpeakingTime: Seconds(7 * time.Minute), GracePeriod: Seconds(1500 * time.Millisecond), AutoTakeBack: true,
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"demo","title":"Hội nghị","time_zone":"Asia/Ho_Chi_Minh","default_speaking_time":420,"auto_take_back":true,"grace_period":1.5}`
	var gotMap, wantMap map[string]any
	if err := json.Unmarshal(data, &gotMap); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &wantMap); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotMap, wantMap) {
		t.Errorf("Marshal = %s; want %s", data, want)
	}
	var back Conference
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip = %+v; want %+v", back, c)
	}

	// Zero settings are left out; a pointer marshals the same.
	data, err = json.Marshal(&Conference{ID: "demo", Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(data); strings.Contains(s, "speaking") || strings.Contains(s, "grace") || strings.Contains(s, "created_at") {
		t.Errorf("Marshal of zero settings = %s", s)
	}

	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{`{"default_speaking_time":300}`, 5 * time.Minute, true},
		{`{"default_speaking_time":"5m"}`, 5 * time.Minute, true},
		{`{"default_speaking_time":"2m30s"}`, 150 * time.Second, true},
		{`{"default_speaking_time":null}`, 0, true},
		{`{}`, 0, true},
		{`{"default_speaking_time":"soon"}`, 0, false},
		{`{"default_speaking_time":true}`, 0, false},
		{`{"default_speaking_time":1e300}`, 0, false},
	}
	for _, tt := range tests {
		var c Conference
		err := json.Unmarshal([]byte(tt.in), &c)
		if (err == nil) != tt.ok || (err == nil && time.Duration(c.DefaultSpeakingTime) != tt.want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, ok %v", tt.in, c.DefaultSpeakingTime, err, tt.want, tt.ok)
		}
	}
}
