package token

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/conference"
)

func TestVerify(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	is, err := NewIssuer(secret)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewIssuer([]byte(strings.Repeat("x", 32)))
	valid, _ := is.Issue("demo", conference.RolePoint, "p1", time.Now().Add(time.Hour))
	expired, _ := is.Issue("demo", conference.RolePoint, "p1", time.Now().Add(-time.Hour))
	forged, _ := other.Issue("demo", conference.RoleTechnician, "", time.Now().Add(time.Hour))
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"valid", valid, nil},
		{"missing", "", ErrMissing},
		{"expired", expired, ErrExpired},
		{"forged", forged, ErrInvalid},
		{"garbage", "abc.def.ghi", ErrInvalid},
		{"tampered", valid[:len(valid)-2] + "AA", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := is.Verify(tt.raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (c.Conference != "demo" || c.Role != conference.RolePoint || c.Point != "p1") {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestIssueRefusesInconsistentClaims(t *testing.T) {
	is, _ := NewIssuer([]byte(strings.Repeat("k", 32)))
	if _, err := is.Issue("demo", conference.RolePoint, "", time.Now().Add(time.Hour)); err == nil {
		t.Error("point token without point id was issued")
	}
	if _, err := is.Issue("demo", "boss", "", time.Now().Add(time.Hour)); err == nil {
		t.Error("token with unknown role was issued")
	}
	if _, err := NewIssuer([]byte("short")); err == nil {
		t.Error("short secret accepted")
	}
}
