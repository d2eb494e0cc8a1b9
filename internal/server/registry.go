package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
)

// The point registry API: the points of each province, reused across
// conferences, with import and export as CSV or XLSX. A province is not a
// conference, so every route is admitted by admitStaff: a logged-in
// technician, or a technician token of any existing conference, reads and
// changes the registry of every province.

// Content types of point files.
const (
	contentTypeCSV  = "text/csv"
	contentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

func (s *Server) registryRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/registry", s.provinces)
	m.HandleFunc("GET /api/registry/{province}/points", s.registryPoints)
	m.HandleFunc("PUT /api/registry/{province}/points/{pid}", s.putRegistryPoint)
	m.HandleFunc("DELETE /api/registry/{province}/points/{pid}", s.deleteRegistryPoint)
	m.HandleFunc("POST /api/registry/{province}/import", s.importRegistry)
	m.HandleFunc("GET /api/registry/{province}/export", s.exportRegistry)
}

// province returns the province of r's path, or sends a refusal.
func (s *Server) province(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := r.PathValue("province")
	if err := conference.ValidateID(p); err != nil {
		s.fail(w, r, errBadBody("province: "+err.Error()), nil)
		return "", false
	}
	return p, true
}

func (s *Server) provinces(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admitStaff(w, r, technicianOnly); !ok {
		return
	}
	ids, err := s.d.Store.Provinces(r.Context())
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	writeJSON(w, http.StatusOK, list(ids))
}

func (s *Server) registryPoints(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admitStaff(w, r, technicianOnly); !ok {
		return
	}
	prov, ok := s.province(w, r)
	if !ok {
		return
	}
	points, err := s.d.Store.RegistryPoints(r.Context(), prov)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	writeJSON(w, http.StatusOK, list(points))
}

func (s *Server) putRegistryPoint(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admitStaff(w, r, technicianOnly); !ok {
		return
	}
	prov, ok := s.province(w, r)
	if !ok {
		return
	}
	pid := r.PathValue("pid")
	var p conference.Point
	if e := decodeBody(w, r, &p); e != nil {
		s.fail(w, r, e, nil)
		return
	}
	if p.ID == "" {
		p.ID = pid
	}
	if p.ID != pid {
		s.fail(w, r, errBadBody(fmt.Sprintf("id %q differs from the path's %q", p.ID, pid)), nil)
		return
	}
	if err := p.Validate(); err != nil {
		s.fail(w, r, errBadBody(err.Error()), nil)
		return
	}
	res, err := s.d.Store.PutRegistryPoints(r.Context(), prov, []conference.Point{p})
	switch {
	case errors.Is(err, store.ErrTooMany):
		s.fail(w, r, errBadBody(fmt.Sprintf("the registry of %s holds %d points already", prov, store.MaxRegistryPoints)), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), err)
		return
	}
	s.d.Log.Info("registry point saved", "province", prov, "point", pid, "created", res.Created == 1)
	writeJSON(w, createdOrOK(res.Created == 1), p)
}

func (s *Server) deleteRegistryPoint(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admitStaff(w, r, technicianOnly); !ok {
		return
	}
	prov, ok := s.province(w, r)
	if !ok {
		return
	}
	pid := r.PathValue("pid")
	err := s.d.Store.DeleteRegistryPoint(r.Context(), prov, pid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errNotFound(), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), err)
		return
	}
	s.d.Log.Info("registry point deleted", "province", prov, "point", pid)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// Imported is the answer to an import: what changed, and the registry
// after it.
type Imported struct {
	store.ImportResult
	Points []conference.Point `json:"points"`
}

func (s *Server) importRegistry(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admitStaff(w, r, technicianOnly); !ok {
		return
	}
	prov, ok := s.province(w, r)
	if !ok {
		return
	}
	mode := r.URL.Query().Get("mode")
	if mode != "" && mode != "merge" && mode != "replace" {
		s.fail(w, r, errBadBody(fmt.Sprintf("mode %q: use merge or replace", mode)), nil)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxImportBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.fail(w, r, &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
			Message:   fmt.Sprintf("Tệp quá lớn (tối đa %d MiB).", MaxImportBytes>>20),
			MessageEN: fmt.Sprintf("The file is too large (at most %d MiB).", MaxImportBytes>>20)}, nil)
		return
	case err != nil:
		s.fail(w, r, errBadBody(err.Error()), nil)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var points []conference.Point
	switch {
	case ct == contentTypeXLSX || (ct == "application/octet-stream" && bytes.HasPrefix(data, []byte("PK\x03\x04"))):
		points, err = readPointsXLSX(data)
	case ct == contentTypeCSV || ct == "text/plain" || ct == "application/csv" || ct == "application/vnd.ms-excel" ||
		ct == "application/octet-stream":
		points, err = readPointsCSV(data)
	default:
		s.fail(w, r, errBadBody(fmt.Sprintf("Content-Type %q: send %s or %s", ct, contentTypeCSV, contentTypeXLSX)), nil)
		return
	}
	var fe *fileError
	if errors.As(err, &fe) {
		s.fail(w, r, errBadFile(fe), nil)
		return
	}
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	ctx := r.Context()
	var res store.ImportResult
	if mode == "replace" {
		res, err = s.d.Store.ReplaceRegistryPoints(ctx, prov, points)
	} else {
		res, err = s.d.Store.PutRegistryPoints(ctx, prov, points)
	}
	switch {
	case errors.Is(err, store.ErrTooMany):
		s.fail(w, r, errBadFile(badFile("sổ điểm cầu của tỉnh sẽ quá %d điểm", "the province's registry would hold more than %d points", store.MaxRegistryPoints)), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("import registry of %s: %w", prov, err))
		return
	}
	all, err := s.d.Store.RegistryPoints(ctx, prov)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	s.d.Log.Info("registry imported", "province", prov, "mode", mode, "created", res.Created, "updated", res.Updated, "removed", res.Removed)
	writeJSON(w, http.StatusOK, Imported{ImportResult: res, Points: list(all)})
}

func (s *Server) exportRegistry(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admitStaff(w, r, technicianOnly); !ok {
		return
	}
	prov, ok := s.province(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "xlsx"
	}
	if format != "csv" && format != "xlsx" {
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: CodeBadFormat,
			Message:   "Định dạng xuất phải là xlsx hoặc csv.",
			MessageEN: fmt.Sprintf("Bad export format %q: use xlsx or csv.", format)}, nil)
		return
	}
	points, err := s.d.Store.RegistryPoints(r.Context(), prov)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	var buf bytes.Buffer
	ctype := contentTypeXLSX
	if format == "csv" {
		ctype = contentTypeCSV + "; charset=utf-8"
		err = writePointsCSV(&buf, points)
	} else {
		err = writePointsXLSX(&buf, points)
	}
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	name := "diem-cau-" + prov + "." + format
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", "attachment; filename=\""+name+"\"; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
