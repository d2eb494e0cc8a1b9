// Package protocol defines the JSON messages that browsers and Go clients
// exchange with the server over the signaling WebSocket. docs/protocol.md
// describes each one for people; the JSON Schema
// docs/schema/signaling.json, which package contract checks these structs
// and the server's traffic against, is the contract for machines.
package protocol

import (
	"encoding/json"
	"fmt"
	"time"
)

// Version is the version of the protocol this server speaks, told in
// welcome. docs/protocol.md, "Versions", lists what changed in each; a
// client states the version it was written for with the parameter v of
// /ws and is served as that version documents.
const Version = 2

// MinVersion is the oldest protocol version the server still serves.
const MinVersion = 1

// MaxMessageBytes is the largest signaling message the server reads. A larger
// message is discarded and answered with an error of code CodeTooLarge.
const MaxMessageBytes = 64 << 10

// Message types sent by the client.
const (
	TypePublishOffer    = "publish_offer"    // SDP offer of the client's publishing PeerConnection
	TypeSubscribeAnswer = "subscribe_answer" // SDP answer to a subscribe_offer
	TypeCandidate       = "candidate"        // a trickled ICE candidate of one of the client's PeerConnections
	TypeFloor           = "floor"            // a floor action: ask, withdraw, give, extend, take_back, finish, open/close_discussion
	TypeWall            = "wall"             // the hall console chooses whose cameras its wall shows
)

// Message types sent by the server.
const (
	TypeWelcome        = "welcome"         // first message on every connection
	TypePublishAnswer  = "publish_answer"  // SDP answer to a publish_offer
	TypeSubscribeOffer = "subscribe_offer" // SDP offer of the server's sending PeerConnection
	TypeRoster         = "roster"          // who is in the conference now, whole
	TypeRosterUpdate   = "roster_update"   // who joined, left or changed since the previous roster version
	TypeError          = "error"           // a request was refused; the connection stays open
	TypeClosing        = "closing"         // the server closes this connection, with the reason
	TypeFloorState     = "floor_state"     // the queue and the holders of the floor, after every change
	TypeFloorAlert     = "floor_alert"     // to the hall: a turn's time ran out
	TypeWallState      = "wall_state"      // to the hall: which point each wall slot shows
	TypeMediaState     = "media_state"     // whether the connection's media connected, or failed to
	TypePublishLayers  = "publish_layers"  // to a publisher: which encodings of a video track to send
	TypeDownlink       = "downlink"        // to a subscriber: how its link fares with what it receives
)

// Media states carried in MediaState.State.
const (
	MediaConnected = "connected" // a PeerConnection connected: media flows
	MediaFailed    = "failed"    // none connected (Reason: "timeout" or "failed")
)

