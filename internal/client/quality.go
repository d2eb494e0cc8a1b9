package client

import (
	"encoding/json"
	"fmt"
	"sync"

	"hoinghi/internal/protocol"
)

// qualityView is what the client knows of the points' quality alerts from
// the server's messages (sent to the hall only).
type qualityView struct {
	mu     sync.Mutex
	alerts []protocol.QualityAlert
}

// dispatchQuality handles quality_alert and reports whether raw was one.
func (c *Client) dispatchQuality(typ string, raw []byte) (bool, error) {
	if typ != protocol.TypeQualityAlert {
		return false, nil
	}
	var m protocol.QualityAlert
	if err := json.Unmarshal(raw, &m); err != nil {
		return true, fmt.Errorf("decode quality_alert: %w", err)
	}
	v := &c.qual
	v.mu.Lock()
	v.alerts = append(v.alerts, m)
	v.mu.Unlock()
	return true, nil
}

// SendStats sends a stats report of the client's own media (see
// docs/protocol.md, "Link quality"); the server passes it on to the hall in
// link_quality. A refusal (bad_request, rate_limited) arrives on Errors.
func (c *Client) SendStats(s protocol.ClientStats) error {
	return c.Send(protocol.Stats{Type: protocol.TypeStats, ClientStats: s})
}

// QualityAlerts returns the quality_alert messages the server sent, oldest
// first.
func (c *Client) QualityAlerts() []protocol.QualityAlert {
	v := &c.qual
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]protocol.QualityAlert(nil), v.alerts...)
}
