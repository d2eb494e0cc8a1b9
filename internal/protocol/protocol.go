// Package protocol defines the JSON messages that browsers and Go clients
// exchange with the server over the signaling WebSocket. docs/protocol.md
// describes each one for people.
package protocol

import (
	"encoding/json"
	"fmt"
)

// MaxMessageBytes is the largest signaling message the server reads. A larger
// message is discarded and answered with an error of code CodeTooLarge.
const MaxMessageBytes = 64 << 10

// Message types sent by the client.
const (
	TypePublishOffer    = "publish_offer"    // SDP offer of the client's publishing PeerConnection
	TypeSubscribeAnswer = "subscribe_answer" // SDP answer to a subscribe_offer
	TypeCandidate       = "candidate"        // a trickled ICE candidate of one of the client's PeerConnections
)

// Message types sent by the server.
const (
	TypeWelcome        = "welcome"         // first message on every connection
	TypePublishAnswer  = "publish_answer"  // SDP answer to a publish_offer
	TypeSubscribeOffer = "subscribe_offer" // SDP offer of the server's sending PeerConnection
	TypeRoster         = "roster"          // who is in the conference now
	TypeError          = "error"           // a request was refused; the connection stays open
	TypeClosing        = "closing"         // the server closes this connection, with the reason
)

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
)

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
	Type            string      `json:"type"`
	ParticipantID   string      `json:"participant_id"`
	Role            string      `json:"role"`
	PointID         string      `json:"point_id,omitempty"`
	Name            string      `json:"name"`
	ConferenceID    string      `json:"conference_id"`
	ConferenceTitle string      `json:"conference_title"`
	ICEServers      []ICEServer `json:"ice_servers"`
}

// Participant describes one connected participant in a roster.
type Participant struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	PointID string `json:"point_id,omitempty"`
	Name    string `json:"name"`
}

// Roster lists the participants connected now, and the media streams that
// belong to each (a MediaStream id equals the participant id).
type Roster struct {
	Type         string        `json:"type"`
	Participants []Participant `json:"participants"`
}

// Error says why a request was refused. Request is the type of the message
// that caused it, when known.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Request string `json:"request,omitempty"`
}

// Closing tells the client why the server closes the connection; the client
// should not reconnect when Reason is ReasonReplaced or ReasonRevoked.
type Closing struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Decode reads the type of a raw message and decodes it into the matching
// client message struct (*SDP or *Candidate). It returns an *Error ready to
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
	default:
		return nil, &Error{Type: TypeError, Code: CodeUnknownType, Message: fmt.Sprintf("unknown message type %q", env.Type), Request: env.Type}
	}
	if err := json.Unmarshal(raw, msg); err != nil {
		return nil, &Error{Type: TypeError, Code: CodeBadJSON, Message: fmt.Sprintf("malformed %s: %v", env.Type, err), Request: env.Type}
	}
	return msg, nil
}
