package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/signal"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
)

// The technician's administration API: the list of conferences, creating
// one, its status, inviting registry points, and point links (their print
// sheet, QR codes, and revoking and reissuing them). The point registry is
// in registry.go. Routes that concern no single conference are admitted
// by admitStaff (a logged-in technician, or a technician token of any
// existing conference); the others by a technician of the conference.

// Error codes of the administration API.
const (
	CodeConflict    = "conflict"     // the conference's status does not allow the change
	CodeExists      = "exists"       // a conference with this id exists already
	CodeBadFile     = "bad_file"     // an imported file was refused
	CodeLinkRevoked = "link_revoked" // the point's link was revoked and reissued
)

// MaxImportBytes is the largest file the registry import reads.
const MaxImportBytes = 4 << 20

func errConflict(vi, en string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: CodeConflict,
		Message: "Không thể thực hiện: " + vi, MessageEN: "Not possible now: " + en}
}

func errExists(id string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: CodeExists,
		Message:   fmt.Sprintf("Đã có hội nghị mã %q.", id),
		MessageEN: fmt.Sprintf("A conference with id %q exists already.", id)}
}

func errBadFile(e *fileError) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeBadFile,
		Message: "Tệp không hợp lệ, chưa nhập gì: " + e.vi, MessageEN: "The file was refused and nothing was imported: " + e.en}
}

func errLinkRevoked() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodeLinkRevoked,
		Message:   "Đường dẫn này đã bị thu hồi." + callTechnician + " để nhận đường dẫn mới.",
		MessageEN: "This link has been revoked. Please call the hall technician for the new link."}
}

// checkLinkVersion refuses the claims of a point's link older than the
// point's current link (see store.LinkVersion). Login sessions and hall
// roles have no link version.
func (s *Server) checkLinkVersion(ctx context.Context, c *token.Claims) (*apiError, error) {
	if c.Role != conference.RolePoint || c.Issuer == SessionIssuer {
		return nil, nil
	}
	v, err := s.d.Store.LinkVersion(ctx, c.Conference, c.Point)
	if err != nil {
		return errInternal(), fmt.Errorf("admit: link version of %s/%s: %w", c.Conference, c.Point, err)
	}
	if c.Version < v {
		return errLinkRevoked(), nil
	}
	return nil, nil
}

// Revoker closes the connections of a point's revoked links; *signal.Hub is
// one. A Hub that is not a Revoker leaves connected pages of a revoked link
// connected until they reconnect.
type Revoker interface {
	Revoke(conf, point string, version int64) int
}

// StageNotifier tells the connected pages of a conference its new stage;
// *signal.Hub is one. With a Hub that is not one, pages learn the stage
// when they reconnect.
type StageNotifier interface {
	StageChanged(conf string, stage store.Status)
}

// actor names who acts in the audit log: the user of a login session, else
// the role of the link.
func actor(a signal.Admission) string {
	if a.Claims == nil {
		return ""
	}
	if a.Claims.Issuer == SessionIssuer && a.Claims.Subject != "" {
		return a.Claims.Subject
	}
	return string(a.Claims.Role)
}

// auditLog serves the conference's audit log, oldest first, to its
// technician: who did what to whom, and when.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly}); !ok {
		return
	}
	entries, err := s.d.Store.AuditLog(r.Context(), id)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("audit log of %s: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, list(entries))
}

// audit appends an action to the conference's audit log; a failure is
// logged, since the action itself is done.
func (s *Server) audit(ctx context.Context, a signal.Admission, confID, action, target, detail string) {
	e := store.AuditEntry{At: s.d.Now(), By: actor(a), Role: a.Claims.Role, Action: action, Target: target, Detail: detail}
	if err := s.d.Store.Audit(context.WithoutCancel(ctx), confID, e); err != nil {
		s.d.Log.Error("audit", "conference", confID, "action", action, "err", err)
	}
}

