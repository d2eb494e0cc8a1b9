package main

import (
	"bytes"
	"strings"
	"testing"

	"hoinghi/internal/conference"
	"hoinghi/internal/token"
)

func TestBadConfigExits2(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-udp-port", "70000"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 2 {
		t.Errorf("exit status = %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "media.udp_port: 70000 is not a port") {
		t.Errorf("stderr = %q, want the setting named", stderr.String())
	}
}

func TestTokenCommand(t *testing.T) {
	secret := strings.Repeat("z", 32)
	getenv := func(k string) string {
		return map[string]string{"HOINGHI_TOKEN_SECRET": secret, "HOINGHI_DATA_DIR": t.TempDir()}[k]
	}
	tests := []struct {
		args     []string
		code     int
		wantOut  string
		wantErr  string
		wantRole conference.Role
	}{
		{args: []string{"--conference", "demo", "--role", "point", "--point", "bien-hoa", "--ttl", "2h"}, wantRole: conference.RolePoint},
		{args: []string{"--conference", "demo", "--role", "chair", "--url"}, wantOut: "http://localhost:8080/console/?t=", wantRole: conference.RoleChair},
		{args: []string{"--conference", "demo", "--role", "point", "--point", "bien-hoa", "--url"}, wantOut: "http://localhost:8080/point/?t="},
		{args: []string{"--role", "chair"}, code: 2, wantErr: "--conference"},
		{args: []string{"--conference", "demo", "--role", "boss"}, code: 2, wantErr: "--role"},
		{args: []string{"--conference", "demo", "--role", "point"}, code: 2, wantErr: "--point"},
		{args: []string{"--conference", "demo", "--role", "chair", "--point", "x"}, code: 2, wantErr: "--point"},
		{args: []string{"--conference", "demo", "--role", "chair", "--ttl", "soon"}, code: 2, wantErr: "--ttl"},
	}
	iss, err := token.NewIssuer([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"token"}, tt.args...), getenv, &stdout, &stderr)
		if code != tt.code {
			t.Errorf("%q: exit %d, want %d; stderr %s", tt.args, code, tt.code, stderr.String())
			continue
		}
		if tt.code != 0 {
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("%q: stderr %q, want %q", tt.args, stderr.String(), tt.wantErr)
			}
			continue
		}
		out := strings.TrimSpace(stdout.String())
		if !strings.HasPrefix(out, tt.wantOut) {
			t.Errorf("%q: output %q, want prefix %q", tt.args, out, tt.wantOut)
		}
		raw := out[strings.LastIndex(out, "=")+1:]
		if tt.wantOut == "" {
			raw = out
		}
		claims, err := iss.Verify(raw)
		if err != nil {
			t.Errorf("%q: token does not verify: %v", tt.args, err)
			continue
		}
		if tt.wantRole != "" && claims.Role != tt.wantRole {
			t.Errorf("%q: role %q", tt.args, claims.Role)
		}
	}
}
