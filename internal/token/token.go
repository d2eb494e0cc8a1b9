// Package token issues and verifies the signed join links that admit a
// participant to a conference in one role.
package token

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"hoinghi/internal/conference"
)

// Claims is what a join link grants: one role in one conference, for a point
// also the point's id, until the expiry.
type Claims struct {
	Conference string          `json:"conf"`
	Role       conference.Role `json:"role"`
	Point      string          `json:"point,omitempty"`
	// Version is the version of a point's link (claim "ver"); a token
	// without it is version 0. Reissuing a point's link raises the version
	// the server accepts, which revokes every older link of the point.
	Version int64 `json:"ver,omitempty"`
	jwt.RegisteredClaims
}

// Reasons a token is refused, to be shown to the user.
var (
	ErrMissing = errors.New("token missing")
	ErrExpired = errors.New("token expired")
	ErrInvalid = errors.New("token invalid")
)

// Issuer signs and verifies tokens with one HS256 secret.
type Issuer struct {
	secret []byte
	now    func() time.Time
}

// NewIssuer returns an Issuer using secret, which must be at least 32 bytes.
func NewIssuer(secret []byte) (*Issuer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("token secret is %d bytes; at least 32 are needed", len(secret))
	}
	return &Issuer{secret: secret, now: time.Now}, nil
}

// Issue signs a token granting role in conf (and point, for a point) until
// expiry.
func (is *Issuer) Issue(conf string, role conference.Role, point string, expiry time.Time) (string, error) {
	return is.IssueVersion(conf, role, point, 0, is.now(), expiry)
}

// IssueVersion signs a token like Issue, issued at issuedAt and carrying
// link version ver. Times count in whole seconds, so the same arguments
// always give the same token: a point's stored link can be signed again
// whenever it is shown.
func (is *Issuer) IssueVersion(conf string, role conference.Role, point string, ver int64, issuedAt, expiry time.Time) (string, error) {
	if !role.Valid() {
		return "", fmt.Errorf("issue token: unknown role %q", role)
	}
	if (role == conference.RolePoint) != (point != "") {
		return "", fmt.Errorf("issue token: a point id is required for role point and only for it")
	}
	if ver < 0 {
		return "", fmt.Errorf("issue token: negative link version %d", ver)
	}
	c := Claims{
		Conference: conf,
		Role:       role,
		Point:      point,
		Version:    ver,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(issuedAt),
			NotBefore: jwt.NewNumericDate(issuedAt.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(expiry),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(is.secret)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return s, nil
}

// Verify checks the signature and expiry of raw and returns its claims. The
// error wraps ErrMissing, ErrExpired or ErrInvalid. With ErrExpired the
// claims of the correctly signed but expired token are returned too, so
// that a refusal can name the conference's contact; they admit nothing.
func (is *Issuer) Verify(raw string) (*Claims, error) {
	if raw == "" {
		return nil, ErrMissing
	}
	var c Claims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return is.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(is.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired) && errors.Is(err, jwt.ErrTokenInvalidClaims):
		// jwt v5 checks the signature before the claims: these were signed by us.
		return &c, fmt.Errorf("%w: %v", ErrExpired, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !c.Role.Valid() || conference.ValidateID(c.Conference) != nil ||
		(c.Role == conference.RolePoint) != (c.Point != "") || c.Version < 0 {
		return nil, fmt.Errorf("%w: claims are incomplete", ErrInvalid)
	}
	return &c, nil
}
