// Package turn is hoinghi's embedded TURN server (pion/turn): it relays
// media for points whose network lets nothing through but a TCP connection
// to the server, on the TURN port or on the web port itself (see WebMux).
//
// Credentials are short-lived and issued with each join in the form of the
// TURN REST API convention, so that nothing is stored and no password is
// configured: the username is "<expiry unix seconds>:<user>" and the
// password is base64(HMAC-SHA1(key, username)), where the key is derived
// from the server's token secret.
package turn

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Realm is the TURN realm of every credential the server issues.
const Realm = "hoinghi"

// DefaultLifetime is how long issued credentials stay valid unless
// configured otherwise: longer than a conference day, short enough that a
// leaked credential soon stops working.
const DefaultLifetime = 12 * time.Hour

// keyLabel separates the TURN key from other uses of the token secret.
const keyLabel = "hoinghi turn credentials v1"

// Errors returned by Credentials.Password.
var (
	ErrMalformed = errors.New("turn: username is not <expiry>:<user>")
	ErrExpired   = errors.New("turn: credentials expired")
)

// Credentials issues and checks short-lived TURN credentials. It is safe
// for concurrent use.
type Credentials struct {
	key      []byte
	lifetime time.Duration
}

// NewCredentials returns credentials keyed by a key derived from secret
// (the token secret), valid for lifetime after issue.
func NewCredentials(secret []byte, lifetime time.Duration) (*Credentials, error) {
	if len(secret) == 0 {
		return nil, errors.New("turn: credentials: empty secret")
	}
	if lifetime <= 0 {
		return nil, fmt.Errorf("turn: credentials: lifetime %s is not positive", lifetime)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(keyLabel))
	return &Credentials{key: mac.Sum(nil), lifetime: lifetime}, nil
}

// Lifetime is how long issued credentials stay valid.
func (c *Credentials) Lifetime() time.Duration { return c.lifetime }

// Issue returns a username and password for user, valid until now plus
// the lifetime. user should not contain a colon; one is replaced by "_".
func (c *Credentials) Issue(user string, now time.Time) (username, password string) {
	user = strings.ReplaceAll(user, ":", "_")
	username = strconv.FormatInt(now.Add(c.lifetime).Unix(), 10) + ":" + user
	return username, c.password(username)
}

// Password returns the password of username when username is well formed
// and not expired at now. The TURN server checks the client's message
// integrity with it, so a forged username or password fails there.
func (c *Credentials) Password(username string, now time.Time) (string, error) {
	exp, _, ok := strings.Cut(username, ":")
	if !ok {
		return "", ErrMalformed
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", ErrMalformed
	}
	if now.Unix() > t {
		return "", ErrExpired
	}
	return c.password(username), nil
}

func (c *Credentials) password(username string) string {
	mac := hmac.New(sha1.New, c.key)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
