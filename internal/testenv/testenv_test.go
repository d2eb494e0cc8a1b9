package testenv

import (
	"errors"
	"fmt"
	"testing"
)

func TestTruthy(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"", false},
		{"0", false},
		{"f", false},
		{"F", false},
		{"false", false},
		{"FALSE", false},
		{"False", false},
		{"n", false},
		{"no", false},
		{"No", false},
		{"off", false},
		{" false ", false},
		{"true", true},
		{"TRUE", true},
		{"True", true},
		{"t", true},
		{"1", true},
		{"yes", true},
		{"on", true},
		{"github", true},
		{"woodpecker", true},
		{" true\n", true},
		{"2", true},
	}
	for _, tt := range tests {
		if got := Truthy(tt.v); got != tt.want {
			t.Errorf("Truthy(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// recorder is a testing.TB that notes whether Need failed or skipped it.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }

func TestNeed(t *testing.T) {
	missing := errors.New("connection refused")
	tests := []struct {
		ci         string
		err        error
		fail, skip bool
	}{
		{"", missing, false, true},
		{"false", missing, false, true},
		{"0", missing, false, true},
		{"true", missing, true, false},
		{"1", missing, true, false},
		{"github", missing, true, false},
		{"true", nil, false, false},
		{"", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("CI=%q,err=%v", tt.ci, tt.err), func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{}
			Need(r, "test Redis at 127.0.0.1:6379", tt.err)
			if (r.failed != "") != tt.fail || (r.skipped != "") != tt.skip {
				t.Errorf("failed %q, skipped %q; want fail %v, skip %v", r.failed, r.skipped, tt.fail, tt.skip)
			}
			for _, msg := range []string{r.failed, r.skipped} {
				if msg != "" && msg != "test Redis at 127.0.0.1:6379 is needed in CI: connection refused" &&
					msg != "no test Redis at 127.0.0.1:6379: connection refused" {
					t.Errorf("message %q", msg)
				}
			}
		})
	}
}
