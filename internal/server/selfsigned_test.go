package server

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfSigned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	now := time.Now()
	hosts, err := SelfSignedHosts("203.0.113.9", "hoinghi.lan")
	if err != nil {
		t.Fatal(err)
	}
	first, err := SelfSigned(dir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "203.0.113.9", "hoinghi.lan"} {
		if err := first.Leaf.VerifyHostname(h); err != nil {
			t.Errorf("certificate does not cover %s: %v", h, err)
		}
	}
	if Fingerprint(first) == "" {
		t.Error("empty fingerprint")
	}

	again, err := SelfSigned(dir, hosts, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Certificate[0], again.Certificate[0]) {
		t.Error("certificate regenerated; want the saved one reused")
	}

	wider, err := SelfSigned(dir, append(hosts, "198.51.100.4"), now)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first.Certificate[0], wider.Certificate[0]) {
		t.Error("certificate reused though it lacks a new address")
	}

	late, err := SelfSigned(dir, hosts, now.Add(380*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(wider.Certificate[0], late.Certificate[0]) {
		t.Error("certificate reused though it expires within 30 days")
	}
}
