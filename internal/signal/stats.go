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
	// Refused counts the WebSockets refused before the upgrade by the
	// hub, by code (CodeTooManyConnections, CodeServerBusy).
	Refused map[string]uint64
	// EncodedBytes counts the bytes of every message the hub encoded; a
	// message sent to many connections is encoded, and counted, once.
	EncodedBytes uint64
	// SlowDisconnects counts the connections closed because they did not
	// take their messages in time.
	SlowDisconnects uint64
	// Shed counts the queued messages dropped because a newer one
	// superseded them or the connection fell behind.
	Shed uint64
}

// maxErrorCodes bounds the error codes counted apart; further ones are
// counted under "other".
const maxErrorCodes = 32

// hubStats are the counters behind Stats.
type hubStats struct {
	open    atomic.Int64
	total   atomic.Uint64
	bytes   atomic.Uint64
	slow    atomic.Uint64
	shed    atomic.Uint64
	mu      sync.Mutex
	errors  map[string]uint64
	refusal map[string]uint64
}

// encoded counts n bytes of an encoded message.
func (s *hubStats) encoded(n int) { s.bytes.Add(uint64(n)) }

// refused counts a WebSocket refused with code.
func (s *hubStats) refused(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusal == nil {
		s.refusal = make(map[string]uint64)
	}
	s.refusal[code]++
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
	refused := maps.Clone(h.stats.refusal)
	h.stats.mu.Unlock()
	if errs == nil {
		errs = map[string]uint64{}
	}
	if refused == nil {
		refused = map[string]uint64{}
	}
	return Stats{Connections: h.stats.open.Load(), ConnectionsTotal: h.stats.total.Load(), ErrorsSent: errs,
		Refused: refused, EncodedBytes: h.stats.bytes.Load(), SlowDisconnects: h.stats.slow.Load(), Shed: h.stats.shed.Load()}
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
