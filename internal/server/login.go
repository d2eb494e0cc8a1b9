package server

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"hoinghi/internal/auth"
	"hoinghi/internal/conference"
	"hoinghi/internal/signal"
	"hoinghi/internal/token"
)

// Error codes of logins and of requests admitted by a session cookie.
const (
	CodeLoginFailed       = "login_failed"
	CodeLoginRequired     = "login_required"
	CodeTooManyAttempts   = "too_many_attempts"
	CodeCSRF              = "csrf_failed"
	CodeBadOrigin         = "bad_origin"
	CodeConferenceMissing = "conference_missing"
)

// SessionIssuer is the Issuer of the claims that admit a request by a login
// session rather than by a token, so that checks meant for links (such as a
// revoked link) can tell them apart. Their Subject is the user's name.
const SessionIssuer = "hoinghi-login"

// LoginPage is the staff's login page, below the base URL.
const LoginPage = "/login/"

func errLoginFailed() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodeLoginFailed,
		Message:   "Sai tên đăng nhập hoặc mật khẩu.",
		MessageEN: "Wrong user name or password."}
}

func errLoginRequired() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodeLoginRequired,
		Message:   "Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Vui lòng đăng nhập lại.",
		MessageEN: "Your login has expired or is not valid. Please log in again."}
}

func errTooManyAttempts(wait time.Duration) *apiError {
	secs := int(wait.Round(time.Second) / time.Second)
	return &apiError{Status: http.StatusTooManyRequests, Code: CodeTooManyAttempts,
		Message:   fmt.Sprintf("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %d giây.", secs),
		MessageEN: fmt.Sprintf("Too many login attempts. Please try again in %d seconds.", secs)}
}

func errCSRF() *apiError {
	return &apiError{Status: http.StatusForbidden, Code: CodeCSRF,
		Message:   "Yêu cầu thiếu mã bảo vệ của trang. Vui lòng tải lại trang rồi thử lại.",
		MessageEN: "The request lacks the page's CSRF token. Please reload the page and try again."}
}

func errBadOrigin() *apiError {
	return &apiError{Status: http.StatusForbidden, Code: CodeBadOrigin,
		Message:   "Yêu cầu đến từ một trang web khác.",
		MessageEN: "The request comes from another web site."}
}

func errConferenceMissing() *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeConferenceMissing,
		Message:   "Chưa chọn hội nghị (thêm ?conference=MÃ_HỘI_NGHỊ vào địa chỉ).",
		MessageEN: "No conference is named: add ?conference=ID to the address."}
}

func (s *Server) loginRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/login", s.login)
	m.HandleFunc("POST /api/logout", s.logout)
	m.HandleFunc("GET /api/me", s.me)
}

// requestClaims returns what admits r: its token when it carries one (the
// query parameter t or a Bearer header), else its login session cookie as
// claims of the user's role in the conference the path names (or, without
// one, the conference query parameter). Errors are the token's
// (token.ErrMissing and the like) or an *apiError for the session.
func (s *Server) requestClaims(r *http.Request, ru rule) (*token.Claims, error) {
	if !s.bySession(r) {
		return s.d.Issuer.Verify(requestToken(r))
	}
	claims, e := s.sessionClaims(r)
	if e != nil {
		return nil, e
	}
	conf := ru.conf
	if conf == "" {
		conf = r.URL.Query().Get("conference")
	}
	if conf == "" {
		return nil, errConferenceMissing()
	}
	if conference.ValidateID(conf) != nil {
		return nil, errConferenceNotFound()
	}
	claims.Conference = conf
	return claims, nil
}

// bySession reports whether r is to be admitted by its session cookie: it
// carries no token, and a session cookie (valid or not). A token wins, so
// that a logged-in technician who opens a point's link acts as the point.
func (s *Server) bySession(r *http.Request) bool {
	return requestToken(r) == "" && s.d.Auth != nil && auth.HasCookie(r)
}

// sessionClaims verifies r's session cookie and, for an unsafe method, its
// CSRF header, and returns claims of the user's role in no conference yet,
// with Issuer SessionIssuer and Subject the user's name.
func (s *Server) sessionClaims(r *http.Request) (*token.Claims, *apiError) {
	sess, err := s.d.Auth.FromRequest(r)
	if err != nil {
		return nil, errLoginRequired()
	}
	if !s.d.Auth.CheckCSRF(r, sess) {
		return nil, errCSRF()
	}
	return &token.Claims{
		Role: sess.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    SessionIssuer,
			Subject:   sess.User,
			ID:        sess.ID,
			ExpiresAt: jwt.NewNumericDate(sess.Expiry()),
		},
	}, nil
}

