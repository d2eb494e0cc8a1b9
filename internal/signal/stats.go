package signal

import (
	"errors"
	"maps"
	"sync"
	"sync/atomic"
)

// Stats are the hub's running totals, for /metrics.
type Stats struct {
	// Connections counts the signaling WebSockets open now;
	// ConnectionsTotal those opened since the start.
	Connections      int64
	ConnectionsTotal uint64
	// ErrorsSent counts the error messages sent to clients, by code
	// (protocol.CodeBadJSON and the others).
	ErrorsSent map[string]uint64
}

// maxErrorCodes bounds the error codes counted apart; further ones are
// counted under "other".
const maxErrorCodes = 32

// hubStats are the counters behind Stats.
type hubStats struct {
	open  atomic.Int64
	total atomic.Uint64

	mu     sync.Mutex
	errors map[string]uint64
}

// opened counts a WebSocket that opened; closed one that closed.
func (s *hubStats) opened() { s.open.Add(1); s.total.Add(1) }
func (s *hubStats) closed() { s.open.Add(-1) }

// errorSent counts an error message of code sent to a client.
func (s *hubStats) errorSent(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errors == nil {
		s.errors = make(map[string]uint64)
	}
	if _, ok := s.errors[code]; !ok && len(s.errors) >= maxErrorCodes {
		code = "other"
	}
	s.errors[code]++
}

// Stats returns the hub's running totals.
func (h *Hub) Stats() Stats {
	h.stats.mu.Lock()
	errs := maps.Clone(h.stats.errors)
	h.stats.mu.Unlock()
	if errs == nil {
		errs = map[string]uint64{}
	}
	return Stats{Connections: h.stats.open.Load(), ConnectionsTotal: h.stats.total.Load(), ErrorsSent: errs}
}

// ErrShuttingDown is reported by Ready once Shutdown has begun.
var ErrShuttingDown = errors.New("shutting down")

// ErrMediaClosed is reported by Ready when the SFU no longer accepts
// participants.
var ErrMediaClosed = errors.New("media server closed")

// Ready reports whether the hub accepts new participants: nil until
// Shutdown begins and while the SFU is open.
func (h *Hub) Ready() error {
	h.mu.Lock()
	shutdown := h.shutdown
	h.mu.Unlock()
	if shutdown {
		return ErrShuttingDown
	}
	if h.d.SFU == nil || !h.d.SFU.Open() {
		return ErrMediaClosed
	}
	return nil
}
