// Package auth logs in the hall's staff (technicians, chairs, the
// secretariat) with a name and a password, and keeps them logged in with a
// signed session cookie. Connection points never log in: they keep their
// join links (signed tokens, package token), and so do the technician
// tokens that automation such as the load generator uses.
//
// Decisions:
//
//   - Users are listed in the configuration (auth.users: name, role,
//     bcrypt password_hash), not in Redis. A hall has a handful of staff
//     who change rarely; a file is reviewed, versioned and backed up with
//     the rest of the settings, and needs no user-management pages. A
//     password is changed by putting a new hash (hoinghi passwd) in the
//     file and restarting.
//   - A logged-in user acts in its role on every conference: the staff of
//     the hall run all of its conferences, and per-conference lists would
//     be one more thing to keep right an hour before a session. A narrower
//     grant is what join links are for.
//   - Sessions are stateless: the cookie carries the user, its role, a
//     random session id and the expiry, signed with HMAC-SHA256 under a key
//     derived from the token secret. A session ends at its expiry, when
//     the user is removed or gets another role, or when its password hash
//     changes (the cookie carries a fingerprint of the hash). Logging out
//     deletes the cookie in the browser.
//   - Unsafe requests (anything but GET, HEAD, OPTIONS) admitted by the
//     cookie must carry the session's CSRF token in the X-CSRF-Token
//     header. The token is derived from the session id, so only a page of
//     our origin, which can read it from the login answer, GET /api/me or
//     the readable hoinghi_csrf cookie, can send it. Requests admitted by a
//     token need no CSRF token: a token is not sent by the browser on its
//     own.
//   - Failed logins are limited per client address (an IPv4 address or an
//     IPv6 /64), per user name, and per user name from one address, so
//     that guessing one user's password from many addresses is as slow as
//     from one, while others' failures behind the same NAT do not lock out
//     a user who knows the password (see limiter).
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/conference"
)

