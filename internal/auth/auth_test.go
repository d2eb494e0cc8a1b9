package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/conference"
)

var secret = []byte(strings.Repeat("s", 32))

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newAuth(t *testing.T, now *time.Time, users ...User) *Auth {
	t.Helper()
	a, err := New(Options{Users: users, Secret: secret, SessionTTL: time.Hour, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNewRefuses(t *testing.T) {
	good := hash(t, "mật khẩu")
	for _, tc := range []struct {
		name  string
		users []User
		want  string
	}{
		{"no name", []User{{Role: conference.RoleTechnician, PasswordHash: good}}, "no name"},
		{"point role", []User{{Name: "a", Role: conference.RolePoint, PasswordHash: good}}, "role"},
		{"unknown role", []User{{Name: "a", Role: "admin", PasswordHash: good}}, "role"},
		{"twice", []User{{Name: "a", Role: conference.RoleChair, PasswordHash: good}, {Name: "a", Role: conference.RoleChair, PasswordHash: good}}, "twice"},
		{"plain password", []User{{Name: "a", Role: conference.RoleChair, PasswordHash: "secret"}}, "bcrypt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Users: tc.users, Secret: secret})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
	if _, err := New(Options{Secret: []byte("short")}); err == nil {
		t.Error("New accepted a short secret")
	}
}

func TestLoginAndSession(t *testing.T) {
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	lan := User{Name: "lan", Role: conference.RoleTechnician, PasswordHash: hash(t, "đúng")}
	hoa := User{Name: "hoa", Role: conference.RoleSecretariat, PasswordHash: hash(t, "khác")}
	a := newAuth(t, &now, lan, hoa)

	if _, err := a.Login("lan", "sai"); err != ErrBadCredentials {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := a.Login("nobody", "đúng"); err != ErrBadCredentials {
		t.Errorf("unknown user: %v", err)
	}
	s, err := a.Login("lan", "đúng")
	if err != nil {
		t.Fatal(err)
	}
	if s.User != "lan" || s.Role != conference.RoleTechnician || len(s.ID) != 32 || !s.Expiry().Equal(now.Add(time.Hour)) {
		t.Errorf("session = %+v", s)
	}
	cookie := a.Encode(s)
	if got, err := a.Decode(cookie); err != nil || got != s {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, s)
	}

	tamper := func(f func(*Session)) string { c := s; f(&c); return a.Encode(c) }
	payload, sig, _ := strings.Cut(cookie, ".")
	other := newAuth(t, &now, lan)
	other.sessionKey = derive([]byte(strings.Repeat("x", 32)), "hoinghi session cookie v1")
	for _, tc := range []struct{ name, value string }{
		{"garbage", "abc"},
		{"no signature", payload},
		{"bad signature", payload + "." + sig[:len(sig)-2] + "AA"},
		{"another key", other.Encode(s)},
		{"another role", tamper(func(c *Session) { c.Role = conference.RoleChair })},
		{"unknown user", tamper(func(c *Session) { c.User = "ghost" })},
		{"old password", tamper(func(c *Session) { c.Fingerprint = "abc" })},
		{"no id", tamper(func(c *Session) { c.ID = "" })},
		{"expired", tamper(func(c *Session) { c.ExpiresAt = now.Unix() })},
	} {
		if _, err := a.Decode(tc.value); err != ErrSessionInvalid {
			t.Errorf("%s: Decode = %v, want ErrSessionInvalid", tc.name, err)
		}
	}

	// A changed password ends the session.
	changed := newAuth(t, &now, User{Name: "lan", Role: conference.RoleTechnician, PasswordHash: hash(t, "mới")})
	if _, err := changed.Decode(cookie); err != ErrSessionInvalid {
		t.Errorf("after a password change: %v", err)
	}
	// Time runs out.
	now = now.Add(time.Hour)
	if _, err := a.Decode(cookie); err != ErrSessionInvalid {
		t.Errorf("after the expiry: %v", err)
	}
}

func TestCookiesAndCSRF(t *testing.T) {
	now := time.Now()
	a := newAuth(t, &now, User{Name: "lan", Role: conference.RoleChair, PasswordHash: hash(t, "pw")})
	s, err := a.Login("lan", "pw")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.SetCookies(rec, httptest.NewRequest("POST", "/api/login", nil), s)
	cookies := rec.Result().Cookies()
	if len(cookies) != 2 {
		t.Fatalf("cookies = %v", cookies)
	}
	sess, csrf := cookies[0], cookies[1]
	if sess.Name != SessionCookie || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure || sess.Path != "/" {
		t.Errorf("session cookie = %+v", sess)
	}
	if csrf.Name != CSRFCookie || csrf.HttpOnly || csrf.Value != a.CSRFToken(s) {
		t.Errorf("csrf cookie = %+v", csrf)
	}
	tlsReq := httptest.NewRequest("POST", "https://hoinghi.example.vn/api/login", nil)
	rec = httptest.NewRecorder()
	a.SetCookies(rec, tlsReq, s)
	for _, c := range rec.Result().Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s over TLS is not Secure", c.Name)
		}
	}

	req := httptest.NewRequest("PUT", "/api/conferences/demo", nil)
	req.AddCookie(sess)
	got, err := a.FromRequest(req)
	if err != nil || got.ID != s.ID {
		t.Fatalf("FromRequest = %+v, %v", got, err)
	}
	if _, err := a.FromRequest(httptest.NewRequest("GET", "/", nil)); err != ErrNoSession {
		t.Errorf("no cookie: %v", err)
	}
	other, _ := a.Login("lan", "pw")
	for _, tc := range []struct {
		method, header string
		want           bool
	}{
		{"GET", "", true},
		{"HEAD", "", true},
		{"PUT", "", false},
		{"POST", "wrong", false},
		{"DELETE", a.CSRFToken(other), false},
		{"PUT", a.CSRFToken(s), true},
		{"DELETE", a.CSRFToken(s), true},
	} {
		r := httptest.NewRequest(tc.method, "/api/x", nil)
		if tc.header != "" {
			r.Header.Set(CSRFHeader, tc.header)
		}
		if got := a.CheckCSRF(r, s); got != tc.want {
			t.Errorf("%s with %q: CheckCSRF = %v, want %v", tc.method, tc.header, got, tc.want)
		}
	}
}

func TestLoginLimit(t *testing.T) {
	now := time.Now()
	a, err := New(Options{Secret: secret, LoginLimit: Limit{Every: time.Minute, Burst: 3}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	from := func(addr string) *http.Request {
		r := httptest.NewRequest("POST", "/api/login", nil)
		r.RemoteAddr = addr
		return r
	}
	for i := range 3 {
		if ok, _ := a.AllowLogin(from("192.0.2.1:1000")); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := a.AllowLogin(from("192.0.2.1:2000"))
	if ok || wait <= 0 || wait > time.Minute {
		t.Errorf("fourth attempt: allowed %v, wait %v", ok, wait)
	}
	if ok, _ := a.AllowLogin(from("192.0.2.2:1000")); !ok {
		t.Error("another address was refused")
	}
	now = now.Add(time.Minute)
	if ok, _ := a.AllowLogin(from("192.0.2.1:1000")); !ok {
		t.Error("refused after waiting")
	}
}

func TestSameOrigin(t *testing.T) {
	check := SameOrigin("hoinghi.example.vn")
	for _, tc := range []struct {
		host, origin string
		want         bool
	}{
		{"127.0.0.1:8080", "", true},
		{"127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"localhost:8080", "http://LOCALHOST:8080", true},
		{"127.0.0.1:8080", "https://hoinghi.example.vn", true},
		{"127.0.0.1:8080", "http://127.0.0.1:9090", false},
		{"127.0.0.1:8080", "https://evil.example", false},
		{"127.0.0.1:8080", "null", false},
		{"hoinghi.example.vn", "https://hoinghi.example.vn.evil.example", false},
	} {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.Host = tc.host
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got := check(r); got != tc.want {
			t.Errorf("host %s, origin %q: %v, want %v", tc.host, tc.origin, got, tc.want)
		}
	}
}