// MediaState tells a client whether its media reached the server: its
// page shows why there is no picture or sound when it failed (the network
// blocks UDP and TCP to the media port, and TURN is not reachable).
type MediaState struct {
	Type   string `json:"type"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// PublishLayers asks a publisher which encodings of its video track on
// the transceiver Mid to send, by RID (the one encoding of a track sent
// without simulcast has RID ""): those in Active, and not those in
// Paused, which nobody receives (RTCRtpSender.setParameters, active
// false). An encoding in neither, which the server has not received yet,
// stays as it is. It comes whenever that changes; until the first, a
// publisher sends every encoding.
type PublishLayers struct {
	Type   string   `json:"type"`
	Mid    string   `json:"mid"`
	Active []string `json:"active"`
	Paused []string `json:"paused"`
}

// Downlink states carried in Downlink.State.
const (
	DownlinkGood      = "good"       // the subscriber receives all it needs
	DownlinkReduced   = "reduced"    // its link holds it to lower encodings than it needs
	DownlinkAudioOnly = "audio_only" // its link carries no video: pictures stay on their last frame
)

// Downlink tells a subscriber how its link fares with what it receives,
// as the server estimates it, whenever that changes: its page says why
// the pictures are blurred or still. It recovers by itself when the link
// does.
type Downlink struct {
	Type  string `json:"type"`
	State string `json:"state"`
}

// PeerConnection names, used in candidate messages.
const (
	PCPublish   = "publish"   // the client offers, the server answers; carries the client's media
	PCSubscribe = "subscribe" // the server offers, the client answers; carries media to the client
)

// Error codes carried in Error.Code.
const (
	CodeBadJSON     = "bad_json"     // the message is not a JSON object with a string "type"
	CodeUnknownType = "unknown_type" // no such message type
	CodeTooLarge    = "too_large"    // the message exceeds MaxMessageBytes
	CodeRateLimited = "rate_limited" // too many messages; this one was dropped
	CodeBadSDP      = "bad_sdp"      // the SDP or candidate was rejected
	CodeForbidden   = "forbidden"    // the participant's role may not do this
	CodeInternal    = "internal"     // the server failed; the request may be retried
	CodeConflict    = "conflict"     // the floor is not in a state that allows the action
	CodeBadRequest  = "bad_request"  // a field is missing or out of range
	// CodeStoreUnavailable: the conference's data cannot be reached for a
	// moment (Redis is away); nothing was changed, try again.
	CodeStoreUnavailable = "store_unavailable"
)

// UnknownAction is the reason of a bad_request answered to a message
// whose action is not one of its type's (floor, control, roll_call,
// conference), whoever sent it: the action is checked before the role.
const UnknownAction = "unknown_action"

// Closing reasons carried in Closing.Reason.
const (
	ReasonReplaced = "replaced" // the same link connected again elsewhere
	ReasonShutdown = "shutdown" // the server is stopping
	ReasonAbuse    = "abuse"    // the connection kept sending invalid or too many messages
	ReasonRevoked  = "revoked"  // the link was revoked
)

// Envelope is the part every message shares; it is decoded first to learn
// the type.
type Envelope struct {
	Type string `json:"type"`
}

// SDP carries a session description: publish_offer, publish_answer,
// subscribe_offer and subscribe_answer.
type SDP struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// Candidate carries one trickled ICE candidate of the PeerConnection named by
// PC. An empty Candidate.Candidate marks the end of candidates.
type Candidate struct {
	Type      string       `json:"type"`
	PC        string       `json:"pc"`
	Candidate ICECandidate `json:"candidate"`
}

// ICECandidate is the browser's RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// ICEServer is a STUN or TURN server the client should use, in the shape of
// the browser's RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Welcome is the first message on every connection: who the client is and
// how to reach the media server.
type Welcome struct {
	Type string `json:"type"`
	// ProtocolVersion is the version of the protocol the server speaks
	// on this connection: the client's v, else Version.
	ProtocolVersion int         `json:"protocol_version"`
	ParticipantID   string      `json:"participant_id"`
	Role            string      `json:"role"`
	PointID         string      `json:"point_id,omitempty"`
	Name            string      `json:"name"`
	ConferenceID    string      `json:"conference_id"`
	ConferenceTitle string      `json:"conference_title"`
	ICEServers      []ICEServer `json:"ice_servers"`
	// VideoLayers are the encodings a publisher sends its camera in, as
	// simulcast, lowest first; empty: one encoding.
	VideoLayers []VideoLayer `json:"video_layers,omitempty"`
}

// VideoLayer is one encoding of a simulcast camera: its RID, how much
// smaller than the camera's picture it is (2: half the width and height)
// and the most bits a second it may carry.
type VideoLayer struct {
	RID         string  `json:"rid" yaml:"rid"`
	ScaleDownBy float64 `json:"scale_down_by" yaml:"scale_down_by"`
	MaxBitrate  int     `json:"max_bitrate" yaml:"max_bitrate"`
}

// DefaultVideoLayers are the encodings of a camera sent as simulcast
// unless the server is configured otherwise: a quarter (320×180 of a
// 1280×720 camera), a half and the whole picture.
func DefaultVideoLayers() []VideoLayer {
	return []VideoLayer{
		{RID: "q", ScaleDownBy: 4, MaxBitrate: 150_000},
		{RID: "h", ScaleDownBy: 2, MaxBitrate: 500_000},
		{RID: "f", ScaleDownBy: 1, MaxBitrate: 1_500_000},
	}
}

// Participant describes one connected participant in a roster.
type Participant struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	PointID string `json:"point_id,omitempty"`
	Name    string `json:"name"`
	Muted   bool   `json:"muted,omitempty"` // a technician muted it in the SFU
}

// Roster lists the participants connected now, and the media streams that
// belong to each (a MediaStream id equals the participant id). A
// connection gets it once, after welcome; RosterUpdate messages then
// carry the changes. Version counts the changes of the conference's
// roster; a roster of Version v is followed by updates from v+1 on.
type Roster struct {
	Type         string        `json:"type"`
	Version      uint64        `json:"version"`
	Participants []Participant `json:"participants"`
}

// RosterUpdate carries the changes of a roster from Version-1 to Version:
// Set holds participants who joined or whose entry changed (each replaces
// the entry with its id), Removed the ids of those who left. A client
// applies an update only to the roster of Version-1 and ignores updates it
// already has (Version at most its own); the server sends a whole Roster
// again when a connection fell too far behind to catch up by updates.
type RosterUpdate struct {
	Type    string        `json:"type"`
	Version uint64        `json:"version"`
	Set     []Participant `json:"set,omitempty"`
	Removed []string      `json:"removed,omitempty"`
}

// Error says why a request was refused. Request is the type of the message
// that caused it, when known.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Request string `json:"request,omitempty"`
	// Reason refines Code with a stable word pages can translate, e.g.
	// already_queued or queue_empty for a floor conflict.
	Reason string `json:"reason,omitempty"`
}

// Closing tells the client why the server closes the connection; the client
// should not reconnect when Reason is ReasonReplaced or ReasonRevoked.
type Closing struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Floor asks the server to change the floor. Action is one of ask,
// withdraw, give, extend, take_back, finish, open_discussion and
// close_discussion. PointID names the point acted on (empty: the sender's
// own point, or for give the next in the queue, for take_back every
// holder); Subject goes with ask; Seconds is the time limit of give (0: the
// conference's default, -1: none) or the time added by extend.
type Floor struct {
	Type    string `json:"type"`
	Action  string `json:"action"`
	PointID string `json:"point_id,omitempty"`
	Subject string `json:"subject,omitempty"`
	Seconds int    `json:"seconds,omitempty"`
}

// FloorRequest is a point waiting for the floor; Position counts from 1.
type FloorRequest struct {
	PointID  string    `json:"point_id"`
	Name     string    `json:"name"`
	Subject  string    `json:"subject,omitempty"`
	AskedAt  time.Time `json:"asked_at"`
	Position int       `json:"position"`
	Online   bool      `json:"online"`
}

// FloorHolder is a point holding the floor. Deadline is zero when the turn
// has no time limit.
type FloorHolder struct {
	TurnID   string    `json:"turn_id"`
	PointID  string    `json:"point_id"`
	Name     string    `json:"name"`
	Subject  string    `json:"subject,omitempty"`
	GivenBy  string    `json:"given_by"`
	Since    time.Time `json:"since"`
	Deadline time.Time `json:"deadline,omitzero"`
	Online   bool      `json:"online"`
}

// FloorState is the whole floor, sent to everyone after every change and
// on connect. ServerTime lets pages count down with the server's clock.
type FloorState struct {
	Type       string         `json:"type"`
	Version    int64          `json:"version"`
	Discussion bool           `json:"discussion"`
	Queue      []FloorRequest `json:"queue"`
	Holders    []FloorHolder  `json:"holders"`
	ServerTime time.Time      `json:"server_time"`
	// DefaultSeconds is the conference's speaking time, given to a turn
	// whose give names none.
	DefaultSeconds int `json:"default_seconds"`
}

// FloorAlert tells the hall that a turn's time ran out; TakenBack is true
// when the conference takes the floor back by itself.
type FloorAlert struct {
	Type      string `json:"type"`
	TurnID    string `json:"turn_id"`
	PointID   string `json:"point_id"`
	Name      string `json:"name"`
	TakenBack bool   `json:"taken_back"`
}

// MaxWallParticipants bounds the ids of one wall message.
const MaxWallParticipants = 1000

// Wall chooses the points whose cameras a hall console's wall shows:
// Participants in order of priority (the first ones take the slots when
// there are more than slots), or, with Auto, the first points to publish,
// as before any wall message.
type Wall struct {
	Type         string   `json:"type"`
	Participants []string `json:"participants"`
	Auto         bool     `json:"auto,omitempty"`
}

// WallState tells a hall console which point each slot of its wall shows:
// Slots[i] is the participant id of track wall-i of the stream "wall", ""
// for an empty slot. It comes after every change.
type WallState struct {
	Type  string   `json:"type"`
	Slots []string `json:"slots"`
}

// Decode reads the type of a raw message and decodes it into the matching
// client message struct (*SDP, *Candidate, *Floor, *Control, ...). It returns an *Error ready to
// send when the message is malformed or of an unknown type.
func Decode(raw []byte) (any, *Error) {
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Type == "" {
		return nil, &Error{Type: TypeError, Code: CodeBadJSON, Message: "message is not a JSON object with a \"type\" string"}
	}
	var msg any
	switch env.Type {
	case TypePublishOffer, TypeSubscribeAnswer:
		msg = &SDP{}
	case TypeCandidate:
		msg = &Candidate{}
	case TypeFloor:
		msg = &Floor{}
	case TypeWall:
		msg = &Wall{}
	case TypeControl:
		msg = &Control{}
	case TypeCheckIn:
		msg = &CheckIn{}
	case TypeRollCall:
		msg = &RollCall{}
	case TypeConference:
		msg = &Conference{}
	case TypeStats:
		msg = &Stats{}
	case TypeContent:
		msg = &Content{}
	default:
		return nil, &Error{Type: TypeError, Code: CodeUnknownType, Message: fmt.Sprintf("unknown message type %q", env.Type), Request: env.Type}
	}
	if err := json.Unmarshal(raw, msg); err != nil {
		return nil, &Error{Type: TypeError, Code: CodeBadJSON, Message: fmt.Sprintf("malformed %s: %v", env.Type, err), Request: env.Type}
	}
	return msg, nil
}
