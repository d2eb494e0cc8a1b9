package server

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"hoinghi/internal/conference"
	"hoinghi/internal/export"
	"hoinghi/internal/store"
)

// Codes of a refused export.
const (
	// CodeBadFormat refuses an export in a format that does not exist.
	CodeBadFormat = "bad_format"
	// CodeBadSeparator refuses an export with a CSV separator other than
	// semicolon (;) or comma (,).
	CodeBadSeparator = "bad_separator"
)

var exportRoles = []conference.Role{conference.RoleTechnician, conference.RoleSecretariat}

// exportReport serves GET /api/conferences/{id}/export?format=xlsx|csv|pdf
// with, for csv, separator=semicolon|comma (";" and "," also do; semicolon
// by default, as Excel with Vietnamese settings reads CSV): the attendance
// report as a file to download, computed from the events at the time of
// the request. The technician and the secretariat may export.
func (s *Server) exportReport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.admitOrFail(w, r, rule{conf: id, roles: exportRoles}); !ok {
		return
	}
	name := r.URL.Query().Get("format")
	if name == "" {
		name = string(export.FormatXLSX)
	}
	f, err := export.ParseFormat(name)
	if err != nil {
		s.fail(w, r, errBadFormat(err.Error()), nil)
		return
	}
	// The separator is checked whatever the format, so that a wrong one
	// is told at once rather than when someone asks for the CSV.
	sep, err := export.ParseSeparator(r.URL.Query().Get("separator"))
	if err != nil {
		s.fail(w, r, errBadSeparator(err.Error()), nil)
		return
	}
	opts := export.Options{Separator: sep}
	report, err := export.Load(r.Context(), s.d.Store, id, s.d.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errConferenceNotFound(), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("export %s: %w", id, err))
		return
	}
	// Build the whole file before answering, so that a failure is still an
	// error response rather than a truncated download.
	var buf bytes.Buffer
	if err := f.Write(&buf, report, opts); err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("export %s as %s: %w", id, f, err))
		return
	}
	size := buf.Len()
	h := w.Header()
	h.Set("Content-Type", f.ContentType())
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename(report)}))
	h.Set("Content-Length", strconv.Itoa(size))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		buf.WriteTo(w) // the client went away; nothing to do
	}
	args := []any{"conference", id, "format", string(f), "bytes", size}
	if f == export.FormatCSV {
		args = append(args, "separator", string(sep))
	}
	s.d.Log.Info("attendance exported", args...)
}

func errBadFormat(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeBadFormat,
		Message:   "Định dạng xuất phải là xlsx, csv hoặc pdf.",
		MessageEN: "Bad export format: " + detail}
}

func errBadSeparator(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeBadSeparator,
		Message:   "Dấu phân cách CSV phải là dấu chấm phẩy (semicolon) hoặc dấu phẩy (comma).",
		MessageEN: "Bad CSV separator: " + detail}
}

// reportRoles may read the live attendance report.
var reportRoles = hallRoles

// liveReport serves GET /api/conferences/{id}/report: the attendance report
// as JSON (conference.Report; schema Report of docs/openapi.json: times
// left out when not set, durations in seconds), computed from the events
// at the time of the request, for the secretariat's live page.
func (s *Server) liveReport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.admitOrFail(w, r, rule{conf: id, roles: reportRoles}); !ok {
		return
	}
	report, err := export.Load(r.Context(), s.d.Store, id, s.d.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errConferenceNotFound(), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("report of %s: %w", id, err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, report)
}
