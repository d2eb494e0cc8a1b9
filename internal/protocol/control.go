package protocol

// Technician controls of one participant, and what the server tells the
// participant's browser.
const (
	TypeControl       = "control"        // client to server: a technician's control of a participant
	TypeRestartCamera = "restart_camera" // server to a point: reopen the camera
	TypeMuted         = "muted"          // server to a participant: the hall muted or unmuted it
)

// Control actions.
const (
	ControlMute          = "mute"           // the SFU forwards none of the participant's audio
	ControlUnmute        = "unmute"         // undo mute; the floor still decides for a point
	ControlKeyframe      = "keyframe"       // ask the participant's browser for a new keyframe now
	ControlRestartCamera = "restart_camera" // ask the browser to reopen its camera
	ControlDrop          = "drop"           // close the participant's connection (it may join again)
)

// Control is a technician's action on one participant.
type Control struct {
	Type          string `json:"type"`
	Action        string `json:"action"`
	ParticipantID string `json:"participant_id"`
}

// Muted tells a participant that the hall muted (true) or unmuted it.
type Muted struct {
	Type  string `json:"type"`
	Muted bool   `json:"muted"`
}

// RestartCamera asks a point's browser to stop and reopen its camera.
type RestartCamera struct {
	Type string `json:"type"`
}

// ReasonDropped is the closing reason when a technician dropped the
// participant; the page does not reconnect by itself.
const ReasonDropped = "dropped"