// Cookie names. The session cookie is HttpOnly; the CSRF cookie is readable
// by the pages, which copy it into the X-CSRF-Token header.
const (
	SessionCookie = "hoinghi_session"
	CSRFCookie    = "hoinghi_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// DefaultSessionTTL is how long a login lasts unless configured: a long
// working day at the hall.
const DefaultSessionTTL = 12 * time.Hour

// DefaultCost is the bcrypt cost of hashes made by HashPassword.
const DefaultCost = 12

// Errors of Login and Verify.
var (
	// ErrBadCredentials refuses an unknown name or a wrong password,
	// without telling which.
	ErrBadCredentials = errors.New("wrong name or password")
	// ErrNoSession means the request carries no session cookie.
	ErrNoSession = errors.New("no session")
	// ErrSessionInvalid refuses a cookie that is forged, expired, or whose
	// user is gone, has another role or another password.
	ErrSessionInvalid = errors.New("session invalid or expired")
)

// User is one member of the hall's staff who may log in.
type User struct {
	Name string
	// Role is technician, chair or secretariat.
	Role conference.Role
	// PasswordHash is the bcrypt hash of the password.
	PasswordHash string
}

// ValidRole reports whether a user may have role r: the hall's staff
// (technician, chair, secretariat); points, the ingest and viewers come
// in by links alone.
func ValidRole(r conference.Role) bool { return r.Staff() }

// CheckHash reports whether h is a bcrypt hash that Login can use.
func CheckHash(h string) error {
	if _, err := bcrypt.Cost([]byte(h)); err != nil {
		return fmt.Errorf("not a bcrypt hash (make one with \"hoinghi passwd\"): %w", err)
	}
	return nil
}

// HashPassword returns the bcrypt hash of password at cost (DefaultCost
// when 0).
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Options configure an Auth.
type Options struct {
	Users []User
	// Secret is the token secret; the session keys are derived from it.
	Secret []byte
	// SessionTTL is how long a login lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// Secure marks the cookies Secure, for a server reached over HTTPS.
	// Cookies set on a TLS request are Secure anyway.
	Secure bool
	// LoginLimit bounds the failed login attempts of one client address
	// and of one user name; zero means DefaultLoginLimit.
	LoginLimit Limit
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auth checks passwords and issues and verifies session cookies. It is safe
// for concurrent use.
type Auth struct {
	users      map[string]User
	sessionKey []byte
	csrfKey    []byte
	ttl        time.Duration
	secure     bool
	now        func() time.Time
	limiter    *limiter
	// dummy is hashed against when the name is unknown, so that the answer
	// takes as long as for a known name.
	dummy []byte
	// hashTime is how long hashing took at start; see LoginFrom.
	hashTime time.Duration
}

// New returns an Auth for o.Users. It refuses duplicate names, a point
// role and malformed hashes.
func New(o Options) (*Auth, error) {
	if len(o.Secret) < 32 {
		return nil, fmt.Errorf("auth: secret is %d bytes; at least 32 are needed", len(o.Secret))
	}
	a := &Auth{
		users:      make(map[string]User, len(o.Users)),
		sessionKey: derive(o.Secret, "hoinghi session cookie v1"),
		csrfKey:    derive(o.Secret, "hoinghi csrf token v1"),
		ttl:        o.SessionTTL,
		secure:     o.Secure,
		now:        o.Now,
		limiter:    newLimiter(o.LoginLimit),
	}
	if a.ttl <= 0 {
		a.ttl = DefaultSessionTTL
	}
	if a.now == nil {
		a.now = time.Now
	}
	cost := bcrypt.MinCost
	for i, u := range o.Users {
		switch {
		case u.Name == "":
			return nil, fmt.Errorf("auth: user %d has no name", i)
		case !ValidRole(u.Role):
			return nil, fmt.Errorf("auth: user %q: role %q is not technician, chair or secretariat", u.Name, u.Role)
		}
		if _, dup := a.users[u.Name]; dup {
			return nil, fmt.Errorf("auth: user %q is listed twice", u.Name)
		}
		if err := CheckHash(u.PasswordHash); err != nil {
			return nil, fmt.Errorf("auth: user %q: password_hash: %w", u.Name, err)
		}
		c, _ := bcrypt.Cost([]byte(u.PasswordHash)) // checked above
		cost = max(cost, c)
		a.users[u.Name] = u
	}
	start := time.Now()
	dummy, err := bcrypt.GenerateFromPassword([]byte("no such user"), cost)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	a.dummy = dummy
	a.hashTime = time.Since(start)
	return a, nil
}

func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Session is a logged-in user, as its cookie says.
type Session struct {
	User      string          `json:"u"`
	Role      conference.Role `json:"r"`
	ID        string          `json:"sid"`
	ExpiresAt int64           `json:"exp"` // Unix seconds
	// Fingerprint ties the session to the user's password hash.
	Fingerprint string `json:"pv"`
}

// Expiry returns when the session ends.
func (s Session) Expiry() time.Time { return time.Unix(s.ExpiresAt, 0).UTC() }

// Login checks name and password and returns a new session. Every failure
// is ErrBadCredentials. It is not limited: a request from a client goes
// through LoginFrom.
func (a *Auth) Login(name, password string) (Session, error) {
	return a.login(name, password, false)
}

// LoginFrom is Login for the client of r, within the login limit (see
// limiter): an attempt over it is refused with a *LimitError, without
// checking the password; a failed one counts against the client's address
// and the name; a successful one does not count.
func (a *Auth) LoginFrom(r *http.Request, name, password string) (Session, error) {
	at, wait := a.limiter.begin(clientAddr(r), name, a.now())
	if at == nil {
		return Session{}, &LimitError{Wait: wait}
	}
	// Past a limited address, an unknown name waits as long as hashing
	// takes rather than hashing: that path is not bounded by the address,
	// and names are free to make up.
	s, err := a.login(name, password, at.byPair)
	if err == nil {
		at.succeeded(a.now())
	}
	return s, err
}

// login is Login; sleep makes an unknown name wait instead of hashing.
func (a *Auth) login(name, password string, sleep bool) (Session, error) {
	u, ok := a.users[name]
	if !ok {
		if sleep {
			time.Sleep(a.hashTime)
		} else {
			_ = bcrypt.CompareHashAndPassword(a.dummy, []byte(password)) // spend the same time
		}
		return Session{}, ErrBadCredentials
	}
	if err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)); err != nil {
		return Session{}, ErrBadCredentials
	}
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	return Session{
		User:        u.Name,
		Role:        u.Role,
		ID:          hex.EncodeToString(id[:]),
		ExpiresAt:   a.now().Add(a.ttl).Unix(),
		Fingerprint: a.fingerprint(u),
	}, nil
}

