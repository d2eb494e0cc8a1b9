package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/auth"
	"hoinghi/internal/conference"
	"hoinghi/internal/token"
)

// FuzzRequestClaims sends requestClaims requests with any query, method,
// Authorization header, cookies and CSRF header, and checks that it never
// panics and admits only what was given out: a token's claims exactly as
// Verify gives them, or a logged-in user's session (with its CSRF token
// on an unsafe method) for a valid conference id.
func FuzzRequestClaims(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	is, err := token.NewIssuer(secret)
	if err != nil {
		f.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("mật khẩu hội trường"), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	a, err := auth.New(auth.Options{Secret: secret, Users: []auth.User{{Name: "ky-thuat", Role: conference.RoleTechnician, PasswordHash: string(hash)}}})
	if err != nil {
		f.Fatal(err)
	}
	sess, err := a.Login("ky-thuat", "mật khẩu hội trường")
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{d: Deps{Issuer: is, Auth: a}}
	cookie := auth.SessionCookie + "=" + a.Encode(sess)
	csrf := a.CSRFToken(sess)
	expiry := time.Now().Add(24 * time.Hour)
	point, _ := is.IssueVersion("hoi-nghi-2026", conference.RolePoint, "bien-hoa", 2, time.Now(), expiry)
	chair, _ := is.Issue("hoi-nghi-2026", conference.RoleChair, "", expiry)
	expired, _ := is.Issue("hoi-nghi-2026", conference.RoleTechnician, "", time.Now().Add(-time.Hour))
	for _, seed := range []struct{ method, conf, query, authorization, cookie, csrf string }{
		{"GET", "", "t=" + point, "", "", ""},
		{"GET", "hoi-nghi-2026", "", "Bearer " + chair, "", ""},
		{"POST", "hoi-nghi-2026", "", "bearer   " + chair + " ", cookie, ""},
		{"GET", "", "t=" + expired + "&t=" + point, "", "", ""},
		{"GET", "", "t=" + url.QueryEscape(point[:20]+"\n"+point[20:]), "", "", ""},
		{"GET", "", "conference=hoi-nghi-2026", "", cookie, ""},
		{"POST", "hoi-nghi-2026", "", "", cookie, csrf},
		{"POST", "hoi-nghi-2026", "", "", cookie, "sai"},
		{"DELETE", "", "conference=Hoi_Nghi", "", cookie + "; " + auth.CSRFCookie + "=" + csrf, csrf},
		{"GET", "", "conference=hoi-nghi-2026", "Basic a3k6cGFzcw==", auth.SessionCookie + "=e30.c2ln", ""},
		{"GET", "", "t=&conference=%zz;t=x", "Bearer", "", ""},
	} {
		f.Add(seed.method, seed.conf, seed.query, seed.authorization, seed.cookie, seed.csrf)
	}
	f.Fuzz(func(t *testing.T, method, conf, query, authorization, cookies, csrfHeader string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: "/api/session", RawQuery: query}, Header: http.Header{}}
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		if cookies != "" {
			r.Header["Cookie"] = []string{cookies}
		}
		if csrfHeader != "" {
			r.Header[auth.CSRFHeader] = []string{csrfHeader}
		}
		tok := requestToken(r)
		if tok != "" && tok != r.URL.Query().Get("t") && !strings.Contains(authorization, tok) {
			t.Fatalf("requestToken = %q, which the request does not carry", tok)
		}
		claims, err := s.requestClaims(r, rule{conf: conf})
		if tok != "" || !auth.HasCookie(r) {
			// Admitted by the token alone, exactly as Verify says.
			want, wantErr := is.Verify(tok)
			if !sameClaims(t, claims, want) || !sameRefusal(err, wantErr) {
				t.Fatalf("requestClaims = %+v, %v; Verify(%q) = %+v, %v", claims, err, tok, want, wantErr)
			}
			return
		}
		var refusal *apiError
		if err != nil {
			if !errors.As(err, &refusal) || refusal.Status == 0 || refusal.Code == "" || claims != nil {
				t.Fatalf("requestClaims by session = %+v, %v; want an API error to send", claims, err)
			}
			return
		}
		if claims.Issuer != SessionIssuer || claims.Subject != sess.User || claims.Role != sess.Role || claims.ID != sess.ID ||
			conference.ValidateID(claims.Conference) != nil || (conf != "" && claims.Conference != conf) ||
			(conf == "" && claims.Conference != r.URL.Query().Get("conference")) {
			t.Fatalf("requestClaims admitted by session with claims %+v", claims)
		}
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if csrfHeader != csrf {
				t.Fatalf("requestClaims admitted %s with CSRF header %q", method, csrfHeader)
			}
		}
	})
}

// sameClaims reports whether a and b are both nil or carry the same claims.
func sameClaims(t *testing.T, a, b *token.Claims) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == b
	}
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// sameRefusal reports whether a and b are both nil or refuse for the same
// reason.
func sameRefusal(a, b error) bool {
	for _, reason := range []error{token.ErrMissing, token.ErrExpired, token.ErrInvalid} {
		if errors.Is(a, reason) != errors.Is(b, reason) {
			return false
		}
	}
	return (a == nil) == (b == nil)
}
