package server

import (
	"net/http"

	"hoinghi/docs"
)

// openAPI serves the OpenAPI 3.1 document of the REST API
// (docs/openapi.json), the contract of every route under /api/, to
// anyone: it holds no secret.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// It changes with the binary; let clients revalidate every time.
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(docs.OpenAPI)
}