func (a *Auth) fingerprint(u User) string {
	return base64.RawURLEncoding.EncodeToString(a.sign([]byte(u.PasswordHash))[:9])
}

func (a *Auth) sign(b []byte) []byte {
	m := hmac.New(sha256.New, a.sessionKey)
	m.Write(b)
	return m.Sum(nil)
}

// Encode returns the signed cookie value of s.
func (a *Auth) Encode(s Session) string {
	payload, _ := json.Marshal(s) // plain strings and a number
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(a.sign([]byte(p)))
}

// Decode verifies a cookie value made by Encode and returns its session:
// the signature, the expiry, and that the user still exists with the same
// role and password. Every failure is ErrSessionInvalid.
func (a *Auth) Decode(value string) (Session, error) {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return Session{}, ErrSessionInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, a.sign([]byte(p))) {
		return Session{}, ErrSessionInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Session{}, ErrSessionInvalid
	}
	var s Session
	if err := json.Unmarshal(payload, &s); err != nil {
		return Session{}, ErrSessionInvalid
	}
	u, ok := a.users[s.User]
	if !ok || u.Role != s.Role || s.ID == "" || !a.now().Before(s.Expiry()) ||
		subtle.ConstantTimeCompare([]byte(s.Fingerprint), []byte(a.fingerprint(u))) != 1 {
		return Session{}, ErrSessionInvalid
	}
	return s, nil
}

// CSRFToken returns the CSRF token of s: what unsafe requests admitted by
// its cookie carry in the X-CSRF-Token header.
func (a *Auth) CSRFToken(s Session) string {
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write([]byte(s.ID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether r may act under s: a safe method (GET, HEAD,
// OPTIONS), or the session's CSRF token in the X-CSRF-Token header.
func (a *Auth) CheckCSRF(r *http.Request, s Session) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	got := r.Header.Get(CSRFHeader)
	return got != "" && hmac.Equal([]byte(got), []byte(a.CSRFToken(s)))
}

// FromRequest returns the session of r's cookie: ErrNoSession without a
// cookie, ErrSessionInvalid for a bad one.
func (a *Auth) FromRequest(r *http.Request) (Session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Session{}, ErrNoSession
	}
	return a.Decode(c.Value)
}

// HasCookie reports whether r carries a session cookie, valid or not.
func HasCookie(r *http.Request) bool {
	c, err := r.Cookie(SessionCookie)
	return err == nil && c.Value != ""
}

// SetCookies sends s's session cookie (HttpOnly) and its CSRF cookie
// (readable by the pages), both SameSite=Lax, Secure over HTTPS, expiring
// with the session.
func (a *Auth) SetCookies(w http.ResponseWriter, r *http.Request, s Session) {
	exp := s.Expiry()
	secure := a.secure || r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: a.Encode(s), Path: "/", Expires: exp,
		MaxAge: int(exp.Sub(a.now()).Seconds()), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: a.CSRFToken(s), Path: "/", Expires: exp,
		MaxAge: int(exp.Sub(a.now()).Seconds()), Secure: secure, SameSite: http.SameSiteLaxMode})
}

// ClearCookies tells the browser to delete both cookies.
func (a *Auth) ClearCookies(w http.ResponseWriter, r *http.Request) {
	secure := a.secure || r.TLS != nil
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == SessionCookie, Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}
