package auth

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit bounds login attempts: Burst at once, then one every Every.
type Limit struct {
	Every time.Duration
	Burst int
}

// DefaultLoginLimit allows ten attempts at once from one IP address, then
// one every six seconds: plenty for a person who mistypes, far too few to
// guess a password.
var DefaultLoginLimit = Limit{Every: 6 * time.Second, Burst: 10}

// limiterIdle is how long an address's limiter is kept after its last
// attempt; by then it has refilled anyway.
const limiterIdle = 10 * time.Minute

// limiter keeps one token bucket per client address.
type limiter struct {
	limit Limit

	mu      sync.Mutex
	buckets map[string]*bucket
	pruned  time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(l Limit) *limiter {
	if l.Every <= 0 || l.Burst <= 0 {
		l = DefaultLoginLimit
	}
	return &limiter{limit: l, buckets: make(map[string]*bucket)}
}

// allow takes one attempt of ip at now, or says how long to wait.
func (l *limiter) allow(ip string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.pruned) > limiterIdle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > limiterIdle {
				delete(l.buckets, k)
			}
		}
		l.pruned = now
	}
	b := l.buckets[ip]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientIP is the address of r's peer. Forwarding headers are not trusted:
// anyone could set them to escape the limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
