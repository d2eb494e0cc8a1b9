package store

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// maxErrorNames bounds the command names counted apart; failures of further
// commands are counted under "other".
const maxErrorNames = 64

// errorCounter is a go-redis hook that counts failed commands by command
// name. A missing key (redis.Nil), a script not cached yet (NOSCRIPT, which
// go-redis answers with EVAL), an aborted optimistic transaction, a caller
// that gave up (context.Canceled) and a server that refuses the optional
// parts of the connection handshake (HELLO, CLIENT SETINFO) are not
// failures.
type errorCounter struct {
	mu     sync.Mutex
	counts map[string]uint64
}

var _ redis.Hook = (*errorCounter)(nil)

func (c *errorCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *errorCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if failed(err) && !handshakeRefused(cmd.Name(), err) {
			c.add(cmd.Name())
		}
		return err
	}
}

func (c *errorCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if failed(cmd.Err()) && !handshakeRefused(cmd.Name(), cmd.Err()) {
				c.add(cmd.Name())
			}
		}
		return err
	}
}

// failed reports whether err counts as a failed command.
func failed(err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.Nil), errors.Is(err, redis.TxFailedErr),
		errors.Is(err, context.Canceled), redis.HasErrorPrefix(err, "NOSCRIPT"):
		return false
	}
	return true
}

// handshakeRefused reports whether the command name with error err is a
// part of the connection handshake that the server refused and go-redis
// goes on without.
func handshakeRefused(name string, err error) bool {
	switch strings.ToLower(name) {
	case "hello", "client":
		return isRedisError(err)
	}
	return false
}

func (c *errorCounter) add(name string) {
	name = strings.ToLower(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = make(map[string]uint64)
	}
	if _, ok := c.counts[name]; !ok && len(c.counts) >= maxErrorNames {
		name = "other"
	}
	c.counts[name]++
}

// RedisErrors returns how many Redis commands failed since Open, by
// lower-case command name (e.g. "hget", "evalsha"). Missing keys, aborted
// optimistic transactions and callers that gave up are not failures.
func (s *Store) RedisErrors() map[string]uint64 {
	s.errs.mu.Lock()
	defer s.errs.mu.Unlock()
	return maps.Clone(s.errs.counts)
}
