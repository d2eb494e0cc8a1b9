package auth

import (
	"errors"
	"fmt"
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

// TestAddrGroup checks the addresses that the login limit counts
// together: an IPv4 address alone, an IPv6 address with its /64.
func TestAddrGroup(t *testing.T) {
	tests := []struct {
		remote, want string
	}{
		{"192.0.2.1:1000", "192.0.2.1"},
		{"192.0.2.1:2000", "192.0.2.1"},
		{"192.0.2.2:1000", "192.0.2.2"},
		{"[::ffff:192.0.2.1]:1000", "192.0.2.1"},
		{"[2001:db8:1:2::1]:1000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff:ffff:ffff:ffff]:1000", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:1000", "fe80::/64"},
		{"[2001:db8:1:3::1]:1000", "2001:db8:1:3::/64"},
		{"[::1]:1000", "::/64"},
		{"2001:db8:1:2::7", "2001:db8:1:2::/64"}, // no port
		{"pipe", "pipe"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/api/login", nil)
		r.RemoteAddr = tt.remote
		if got := clientAddr(r); got != tt.want {
			t.Errorf("clientAddr(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}

// TestLoginLimit plays attempts against the login limit: a burst of 10
// failures, then one every minute, per address (IPv6 /64) and per name,
// and 3 per name from an address that others' failures have limited.
func TestLoginLimit(t *testing.T) {
	now := time.Now()
	a, err := New(Options{Users: []User{
		{Name: "lan", Role: conference.RoleTechnician, PasswordHash: hash(t, "đúng")},
		{Name: "minh", Role: conference.RoleChair, PasswordHash: hash(t, "cũng đúng")},
	}, Secret: secret, LoginLimit: Limit{Every: time.Minute, Burst: 10}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const (
		ok      = "ok"
		bad     = "bad"     // ErrBadCredentials
		limited = "limited" // *LimitError
	)
	type try struct {
		from, name, password string
		times                int // 1 when 0
		want                 string
	}
	tests := []struct {
		name  string
		tries []try
	}{
		{"others' failures behind one NAT do not lock out a correct password", []try{
			{from: "192.0.2.1:1000", name: "minh", password: "sai", times: 10, want: bad},
			{from: "192.0.2.1:1001", name: "nobody", password: "sai", want: bad}, // the address is limited; this name has tries of its own
			{from: "192.0.2.1:1002", name: "lan", password: "đúng", want: ok},
			{from: "192.0.2.1:1003", name: "lan", password: "đúng", want: ok}, // successes do not count
			{from: "192.0.2.1:1004", name: "lan", password: "sai", times: 3, want: bad},
			{from: "192.0.2.1:1005", name: "lan", password: "đúng", want: limited}, // lan failed 3 times here
			{from: "192.0.2.9:1000", name: "lan", password: "đúng", want: ok},      // elsewhere, lan gets in
			{from: "192.0.2.1:1006", name: "minh", password: "cũng đúng", want: limited},
		}},
		{"guessing one name from many addresses is limited by the name", []try{
			{from: "198.51.100.1:1000", name: "lan", password: "sai", times: 4, want: bad},
			{from: "198.51.100.2:1000", name: "lan", password: "sai", times: 3, want: bad},
			{from: "198.51.100.3:1000", name: "lan", password: "sai", times: 3, want: bad},
			{from: "198.51.100.4:1000", name: "lan", password: "đúng", want: limited},
			{from: "[2001:db8:9::1]:1000", name: "lan", password: "sai", want: limited},
			{from: "198.51.100.4:1000", name: "minh", password: "cũng đúng", want: ok},
			{from: "198.51.100.4:1000", name: "nobody", password: "x", times: 10, want: bad},
			{from: "198.51.100.5:1000", name: "nobody", password: "x", want: limited}, // unknown names alike
		}},
		{"an IPv6 /64 counts as one address", []try{
			{from: "[2001:db8:1:2::1]:1000", name: "a", password: "x", times: 7, want: bad},
			{from: "[2001:db8:1:2::2]:1000", name: "lan", password: "sai", times: 3, want: bad},
			{from: "[2001:db8:1:2:ffff::9]:1000", name: "lan", password: "sai", want: limited},
			{from: "[2001:db8:1:2:ffff::9]:1000", name: "lan", password: "đúng", want: limited},
			{from: "[2001:db8:1:3::1]:1000", name: "lan", password: "đúng", want: ok}, // the next /64
			{from: "192.0.2.50:1000", name: "b", password: "x", times: 10, want: bad},
			{from: "192.0.2.51:1000", name: "b", password: "x", want: limited}, // b's own limit
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = now.Add(time.Hour) // every bucket full again
			for i, tr := range tt.tries {
				for n := range max(tr.times, 1) {
					r := httptest.NewRequest("POST", "/api/login", nil)
					r.RemoteAddr = tr.from
					_, err := a.LoginFrom(r, tr.name, tr.password)
					var lim *LimitError
					got := ok
					switch {
					case errors.As(err, &lim):
						got = limited
						if lim.Wait <= 0 || lim.Wait > time.Minute {
							t.Errorf("try %d: wait %v", i+1, lim.Wait)
						}
					case errors.Is(err, ErrBadCredentials):
						got = bad
					case err != nil:
						t.Fatalf("try %d: %v", i+1, err)
					}
					if got != tr.want {
						t.Fatalf("try %d (%s as %s from %s), attempt %d: %s, want %s", i+1, tr.password, tr.name, tr.from, n+1, got, tr.want)
					}
				}
			}
		})
	}

	// A limit refills: one more attempt a minute later.
	r := httptest.NewRequest("POST", "/api/login", nil)
	r.RemoteAddr = "192.0.2.51:1000"
	if _, err := a.LoginFrom(r, "b", "x"); !errors.As(err, new(*LimitError)) {
		t.Fatalf("b again: %v, want limited", err)
	}
	now = now.Add(time.Minute)
	if _, err := a.LoginFrom(r, "b", "x"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("b a minute later: %v, want a checked attempt", err)
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

// TestLoginGuessFromManyAddresses guesses one user's password for an hour,
// one attempt a second, each from a new address (a botnet, or an IPv6
// client changing its /64): the name's limit lets 10 + 3600/6 guesses be
// checked, as from one address.
func TestLoginGuessFromManyAddresses(t *testing.T) {
	now := time.Now()
	a, err := New(Options{Users: []User{{Name: "lan", Role: conference.RoleTechnician, PasswordHash: hash(t, "đúng")}},
		Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	checked, limited := 0, 0
	for i := range 3600 {
		r := httptest.NewRequest("POST", "/api/login", nil)
		r.RemoteAddr = fmt.Sprintf("[2001:db8:%x:%x::1]:1000", i/65536, i%65536)
		_, err := a.LoginFrom(r, "lan", fmt.Sprintf("guess %d", i))
		switch {
		case errors.Is(err, ErrBadCredentials):
			checked++
		case errors.As(err, new(*LimitError)):
			limited++
		default:
			t.Fatalf("attempt %d: %v", i, err)
		}
		now = now.Add(time.Second)
	}
	if want := 10 + 3600/6; checked > want+1 {
		t.Errorf("%d guesses checked in an hour from 3600 addresses, want at most %d", checked, want+1)
	}
	t.Logf("one name, 3600 addresses, one attempt a second for an hour: %d passwords checked, %d refused", checked, limited)
}
