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

func TestIssueVersion(t *testing.T) {
	is, _ := NewIssuer([]byte(strings.Repeat("k", 32)))
	issued := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	expiry := time.Now().Add(time.Hour)
	tests := []struct {
		name    string
		ver     int64
		wantErr bool
	}{
		{"version 0 is left out", 0, false},
		{"version 3", 3, false},
		{"negative", -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := is.IssueVersion("demo", conference.RolePoint, "p1", tt.ver, issued, expiry)
			if tt.wantErr {
				if err == nil {
					t.Fatal("IssueVersion succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			again, _ := is.IssueVersion("demo", conference.RolePoint, "p1", tt.ver, issued.Add(300*time.Millisecond), expiry)
			if again != raw {
				t.Error("the same link signed twice in the same second differs")
			}
			c, err := is.Verify(raw)
			if err != nil {
				t.Fatal(err)
			}
			if c.Version != tt.ver || !c.IssuedAt.Equal(issued) {
				t.Errorf("claims = %+v; want version %d issued %v", c, tt.ver, issued)
			}
		})
	}
	old, _ := is.Issue("demo", conference.RolePoint, "p1", expiry)
	if c, err := is.Verify(old); err != nil || c.Version != 0 {
		t.Errorf("token from Issue: version %v, err %v; want 0", c, err)
	}
}
