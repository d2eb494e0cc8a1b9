package protocol

import "time"

// Content: a screen, a window or a tab shared as a video track beside the
// camera (docs/protocol.md, "Content (screen and slides)").
const (
	TypeContent      = "content"       // client to server: start or stop sharing content
	TypeContentState = "content_state" // server to everyone: who shares content now
)

// Content actions.
const (
	ContentStart = "start" // share the track of the publishing transceiver Mid as the content
	ContentStop  = "stop"  // stop one's own content; the hall stops anyone's
)

// Reasons of the refusals of a content message; a point that does not
// hold the floor is refused with forbidden and the floor's reason
// not_holding.
const (
	ReasonHallContent = "hall_content" // the hall shares: a point may not replace its content
	ReasonNotSharing  = "not_sharing"  // a point stops only its own content
)

// ContentReasonTaken is ContentState.Reason when the content of a point
// was taken away because its turn ended, and ContentReasonStopped when
// the hall stopped it, ContentReasonReplaced when another share replaced
// it, ContentReasonLeft when its sharer left.
const (
	ContentReasonTaken    = "floor_ended"
	ContentReasonStopped  = "stopped"
	ContentReasonReplaced = "replaced"
	ContentReasonLeft     = "left"
)

// ContentStreamID is the MediaStream id, and ContentTrackID the track id,
// of the content slot every point and hall console receives in its
// subscribe offers.
const (
	ContentStreamID = "content"
	ContentTrackID  = "content-video"
)

// Content starts (Action start) or stops (stop) sharing content. Mid, for
// start, is the mid of the video transceiver of the sender's publishing
// PeerConnection that carries the content, in the publish offer that
// negotiated it; the SFU never takes its track for the sender's camera.
type Content struct {
	Type   string `json:"type"`
	Action string `json:"action"`
	Mid    string `json:"mid,omitempty"`
}

// ContentState tells everyone who shares content: ParticipantID, Name
// and Role of the sharer and Since when, ParticipantID "" while nobody
// does. Reason says why the previous content ended, when it did. It comes
// at join and after every change.
type ContentState struct {
	Type          string    `json:"type"`
	ParticipantID string    `json:"participant_id"`
	Name          string    `json:"name"`
	Role          string    `json:"role,omitempty"`
	Since         time.Time `json:"since,omitzero"`
	Reason        string    `json:"reason,omitempty"`
}
