package server

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"hoinghi/internal/conference"
	"hoinghi/internal/recording"
	"hoinghi/internal/signal"
)

// Codes of a refused recording request.
const (
	// CodeRecordingUnavailable: this server does not record.
	CodeRecordingUnavailable = "recording_unavailable"
	// CodeRecordingActive: the conference is already being recorded, or
	// the recording asked for runs or is being composed.
	CodeRecordingActive = "recording_active"
	// CodeNotRecording: the conference is not being recorded.
	CodeNotRecording = "not_recording"
	// CodeRecordingEmpty: the recording holds nothing to compose.
	CodeRecordingEmpty = "recording_empty"
	// CodeRecordingNotFound: no such recording or file.
	CodeRecordingNotFound = "recording_not_found"
	// CodeDiskFull: the disk has less free space than a recording needs.
	CodeDiskFull = "disk_full"
	// CodeFFmpegMissing: ffmpeg, which composes archives and runs
	// livestreams, is not installed.
	CodeFFmpegMissing = "ffmpeg_missing"
	// CodeLiveRunning: the conference is already broadcast live.
	CodeLiveRunning = "livestream_running"
	// CodeLiveNotRunning: the conference is not broadcast live.
	CodeLiveNotRunning = "livestream_not_running"
	// CodeBadTarget: the livestream's target is neither HLS nor an
	// rtmp:// or rtmps:// address.
	CodeBadTarget = "bad_target"
)

// Who may do what with recordings: the technician runs them; the
// secretariat, which keeps the conference's records, lists and
// downloads them too. Points and the chair may do neither.
var (
	recordingReaders = []conference.Role{conference.RoleTechnician, conference.RoleSecretariat}
	recordingRunners = []conference.Role{conference.RoleTechnician}
)

func (s *Server) recordingRoutes() {
	m := s.mux
	m.HandleFunc("GET /api/conferences/{id}/recordings", s.listRecordings)
	m.HandleFunc("POST /api/conferences/{id}/recordings", s.startRecording)
	m.HandleFunc("GET /api/conferences/{id}/recordings/{rid}", s.getRecording)
	m.HandleFunc("POST /api/conferences/{id}/recordings/{rid}/stop", s.stopRecording)
	m.HandleFunc("DELETE /api/conferences/{id}/recordings/{rid}", s.deleteRecording)
	m.HandleFunc("POST /api/conferences/{id}/recordings/{rid}/archive", s.composeArchive)
	m.HandleFunc("GET /api/conferences/{id}/recordings/{rid}/files/{name}", s.recordingFile)
	m.HandleFunc("GET /api/conferences/{id}/livestream", s.liveState)
	m.HandleFunc("POST /api/conferences/{id}/livestream", s.startLive)
	m.HandleFunc("DELETE /api/conferences/{id}/livestream", s.stopLive)
	m.HandleFunc("GET /live/{id}/{file}", s.hlsFile)
}

func (s *Server) liveState(w http.ResponseWriter, r *http.Request) {
	_, id, m, ok := s.admitRecordings(w, r, recordingRunners)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, m.LiveState(id))
}

func (s *Server) startLive(w http.ResponseWriter, r *http.Request) {
	a, id, m, ok := s.admitRecordings(w, r, recordingRunners)
	if !ok {
		return
	}
	var req recording.LiveRequest
	if e := decodeBody(w, r, &req); e != nil {
		s.fail(w, r, e, nil)
		return
	}
	st, err := m.StartLive(id, req)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	s.audit(r.Context(), a, id, "livestream_started", req.Target, st.URL)
	writeJSON(w, http.StatusCreated, st)
}

func (s *Server) stopLive(w http.ResponseWriter, r *http.Request) {
	a, id, m, ok := s.admitRecordings(w, r, recordingRunners)
	if !ok {
		return
	}
	st, err := m.StopLive(id)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	s.audit(r.Context(), a, id, "livestream_stopped", st.Target, "")
	writeJSON(w, http.StatusOK, st)
}

