package store

import "github.com/redis/go-redis/v9"

// RawClient returns the Redis client of s, so that the external tests may
// put Redis in states the store never makes itself (a key of the wrong
// type).
func RawClient(s *Store) *redis.Client { return s.rdb }
