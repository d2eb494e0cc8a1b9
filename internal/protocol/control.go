package protocol

// Technician controls of one participant, and what the server tells the
// participant's browser.
const (
	TypeControl       = "control"        // client to server: a technician's control of a participant
	TypeRestartCamera = "restart_camera" // server to a point: reopen the camera
	TypeMuted         = "muted"          // server to a participant: the hall muted or unmuted it
	TypeProgram       = "program"        // server to the hall: which consoles the hall program comes from
)

// Control actions.
const (
	ControlMute          = "mute"           // the SFU forwards none of the participant's audio
	ControlUnmute        = "unmute"         // undo mute; the floor still decides for a point
	ControlKeyframe      = "keyframe"       // ask the participant's browser for a new keyframe now
	ControlRestartCamera = "restart_camera" // ask the browser to reopen its camera
	ControlDrop          = "drop"           // close the participant's connection (it may join again)
	// ControlProgramAudio makes the participant's sound (a hall console's)
	// the hall program's; an empty participant_id goes back to the
	// default, the sound of the console whose camera is the program.
	ControlProgramAudio = "program_audio"
	// ControlProgramVideo makes the participant's picture (a hall
	// console's camera, or the mixer's WHIP source) the hall program's;
	// an empty participant_id goes back to the default, the WHIP source
	// while one publishes, else the first technician console's camera.
	ControlProgramVideo = "program_video"
)

// ProgramStreamID is the MediaStream id of the hall program a point
// receives: one video track (program-video) and one audio track
// (program-audio), whichever hall console they come from.
const ProgramStreamID = "program"

// Program tells the hall's consoles which hall participant (a console,
// or the mixer's WHIP source) the hall program's picture (Video) and sound
// (Audio) come from, by participant id ("" for none), and whether the
// sound (Chosen) and the picture (VideoChosen) are the technician's
// choice or the default. It comes at join and after every change.
type Program struct {
	Type        string `json:"type"`
	Video       string `json:"video"`
	Audio       string `json:"audio"`
	Chosen      bool   `json:"chosen,omitempty"`
	VideoChosen bool   `json:"video_chosen,omitempty"`
}

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
