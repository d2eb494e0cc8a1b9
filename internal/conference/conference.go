// Package conference holds the rules of a hybrid review conference: who takes
// part in which role, and who receives whose media. It does no I/O.
package conference

import (
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// Role is what a participant may do in a conference. It is carried in the
// participant's signed link.
type Role string

// The roles of a conference.
const (
	RoleTechnician  Role = "technician"  // runs the session from the hall console
	RoleChair       Role = "chair"       // presidium at the hall: gives the floor
	RolePoint       Role = "point"       // a connection point (điểm cầu)
	RoleSecretariat Role = "secretariat" // keeps attendance and exports it
	// RoleIngest may only publish the hall program from a production
	// mixer (OBS, vMix, a hardware encoder) over WHIP.
	RoleIngest Role = "ingest"
	// RoleViewer may only watch the hall program over WHEP: a lobby
	// screen, an overflow room, the press. A viewer is no connection
	// point: it is in no roster and no attendance, and cannot ask for the
	// floor.
	RoleViewer Role = "viewer"
)

// Roles lists every valid role.
var Roles = []Role{RoleTechnician, RoleChair, RolePoint, RoleSecretariat, RoleIngest, RoleViewer}

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleTechnician, RoleChair, RolePoint, RoleSecretariat, RoleIngest, RoleViewer:
		return true
	}
	return false
}

// Signals reports whether a participant in this role joins over the
// signaling WebSocket: every role but ingest and viewer, which come in by
// WHIP and WHEP alone.
func (r Role) Signals() bool { return r != RoleIngest && r != RoleViewer }

// Staff reports whether the role is one of the hall's staff, who may also
// log in with a password: technician, chair and secretariat.
func (r Role) Staff() bool {
	return r == RoleTechnician || r == RoleChair || r == RoleSecretariat
}

// AtHall reports whether the role sits at the provincial hall, whose media
// forms the program that points watch.
func (r Role) AtHall() bool { return r == RoleTechnician || r == RoleChair }

// Publishes reports whether a participant in this role sends camera and
// microphone (or, for ingest, the mixer's picture and sound).
func (r Role) Publishes() bool { return r != RoleSecretariat && r != RoleViewer }

// DisplayName is the name others see for a participant: the point's name
// for a point, the Vietnamese name of the role at the hall otherwise.
func DisplayName(r Role, pointName string) string {
	switch r {
	case RolePoint:
		return pointName
	case RoleTechnician:
		return "Hội trường (kỹ thuật)"
	case RoleChair:
		return "Chủ tọa"
	case RoleSecretariat:
		return "Thư ký"
	case RoleIngest:
		return "Bàn trộn hình (WHIP)"
	case RoleViewer:
		return "Người xem (WHEP)"
	}
	return string(r)
}

// ReceivesProgram reports whether a participant in role r receives the
// hall program: the points. Nobody receives every track of another:
// points receive the hall as one program (one picture and one sound,
// whichever hall console they come from), the hall sees the points on its
// wall (WatchesWall), and both hear and see the floor holders in their
// speaker slots (HasSpeakerSlots). A viewer receives the program alone;
// the secretariat and the ingest receive nothing.
func ReceivesProgram(r Role) bool { return r == RolePoint || r == RoleViewer }

// HasSpeakerSlots reports whether a participant in role r receives the
// floor holders' media in speaker slots: the points and the hall.
func HasSpeakerSlots(r Role) bool { return r == RolePoint || r.AtHall() }

// WatchesWall reports whether a participant in role r has a video wall: a
// number of slots, each showing one point's camera that its console
// chooses (the tiles on its screen).
func WatchesWall(r Role) bool { return r.AtHall() }

// Conference is a scheduled hybrid conference hosted by one hall.
type Conference struct {
	ID              string    `json:"id"`
	Title           string    `json:"title"`
	Organizer       string    `json:"organizer,omitempty"` // the unit holding it, as its papers' header names it; optional
	TimeZone        string    `json:"time_zone"`
	ScheduledStart  time.Time `json:"scheduled_start,omitzero"`
	TechnicianPhone string    `json:"technician_phone,omitempty"`
	CreatedAt       time.Time `json:"created_at,omitzero"`

	// Floor settings. In JSON the durations are seconds (a number, or on
	// input also a Go duration string such as "7m"); zero means the
	// standard value, see SpeakingTime and Grace.
	DefaultSpeakingTime Seconds `json:"default_speaking_time,omitzero"` // limit of a turn given without one
	GracePeriod         Seconds `json:"grace_period,omitzero"`          // how long a disconnected point keeps the floor or its place
	AutoTakeBack        bool    `json:"auto_take_back,omitempty"`       // end a turn at its deadline rather than only alert the chair
}

// Point is a connection point invited to a conference: one room of delegates
// in front of one browser.
type Point struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	District          string `json:"district,omitempty"`
	Representative    string `json:"representative,omitempty"`
	Phone             string `json:"phone,omitempty"`
	ExpectedDelegates int    `json:"expected_delegates,omitempty"`
}

// MaxOrganizer is the most characters of a conference's Organizer.
const MaxOrganizer = 200

// DefaultTimeZone is the time zone of a conference that names none.
const DefaultTimeZone = "Asia/Ho_Chi_Minh"

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateID reports an error unless id is a usable conference or point id:
// 1 to 63 lower-case letters, digits and dashes, not starting with a dash.
// Ids appear in Redis keys and URLs, so nothing else is allowed.
func ValidateID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("invalid id %q: use 1-63 lower-case letters, digits and dashes", id)
	}
	return nil
}

// Validate reports the first problem with c, if any.
func (c *Conference) Validate() error {
	if err := ValidateID(c.ID); err != nil {
		return fmt.Errorf("conference: %w", err)
	}
	if c.Title == "" {
		return fmt.Errorf("conference %s: title is empty", c.ID)
	}
	if n := utf8.RuneCountInString(c.Organizer); n > MaxOrganizer {
		return fmt.Errorf("conference %s: organizer has %d characters: at most %d", c.ID, n, MaxOrganizer)
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return fmt.Errorf("conference %s: time zone: %w", c.ID, err)
		}
	}
	if c.DefaultSpeakingTime < 0 || time.Duration(c.DefaultSpeakingTime) > MaxSpeakingLimit {
		return fmt.Errorf("conference %s: default speaking time %v: use 0 to %v", c.ID, time.Duration(c.DefaultSpeakingTime), MaxSpeakingLimit)
	}
	if c.GracePeriod < 0 || time.Duration(c.GracePeriod) > MaxGracePeriod {
		return fmt.Errorf("conference %s: grace period %v: use 0 to %v", c.ID, time.Duration(c.GracePeriod), MaxGracePeriod)
	}
	return nil
}

// Validate reports the first problem with p, if any.
func (p *Point) Validate() error {
	if err := ValidateID(p.ID); err != nil {
		return fmt.Errorf("point: %w", err)
	}
	if p.Name == "" {
		return fmt.Errorf("point %s: name is empty", p.ID)
	}
	if p.ExpectedDelegates < 0 {
		return fmt.Errorf("point %s: expected delegates is negative", p.ID)
	}
	return nil
}
