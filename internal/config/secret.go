package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretFile is the name, inside the data dir, of the generated token secret.
const SecretFile = "token-secret"

// TokenSecret returns the secret that signs join links: token.secret when
// set, else the content of DATA_DIR/token-secret, which is created with 32
// random bytes (hex-encoded, mode 0600) when it does not exist yet. Reusing
// the file keeps links valid across restarts.
func (c *Config) TokenSecret() ([]byte, error) {
	if c.Token.Secret != "" {
		return []byte(c.Token.Secret), nil
	}
	path := filepath.Join(c.DataDir, SecretFile)
	for range 2 {
		secret, err := readSecret(path)
		if err == nil {
			return secret, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		err = writeSecret(c.DataDir, path)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Created now, or by a concurrent process: read it back.
	}
	return nil, fmt.Errorf("token secret %s: could not create it", path)
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < 32 {
		return nil, fmt.Errorf("token secret %s: is %d bytes; at least 32 are needed", path, len(b))
	}
	return b, nil
}

func writeSecret(dir, path string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("token secret %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("token secret %s: %w", path, err)
	}
	return nil
}