func (s *Server) adminRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/conferences/{id}/audit", s.auditLog)
	m.HandleFunc("GET /api/conferences", s.listConferences)
	m.HandleFunc("POST /api/conferences", s.createConference)
	m.HandleFunc("GET /api/conferences/{id}/status", s.conferenceStatus)
	m.HandleFunc("POST /api/conferences/{id}/status", s.setConferenceStatus)
	m.HandleFunc("POST /api/conferences/{id}/invite", s.invitePoints)
	m.HandleFunc("GET /api/conferences/{id}/links/sheet", s.linkSheet)
	m.HandleFunc("GET /api/conferences/{id}/links/{pid}/qr.png", s.linkQR)
	m.HandleFunc("POST /api/conferences/{id}/links/{pid}/reissue", s.reissueLink)
	s.registryRoutes(m)
}

func (s *Server) listConferences(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admitStaff(w, r, technicianOnly); !ok {
		return
	}
	all, err := s.d.Store.ConferenceOverviews(r.Context())
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("list conferences: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, list(all))
}

// CreatedConference is the answer to POST /api/conferences: the stored
// conference and a technician link to it, since the link that created it
// may belong to another conference.
type CreatedConference struct {
	conference.Conference
	TechnicianURL string `json:"technician_url"`
}

func (s *Server) createConference(w http.ResponseWriter, r *http.Request) {
	a, ok := s.admitStaff(w, r, technicianOnly)
	if !ok {
		return
	}
	var c conference.Conference
	if e := decodeBody(w, r, &c); e != nil {
		s.fail(w, r, e, nil)
		return
	}
	if c.TimeZone == "" {
		c.TimeZone = conference.DefaultTimeZone
	}
	if err := c.Validate(); err != nil {
		s.fail(w, r, errBadBody(err.Error()), nil)
		return
	}
	ctx := r.Context()
	// Two technicians creating the same id at the same moment both
	// succeed, the later one's settings winning; ids are chosen by people.
	_, err := s.d.Store.Conference(ctx, c.ID)
	switch {
	case err == nil:
		s.fail(w, r, errExists(c.ID), nil)
		return
	case !errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errInternal(), fmt.Errorf("create conference %s: %w", c.ID, err))
		return
	}
	c.CreatedAt = time.Time{}
	if err := s.d.Store.PutConference(ctx, c); err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("create conference %s: %w", c.ID, err))
		return
	}
	c, err = s.d.Store.Conference(ctx, c.ID)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("create conference: read back: %w", err))
		return
	}
	links, err := Links(s.d.Issuer, s.d.BaseURL, c, nil, s.d.Now().Add(s.d.LinkTTL))
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	s.audit(ctx, a, c.ID, "conference_created", "", c.Title)
	s.d.Log.Info("conference created", "conference", c.ID, "by", actor(a))
	w.Header().Set("Location", "/api/conferences/"+c.ID)
	writeJSON(w, http.StatusCreated, CreatedConference{Conference: c, TechnicianURL: links[0].URL})
}

