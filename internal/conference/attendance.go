package conference

import "time"

// Attendance is recorded as events: every fact the server observes becomes
// one AttendanceEvent with a unique id, and every report is computed from
// the events of a conference. A fact is never updated in place, so nothing
// is lost and a report can always be computed again.

// AttendanceKind is the kind of an attendance event.
type AttendanceKind string

// The attendance event kinds and the fields each one sets besides ID, Kind
// and At.
const (
	// A participant connected (ParticipantID, Role, PointID, Instance).
	Joined AttendanceKind = "joined"
	// A participant disconnected (ParticipantID, Role, PointID, Reason:
	// one of Left*).
	Left AttendanceKind = "left"
	// A point declared how many delegates are present (PointID,
	// Delegates, Representative, By: the point itself or the technician
	// correcting it).
	CheckedIn AttendanceKind = "checked_in"
	// The technician opened a roll call (RollCallID, By, Window: how long
	// points have to confirm).
	RollCallStarted AttendanceKind = "roll_call_started"
	// A point confirmed its presence in a roll call (RollCallID, PointID,
	// ParticipantID).
	RollCallConfirmed AttendanceKind = "roll_call_confirmed"
	// The technician set a point's roll-call result by hand (RollCallID,
	// PointID, Status: one of RollCall*, Reason: why it is absent, By).
	RollCallMarked AttendanceKind = "roll_call_marked"
	// The roll call was closed (RollCallID, By).
	RollCallClosed AttendanceKind = "roll_call_closed"
	// The technician started the conference: attendance counts from here
	// (By).
	ConferenceStarted AttendanceKind = "conference_started"
	// The technician ended the conference (By).
	ConferenceEnded AttendanceKind = "conference_ended"
	// The technician muted a participant's microphone at the hall, or
	// unmuted it (ParticipantID, PointID for a point, By): a mute during
	// a turn shows in the speaking log.
	Muted   AttendanceKind = "muted"
	Unmuted AttendanceKind = "unmuted"
)

// Why a participant left.
const (
	LeftClosed    = "closed"         // the user closed the page or the client said goodbye
	LeftNetwork   = "network"        // the connection was lost
	LeftDropped   = "dropped"        // the technician dropped the point
	LeftStopped   = "server_stopped" // the server shut down
	LeftReplaced  = "replaced"       // the same link connected again elsewhere
	LeftRestarted = "server_restarted"
)

// StartReopened is the Reason of a conference_started event that reopened
// an ended conference: a new session.
const StartReopened = "reopened"

// Roll-call results of a point.
const (
	RollCallPresent = "present" // confirmed within the window
	RollCallLate    = "late"    // confirmed after the window
	RollCallAbsent  = "absent"  // did not confirm; Reason may say why
)

// AttendanceEvent is one observed fact of attendance. ID is unique for the
// whole conference (the server makes it when it observes the fact, so that
// an event written twice, after Redis came back, is kept once) and orders
// the events of one server process.
type AttendanceEvent struct {
	ID             string         `json:"id"`
	Kind           AttendanceKind `json:"kind"`
	At             time.Time      `json:"at"`
	ParticipantID  string         `json:"participant_id,omitempty"`
	Role           Role           `json:"role,omitempty"`
	PointID        string         `json:"point_id,omitempty"`
	Instance       string         `json:"instance,omitempty"`
	Reason         string         `json:"reason,omitempty"`
	Delegates      int            `json:"delegates,omitempty"`
	Representative string         `json:"representative,omitempty"`
	RollCallID     string         `json:"roll_call_id,omitempty"`
	Window         Seconds        `json:"window,omitzero"`
	Status         string         `json:"status,omitempty"`
	By             string         `json:"by,omitempty"`
}
