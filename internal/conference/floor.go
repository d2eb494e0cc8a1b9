package conference

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Floor control: a point asks for the floor, the chair gives it, extends it
// and takes it back. The rules below say who may do what; the store applies
// the changes atomically and appends one FloorEvent per change, from which
// the speaking log (Turns) and the state itself (ReplayFloor) can always be
// recomputed.
//
// Who may act:
//
//	action            point                 chair, technician   secretariat
//	ask               for itself only       no                  no
//	withdraw          its own request       any request         no
//	give              no (not even itself)  any invited point   no
//	extend            no                    yes                 no
//	take back         no                    yes                 no
//	finish            its own turn          any turn            no
//	open/close disc.  no                    yes                 no
//
// The technician may do everything the chair may: at a provincial hall the
// chair rarely touches the console, and the technician operating it gives and
// takes back the floor on the chair's word. Every event records who acted,
// so the log still tells the two apart. The hall never asks for the floor:
// its audio is always forwarded.

// ErrForbidden is wrapped by CheckFloor when a role may not take an action.
var ErrForbidden = errors.New("forbidden")

// ErrUnknownAction is wrapped by CheckFloor for an action that is not a
// floor action, whoever asks.
var ErrUnknownAction = errors.New("unknown action")

// ErrInvalidSubject is wrapped by CleanSubject for a subject it refuses.
var ErrInvalidSubject = errors.New("invalid subject")

// ErrInvalidLimit is wrapped by CheckLimit and CheckExtension for a time
// limit they refuse.
var ErrInvalidLimit = errors.New("invalid time limit")

// Floor settings: their standard values, used when a conference leaves them
// zero, and their bounds.
const (
	StandardSpeakingTime = 7 * time.Minute
	StandardGracePeriod  = 30 * time.Second
	MaxSpeakingLimit     = 4 * time.Hour
	MaxGracePeriod       = 10 * time.Minute
	MaxSubjectRunes      = 200
)

// SpeakingTime returns the time limit of a turn given without an explicit
// one: c.DefaultSpeakingTime, or StandardSpeakingTime when that is zero.
func (c Conference) SpeakingTime() time.Duration {
	if c.DefaultSpeakingTime > 0 {
		return time.Duration(c.DefaultSpeakingTime)
	}
	return StandardSpeakingTime
}

// Grace returns how long a point that disconnects keeps the floor or its
// place in the queue: c.GracePeriod, or StandardGracePeriod when that is
// zero.
func (c Conference) Grace() time.Duration {
	if c.GracePeriod > 0 {
		return time.Duration(c.GracePeriod)
	}
	return StandardGracePeriod
}

// FloorAction is something a participant does to the floor.
type FloorAction string

// The floor actions.
const (
	FloorAsk             FloorAction = "ask"              // join the queue
	FloorWithdraw        FloorAction = "withdraw"         // leave the queue
	FloorGive            FloorAction = "give"             // to a named point, or the next in the queue
	FloorExtend          FloorAction = "extend"           // add time to a turn
	FloorTakeBack        FloorAction = "take_back"        // end a turn early
	FloorFinish          FloorAction = "finish"           // end a turn as finished
	FloorOpenDiscussion  FloorAction = "open_discussion"  // several points may hold the floor
	FloorCloseDiscussion FloorAction = "close_discussion" // back to one holder
)

// FloorActions lists every floor action.
var FloorActions = []FloorAction{
	FloorAsk, FloorWithdraw, FloorGive, FloorExtend, FloorTakeBack,
	FloorFinish, FloorOpenDiscussion, FloorCloseDiscussion,
}

