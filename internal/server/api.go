package server

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/store"
)

// Session is the body of GET /api/session: who the token admits.
type Session struct {
	ConferenceID    string          `json:"conference_id"`
	ConferenceTitle string          `json:"conference_title"`
	Role            conference.Role `json:"role"`
	PointID         string          `json:"point_id,omitempty"`
	Name            string          `json:"name"`
	TechnicianPhone string          `json:"technician_phone,omitempty"`
	// TimeZone is the conference's time zone (IANA), in which the pages
	// write every time.
	TimeZone   string               `json:"time_zone"`
	ExpiresAt  time.Time            `json:"expires_at,omitzero"`
	ICEServers []protocol.ICEServer `json:"ice_servers"`
	// VideoLayers are the simulcast encodings of a camera, as welcome
	// tells them: the page opens the camera large enough for them.
	VideoLayers []protocol.VideoLayer `json:"video_layers,omitempty"`
}

func (s *Server) session(w http.ResponseWriter, r *http.Request) {
	a, ok := s.admitOrFail(w, r, rule{})
	if !ok || s.d.Hub.RefuseIfLinkFull(w, a) {
		return
	}
	user := a.Claims.Point
	if user == "" {
		user = string(a.Claims.Role)
	}
	out := Session{
		ConferenceID:    a.Conference.ID,
		ConferenceTitle: a.Conference.Title,
		Role:            a.Claims.Role,
		PointID:         a.Claims.Point,
		Name:            a.Name(),
		TechnicianPhone: a.Conference.TechnicianPhone,
		TimeZone:        cmp.Or(a.Conference.TimeZone, conference.DefaultTimeZone),
		ICEServers:      list(s.d.ICEServers(user)),
		VideoLayers:     s.d.Hub.VideoLayers(),
	}
	if a.Claims.ExpiresAt != nil {
		out.ExpiresAt = a.Claims.ExpiresAt.UTC()
	}
	writeJSON(w, http.StatusOK, out)
}

var technicianOnly = []conference.Role{conference.RoleTechnician}

func (s *Server) putConference(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly, newConference: true})
	if !ok {
		return
	}
	var c conference.Conference
	if e := decodeBody(w, r, &c); e != nil {
		s.fail(w, r, e, nil)
		return
	}
	if c.ID == "" {
		c.ID = id
	}
	if c.ID != id {
		s.fail(w, r, errBadBody(fmt.Sprintf("id %q differs from the path's %q", c.ID, id)), nil)
		return
	}
	if c.TimeZone == "" {
		c.TimeZone = conference.DefaultTimeZone
	}
	if err := c.Validate(); err != nil {
		s.fail(w, r, errBadBody(err.Error()), nil)
		return
	}
	created := a.Conference.ID == ""
	ctx := r.Context()
	if err := s.d.Store.PutConference(ctx, c); err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("put conference %s: %w", id, err))
		return
	}
	// Read back what the store keeps, with its created_at.
	c, err := s.d.Store.Conference(ctx, id)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("put conference %s: read back: %w", id, err))
		return
	}
	s.d.Log.Info("conference saved", "conference", id, "created", created)
	writeJSON(w, createdOrOK(created), c)
}

func (s *Server) putPoint(w http.ResponseWriter, r *http.Request) {
	id, pid := r.PathValue("id"), r.PathValue("pid")
	if _, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly}); !ok {
		return
	}
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
	ctx := r.Context()
	_, err := s.d.Store.Point(ctx, id, pid)
	created := errors.Is(err, store.ErrNotFound)
	if err != nil && !created {
		s.fail(w, r, errInternal(), fmt.Errorf("put point %s/%s: %w", id, pid, err))
		return
	}
	if err := s.d.Store.PutPoint(ctx, id, p); err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("put point %s/%s: %w", id, pid, err))
		return
	}
	s.d.Log.Info("point saved", "conference", id, "point", pid, "created", created)
	writeJSON(w, createdOrOK(created), p)
}

func createdOrOK(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (s *Server) links(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly})
	if !ok {
		return
	}
	// Point links are the points' current links; see admin.go.
	links, err := ConferenceLinks(r.Context(), s.d.Store, s.d.Issuer, s.d.BaseURL, a.Conference, s.d.Now(), s.d.LinkTTL)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	writeJSON(w, http.StatusOK, links)
}

// hallRoles are the roles that see a conference's list of invited points.
var hallRoles = []conference.Role{conference.RoleTechnician, conference.RoleChair, conference.RoleSecretariat}

func (s *Server) points(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.admitOrFail(w, r, rule{conf: id, roles: hallRoles}); !ok {
		return
	}
	points, err := s.d.Store.Points(r.Context(), id)
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("points of %s: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, list(points))
}

// signalingRoles join over the signaling WebSocket: every role but
// ingest and viewer, which come in by WHIP and WHEP alone.
var signalingRoles = []conference.Role{conference.RoleTechnician, conference.RoleChair, conference.RolePoint, conference.RoleSecretariat}

func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	a, ok := s.admitOrFail(w, r, rule{roles: signalingRoles})
	if !ok {
		return
	}
	s.d.Hub.Serve(w, r, a)
}