func (s *Server) conferenceStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.admitOrFail(w, r, rule{conf: id, roles: hallRoles}); !ok {
		return
	}
	info, err := s.d.Store.ConferenceStatus(r.Context(), id)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("status of %s: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// StatusChange is the body of POST /api/conferences/{id}/status.
type StatusChange struct {
	// Status is scheduled, testing or archived. Starting and ending the
	// conference are the technician's conference action over signaling.
	Status store.Status `json:"status"`
	// ScheduledStart, with status scheduled, sets the conference's
	// scheduled start first.
	ScheduledStart time.Time `json:"scheduled_start,omitzero"`
}

// StatusChanged is the answer to a status change.
type StatusChanged struct {
	From   store.Status `json:"from"`
	Status store.Status `json:"status"`
}

func (s *Server) setConferenceStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly})
	if !ok {
		return
	}
	var req StatusChange
	if e := decodeBody(w, r, &req); e != nil {
		s.fail(w, r, e, nil)
		return
	}
	switch req.Status {
	case store.StatusScheduled, store.StatusTesting, store.StatusArchived:
	case store.StatusRunning, store.StatusEnded:
		s.fail(w, r, errBadBody(fmt.Sprintf("status %q: start and end the conference from the console (the conference action over signaling)", req.Status)), nil)
		return
	default:
		s.fail(w, r, errBadBody(fmt.Sprintf("status %q: use scheduled, testing or archived", req.Status)), nil)
		return
	}
	if !req.ScheduledStart.IsZero() && req.Status != store.StatusScheduled {
		s.fail(w, r, errBadBody("scheduled_start goes only with status scheduled"), nil)
		return
	}
	ctx := r.Context()
	if !req.ScheduledStart.IsZero() {
		info, err := s.d.Store.ConferenceStatus(ctx, id)
		if err != nil {
			s.fail(w, r, errInternal(), fmt.Errorf("status of %s: %w", id, err))
			return
		}
		if !store.CanChange(info.Status, store.StatusScheduled) {
			s.fail(w, r, statusConflict(info.Status, req.Status), nil)
			return
		}
		c := a.Conference
		c.ScheduledStart = req.ScheduledStart
		if err := s.d.Store.PutConference(ctx, c); err != nil {
			s.fail(w, r, errInternal(), fmt.Errorf("schedule %s: %w", id, err))
			return
		}
	}
	from, now, err := s.d.Store.SetConferenceStatus(ctx, id, req.Status, s.d.Now())
	switch {
	case errors.Is(err, store.ErrNoSchedule):
		s.fail(w, r, errBadBody("set scheduled_start to schedule the conference"), nil)
		return
	case errors.Is(err, store.ErrTransition):
		info, _ := s.d.Store.ConferenceStatus(ctx, id)
		s.fail(w, r, statusConflict(info.Status, req.Status), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("set status of %s: %w", id, err))
		return
	}
	s.audit(ctx, a, id, "status", "", string(from)+" -> "+string(now))
	if n, ok := s.d.Hub.(StageNotifier); ok {
		n.StageChanged(id, now)
	}
	s.d.Log.Info("conference status", "conference", id, "from", string(from), "to", string(now), "by", actor(a))
	writeJSON(w, http.StatusOK, StatusChanged{From: from, Status: now})
}

// statusNames are the Vietnamese names of the statuses, for messages.
var statusNames = map[store.Status]string{
	store.StatusDraft: "nháp", store.StatusScheduled: "đã lên lịch", store.StatusTesting: "đang kiểm tra kỹ thuật",
	store.StatusRunning: "đang diễn ra", store.StatusEnded: "đã kết thúc", store.StatusArchived: "đã lưu trữ",
}

func statusConflict(from, to store.Status) *apiError {
	return errConflict(
		fmt.Sprintf("hội nghị %s không thể chuyển sang %s.", statusNames[from], statusNames[to]),
		fmt.Sprintf("a %s conference cannot become %s.", from, to))
}

// Invitation is the body of POST /api/conferences/{id}/invite: points of a
// province's registry to invite. No points invites the whole registry.
type Invitation struct {
	Province string   `json:"province"`
	Points   []string `json:"points,omitempty"`
}

// Invited is the answer to an invitation: how many points were new, and
// every point of the conference.
type Invited struct {
	Added  int                `json:"added"`
	Points []conference.Point `json:"points"`
}

func (s *Server) invitePoints(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly})
	if !ok {
		return
	}
	var req Invitation
	if e := decodeBody(w, r, &req); e != nil {
		s.fail(w, r, e, nil)
		return
	}
	if err := conference.ValidateID(req.Province); err != nil {
		s.fail(w, r, errBadBody("province: "+err.Error()), nil)
		return
	}
	ctx := r.Context()
	reg, err := s.d.Store.RegistryPoints(ctx, req.Province)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("invite to %s: %w", id, err))
		return
	}
	chosen := reg
	if len(req.Points) > 0 {
		byID := make(map[string]conference.Point, len(reg))
		for _, p := range reg {
			byID[p.ID] = p
		}
		chosen = make([]conference.Point, 0, len(req.Points))
		for _, pid := range req.Points {
			p, ok := byID[pid]
			if !ok {
				s.fail(w, r, errBadBody(fmt.Sprintf("point %q is not in the registry of %s", pid, req.Province)), nil)
				return
			}
			chosen = append(chosen, p)
		}
	}
	if len(chosen) == 0 {
		s.fail(w, r, errBadBody(fmt.Sprintf("the registry of %s has no points", req.Province)), nil)
		return
	}
	// Registry points were validated when stored, so a failure here is
	// the store's.
	added, err := s.d.Store.InvitePoints(ctx, id, chosen)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("invite to %s: %w", id, err))
		return
	}
	points, err := s.d.Store.Points(ctx, id)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("invite to %s: %w", id, err))
		return
	}
	s.audit(ctx, a, id, "points_invited", req.Province, fmt.Sprintf("%d points, %d new", len(chosen), added))
	s.d.Log.Info("points invited", "conference", id, "province", req.Province, "points", len(chosen), "new", added)
	writeJSON(w, http.StatusOK, Invited{Added: added, Points: list(points)})
}