// admitStaff admits r to a route that concerns no single conference (such
// as the list of conferences or the point registry) when it comes from one
// of roles: a logged-in user (no conference needed; Admission.Conference
// is zero), or a token of that role for any existing conference. Otherwise
// it sends the refusal and returns false.
func (s *Server) admitStaff(w http.ResponseWriter, r *http.Request, roles []conference.Role) (signal.Admission, bool) {
	if !s.bySession(r) {
		return s.admitOrFail(w, r, rule{roles: roles})
	}
	claims, e := s.sessionClaims(r)
	if e == nil && !slices.Contains(roles, claims.Role) {
		e = errForbidden()
	}
	if e != nil {
		s.fail(w, r, e, nil)
		return signal.Admission{}, false
	}
	return signal.Admission{Claims: claims}, true
}

// Me is the body of POST /api/login and GET /api/me: who is logged in,
// until when, and the CSRF token that unsafe requests carry in the
// X-CSRF-Token header.
type Me struct {
	Name      string          `json:"name"`
	Role      conference.Role `json:"role"`
	ExpiresAt time.Time       `json:"expires_at"`
	CSRFToken string          `json:"csrf_token"`
}

func (s *Server) meOf(sess auth.Session) Me {
	return Me{Name: sess.User, Role: sess.Role, ExpiresAt: sess.Expiry(), CSRFToken: s.d.Auth.CSRFToken(sess)}
}

// loginRequest is the body of POST /api/login.
type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// sameOrigin refuses a browser request sent by a page of another site.
func (s *Server) sameOrigin(r *http.Request) bool {
	host := ""
	if u, err := url.Parse(s.d.BaseURL); err == nil {
		host = u.Host
	}
	return auth.SameOrigin(host)(r)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.d.Auth == nil {
		s.fail(w, r, errNotFound(), nil)
		return
	}
	if !s.sameOrigin(r) {
		s.fail(w, r, errBadOrigin(), nil)
		return
	}
	// A form of another site cannot send JSON without the browser asking
	// first, which this server never answers.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		s.fail(w, r, errBadBody("send the name and password as application/json"), nil)
		return
	}
	var req loginRequest
	if e := decodeBody(w, r, &req); e != nil {
		s.fail(w, r, e, nil)
		return
	}
	sess, err := s.d.Auth.LoginFrom(r, req.Name, req.Password)
	if lim := (*auth.LimitError)(nil); errors.As(err, &lim) {
		w.Header().Set("Retry-After", strconv.Itoa(int(lim.Wait.Round(time.Second)/time.Second)+1))
		s.d.Log.Warn("login rate limited", "user", req.Name, "remote", r.RemoteAddr, "retry_in", lim.Wait.Round(time.Second))
		s.fail(w, r, errTooManyAttempts(lim.Wait), nil)
		return
	}
	if errors.Is(err, auth.ErrBadCredentials) {
		s.d.Log.Warn("login failed", "user", req.Name, "remote", r.RemoteAddr)
		s.fail(w, r, errLoginFailed(), nil)
		return
	}
	if err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("login %s: %w", req.Name, err))
		return
	}
	s.d.Auth.SetCookies(w, r, sess)
	s.d.Log.Info("logged in", "user", sess.User, "role", string(sess.Role), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, s.meOf(sess))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if s.d.Auth == nil {
		s.fail(w, r, errNotFound(), nil)
		return
	}
	if sess, err := s.d.Auth.FromRequest(r); err == nil {
		if !s.d.Auth.CheckCSRF(r, sess) {
			s.fail(w, r, errCSRF(), nil)
			return
		}
		s.d.Log.Info("logged out", "user", sess.User)
	}
	s.d.Auth.ClearCookies(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	if s.d.Auth == nil {
		s.fail(w, r, errLoginRequired(), nil)
		return
	}
	sess, err := s.d.Auth.FromRequest(r)
	if err != nil {
		s.fail(w, r, errLoginRequired(), nil)
		return
	}
	writeJSON(w, http.StatusOK, s.meOf(sess))
}
