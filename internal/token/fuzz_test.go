package token

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"hoinghi/internal/conference"
)

// fuzzNow is the issuer's clock in FuzzVerify, so that the seeds' expiries
// do not pass while it runs.
var fuzzNow = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

// signed is a token a test made with the issuer's secret, and its claims
// as JSON.
type signed struct {
	raw    string
	claims string
	valid  bool // issued by Issuer, unexpired at fuzzNow: Verify admits it
}

// signedTokens returns tokens signed with is's secret: links the issuer
// gives out, expired ones, and tokens with claims the issuer would never
// sign (wrong role, no expiry, a point id for the hall), which Verify must
// refuse although their signature is right.
func signedTokens(tb testing.TB, is *Issuer) []signed {
	tb.Helper()
	var out []signed
	issued := fuzzNow.Add(-time.Hour)
	for _, l := range []struct {
		conf   string
		role   conference.Role
		point  string
		ver    int64
		expiry time.Time
	}{
		{"hoi-nghi-2026", conference.RolePoint, "bien-hoa", 0, fuzzNow.Add(48 * time.Hour)},
		{"hoi-nghi-2026", conference.RolePoint, "long-thanh", 3, fuzzNow.Add(48 * time.Hour)},
		{"hoi-nghi-2026", conference.RoleTechnician, "", 0, fuzzNow.Add(time.Hour)},
		{"hoi-nghi-2026", conference.RoleChair, "", 0, fuzzNow.Add(time.Hour)},
		{"demo", conference.RoleSecretariat, "", 0, fuzzNow.Add(time.Minute)},
		{"demo", conference.RolePoint, "dinh-quan", 1, fuzzNow.Add(-time.Minute)}, // expired
	} {
		raw, err := is.IssueVersion(l.conf, l.role, l.point, l.ver, issued, l.expiry)
		if err != nil {
			tb.Fatal(err)
		}
		c := Claims{Conference: l.conf, Role: l.role, Point: l.point, Version: l.ver, RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(issued),
			NotBefore: jwt.NewNumericDate(issued.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(l.expiry),
		}}
		out = append(out, signed{raw: raw, claims: claimsJSON(tb, &c), valid: l.expiry.After(fuzzNow)})
	}
	exp := jwt.NewNumericDate(fuzzNow.Add(time.Hour))
	for _, c := range []Claims{
		{Conference: "demo", Role: "boss", RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}},
		{Conference: "demo", Role: conference.RolePoint, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}},
		{Conference: "demo", Role: conference.RoleChair, Point: "bien-hoa", RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}},
		{Conference: "Demo!", Role: conference.RoleChair, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}},
		{Conference: "demo", Role: conference.RolePoint, Point: "bien-hoa", Version: -1, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}},
		{Conference: "demo", Role: conference.RoleTechnician},                                                                         // no expiry
		{Conference: "demo", Role: conference.RoleTechnician, RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp, NotBefore: exp}}, // not yet
	} {
		raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(is.secret)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, signed{raw: raw, claims: claimsJSON(tb, &c)})
	}
	return out
}

func claimsJSON(tb testing.TB, c *Claims) string {
	tb.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// FuzzVerify checks that Verify never panics, refuses with one of its
// three reasons, and admits only the claims the issuer signed: whatever a
// link's bytes become, a forged or altered link admits nobody, and a link
// with claims the issuer would not sign admits nobody either.
func FuzzVerify(f *testing.F) {
	is, err := NewIssuer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	is.now = func() time.Time { return fuzzNow }
	other, _ := NewIssuer([]byte(strings.Repeat("x", 32)))
	other.now = is.now
	toks := signedTokens(f, is)
	admits := make(map[string]bool) // claims JSON of the links Verify must admit
	signedClaims := make(map[string]bool)
	for _, s := range toks {
		f.Add(s.raw)
		signedClaims[s.claims] = true
		if s.valid {
			admits[s.claims] = true
			if _, err := is.Verify(s.raw); err != nil {
				f.Fatalf("Verify of a link the issuer gave out: %v", err)
			}
		}
	}
	forged, _ := other.Issue("hoi-nghi-2026", conference.RoleTechnician, "", fuzzNow.Add(time.Hour))
	head, _, _ := strings.Cut(toks[0].raw, ".")
	for _, raw := range []string{
		forged,
		"",
		"abc.def.ghi",
		toks[0].raw[:len(toks[0].raw)-2] + "AA",
		toks[0].raw + "=",
		" " + toks[0].raw,
		strings.Replace(toks[2].raw, ".", "..", 1),
		// alg "none", and RS256 with the HMAC secret as its key
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJjb25mIjoiZGVtbyIsInJvbGUiOiJ0ZWNobmljaWFuIiwiZXhwIjo0MTAyNDQ0ODAwfQ.",
		"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb25mIjoiZGVtbyIsInJvbGUiOiJ0ZWNobmljaWFuIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln",
		head + ".e30.",
	} {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := is.Verify(raw)
		switch {
		case err == nil:
			if c == nil {
				t.Fatalf("Verify(%q) admitted without claims", raw)
			}
			if got := claimsJSON(t, c); !admits[got] {
				t.Fatalf("Verify(%q) admitted claims the issuer never gave out: %s", raw, got)
			}
			if !c.Role.Valid() || conference.ValidateID(c.Conference) != nil || (c.Role == conference.RolePoint) != (c.Point != "") ||
				c.Version < 0 || c.ExpiresAt == nil || !c.ExpiresAt.After(fuzzNow) {
				t.Fatalf("Verify(%q) admitted incomplete claims %+v", raw, c)
			}
		case errors.Is(err, ErrMissing):
			if raw != "" || c != nil {
				t.Fatalf("Verify(%q) = %+v, %v", raw, c, err)
			}
		case errors.Is(err, ErrExpired):
			if c == nil || !signedClaims[claimsJSON(t, c)] {
				t.Fatalf("Verify(%q): expired with claims %+v that the issuer did not sign", raw, c)
			}
		case errors.Is(err, ErrInvalid):
			if c != nil {
				t.Fatalf("Verify(%q) refused with claims %+v", raw, c)
			}
		default:
			t.Fatalf("Verify(%q) = %v, which is none of missing, expired, invalid", raw, err)
		}
		if raw == "" && !errors.Is(err, ErrMissing) {
			t.Fatalf("Verify(\"\") = %v, want ErrMissing", err)
		}
	})
}
