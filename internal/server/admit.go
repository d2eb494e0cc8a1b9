package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"hoinghi/internal/conference"
	"hoinghi/internal/signal"
	"hoinghi/internal/store"
	"hoinghi/internal/token"
)

// Error codes of refused requests, carried in the "error" field of the JSON body.
const (
	CodeTokenMissing       = "token_missing"
	CodeTokenExpired       = "token_expired"
	CodeTokenInvalid       = "token_invalid"
	CodeConferenceNotFound = "conference_not_found"
	CodePointNotFound      = "point_not_found"
	CodeWrongConference    = "wrong_conference"
	CodeForbidden          = "forbidden"
	CodeBadBody            = "bad_body"
	CodeBodyTooLarge       = "body_too_large"
	CodeNotFound           = "not_found"
	CodeInternal           = "internal"
)

// apiError is a refusal as sent to the client.
type apiError struct {
	Status          int    `json:"-"`
	Code            string `json:"error"`
	Message         string `json:"message"`
	MessageEN       string `json:"message_en"`
	TechnicianPhone string `json:"technician_phone,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.MessageEN }

const callTechnician = " Vui lòng liên hệ kỹ thuật viên hội trường"

func errTokenMissing() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodeTokenMissing,
		Message:   "Đường dẫn không có mã tham gia. Vui lòng mở đúng đường dẫn đã được cấp hoặc liên hệ kỹ thuật viên hội trường.",
		MessageEN: "The link has no access token. Open the link you were given, or call the hall technician."}
}

func errTokenExpired() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodeTokenExpired,
		Message:   "Đường dẫn tham gia đã hết hạn." + callTechnician + " để được cấp đường dẫn mới.",
		MessageEN: "This link has expired. Please call the hall technician for a new link."}
}

func errTokenInvalid() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodeTokenInvalid,
		Message:   "Đường dẫn tham gia không hợp lệ. Vui lòng kiểm tra đã sao chép đủ đường dẫn, hoặc liên hệ kỹ thuật viên hội trường.",
		MessageEN: "This link is not valid. Check that it was copied in full, or call the hall technician."}
}

func errConferenceNotFound() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodeConferenceNotFound,
		Message:   "Không tìm thấy hội nghị của đường dẫn này." + callTechnician + ".",
		MessageEN: "The conference of this link does not exist. Please call the hall technician."}
}

func errPointNotFound() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: CodePointNotFound,
		Message:   "Điểm cầu của đường dẫn này không có trong danh sách hội nghị." + callTechnician + ".",
		MessageEN: "The connection point of this link is not invited to the conference. Please call the hall technician."}
}

func errWrongConference() *apiError {
	return &apiError{Status: http.StatusForbidden, Code: CodeWrongConference,
		Message:   "Đường dẫn này dành cho một hội nghị khác.",
		MessageEN: "This link belongs to another conference."}
}

func errForbidden() *apiError {
	return &apiError{Status: http.StatusForbidden, Code: CodeForbidden,
		Message:   "Vai trò của đường dẫn này không được phép thực hiện thao tác này.",
		MessageEN: "The role of this link may not do this."}
}

func errBadBody(detail string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeBadBody,
		Message:   "Dữ liệu gửi lên không hợp lệ: " + detail,
		MessageEN: "Invalid request body: " + detail}
}

func errBodyTooLarge() *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
		Message:   fmt.Sprintf("Dữ liệu gửi lên quá lớn (tối đa %d KiB).", MaxBodyBytes>>10),
		MessageEN: fmt.Sprintf("The request body is too large (at most %d KiB).", MaxBodyBytes>>10)}
}

func errNotFound() *apiError {
	return &apiError{Status: http.StatusNotFound, Code: CodeNotFound,
		Message:   "Không có địa chỉ này.",
		MessageEN: "No such resource."}
}

func errInternal() *apiError {
	return &apiError{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message:   "Máy chủ gặp lỗi. Vui lòng thử lại sau ít phút.",
		MessageEN: "The server failed. Please try again in a few minutes."}
}

func errStoreUnavailable() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: CodeStoreUnavailable,
		Message:   "Máy chủ tạm thời không đọc được dữ liệu hội nghị. Vui lòng thử lại sau giây lát.",
		MessageEN: "The server cannot reach the conference data for a moment. Please try again shortly."}
}

// list returns s, or an empty slice for nil, so that a list goes out in
// JSON as [] rather than null.
func list[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeJSON sends v with status as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // the client went away; nothing to do
}

// fail logs an internal error and sends e. An internal error caused by
// the store being out of reach goes out as 503 store_unavailable with a
// Retry-After, at once: the store fails fast while Redis is away.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError, err error) {
	if e.Code == CodeInternal && store.Unavailable(err) {
		s.d.Log.Warn("request refused: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "2")
		e = errStoreUnavailable()
		writeJSON(w, e.Status, e)
		return
	}
	if err != nil {
		s.d.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, e.Status, e)
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, errNotFound(), nil)
}

// requestToken returns the join token of r: the query parameter t, else an
// Authorization Bearer header.
func requestToken(r *http.Request) string {
	if t := r.URL.Query().Get("t"); t != "" {
		return t
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
	}
	return ""
}

// rule says what a request must present to be admitted.
type rule struct {
	// conf is the conference id addressed by the path; empty for none.
	conf string
	// roles are the roles allowed; empty allows every role.
	roles []conference.Role
	// newConference admits a token for a conference that does not exist
	// yet (to create it); Admission.Conference is then zero.
	newConference bool
}

// admit verifies r's token, loads its conference (and point) and checks it
// against ru. The returned error, when not nil, is an *apiError ready to
// send; internal failures are logged.
func (s *Server) admit(r *http.Request, ru rule) (signal.Admission, *apiError, error) {
	claims, err := s.requestClaims(r, ru) // the token, else a login session; see login.go
	var refusal *apiError
	switch {
	case errors.As(err, &refusal):
		return signal.Admission{}, refusal, nil
	case errors.Is(err, token.ErrMissing):
		return signal.Admission{}, errTokenMissing(), nil
	case errors.Is(err, token.ErrExpired):
		e := errTokenExpired()
		if conf, cerr := s.d.Store.Conference(r.Context(), claims.Conference); cerr == nil {
			e.TechnicianPhone = conf.TechnicianPhone
		}
		return signal.Admission{}, e, nil
	case err != nil:
		return signal.Admission{}, errTokenInvalid(), nil
	}
	a := signal.Admission{Claims: claims}
	ctx := r.Context()

	conf, err := s.d.Store.Conference(ctx, claims.Conference)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if ru.conf != "" && ru.conf != claims.Conference {
			return a, errWrongConference(), nil
		}
		if !ru.newConference {
			return a, errConferenceNotFound(), nil
		}
	case err != nil:
		return a, errInternal(), fmt.Errorf("admit: load conference %s: %w", claims.Conference, err)
	default:
		a.Conference = conf
	}
	refuse := func(e *apiError) (signal.Admission, *apiError, error) {
		e.TechnicianPhone = a.Conference.TechnicianPhone
		return a, e, nil
	}
	if ru.conf != "" && ru.conf != claims.Conference {
		return refuse(errWrongConference())
	}
	if claims.Role == conference.RolePoint && a.Conference.ID != "" {
		p, err := s.d.Store.Point(ctx, claims.Conference, claims.Point)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return refuse(errPointNotFound())
		case err != nil:
			return a, errInternal(), fmt.Errorf("admit: load point %s/%s: %w", claims.Conference, claims.Point, err)
		}
		a.Point = p
		if e, err := s.checkLinkVersion(ctx, claims); e != nil { // a revoked link; see admin.go
			if err != nil {
				return a, e, err
			}
			return refuse(e)
		}
	}
	if len(ru.roles) > 0 && !slices.Contains(ru.roles, claims.Role) {
		return refuse(errForbidden())
	}
	return a, nil, nil
}

// admitOrFail admits r by ru, or sends the refusal and returns false.
func (s *Server) admitOrFail(w http.ResponseWriter, r *http.Request, ru rule) (signal.Admission, bool) {
	a, e, err := s.admit(r, ru)
	if e != nil {
		s.fail(w, r, e, err)
		return a, false
	}
	return a, true
}

// decodeBody reads r's JSON body into v, refusing unknown fields, trailing
// data and bodies over MaxBodyBytes.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) *apiError {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Read on to EOF: refuse trailing data, and notice a body over
		// the limit even when the object ended before it.
		var extra json.RawMessage
		if e := dec.Decode(&extra); e == nil {
			err = errors.New("data after the JSON object")
		} else if !errors.Is(e, io.EOF) {
			err = e
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return errBodyTooLarge()
	case errors.Is(err, io.EOF):
		return errBadBody("empty body")
	case err != nil:
		return errBadBody(err.Error())
	}
	return nil
}
