package protocol

import "time"

// Attendance messages: check-in, roll call and the conference's own start
// and end. docs/protocol.md, section "Attendance", describes them.
const (
	TypeCheckIn           = "check_in"           // client to server: delegates present at a point
	TypeRollCall          = "roll_call"          // client to server: start, confirm, mark or close a roll call
	TypeConference        = "conference"         // client to server: the technician starts or ends the conference
	TypeRollCallState     = "roll_call_state"    // server to everyone: the current roll call, after every change
	TypeConferenceState   = "conference_state"   // server to everyone: whether the conference runs, after every change
	TypeAttendanceChanged = "attendance_changed" // server to the hall and the secretariat: an attendance event was recorded
)

// Roll-call actions.
const (
	RollCallStart   = "start"   // technician or chair: open a roll call
	RollCallConfirm = "confirm" // point: confirm its presence
	RollCallMark    = "mark"    // technician: set a point's result by hand
	RollCallClose   = "close"   // technician: close the roll call
)

// Conference actions.
const (
	ConferenceTesting = "testing" // technician: points may connect to test sound and picture (before the first start)
	ConferenceStart   = "start"   // technician: the conference starts now (once; see reopen)
	ConferenceEnd     = "end"     // technician: the conference ends now
	// ConferenceReopen starts an ended conference again: a second
	// session, which the report shows beside the first. start refuses an
	// ended conference, with reason ended.
	ConferenceReopen = "reopen"
)

// Conference statuses carried in ConferenceState.Status, in their usual
// order.
const (
	StatusDraft     = "draft"     // created, not yet scheduled
	StatusScheduled = "scheduled" // has a scheduled start
	StatusTesting   = "testing"   // open for points to test sound and picture
	StatusRunning   = "running"   // started and not ended
	StatusEnded     = "ended"     // ended (may be reopened)
	StatusArchived  = "archived"  // closed for good
)

// Limits of attendance messages.
const (
	MaxDelegates          = 10000 // delegates a point may declare
	MaxRepresentativeLen  = 120   // characters of a representative's name
	MaxRollCallReasonLen  = 200   // characters of the reason given for a point's result
	DefaultRollCallWindow = 60    // seconds points have to confirm when start gives none
	MaxRollCallWindow     = 3600  // seconds
)

// CheckIn declares how many delegates are present at a point, and who
// represents it. A point checks in for itself and may do so again to
// update; the technician corrects a point by naming it in PointID.
// Delegates is required.
type CheckIn struct {
	Type           string `json:"type"`
	Delegates      *int   `json:"delegates"`
	Representative string `json:"representative,omitempty"`
	PointID        string `json:"point_id,omitempty"`
}

// RollCall acts on the roll call. Seconds is the window of start (0: the
// default of DefaultRollCallWindow); PointID, Status (present, late or
// absent) and Reason go with mark.
type RollCall struct {
	Type    string `json:"type"`
	Action  string `json:"action"`
	Seconds int    `json:"seconds,omitempty"`
	PointID string `json:"point_id,omitempty"`
	Status  string `json:"status,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Conference starts or ends the conference: Action is start or end.
type Conference struct {
	Type   string `json:"type"`
	Action string `json:"action"`
}

// RollCallState is the current roll call, sent to everyone on connect and
// after every change, and once more when the window ends. RollCallID is
// empty when there has been none. While Open, points confirm; one that
// confirms after Deadline counts as late. Confirmed lists the points that
// confirmed, in the order they did. ServerTime lets pages count down with
// the server's clock.
type RollCallState struct {
	Type       string    `json:"type"`
	RollCallID string    `json:"roll_call_id"`
	Open       bool      `json:"open"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	Deadline   time.Time `json:"deadline,omitzero"`
	Confirmed  []string  `json:"confirmed"`
	ServerTime time.Time `json:"server_time"`
}

// ConferenceState says which stage the conference is in (Status, one of
// the Status constants) and whether it runs: started and not ended since.
// StartedAt is the start of the current (or last) session, EndedAt its
// end; Sessions counts the sessions so far (more than one once
// reopened). It is sent to everyone on connect and after every change.
type ConferenceState struct {
	Type       string    `json:"type"`
	Status     string    `json:"status"`
	Running    bool      `json:"running"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	Sessions   int       `json:"sessions,omitempty"`
	ServerTime time.Time `json:"server_time"`
	// Recording is set while the conference is being recorded (every
	// page shows it), since RecordingSince.
	Recording      bool      `json:"recording,omitempty"`
	RecordingSince time.Time `json:"recording_since,omitzero"`
	// Livestream is set while the conference is broadcast live.
	Livestream bool `json:"livestream,omitempty"`
}

// AttendanceChanged tells the technician, the chair and the secretariat
// that an attendance event was recorded, so that an attendance page fetches
// the report again. At is the event's time.
type AttendanceChanged struct {
	Type    string    `json:"type"`
	EventID string    `json:"event_id"`
	Kind    string    `json:"kind"`
	PointID string    `json:"point_id,omitempty"`
	At      time.Time `json:"at"`
}
