package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestAuthSettings(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("mật khẩu dài"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(h)
	tests := []struct {
		name, yaml string
		args       []string
		want       string // error text; empty for none
	}{
		{name: "users", yaml: "auth:\n  users:\n    - {name: lan, role: technician, password_hash: \"" + hash + "\"}\n    - {name: hoa, role: secretariat, password_hash: \"" + hash + "\"}\n"},
		{name: "no name", yaml: "auth:\n  users:\n    - {role: chair, password_hash: \"" + hash + "\"}\n", want: "auth.users[0].name: is empty"},
		{name: "twice", yaml: "auth:\n  users:\n    - {name: a, role: chair, password_hash: \"" + hash + "\"}\n    - {name: a, role: chair, password_hash: \"" + hash + "\"}\n", want: `auth.users[1].name: "a" is listed twice`},
		{name: "point", yaml: "auth:\n  users:\n    - {name: a, role: point, password_hash: \"" + hash + "\"}\n", want: `auth.users[0].role: "point" is not technician, chair or secretariat`},
		{name: "plain password", yaml: "auth:\n  users:\n    - {name: a, role: chair, password_hash: secret}\n", want: "auth.users[0].password_hash: not a bcrypt hash"},
		{name: "unknown field", yaml: "auth:\n  users:\n    - {name: a, role: chair, password: x}\n", want: "password"},
		{name: "session ttl flag", args: []string{"-session-ttl", "8h"}},
		{name: "zero session ttl", args: []string{"-session-ttl", "0s"}, want: "auth.session_ttl: 0s is not positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.yaml != "" {
				path := filepath.Join(t.TempDir(), "hoinghi.yaml")
				if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append([]string{"-config", path}, args...)
			}
			c, err := Load(args, func(string) string { return "" })
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if tc.name == "users" && (len(c.Auth.Users) != 2 || c.Auth.Users[1].Role != "secretariat" || c.Auth.Users[0].PasswordHash != hash) {
				t.Errorf("users = %+v", c.Auth.Users)
			}
			if tc.name == "session ttl flag" && time.Duration(c.Auth.SessionTTL) != 8*time.Hour {
				t.Errorf("session_ttl = %v", c.Auth.SessionTTL)
			}
		})
	}
}
