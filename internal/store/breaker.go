package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is returned, wrapped, by every store call made while Redis
// does not answer: at once, without waiting for a connection timeout, so
// that the server answers "try again" instead of holding its callers.
var ErrUnavailable = errors.New("store unavailable")

// breakerPause is how long after a command found Redis unreachable the
// following commands fail at once; after it, the next command tries again.
const breakerPause = time.Second

// breaker is a go-redis hook that fails commands at once for breakerPause
// after one failed because Redis could not be reached (a network error or
// a timeout; a reply of Redis, even an error reply, means it is there).
type breaker struct {
	openUntil atomic.Int64 // unix nanoseconds; 0 while Redis answers
}

var _ redis.Hook = (*breaker)(nil)

func (b *breaker) DialHook(next redis.DialHook) redis.DialHook { return next }

func (b *breaker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := b.check(); err != nil {
			cmd.SetErr(err)
			return err
		}
		err := next(ctx, cmd)
		b.observe(ctx, err)
		return err
	}
}

func (b *breaker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := b.check(); err != nil {
			for _, cmd := range cmds {
				cmd.SetErr(err)
			}
			return err
		}
		err := next(ctx, cmds)
		b.observe(ctx, err)
		return err
	}
}

// check returns ErrUnavailable while the breaker is open.
func (b *breaker) check() error {
	if until := b.openUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return fmt.Errorf("%w: Redis did not answer; try again in a moment", ErrUnavailable)
	}
	return nil
}

// observe opens the breaker when err says Redis could not be reached, and
// closes it when Redis answered.
func (b *breaker) observe(ctx context.Context, err error) {
	switch {
	case err == nil, isRedisError(err), errors.Is(err, redis.Nil), errors.Is(err, redis.TxFailedErr):
		b.openUntil.Store(0)
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The caller gave up; that says nothing of Redis.
	default:
		b.openUntil.Store(time.Now().Add(breakerPause).UnixNano())
	}
}

// Unavailable reports whether err says the store could not be reached, so
// that the caller answers "try again" rather than a failure of its own.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if isRedisError(err) {
		return false
	}
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, redis.ErrPoolTimeout)
}
