package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
)

// MediaSessions opens and ends the WHIP and WHEP sessions; *signal.Hub
// is one.
type MediaSessions interface {
	// Ingest answers a WHIP offer of the admitted ingest.
	Ingest(ctx context.Context, a signal.Admission, offer string) (*signal.Session, error)
	// Watch answers a WHEP offer of the admitted viewer.
	Watch(ctx context.Context, a signal.Admission, offer string) (*signal.Session, error)
	// EndSession ends session id of conf and role, reporting whether it
	// was open.
	EndSession(conf string, role conference.Role, id string) bool
	// AddSessionCandidates adds trickled candidates of ICE username
	// fragment ufrag to session id of conf and role.
	AddSessionCandidates(conf string, role conference.Role, id, ufrag string, cands []webrtc.ICECandidateInit) error
}

// Paths of the WHIP endpoint (the hall program from a mixer) and the WHEP
// endpoint (watching it), below the base URL; the conference id follows,
// and a session's resource is that and its id.
const (
	WHIPPath = "/whip/"
	WHEPPath = "/whep/"
)

// Content types of WHIP and WHEP.
const (
	contentSDP     = "application/sdp"
	contentSDPFrag = "application/trickle-ice-sdpfrag"
)

// Error codes of the WHIP and WHEP endpoints.
const (
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeBadSDP               = "bad_sdp"
	CodeTooManyViewers       = "too_many_viewers"
	CodeMediaUnavailable     = "media_unavailable"
	CodePreconditionFailed   = "precondition_failed"
	CodeICERestart           = "ice_restart_unsupported"
)

// sessionTimeout bounds the answer to one offer: the SFU gathers its
// candidates at once, so this is only a guard.
const sessionTimeout = 10 * time.Second

// mediaEndpoint is the WHIP or the WHEP endpoint.
type mediaEndpoint struct {
	path string          // WHIPPath or WHEPPath
	role conference.Role // the one role it admits
	name string          // "WHIP" or "WHEP", for messages
}

var (
	whipEndpoint = mediaEndpoint{path: WHIPPath, role: conference.RoleIngest, name: "WHIP"}
	whepEndpoint = mediaEndpoint{path: WHEPPath, role: conference.RoleViewer, name: "WHEP"}
)

func (s *Server) mediaRoutes(m *http.ServeMux) {
	open := func(e mediaEndpoint) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { s.openMediaSession(w, r, e) }
	}
	end := func(e mediaEndpoint) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { s.endMediaSession(w, r, e) }
	}
	patch := func(e mediaEndpoint) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { s.patchMediaSession(w, r, e) }
	}
	endpoint := func(w http.ResponseWriter, _ *http.Request) { preflight(w, "POST, OPTIONS") }
	resource := func(w http.ResponseWriter, _ *http.Request) { preflight(w, "PATCH, DELETE, OPTIONS") }
	m.HandleFunc("POST /whip/{id}", open(whipEndpoint))
	m.HandleFunc("OPTIONS /whip/{id}", endpoint)
	m.HandleFunc("PATCH /whip/{id}/{session}", patch(whipEndpoint))
	m.HandleFunc("DELETE /whip/{id}/{session}", end(whipEndpoint))
	m.HandleFunc("OPTIONS /whip/{id}/{session}", resource)
	m.HandleFunc("POST /whep/{id}", open(whepEndpoint))
	m.HandleFunc("OPTIONS /whep/{id}", endpoint)
	m.HandleFunc("PATCH /whep/{id}/{session}", patch(whepEndpoint))
	m.HandleFunc("DELETE /whep/{id}/{session}", end(whepEndpoint))
	m.HandleFunc("OPTIONS /whep/{id}/{session}", resource)
}

// allowCORS lets pages of any origin use the endpoints: they are entered
// by a Bearer token, never by a cookie, so another site gains nothing a
// token does not already give.
func allowCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, ETag, Link")
}

// preflight answers a CORS preflight (OPTIONS) of a WHIP or WHEP URL.
func preflight(w http.ResponseWriter, methods string) {
	allowCORS(w)
	h := w.Header()
	h.Set("Allow", methods)
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func errUnsupportedMediaType(want string) *apiError {
	return &apiError{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType,
		Message:   "Kiểu dữ liệu gửi lên phải là " + want + ".",
		MessageEN: "The request body must be " + want + "."}
}

func errBadSDP(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeBadSDP,
		Message:   "Mô tả phiên (SDP) không hợp lệ: " + detail,
		MessageEN: "The session description (SDP) is not valid: " + detail}
}

func errTooManyViewers() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: CodeTooManyViewers,
		Message:   "Hội nghị đã đủ số người xem tối đa. Vui lòng thử lại sau.",
		MessageEN: "The conference has as many viewers as it may. Please try again later."}
}

func errMediaUnavailable() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: CodeMediaUnavailable,
		Message:   "Máy chủ không nhận thêm phiên hình và tiếng lúc này.",
		MessageEN: "The server accepts no media sessions now."}
}

func errPreconditionFailed() *apiError {
	return &apiError{Status: http.StatusPreconditionFailed, Code: CodePreconditionFailed,
		Message:   "If-Match không khớp với phiên ICE hiện tại.",
		MessageEN: "If-Match does not match the session's ICE session."}
}

func errICERestart() *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: CodeICERestart,
		Message:   "Máy chủ không hỗ trợ khởi động lại ICE; hãy xóa phiên và tạo phiên mới.",
		MessageEN: "ICE restarts are not supported; DELETE the session and POST a new one."}
}

