package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"hoinghi/internal/server"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store"
)

func TestReadyz(t *testing.T) {
	tests := []struct {
		name   string
		breaks func(t *testing.T, s *servertest.Stack, redis *miniredis.Miniredis)
		status int
		code   string
	}{
		{"ready", func(*testing.T, *servertest.Stack, *miniredis.Miniredis) {}, http.StatusOK, ""},
		{"redis away", func(_ *testing.T, _ *servertest.Stack, m *miniredis.Miniredis) { m.Close() },
			http.StatusServiceUnavailable, server.CodeStoreUnavailable},
		{"shutting down", func(_ *testing.T, s *servertest.Stack, _ *miniredis.Miniredis) {
			s.Hub.Shutdown(context.Background())
		}, http.StatusServiceUnavailable, server.CodeShuttingDown},
		{"media closed", func(t *testing.T, s *servertest.Stack, _ *miniredis.Miniredis) {
			if err := s.SFU.Close(); err != nil {
				t.Fatal(err)
			}
		}, http.StatusServiceUnavailable, server.CodeMediaClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A Redis of our own, which the test can take away.
			m := miniredis.RunT(t)
			st, err := store.Open(context.Background(), store.Options{Addr: m.Addr(), Prefix: "readyz"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() }) // Redis may be gone: the error says so
			s := servertest.Start(t, st)
			tt.breaks(t, s, m)

			start := time.Now()
			res, err := http.Get(s.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("/readyz took %v", took)
			}
			var body struct {
				Status    string `json:"status"`
				Error     string `json:"error"`
				Message   string `json:"message"`
				MessageEN string `json:"message_en"`
			}
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("/readyz body: %v", err)
			}
			if res.StatusCode != tt.status || body.Error != tt.code {
				t.Fatalf("/readyz = %d %+v, want %d with code %q", res.StatusCode, body, tt.status, tt.code)
			}
			if tt.status == http.StatusOK {
				if body.Status != "ready" {
					t.Errorf("/readyz status = %q, want ready", body.Status)
				}
			} else if body.Message == "" || body.MessageEN == "" {
				t.Errorf("/readyz reason lacks a Vietnamese or English message: %+v", body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			// Liveness does not depend on readiness.
			if res, err := http.Get(s.URL + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
				t.Errorf("/healthz: %v %v", res, err)
			} else {
				res.Body.Close()
			}
		})
	}
}
