// Package testenv decides what a test does when something it needs from the
// machine is missing: a Redis, Chromium, a network namespace, pdftotext.
// On a developer's machine the test is skipped; in CI, where everything is
// meant to be there, it fails, so that a broken CI machine cannot pass by
// skipping.
//
// CI is recognised by the environment variable CI (see Truthy), which
// .ci/run sets and CI services set by themselves.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Truthy reports whether v, the value of the environment variable CI,
// means that the tests run in CI. Any value counts except the empty string
// and the words that say no: "0", "f", "false", "n", "no" and "off", in any
// case and with surrounding spaces. So "true", "1", "yes" and whatever a CI
// service puts there ("github", "woodpecker") count; strconv.ParseBool's
// false values do not.
func Truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "f", "false", "n", "no", "off":
		return false
	}
	return true
}

// CI reports whether the tests run in CI: the environment variable CI is
// Truthy.
func CI() bool { return Truthy(os.Getenv("CI")) }

// Need ends t when err says that what it needs is missing: it skips the
// test, or fails it in CI. what names the dependency for the message, as
// in "test Redis at 127.0.0.1:6379". A nil err does nothing.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if CI() {
		t.Fatalf("%s is needed in CI: %v", what, err)
	} else {
		t.Skipf("no %s: %v", what, err)
	}
}
