package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/token"
)

func TestParseFlags(t *testing.T) {
	iss, err := token.NewIssuer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Issue("hoi-nghi-x", conference.RoleTechnician, "", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantConf string // "" to skip; "load-" checks the prefix
		wantErr  bool
	}{
		{name: "defaults", args: nil, wantConf: "load-"},
		{name: "conference from token", args: []string{"-token", tok}, wantConf: "hoi-nghi-x"},
		{name: "explicit conference", args: []string{"-token", tok, "-conference", "khac"}, wantConf: "khac"},
		{name: "bad token", args: []string{"-token", "x.y"}, wantErr: true},
		{name: "bad conference id", args: []string{"-conference", "Bad_Id"}, wantErr: true},
		{name: "no points", args: []string{"-points", "0"}, wantErr: true},
		{name: "extra args", args: []string{"extra"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if tt.wantErr {
				return
			}
			if !strings.HasPrefix(c.conference, tt.wantConf) || (tt.wantConf != "load-" && c.conference != tt.wantConf) {
				t.Errorf("conference %q, want %q", c.conference, tt.wantConf)
			}
			if c.metricsURL != c.server+"/metrics" {
				t.Errorf("metrics url %q", c.metricsURL)
			}
		})
	}
}

func TestTechnicianToken(t *testing.T) {
	secret := strings.Repeat("ab", 32)
	path := filepath.Join(t.TempDir(), "token-secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := technicianToken(path, "demo", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := token.NewIssuer([]byte(secret))
	c, err := iss.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Conference != "demo" || c.Role != conference.RoleTechnician {
		t.Errorf("claims %+v", c)
	}
	if _, err := technicianToken(filepath.Join(t.TempDir(), "missing"), "demo", time.Now()); err == nil {
		t.Error("no error for a missing secret file")
	}
}
