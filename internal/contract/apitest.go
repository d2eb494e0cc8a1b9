package contract

import (
	"net/http"
	"slices"
	"sync"
	"testing"

	"hoinghi/docs"
)

// CheckedAPI returns h with every response to a path under /api/ checked
// against the REST contract (docs.OpenAPI), for a test server. The
// disagreements are reported with t.Errorf when the test ends, each once
// with its count, so that a server stopped in a cleanup registered after
// this call has answered its last request by then.
func CheckedAPI(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	a, err := LoadAPI(docs.OpenAPI)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	var (
		mu     sync.Mutex
		counts = make(map[string]int)
		order  []string
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, msg := range order {
			t.Errorf("response disagrees with docs/openapi.json (%d times): %s", counts[msg], msg)
		}
	})
	return a.Handler(h, func(err error) {
		mu.Lock()
		defer mu.Unlock()
		msg := err.Error()
		if !slices.Contains(order, msg) {
			order = append(order, msg)
		}
		counts[msg]++
	})
}