// CheckFloor reports whether a participant in role, connected as point
// actorPoint (empty at the hall), may take action on point targetPoint. An
// empty targetPoint means the actor's own point for a point, and "the next
// in the queue" for a give; actions on the whole floor ignore it. The error
// wraps ErrForbidden. CheckFloor knows nothing of the current state: the
// store refuses a give to a point that is not invited, a withdraw of a
// request that does not exist, and so on.
func CheckFloor(role Role, action FloorAction, actorPoint, targetPoint string) error {
	if !slices.Contains(FloorActions, action) {
		return fmt.Errorf("%w: %q is not a floor action: use ask, withdraw, give, extend, take_back, finish, open_discussion or close_discussion", ErrUnknownAction, action)
	}
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrForbidden, role)
	}
	deny := func(why string) error {
		return fmt.Errorf("%w: %s may not %s: %s", ErrForbidden, role, action, why)
	}
	switch role {
	case RoleSecretariat:
		return deny("the secretariat only watches the floor")
	case RoleChair, RoleTechnician:
		if action == FloorAsk {
			return deny("the hall is always heard and never asks for the floor")
		}
		return nil
	case RolePoint:
		if actorPoint == "" {
			return deny("the participant has no point")
		}
		own := targetPoint == "" || targetPoint == actorPoint
		switch action {
		case FloorAsk:
			if !own {
				return deny("a point asks only for itself")
			}
		case FloorWithdraw:
			if !own {
				return deny("a point withdraws only its own request")
			}
		case FloorFinish:
			if !own {
				return deny("a point finishes only its own turn")
			}
		case FloorGive:
			return deny("only the chair gives the floor, a point not even to itself")
		default:
			return deny("only the chair controls the floor")
		}
		return nil
	}
	return deny("no rule")
}

// CleanSubject returns the subject line of a request with surrounding space
// trimmed, or an error wrapping ErrInvalidSubject if it is not valid UTF-8,
// holds control characters or is longer than MaxSubjectRunes.
func CleanSubject(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidSubject)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("%w: control character", ErrInvalidSubject)
	}
	if n := utf8.RuneCountInString(s); n > MaxSubjectRunes {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrInvalidSubject, n, MaxSubjectRunes)
	}
	return s, nil
}

// CheckLimit reports an error wrapping ErrInvalidLimit unless d is a usable
// time limit for a turn: 0 (none) up to MaxSpeakingLimit.
func CheckLimit(d time.Duration) error {
	if d < 0 || d > MaxSpeakingLimit {
		return fmt.Errorf("%w: %v: use 0 (none) to %v", ErrInvalidLimit, d, MaxSpeakingLimit)
	}
	return nil
}

// CheckExtension reports an error wrapping ErrInvalidLimit unless d is a
// usable extension of a turn: more than 0 and up to MaxSpeakingLimit.
func CheckExtension(d time.Duration) error {
	if d <= 0 || d > MaxSpeakingLimit {
		return fmt.Errorf("%w: extension %v: use more than 0 up to %v", ErrInvalidLimit, d, MaxSpeakingLimit)
	}
	return nil
}

// How a turn ended.
const (
	EndFinished     = "finished"     // the speaker finished
	EndTakenBack    = "taken_back"   // the chair took the floor back, or gave it to another
	EndTimeOut      = "time_out"     // the time limit ran out and the server ended it
	EndDisconnected = "disconnected" // the point stayed away longer than the grace period
)

// ValidEndReason reports whether r is one of the End* reasons.
func ValidEndReason(r string) bool {
	switch r {
	case EndFinished, EndTakenBack, EndTimeOut, EndDisconnected:
		return true
	}
	return false
}

// Why a request left the queue other than by a give.
const (
	WithdrawnByPoint = "withdrawn"    // the point withdrew it
	WithdrawnByChair = "removed"      // the chair or technician removed it
	WithdrawnOffline = "disconnected" // the point stayed away longer than the grace period
)

// ValidWithdrawReason reports whether r is one of the Withdrawn* reasons.
func ValidWithdrawReason(r string) bool {
	switch r {
	case WithdrawnByPoint, WithdrawnByChair, WithdrawnOffline:
		return true
	}
	return false
}

// FloorRequest is a point's request for the floor, waiting in the queue.
type FloorRequest struct {
	PointID string
	Subject string
	AskedAt time.Time
}

// FloorHolder is a point holding the floor: its audio is forwarded to
// everyone.
type FloorHolder struct {
	TurnID  string // id of the floor_given event that started the turn
	PointID string
	Subject string
	GivenBy string
	Since   time.Time
	Limit   time.Duration // 0 = no limit
}

// Deadline returns when the turn's time runs out, or the zero time if it
// has no limit.
func (h FloorHolder) Deadline() time.Time {
	if h.Limit <= 0 {
		return time.Time{}
	}
	return h.Since.Add(h.Limit)
}

