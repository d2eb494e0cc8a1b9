package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// replyError is an error reply of the server, as go-redis returns it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestFailed(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{redis.Nil, false},
		{fmt.Errorf("hget: %w", redis.Nil), false},
		{redis.TxFailedErr, false},
		{context.Canceled, false},
		{replyError("NOSCRIPT No matching script"), false},
		{context.DeadlineExceeded, true},
		{replyError("WRONGTYPE Operation against a key holding the wrong kind of value"), true},
		{errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"), true},
	}
	for _, tt := range tests {
		if got := failed(tt.err); got != tt.want {
			t.Errorf("failed(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestErrorCounterHook(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	var c errorCounter
	rdb.AddHook(&c)
	ctx := context.Background()

	// Not failures: a missing key, a script run the first time (EVALSHA
	// answered NOSCRIPT, then EVAL).
	rdb.Get(ctx, "missing")
	if err := redis.NewScript("return 1").Run(ctx, rdb, nil).Err(); err != nil {
		t.Fatal(err)
	}
	// Failures: a command on a key of the wrong type, alone and in a
	// pipeline.
	rdb.Set(ctx, "s", "x", 0)
	rdb.HGet(ctx, "s", "f")
	rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HGet(ctx, "s", "f")
		p.Get(ctx, "s")
		p.LPush(ctx, "s", "y")
		return nil
	})
	want := map[string]uint64{"hget": 2, "lpush": 1}
	got := c.counts
	if len(got) != len(want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d failures, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

func TestErrorCounterBoundsNames(t *testing.T) {
	var c errorCounter
	for i := range maxErrorNames + 10 {
		c.add(fmt.Sprintf("CMD%d", i))
	}
	if len(c.counts) != maxErrorNames+1 || c.counts["other"] != 10 || c.counts["cmd0"] != 1 {
		t.Errorf("%d names, other = %d, cmd0 = %d", len(c.counts), c.counts["other"], c.counts["cmd0"])
	}
}

func TestEmbeddedRedisErrors(t *testing.T) {
	s := openAt(t, t.TempDir(), 0)
	defer mustClose(t, s)
	ctx := context.Background()
	if err := s.rdb.Set(ctx, s.prefix+":s", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.rdb.HGet(ctx, s.prefix+":s", "f")
	if got := s.RedisErrors()["hget"]; got != 1 {
		t.Errorf("hget failures = %d, want 1 (all: %v)", got, s.RedisErrors())
	}
}
