package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"hoinghi/internal/signal"
)

// Codes of /readyz when the server is not ready.
const (
	CodeStoreUnavailable = "store_unavailable"
	CodeMediaClosed      = "media_closed"
	CodeShuttingDown     = "shutting_down"
)

// readyTimeout bounds the store ping of /readyz.
const readyTimeout = time.Second

// readiness is the part of a Hub that tells whether it accepts
// participants; *signal.Hub has it.
type readiness interface {
	Ready() error
}

// Ready is the body of a 200 answer of /readyz.
type Ready struct {
	Status string `json:"status"` // "ready"
}

// readyz answers 200 when the server can take participants: the store
// answers a ping within readyTimeout, and the hub and its SFU are open.
// Otherwise it answers 503 with the reason, in Vietnamese and English.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if e, err := s.notReady(r.Context()); e != nil {
		s.d.Log.Warn("not ready", "reason", e.Code, "err", err)
		writeJSON(w, e.Status, e)
		return
	}
	writeJSON(w, http.StatusOK, Ready{Status: "ready"})
}

// notReady returns why the server is not ready, with the underlying error,
// or nil.
func (s *Server) notReady(ctx context.Context) (*apiError, error) {
	if h, ok := s.d.Hub.(readiness); ok {
		if err := h.Ready(); errors.Is(err, signal.ErrShuttingDown) {
			return &apiError{Status: http.StatusServiceUnavailable, Code: CodeShuttingDown,
				Message:   "Máy chủ đang dừng để khởi động lại.",
				MessageEN: "The server is shutting down to restart."}, err
		} else if err != nil {
			return &apiError{Status: http.StatusServiceUnavailable, Code: CodeMediaClosed,
				Message:   "Bộ chuyển tiếp hình ảnh và âm thanh (SFU) đã đóng.",
				MessageEN: "The media server is closed."}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := s.d.Store.Ping(ctx); err != nil {
		return &apiError{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
			Message:   "Không kết nối được cơ sở dữ liệu Redis.",
			MessageEN: "The Redis store does not answer."}, err
	}
	return nil, nil
}