// Remaining returns the time left at now, negative once the deadline has
// passed, and false if the turn has no limit.
func (h FloorHolder) Remaining(now time.Time) (time.Duration, bool) {
	if h.Limit <= 0 {
		return 0, false
	}
	return h.Deadline().Sub(now), true
}

// FloorState is the floor of a conference at one moment. Outside a
// discussion at most one point holds the floor.
type FloorState struct {
	Version    int64          // number of floor events so far; grows with every change
	Discussion bool           // several points may hold the floor at once
	Queue      []FloorRequest // in the order the server received the requests
	Holders    []FloorHolder  // in the order they were given the floor
}

// Position returns the 1-based place of pointID in the queue, or 0 if it is
// not queued.
func (s FloorState) Position(pointID string) int {
	for i, r := range s.Queue {
		if r.PointID == pointID {
			return i + 1
		}
	}
	return 0
}

// Holder returns the turn pointID holds, and false if it holds none.
func (s FloorState) Holder(pointID string) (FloorHolder, bool) {
	for _, h := range s.Holders {
		if h.PointID == pointID {
			return h, true
		}
	}
	return FloorHolder{}, false
}

// Concerns reports whether pointID waits for the floor or holds it, so
// that the state shows whether it is connected.
func (s FloorState) Concerns(pointID string) bool {
	return s.Position(pointID) > 0 || s.Holds(pointID)
}

// Holds reports whether pointID holds the floor, that is whether its audio
// is to be forwarded.
func (s FloorState) Holds(pointID string) bool {
	_, ok := s.Holder(pointID)
	return ok
}

// FloorEventKind is the kind of a floor event.
type FloorEventKind string

// The floor event kinds.
const (
	FloorAsked       FloorEventKind = "floor_asked"       // PointID, Subject
	FloorWithdrawn   FloorEventKind = "floor_withdrawn"   // PointID, By, Reason (Withdrawn*)
	FloorGiven       FloorEventKind = "floor_given"       // TurnID (= ID), PointID, Subject, By, Limit
	FloorExtended    FloorEventKind = "floor_extended"    // TurnID, PointID, By, Limit (the new one)
	FloorEnded       FloorEventKind = "floor_ended"       // TurnID, PointID, By, Reason (End*)
	DiscussionOpened FloorEventKind = "discussion_opened" // By
	DiscussionClosed FloorEventKind = "discussion_closed" // By
)

// FloorEvent is one change of the floor, as the store appends it to the
// conference's floor log.
type FloorEvent struct {
	ID      string // unique and increasing in the order of the changes
	Kind    FloorEventKind
	TurnID  string
	PointID string
	Subject string
	By      string // who acted: a participant id or a role
	Limit   time.Duration
	Reason  string
	At      time.Time
}

// Turn is one entry of the speaking log. It goes out in JSON as a part
// of TurnEntry, whose MarshalJSON writes Duration and Limit in seconds.
type Turn struct {
	ID        string        `json:"id"` // the TurnID of its holder
	PointID   string        `json:"point_id"`
	Subject   string        `json:"subject,omitempty"`
	GivenBy   string        `json:"given_by,omitempty"`
	Start     time.Time     `json:"start"`
	End       time.Time     `json:"end,omitzero"`         // zero while the turn goes on
	Duration  time.Duration `json:"duration"`             // End - Start; zero while the turn goes on
	Limit     time.Duration `json:"limit"`                // the last limit, after extensions; 0 = none
	EndReason string        `json:"end_reason,omitempty"` // one of End*; empty while the turn goes on
	EndedBy   string        `json:"ended_by,omitempty"`
}

// Turns pairs the given, extended and ended events of a floor log into the
// speaking log, in the order the turns started. Events for unknown turns
// are ignored, so a partial log yields the turns it can.
func Turns(events []FloorEvent) []Turn {
	var out []Turn
	index := make(map[string]int)
	for _, e := range events {
		switch e.Kind {
		case FloorGiven:
			index[e.TurnID] = len(out)
			out = append(out, Turn{
				ID: e.TurnID, PointID: e.PointID, Subject: e.Subject,
				GivenBy: e.By, Start: e.At, Limit: e.Limit,
			})
		case FloorExtended:
			if i, ok := index[e.TurnID]; ok && out[i].EndReason == "" {
				out[i].Limit = e.Limit
			}
		case FloorEnded:
			if i, ok := index[e.TurnID]; ok && out[i].EndReason == "" {
				t := &out[i]
				t.End, t.EndReason, t.EndedBy = e.At, e.Reason, e.By
				t.Duration = max(t.End.Sub(t.Start), 0)
			}
		}
	}
	return out
}

