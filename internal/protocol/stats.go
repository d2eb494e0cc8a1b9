package protocol

import (
	"fmt"
	"math"
	"slices"
)

// Message types of the participants' own link measures.
const (
	TypeStats        = "stats"         // client to server: what the client's browser measures of its media
	TypeQualityAlert = "quality_alert" // server to the hall: a point's link became poor, or recovered
)

// Quality alert levels, carried in QualityAlert.Level.
const (
	LevelPoor = "poor" // the point's link is poor now
	LevelOK   = "ok"   // the point's link recovered
)

// Link grades, carried in ParticipantQuality.Grade: how the hall shows a
// participant's link (see docs/protocol.md, "Quality alerts").
const (
	GradeGood = "good" // every figure under the first bound
	GradeFair = "fair" // a figure over the first bound, or poor for less than the hold
	GradePoor = "poor" // a quality alert stands
)

// Quality alert reasons, carried in QualityAlert.Reason and
// ParticipantQuality.Alert.
const (
	AlertLoss     = "loss"      // the server lost too many of the point's packets
	AlertRecvLoss = "recv_loss" // the point lost too many of the packets sent to it
	AlertRTT      = "rtt"       // the round trip to the point is too long
	AlertNoMedia  = "no_media"  // the server received no media from the point
)

// Values accepted in ClientStats.SendLimit, ClientNetwork and
// ClientCandidate; an empty string means unknown.
var (
	SendLimits       = []string{"none", "cpu", "bandwidth", "other"}
	ClientNetworks   = []string{"udp", "tcp", "tls"}
	ClientCandidates = []string{"host", "srflx", "prflx", "relay"}
)

// Upper bounds of the figures of ClientStats. A larger figure is clamped to
// its bound: a browser's counters can jump, and the report is still worth
// keeping.
const (
	MaxStatsKbps   = 1_000_000 // 1 Gbit/s
	MaxStatsPixels = 8192      // width or height
	MaxStatsFPS    = 240
	MaxStatsMs     = 60_000 // jitter and round trip
)

// ClientStats are a participant's media as its own browser measures them
// (RTCPeerConnection.getStats), over the last few seconds. A nil field is
// unknown. The same fields, with the same names, go to the hall in
// ParticipantQuality.
type ClientStats struct {
	// SendKbps is the bitrate the client sends (audio and video);
	// SendWidth, SendHeight and SendFPS describe its highest video layer;
	// SendLimit is why the browser lowered its video: none, cpu,
	// bandwidth or other.
	SendKbps   *float64 `json:"send_kbps,omitempty"`
	SendWidth  *int     `json:"send_width,omitempty"`
	SendHeight *int     `json:"send_height,omitempty"`
	SendFPS    *float64 `json:"send_fps,omitempty"`
	SendLimit  string   `json:"send_limit,omitempty"`
	// RecvKbps is the bitrate the client receives (audio and video),
	// RecvLossPercent the share of those packets lost, JitterMs the largest
	// jitter of its received streams, RecvFPS the frames a second it
	// decodes, averaged over the videos it receives.
	RecvKbps        *float64 `json:"recv_kbps,omitempty"`
	RecvLossPercent *float64 `json:"recv_loss_percent,omitempty"`
	JitterMs        *float64 `json:"jitter_ms,omitempty"`
	RecvFPS         *float64 `json:"recv_fps,omitempty"`
	// ClientRTTMs is the round trip of the client's selected ICE candidate
	// pair; ClientNetwork its transport to the server or the TURN server
	// (udp, tcp or tls), ClientCandidate the type of its local candidate
	// (host, srflx, prflx or relay: relay means through TURN).
	ClientRTTMs     *float64 `json:"client_rtt_ms,omitempty"`
	ClientNetwork   string   `json:"client_network,omitempty"`
	ClientCandidate string   `json:"client_candidate,omitempty"`
}

// Stats is the client's report of its own media, sent every 2 s; the
// server keeps the latest one and passes it on in link_quality.
type Stats struct {
	Type string `json:"type"`
	ClientStats
}

// Normalize checks the figures of s, clamps those above their bound and
// rounds them to one decimal. It returns an error, leaving s in an
// unspecified state, when a figure is negative or not a number or a word
// is not one of those allowed.
func (s *ClientStats) Normalize() error {
	floats := []struct {
		name string
		v    *float64
		max  float64
	}{
		{"send_kbps", s.SendKbps, MaxStatsKbps},
		{"send_fps", s.SendFPS, MaxStatsFPS},
		{"recv_kbps", s.RecvKbps, MaxStatsKbps},
		{"recv_loss_percent", s.RecvLossPercent, 100},
		{"jitter_ms", s.JitterMs, MaxStatsMs},
		{"recv_fps", s.RecvFPS, MaxStatsFPS},
		{"client_rtt_ms", s.ClientRTTMs, MaxStatsMs},
	}
	for _, f := range floats {
		if f.v == nil {
			continue
		}
		if math.IsNaN(*f.v) || *f.v < 0 {
			return fmt.Errorf("%s must be a number of at least 0, not %v", f.name, *f.v)
		}
		*f.v = math.Round(min(*f.v, f.max)*10) / 10
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"send_width", s.SendWidth}, {"send_height", s.SendHeight}} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 {
			return fmt.Errorf("%s must be at least 0, not %d", f.name, *f.v)
		}
		*f.v = min(*f.v, MaxStatsPixels)
	}
	for _, f := range []struct {
		name, v string
		allowed []string
	}{
		{"send_limit", s.SendLimit, SendLimits},
		{"client_network", s.ClientNetwork, ClientNetworks},
		{"client_candidate", s.ClientCandidate, ClientCandidates},
	} {
		if f.v != "" && !slices.Contains(f.allowed, f.v) {
			return fmt.Errorf("%s must be one of %v, not %q", f.name, f.allowed, f.v)
		}
	}
	return nil
}

// QualityAlert tells the technician and the chair that a point's link
// became poor (Level LevelPoor, with the Reason and its Value: a loss in
// percent, a round trip in milliseconds, or the seconds without media) or
// recovered (Level LevelOK).
type QualityAlert struct {
	Type          string  `json:"type"`
	ParticipantID string  `json:"participant_id"`
	Name          string  `json:"name"`
	Level         string  `json:"level"`
	Reason        string  `json:"reason,omitempty"`
	Value         float64 `json:"value,omitempty"`
}
