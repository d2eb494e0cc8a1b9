package protocol

// TypeLinkQuality is sent by the server to the hall every few seconds.
const TypeLinkQuality = "link_quality"

// LinkQuality reports, to the technician and the chair, how each
// participant's link to the server fares as the server measures it.
type LinkQuality struct {
	Type         string               `json:"type"`
	Participants []ParticipantQuality `json:"participants"`
}

// ParticipantQuality is one participant's link: as the server measures
// it, the round trip of its media, the share of its packets lost on the
// way in and the bitrate received from it over the last interval, and the
// transport ("udp", "tcp" or "relay"); then, from its latest stats report
// when a recent one came, what its own browser measures. Grade is how the
// hall shows the link, Alert the reason of the point's quality alert
// while one stands (see QualityAlert), else empty, and AlertValue its
// figure.
type ParticipantQuality struct {
	ID string `json:"id"`
	// RTTMs is the round trip of the media the server sends the
	// participant, from the reception reports (RTCP) its browser sends
	// back; before any, the ICE round trip of its connection.
	RTTMs       float64 `json:"rtt_ms"`
	LossPercent float64 `json:"loss_percent"`
	Kbps        float64 `json:"kbps"`
	Network     string  `json:"network,omitempty"`
	// DownKbps and DownLossPercent are what the participant's
	// transport-wide feedback says of the media the server sends it;
	// omitted when there is none (ICE-TCP, or no feedback yet).
	DownKbps        *float64 `json:"down_kbps,omitempty"`
	DownLossPercent *float64 `json:"down_loss_percent,omitempty"`
	// DownEstimateKbps is what the server estimates the participant's
	// downlink carries, from that feedback; Downlink what it told the
	// participant of it (DownlinkGood, DownlinkReduced: held to lower
	// encodings by its link, DownlinkAudioOnly: no video fits); both
	// omitted when not estimated.
	DownEstimateKbps *float64 `json:"down_estimate_kbps,omitempty"`
	Downlink         string   `json:"downlink,omitempty"`
	// SendLayers are the RIDs of the encodings of its camera the server
	// receives now, lowest first ("" for a camera sent as one encoding);
	// Viewers counts, by RID, the others that receive each; Receives
	// counts, by RID, the encodings its own video tracks carry;
	// ReducedRate counts those of its video tracks that carry fewer
	// pictures a second than their encoding has, for its link (omitted:
	// none). SendTemporal counts, by RID, the VP8 temporal layers of each
	// encoding it sends that has more than one.
	SendLayers   []string       `json:"send_layers,omitempty"`
	SendTemporal map[string]int `json:"send_temporal,omitempty"`
	Viewers      map[string]int `json:"viewers,omitempty"`
	Receives     map[string]int `json:"receives,omitempty"`
	ReducedRate  int            `json:"reduced_rate,omitempty"`
	ClientStats
	// Grade is GradeGood, GradeFair or GradePoor, from the figures above
	// (rtt_ms, loss_percent, recv_loss_percent, kbps) by the rule of the
	// quality alerts: GradePoor exactly while an alert stands.
	Grade      string  `json:"grade,omitempty"`
	Alert      string  `json:"alert,omitempty"`
	AlertValue float64 `json:"alert_value,omitempty"`
}
