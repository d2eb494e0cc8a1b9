// Package storetest opens stores for tests of other packages: one on a real
// Redis under a fresh key prefix, or one on the embedded default in a
// temporary directory. Both are closed, and the Redis keys deleted, when the
// test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/store"
	"hoinghi/internal/testenv"
)

// DefaultRedisAddr is the test Redis that Redis opens unless the environment
// variable HOINGHI_TEST_REDIS names another, as host:port or a redis:// URL.
const DefaultRedisAddr = "127.0.0.1:6379"

// RedisOptions returns the options of the test Redis with a fresh key prefix
// "hntest-<random>".
func RedisOptions(t testing.TB) store.Options {
	t.Helper()
	opts := store.Options{Addr: DefaultRedisAddr, Prefix: "hntest-" + randomHex(t, 6)}
	if v := os.Getenv("HOINGHI_TEST_REDIS"); v != "" {
		opts.Addr = v
		if u, err := redis.ParseURL(v); err == nil {
			opts.Addr, opts.DB, opts.Password = u.Addr, u.DB, u.Password
		}
	}
	return opts
}

// Redis returns a store on the test Redis under a fresh key prefix. Every
// key under that prefix is deleted when the test ends. When no Redis answers
// the test is skipped, or fails in CI (see testenv.Need).
func Redis(t testing.TB) *store.Store {
	t.Helper()
	opts := RedisOptions(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := openRedis(ctx, opts)
	testenv.Need(t, "test Redis at "+opts.Addr, err)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
		if err := DeletePrefix(opts); err != nil {
			t.Errorf("clean up test keys: %v", err)
		}
	})
	return s
}

// openRedis opens a store on opts, failing fast when nothing listens at the
// address (the client would otherwise retry for seconds).
func openRedis(ctx context.Context, opts store.Options) (*store.Store, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	c.Close()
	return store.Open(ctx, opts)
}

// DeletePrefix deletes every key under opts.Prefix from the Redis at
// opts.Addr, with SCAN and DEL.
func DeletePrefix(opts store.Options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: opts.Addr, DB: opts.DB, Password: opts.Password})
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, opts.Prefix+":*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := rdb.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return rdb.Del(ctx, batch...).Err()
	}
	return nil
}

// Embedded returns a store on the embedded default with its data in a
// temporary directory, closed when the test ends.
func Embedded(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open embedded store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random prefix: %v", err)
	}
	return hex.EncodeToString(b)
}
