// Package srtpkeys learns the SRTP keys of a DTLS-SRTP connection made by
// pion, from what its handshake shows to two hooks pion offers: the
// server's hello (its random, the cipher suite and the SRTP profile
// chosen) and the key log line (the client's random and the master
// secret). With them a program can encrypt SRTP itself, as pion would,
// and write it beside pion's connection.
//
// The secrets stay in memory, in the Recorder; nothing is written out.
// Only the DTLS server role is covered: a client's key log does not carry
// the server's random.
package srtpkeys

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
)

// ErrNotReady is returned by Keys before the handshake showed both what
// the server sent and the master secret.
var ErrNotReady = errors.New("srtpkeys: the handshake has not shown the keys")

// keyLogLabel starts the key log line of a DTLS 1.2 master secret (the NSS
// key log format).
const keyLogLabel = "CLIENT_RANDOM"

// Recorder collects what one DTLS connection, in the server role, shows of
// its keys. Give its ServerHello method to the connection's server hello
// hook and the Recorder itself as its key log writer; after the handshake,
// Keys returns the SRTP keys. It is safe for concurrent use.
type Recorder struct {
	mu           sync.Mutex
	hello        bool
	serverRandom [handshake.RandomLength]byte
	suite        dtls.CipherSuiteID
	profile      srtp.ProtectionProfile
	clientRandom [handshake.RandomLength]byte
	master       []byte
}

// ServerHello records the server's random, cipher suite and SRTP profile
// from the hello it is about to send, and returns the hello unchanged.
func (r *Recorder) ServerHello(m handshake.MessageServerHello) handshake.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hello = true
	r.serverRandom = m.Random.MarshalFixed()
	if m.CipherSuiteID != nil {
		r.suite = dtls.CipherSuiteID(*m.CipherSuiteID)
	}
	r.profile = 0
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) > 0 {
			r.profile = srtp.ProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	return &m
}

// Write takes one key log line, "CLIENT_RANDOM <client random> <master
// secret>" in hexadecimal, and records it; other lines are ignored.
func (r *Recorder) Write(line []byte) (int, error) {
	f := strings.Fields(string(bytes.TrimSpace(line)))
	if len(f) != 3 || f[0] != keyLogLabel {
		return len(line), nil
	}
	random, err := hex.DecodeString(f[1])
	if err != nil || len(random) != handshake.RandomLength {
		return 0, fmt.Errorf("srtpkeys: bad client random in the key log")
	}
	master, err := hex.DecodeString(f[2])
	if err != nil || len(master) == 0 {
		return 0, fmt.Errorf("srtpkeys: bad master secret in the key log")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	copy(r.clientRandom[:], random)
	r.master = master
	return len(line), nil
}

// Keys returns the SRTP profile and session keys of the connection, the
// local ones being the server's, as pion's own SRTP session has them.
func (r *Recorder) Keys() (srtp.ProtectionProfile, srtp.SessionKeys, error) {
	r.mu.Lock()
	ready := r.hello && r.master != nil && r.profile != 0
	profile := r.profile
	r.mu.Unlock()
	if !ready {
		return 0, srtp.SessionKeys{}, ErrNotReady
	}
	cfg := srtp.Config{Profile: profile}
	if err := cfg.ExtractSessionKeysFromDTLS(r, false); err != nil {
		return 0, srtp.SessionKeys{}, fmt.Errorf("srtpkeys: %w", err)
	}
	return profile, cfg.Keys, nil
}

// ExportKeyingMaterial is the keying material exporter of RFC 5705 for the
// connection, as the DTLS connection's own state computes it: the TLS 1.2
// PRF of the master secret over the label and the two randoms.
func (r *Recorder) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	if len(context) != 0 {
		return nil, errors.New("srtpkeys: an exporter context is not supported")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.hello || r.master == nil {
		return nil, ErrNotReady
	}
	seed := make([]byte, 0, len(label)+2*handshake.RandomLength)
	seed = append(seed, label...)
	seed = append(seed, r.clientRandom[:]...)
	seed = append(seed, r.serverRandom[:]...)
	return prf.PHash(r.master, seed, length, prfHash(r.suite))
}

// prfHash is the hash of the PRF of a DTLS 1.2 cipher suite: SHA-384 for
// the suites named so, SHA-256 for all others.
func prfHash(id dtls.CipherSuiteID) func() hash.Hash {
	if strings.HasSuffix(dtls.CipherSuiteName(id), "_SHA384") {
		return sha512.New384
	}
	return sha256.New
}