// Apply changes s as event e records, or returns an error, leaving s as it
// was, if e is not a valid change of s. The store's scripts make the same
// checks atomically; Apply is their reference and lets the state be
// recomputed from the log.
func (s *FloorState) Apply(e FloorEvent) error {
	pos := s.Position(e.PointID)
	_, holding := s.Holder(e.PointID)
	next := *s
	next.Queue = slices.Clone(s.Queue)
	next.Holders = slices.Clone(s.Holders)
	switch e.Kind {
	case FloorAsked:
		if pos > 0 {
			return fmt.Errorf("event %s: %s asks but is already queued", e.ID, e.PointID)
		}
		if holding {
			return fmt.Errorf("event %s: %s asks but holds the floor", e.ID, e.PointID)
		}
		next.Queue = append(next.Queue, FloorRequest{PointID: e.PointID, Subject: e.Subject, AskedAt: e.At})
	case FloorWithdrawn:
		if pos == 0 {
			return fmt.Errorf("event %s: %s withdraws but is not queued", e.ID, e.PointID)
		}
		next.Queue = slices.Delete(next.Queue, pos-1, pos)
	case FloorGiven:
		if holding {
			return fmt.Errorf("event %s: %s is given the floor it holds", e.ID, e.PointID)
		}
		if !s.Discussion && len(s.Holders) > 0 {
			return fmt.Errorf("event %s: %s is given the floor %s holds", e.ID, e.PointID, s.Holders[0].PointID)
		}
		if pos > 0 {
			next.Queue = slices.Delete(next.Queue, pos-1, pos)
		}
		next.Holders = append(next.Holders, FloorHolder{
			TurnID: e.TurnID, PointID: e.PointID, Subject: e.Subject,
			GivenBy: e.By, Since: e.At, Limit: e.Limit,
		})
	case FloorExtended, FloorEnded:
		i := slices.IndexFunc(next.Holders, func(h FloorHolder) bool { return h.TurnID == e.TurnID })
		if i < 0 {
			return fmt.Errorf("event %s: %s of turn %s, which is not on the floor", e.ID, e.Kind, e.TurnID)
		}
		if e.Kind == FloorExtended {
			next.Holders[i].Limit = e.Limit
		} else {
			next.Holders = slices.Delete(next.Holders, i, i+1)
		}
	case DiscussionOpened:
		next.Discussion = true
	case DiscussionClosed:
		if len(s.Holders) > 1 {
			return fmt.Errorf("event %s: discussion closed with %d holders", e.ID, len(s.Holders))
		}
		next.Discussion = false
	default:
		return fmt.Errorf("event %s: unknown kind %q", e.ID, e.Kind)
	}
	next.Version++
	*s = next
	return nil
}

// ReplayFloor returns the state that events, applied in order from an empty
// floor, lead to, or the first error.
func ReplayFloor(events []FloorEvent) (FloorState, error) {
	var s FloorState
	for _, e := range events {
		if err := s.Apply(e); err != nil {
			return s, fmt.Errorf("replay floor: %w", err)
		}
	}
	return s, nil
}

// Seconds is a duration that is a number of seconds in JSON; on input a Go
// duration string such as "7m30s" is accepted too.
type Seconds time.Duration

// MarshalJSON writes d as a number of seconds.
func (d Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(d).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads seconds as a number, or a Go duration string.
func (d *Seconds) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Seconds(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(data), 64)
	if err != nil {
		return fmt.Errorf("duration in seconds %s: %w", data, err)
	}
	if math.IsNaN(f) || math.Abs(f) > float64(math.MaxInt64)/float64(time.Second) {
		return fmt.Errorf("duration in seconds %s: out of range", data)
	}
	*d = Seconds(math.Round(f * float64(time.Second)))
	return nil
}
