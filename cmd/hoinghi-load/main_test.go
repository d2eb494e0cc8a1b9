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
		check    func(config) bool // extra checks, if not nil
	}{
		{name: "defaults", args: nil, wantConf: "load-"},
		{name: "conference from token", args: []string{"-token", tok}, wantConf: "hoi-nghi-x"},
		{name: "explicit conference", args: []string{"-token", tok, "-conference", "khac"}, wantConf: "khac"},
		{name: "bad token", args: []string{"-token", "x.y"}, wantErr: true},
		{name: "bad conference id", args: []string{"-conference", "Bad_Id"}, wantErr: true},
		{name: "no points", args: []string{"-points", "0"}, wantErr: true},
		{name: "extra args", args: []string{"extra"}, wantErr: true},
		{name: "storm", args: []string{"-points", "250", "-ramp", "10s", "-retries", "3", "-min-joined", "0.95", "-wall", "25", "-turn", "-json", "out.json"},
			wantConf: "load-", check: func(c config) bool {
				return c.points == 250 && c.ramp == 10*time.Second && c.retries == 3 && c.minJoined == 0.95 && c.wall == 25 &&
					c.turn && c.jsonFile == "out.json" && c.idle == 0 && c.switches == 20
			}},
		{name: "defaults of the new flags", args: nil, wantConf: "load-", check: func(c config) bool {
			return c.ramp == 0 && c.retries == 5 && c.minJoined == 1 && c.wall == 0 && !c.turn && c.joinTimeout == 30*time.Second
		}},
		{name: "idle", args: []string{"-idle", "1000", "-duration", "10s"}, wantConf: "load-", check: func(c config) bool {
			return c.idle == 1000 && c.points == 1000 && c.switches == 0
		}},
		{name: "idle and points", args: []string{"-idle", "10", "-points", "5"}, wantErr: true},
		{name: "idle and wall", args: []string{"-idle", "10", "-wall", "5"}, wantErr: true},
		{name: "negative idle", args: []string{"-idle", "-1"}, wantErr: true},
		{name: "min-joined above 1", args: []string{"-min-joined", "1.5"}, wantErr: true},
		{name: "negative min-joined", args: []string{"-min-joined", "-0.1"}, wantErr: true},
		{name: "negative ramp", args: []string{"-ramp", "-1s"}, wantErr: true},
		{name: "negative retries", args: []string{"-retries", "-1"}, wantErr: true},
		{name: "negative wall", args: []string{"-wall", "-1"}, wantErr: true},
		{name: "zero join timeout", args: []string{"-join-timeout", "0s"}, wantErr: true},
		{name: "galene", args: []string{"-galene", "ws://127.0.0.1:8443/ws", "-fanout", "-points", "50", "-server-pid", "42"},
			wantConf: "bench", check: func(c config) bool {
				return c.galene == "ws://127.0.0.1:8443/ws" && c.group == "bench" && c.points == 50 && c.serverPID == 42 && c.switches == 0
			}},
		{name: "galene group", args: []string{"-galene", "ws://h/ws", "-fanout", "-group", "a/b"}, wantConf: "a/b"},
		{name: "galene without fanout", args: []string{"-galene", "ws://h/ws"}, wantErr: true},
		{name: "galene and wall", args: []string{"-galene", "ws://h/ws", "-fanout", "-wall", "3"}, wantErr: true},
		{name: "galene, empty group", args: []string{"-galene", "ws://h/ws", "-fanout", "-group", ""}, wantErr: true},
		{name: "negative server pid", args: []string{"-server-pid", "-1"}, wantErr: true},
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
			if tt.check != nil && !tt.check(c) {
				t.Errorf("config %+v", c)
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