// ConferenceLinks returns the links of conf: technician, chair and
// secretariat, issued now and valid for ttl, then one per invited point,
// the point's current link as the store records it (see
// store.PointLinks), created or renewed for ttl where it has none or it
// has expired, then the media endpoints' (MediaLinks). baseURL has no
// trailing slash.
func ConferenceLinks(ctx context.Context, st *store.Store, iss *token.Issuer, baseURL string, conf conference.Conference, now time.Time, ttl time.Duration) ([]Link, error) {
	points, err := st.Points(ctx, conf.ID)
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", conf.ID, err)
	}
	links, err := Links(iss, baseURL, conf, nil, now.Add(ttl))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(points))
	for i, p := range points {
		ids[i] = p.ID
	}
	recs, err := st.PointLinks(ctx, conf.ID, ids, now, now.Add(ttl))
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", conf.ID, err)
	}
	for _, p := range points {
		rec, ok := recs[p.ID]
		if !ok {
			continue // removed meanwhile
		}
		l, err := pointLink(iss, baseURL, conf.ID, p, rec)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	media, err := MediaLinks(iss, baseURL, conf, now.Add(ttl))
	if err != nil {
		return nil, err
	}
	return append(links, media...), nil
}

// pointLink signs the link of point p in conference confID as recorded in
// rec.
func pointLink(iss *token.Issuer, baseURL, confID string, p conference.Point, rec store.PointLink) (Link, error) {
	t, err := iss.IssueVersion(confID, conference.RolePoint, p.ID, rec.Version, rec.IssuedAt, rec.ExpiresAt)
	if err != nil {
		return Link{}, fmt.Errorf("link of point %s in %s: %w", p.ID, confID, err)
	}
	return Link{Role: conference.RolePoint, PointID: p.ID, Name: p.Name,
		URL: baseURL + PointPage + "?t=" + url.QueryEscape(t), ExpiresAt: rec.ExpiresAt.UTC()}, nil
}

// Reissued is the answer to reissuing a point's link: the new link, its
// version, and how many connections of the old one were closed.
type Reissued struct {
	Link
	Version int64 `json:"version"`
	Closed  int   `json:"closed"`
}

func (s *Server) reissueLink(w http.ResponseWriter, r *http.Request) {
	id, pid := r.PathValue("id"), r.PathValue("pid")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly})
	if !ok {
		return
	}
	ctx := r.Context()
	p, err := s.d.Store.Point(ctx, id, pid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errNotFound(), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("reissue link of %s/%s: %w", id, pid, err))
		return
	}
	now := s.d.Now()
	rec, err := s.d.Store.ReissuePointLink(ctx, id, pid, now, now.Add(s.d.LinkTTL))
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errNotFound(), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("reissue link of %s/%s: %w", id, pid, err))
		return
	}
	// The store refuses the old link from now on; close its connections.
	closed := 0
	if rv, ok := s.d.Hub.(Revoker); ok {
		closed = rv.Revoke(id, pid, rec.Version)
	} else {
		s.d.Log.Warn("hub cannot revoke; connections of the old link stay until they reconnect", "conference", id, "point", pid)
	}
	l, err := pointLink(s.d.Issuer, s.d.BaseURL, id, p, rec)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	s.audit(ctx, a, id, "link_reissued", pid, fmt.Sprintf("version %d, %d connections closed", rec.Version, closed))
	s.d.Log.Info("point link reissued", "conference", id, "point", pid, "version", rec.Version, "closed", closed, "by", actor(a))
	writeJSON(w, http.StatusOK, Reissued{Link: l, Version: rec.Version, Closed: closed})
}
