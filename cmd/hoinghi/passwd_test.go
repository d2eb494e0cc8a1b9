package main

import (
	"bytes"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/config"
)

func TestPasswdCommand(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		wantErr string
	}{
		{name: "bare hash", args: []string{"--cost", "4"}, stdin: "mật khẩu dài\n"},
		{name: "yaml entry", args: []string{"--cost", "4", "--name", "kythuat", "--role", "secretariat"}, stdin: "mật khẩu dài"},
		{name: "short", args: []string{"--cost", "4"}, stdin: "ngắn\n", code: 2, wantErr: "at least 8"},
		{name: "too long", args: []string{"--cost", "4"}, stdin: strings.Repeat("x", 73) + "\n", code: 2, wantErr: "72 bytes"},
		{name: "point role", args: []string{"--name", "a", "--role", "point"}, stdin: "mật khẩu dài\n", code: 2, wantErr: "--role"},
		{name: "bad cost", args: []string{"--cost", "3"}, stdin: "mật khẩu dài\n", code: 2, wantErr: "--cost"},
		{name: "argument", args: []string{"secret"}, code: 2, wantErr: "stdin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runPasswd(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.wantErr)
			}
			if code != 0 {
				return
			}
			out := stdout.String()
			hash := strings.TrimSpace(out)
			if strings.Contains(out, "name:") {
				var users []config.User
				if err := yaml.Unmarshal([]byte(out), &users); err != nil || len(users) != 1 {
					t.Fatalf("output %q is not one auth.users entry: %v", out, err)
				}
				if users[0].Name != "kythuat" || users[0].Role != "secretariat" {
					t.Errorf("entry = %+v", users[0])
				}
				hash = users[0].PasswordHash
			}
			if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("mật khẩu dài")); err != nil {
				t.Errorf("hash %q does not match the password: %v", hash, err)
			}
		})
	}
}