// readSDP reads r's body of content type want, at most MaxBodyBytes.
func readSDP(w http.ResponseWriter, r *http.Request, want string) (string, *apiError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return "", errUnsupportedMediaType(want)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return "", errBodyTooLarge()
	case err != nil:
		return "", errBadSDP(err.Error())
	}
	return string(body), nil
}

// openMediaSession answers a WHIP or WHEP POST: the client's SDP offer
// with the server's answer, 201 Created and the session's resource in
// Location.
func (s *Server) openMediaSession(w http.ResponseWriter, r *http.Request, e mediaEndpoint) {
	allowCORS(w)
	conf := r.PathValue("id")
	a, ok := s.admitOrFail(w, r, rule{conf: conf, roles: []conference.Role{e.role}})
	if !ok {
		return
	}
	offer, bad := readSDP(w, r, contentSDP)
	if bad == nil && !strings.HasPrefix(offer, "v=0") {
		bad = errBadSDP("the body is not an SDP offer")
	}
	if bad != nil {
		s.fail(w, r, bad, nil)
		return
	}
	if s.d.Sessions == nil {
		s.fail(w, r, errMediaUnavailable(), nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), sessionTimeout)
	defer cancel()
	open := s.d.Sessions.Ingest
	if e.role == conference.RoleViewer {
		open = s.d.Sessions.Watch
	}
	sess, err := open(ctx, a, offer)
	switch {
	case errors.Is(err, signal.ErrTooManyViewers):
		w.Header().Set("Retry-After", "30")
		s.fail(w, r, errTooManyViewers(), nil)
		return
	case errors.Is(err, sfu.ErrBadSDP):
		s.fail(w, r, errBadSDP(err.Error()), nil)
		return
	case errors.Is(err, sfu.ErrClosed):
		s.fail(w, r, errMediaUnavailable(), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("%s session: %w", e.name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentSDP)
	h.Set("Cache-Control", "no-store")
	h.Set("Location", e.path+conf+"/"+sess.ID)
	h.Set("ETag", `"`+sess.ID+`"`)
	for _, l := range iceServerLinks(s.d.ICEServers(sess.ParticipantID)) {
		h.Add("Link", l)
	}
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, sess.Answer)
}

// endMediaSession answers a DELETE of a session's resource: the session
// ends (200), or there is none (404).
func (s *Server) endMediaSession(w http.ResponseWriter, r *http.Request, e mediaEndpoint) {
	allowCORS(w)
	conf := r.PathValue("id")
	if _, ok := s.admitOrFail(w, r, rule{conf: conf, roles: []conference.Role{e.role}}); !ok {
		return
	}
	if s.d.Sessions == nil || !s.d.Sessions.EndSession(conf, e.role, r.PathValue("session")) {
		s.fail(w, r, errNotFound(), nil)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// patchMediaSession answers a PATCH of a session's resource: trickled ICE
// candidates of the client (application/trickle-ice-sdpfrag) are added
// (204); an ICE restart is refused (422).
func (s *Server) patchMediaSession(w http.ResponseWriter, r *http.Request, e mediaEndpoint) {
	allowCORS(w)
	conf, id := r.PathValue("id"), r.PathValue("session")
	if _, ok := s.admitOrFail(w, r, rule{conf: conf, roles: []conference.Role{e.role}}); !ok {
		return
	}
	frag, bad := readSDP(w, r, contentSDPFrag)
	if bad != nil {
		s.fail(w, r, bad, nil)
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != `"`+id+`"` {
		s.fail(w, r, errPreconditionFailed(), nil)
		return
	}
	if s.d.Sessions == nil {
		s.fail(w, r, errNotFound(), nil)
		return
	}
	ufrag, cands := parseSDPFrag(frag)
	err := s.d.Sessions.AddSessionCandidates(conf, e.role, id, ufrag, cands)
	switch {
	case errors.Is(err, signal.ErrNoSession):
		s.fail(w, r, errNotFound(), nil)
	case errors.Is(err, signal.ErrICERestart):
		s.fail(w, r, errICERestart(), nil)
	case err != nil:
		s.fail(w, r, errBadSDP(err.Error()), nil)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// parseSDPFrag reads an SDP fragment of trickle ICE (RFC 8840): its ICE
// username fragment ("" when it names none) and its candidates, each of
// the media section (a=mid) it follows.
func parseSDPFrag(frag string) (ufrag string, cands []webrtc.ICECandidateInit) {
	var mid *string
	index := -1
	for line := range strings.Lines(frag) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			if ufrag == "" {
				ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
			}
		case strings.HasPrefix(line, "m="):
			index++
			mid = nil
		case strings.HasPrefix(line, "a=mid:"):
			m := strings.TrimPrefix(line, "a=mid:")
			mid = &m
		case strings.HasPrefix(line, "a=candidate:"):
			c := webrtc.ICECandidateInit{Candidate: strings.TrimPrefix(line, "a="), SDPMid: mid}
			if index >= 0 {
				i := uint16(index)
				c.SDPMLineIndex = &i
			}
			cands = append(cands, c)
		}
	}
	return ufrag, cands
}

// iceServerLinks writes servers as Link headers of relation ice-server
// (RFC 9725, section 4.6).
func iceServerLinks(servers []protocol.ICEServer) []string {
	var out []string
	for _, sv := range servers {
		for _, u := range sv.URLs {
			l := "<" + u + `>; rel="ice-server"`
			if sv.Username != "" {
				l += `; username="` + quoteLink(sv.Username) + `"; credential="` + quoteLink(sv.Credential) + `"; credential-type="password"`
			}
			out = append(out, l)
		}
	}
	return out
}

// quoteLink escapes s for a quoted string of a Link header.
func quoteLink(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