// hlsFile serves the HLS livestream of a conference (its playlist
// index.m3u8 and segments) to anyone while it runs: a livestream is a
// public broadcast, as on a portal or television.
func (s *Server) hlsFile(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	m := s.d.Recordings
	ext := filepath.Ext(file)
	if m == nil || (ext != ".m3u8" && ext != ".ts") || file != filepath.Base(file) || strings.HasPrefix(file, ".") || strings.Contains(id, "..") || strings.ContainsAny(id, `/\`) {
		http.NotFound(w, r)
		return
	}
	if st := m.LiveState(id); !st.Running || st.Target != recording.TargetHLS {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if ext == ".m3u8" {
		h.Set("Content-Type", "application/vnd.apple.mpegurl")
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Content-Type", "video/mp2t")
		h.Set("Cache-Control", "max-age=60")
	}
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeFile(w, r, filepath.Join(m.HLSDir(id), file))
}

// RecordingList is the answer of GET /api/conferences/{id}/recordings.
type RecordingList struct {
	// Active is the recording that runs, absent when none does.
	Active     *recording.Info  `json:"active,omitempty"`
	Recordings []recording.Info `json:"recordings"`
}

// admitRecordings admits r for the conference of its path as one of
// roles, and returns the admission, the conference id and the manager;
// it answers the refusal itself (503 when this server does not record).
func (s *Server) admitRecordings(w http.ResponseWriter, r *http.Request, roles []conference.Role) (signal.Admission, string, *recording.Manager, bool) {
	id := r.PathValue("id")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: roles})
	if !ok {
		return a, id, nil, false
	}
	m, ok := s.recordings(w, r)
	return a, id, m, ok
}

// recordings returns the manager, or answers 503 when there is none.
func (s *Server) recordings(w http.ResponseWriter, r *http.Request) (*recording.Manager, bool) {
	if s.d.Recordings == nil {
		s.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: CodeRecordingUnavailable,
			Message:   "Máy chủ này không ghi hình hội nghị.",
			MessageEN: "This server does not record conferences."}, nil)
		return nil, false
	}
	return s.d.Recordings, true
}

func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request) {
	_, id, m, ok := s.admitRecordings(w, r, recordingReaders)
	if !ok {
		return
	}
	list, err := m.List(id)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("list recordings of %s: %w", id, err))
		return
	}
	out := RecordingList{Recordings: list}
	for i := range list {
		if list[i].Active {
			out.Active = &list[i]
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) startRecording(w http.ResponseWriter, r *http.Request) {
	a, id, m, ok := s.admitRecordings(w, r, recordingRunners)
	if !ok {
		return
	}
	st, err := m.Start(id, s.d.Now())
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	s.audit(r.Context(), a, id, "recording_started", st.ID, "")
	info, err := m.Get(id, st.ID)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	rid := r.PathValue("rid")
	_, id, m, ok := s.admitRecordings(w, r, recordingReaders)
	if !ok {
		return
	}
	info, err := m.Get(id, rid)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) stopRecording(w http.ResponseWriter, r *http.Request) {
	rid := r.PathValue("rid")
	a, id, m, ok := s.admitRecordings(w, r, recordingRunners)
	if !ok {
		return
	}
	_, err := m.Stop(id, rid, s.d.Now())
	if errors.Is(err, recording.ErrNotRecording) {
		s.failRecording(w, r, err)
		return
	}
	if err != nil {
		// Stopped, but a file was not closed cleanly: the recording
		// is listed as far as it got.
		s.d.Log.Warn("recording stopped with an error", "conference", id, "recording", rid, "err", err)
	}
	s.audit(r.Context(), a, id, "recording_stopped", rid, "")
	info, err := m.Get(id, rid)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) deleteRecording(w http.ResponseWriter, r *http.Request) {
	rid := r.PathValue("rid")
	a, id, m, ok := s.admitRecordings(w, r, recordingRunners)
	if !ok {
		return
	}
	info, err := m.Get(id, rid)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	if err := m.Delete(id, rid); err != nil {
		s.failRecording(w, r, err)
		return
	}
	s.audit(r.Context(), a, id, "recording_deleted", rid,
		fmt.Sprintf("%d files, %d bytes, %.0f s", len(info.Files), info.Size, info.Duration))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) composeArchive(w http.ResponseWriter, r *http.Request) {
	rid := r.PathValue("rid")
	a, id, m, ok := s.admitRecordings(w, r, recordingRunners)
	if !ok {
		return
	}
	if _, err := m.Compose(id, rid); err != nil {
		s.failRecording(w, r, err)
		return
	}
	s.audit(r.Context(), a, id, "archive_started", rid, "")
	info, err := m.Get(id, rid)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, info)
}

// recordingFile serves one file of a recording (a track, the index or
// the archive) as a download, with ranges, so that a player seeks in it.
func (s *Server) recordingFile(w http.ResponseWriter, r *http.Request) {
	rid, name := r.PathValue("rid"), r.PathValue("name")
	_, id, m, ok := s.admitRecordings(w, r, recordingReaders)
	if !ok {
		return
	}
	path, err := m.File(id, rid, name)
	if err != nil {
		s.failRecording(w, r, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.failRecording(w, r, recording.ErrNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("recording file %s: %w", path, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", recordingContentType(name))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// recordingContentType is the media type of a recording's file by its
// extension.
func recordingContentType(name string) string {
	switch filepath.Ext(name) {
	case ".ogg":
		return "audio/ogg"
	case ".webm":
		return "video/webm"
	case ".mkv":
		return "video/x-matroska"
	case ".mp4":
		return "video/mp4"
	case ".jsonl":
		return "application/jsonl"
	}
	return "application/octet-stream"
}

// failRecording answers a manager's error with its code.
func (s *Server) failRecording(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, recording.ErrNotFound):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: CodeRecordingNotFound,
			Message:   "Không tìm thấy bản ghi này.",
			MessageEN: "No such recording or file."}, nil)
	case errors.Is(err, recording.ErrRecording), errors.Is(err, recording.ErrBusy):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: CodeRecordingActive,
			Message:   "Bản ghi đang chạy hoặc đang được dựng; hãy chờ nó kết thúc.",
			MessageEN: "The recording is running or being composed; wait until it ends."}, nil)
	case errors.Is(err, recording.ErrEmpty):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: CodeRecordingEmpty,
			Message:   "Bản ghi không có hình hay tiếng nào để dựng.",
			MessageEN: "The recording holds nothing to compose."}, nil)
	case errors.Is(err, recording.ErrNotRecording):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: CodeNotRecording,
			Message:   "Hội nghị không đang được ghi.",
			MessageEN: "The conference is not being recorded."}, nil)
	case errors.Is(err, recording.ErrDiskFull):
		s.fail(w, r, &apiError{Status: http.StatusInsufficientStorage, Code: CodeDiskFull,
			Message:   "Ổ đĩa máy chủ không đủ chỗ trống để ghi hình. Hãy xoá bớt bản ghi cũ hoặc báo quản trị máy chủ.",
			MessageEN: "Not enough free disk space to record: " + err.Error()}, nil)
	case errors.Is(err, recording.ErrFFmpegMissing):
		s.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: CodeFFmpegMissing,
			Message:   "Máy chủ chưa cài ffmpeg (gói Debian \"ffmpeg\"), cần để dựng bản lưu trữ và phát trực tiếp.",
			MessageEN: err.Error()}, nil)
	case errors.Is(err, recording.ErrLiveRunning):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: CodeLiveRunning,
			Message:   "Hội nghị đang được phát trực tiếp.",
			MessageEN: "The conference is already broadcast live."}, nil)
	case errors.Is(err, recording.ErrLiveNotRunning):
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: CodeLiveNotRunning,
			Message:   "Hội nghị không đang được phát trực tiếp.",
			MessageEN: "The conference is not broadcast live."}, nil)
	case errors.Is(err, recording.ErrBadTarget):
		s.fail(w, r, &apiError{Status: http.StatusBadRequest, Code: CodeBadTarget,
			Message:   "Địa chỉ phát trực tiếp không hợp lệ: chọn HLS, hoặc nhập địa chỉ rtmp:// hay rtmps:// kèm khoá luồng.",
			MessageEN: err.Error()}, nil)
	default:
		s.fail(w, r, errInternal(), err)
	}
}
