package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Limit bounds failed login attempts: Burst at once, then one every Every.
type Limit struct {
	Every time.Duration
	Burst int
}

// DefaultLoginLimit allows ten failed attempts at once, then one every six
// seconds: plenty for a person who mistypes, far too few to guess a
// password. It applies per client address and per user name.
var DefaultLoginLimit = Limit{Every: 6 * time.Second, Burst: 10}

// pairBurst is how many failed attempts one user name has from one address
// (at the Limit's pace) once the address is limited by other names'
// failures: enough for a person who mistypes behind a busy NAT.
const pairBurst = 3

// LimitError refuses a login attempt over the login limit.
type LimitError struct {
	// Wait is how long until an attempt may be made again.
	Wait time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("too many login attempts; try again in %s", e.Wait.Round(time.Second))
}

// The limiter keeps its buckets for limiterIdle after their last attempt,
// by when they have refilled anyway, and at most maxBuckets of each kind;
// beyond that (a flood), new keys share one bucket.
const (
	limiterIdle = 10 * time.Minute
	maxBuckets  = 100_000
	maxNameKey  = 256 // bytes of a name that count
	overflowKey = "\x00overflow"
)

// limiter counts failed login attempts in three kinds of token bucket: per
// client address (an IPv4 address or an IPv6 /64), per user name from every
// address, and per user name from one address. An attempt takes a token
// from its name's bucket and one from its address's bucket, or, when the
// address has none left, from the name-and-address bucket; a successful
// login gives its tokens back.
//
// So guessing one user's password is bounded by the name's bucket however
// many addresses guess; guessing many names from one address by the
// address's; and a correct password from an address that other users'
// failures have limited (a hall behind one NAT) still gets in, unless this
// name itself failed pairBurst times there lately.
type limiter struct {
	addr, name, pair *buckets
}

func newLimiter(l Limit) *limiter {
	if l.Every <= 0 || l.Burst <= 0 {
		l = DefaultLoginLimit
	}
	return &limiter{
		addr: newBuckets(l),
		name: newBuckets(l),
		pair: newBuckets(Limit{Every: l.Every, Burst: min(pairBurst, l.Burst)}),
	}
}

// attempt is one login attempt holding its tokens.
type attempt struct {
	// byPair is set when the address was limited and the attempt came
	// through the name-and-address bucket.
	byPair bool
	held   []token
}

// token is one token taken from a bucket of bs.
type token struct {
	bs *buckets
	b  *bucket
}

// succeeded gives the attempt's tokens back: a successful login does not
// count.
func (a *attempt) succeeded(now time.Time) {
	for _, t := range a.held {
		t.bs.give(t.b, now)
	}
}

// begin takes the tokens of an attempt to log in as name from the address
// group addr at now, or says how long to wait.
func (l *limiter) begin(addr, name string, now time.Time) (*attempt, time.Duration) {
	if len(name) > maxNameKey {
		name = name[:maxNameKey]
	}
	tn, ok, wait := l.name.take(name, now)
	if !ok {
		return nil, wait
	}
	pairKey := addr + "\x00" + name
	if ta, ok, _ := l.addr.take(addr, now); ok {
		at := &attempt{held: []token{tn, ta}}
		if tp, ok, _ := l.pair.take(pairKey, now); ok {
			at.held = append(at.held, tp)
		}
		return at, 0
	}
	tp, ok, waitPair := l.pair.take(pairKey, now)
	if !ok {
		l.name.give(tn.b, now)
		return nil, min(l.addr.wait(addr, now), waitPair)
	}
	return &attempt{byPair: true, held: []token{tn, tp}}, 0
}

// buckets are the token buckets of one kind, by key.
type buckets struct {
	limit Limit

	mu     sync.Mutex
	m      map[string]*bucket
	pruned time.Time
}

// bucket holds tokens, as of at; it refills one every Limit.Every up to
// Limit.Burst.
type bucket struct {
	tokens float64
	at     time.Time
}

func newBuckets(l Limit) *buckets { return &buckets{limit: l, m: make(map[string]*bucket)} }

// take takes a token of key at now, or reports how long until one is there.
func (bs *buckets) take(key string, now time.Time) (token, bool, time.Duration) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.get(key, now)
	bs.fill(b, now)
	if b.tokens < 1 {
		return token{}, false, time.Duration((1 - b.tokens) * float64(bs.limit.Every))
	}
	b.tokens--
	return token{bs: bs, b: b}, true, 0
}

// wait is how long until key has a token at now.
func (bs *buckets) wait(key string, now time.Time) time.Duration {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.get(key, now)
	bs.fill(b, now)
	return time.Duration(max(1-b.tokens, 0) * float64(bs.limit.Every))
}

// give puts a token taken from b back.
func (bs *buckets) give(b *bucket, now time.Time) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	bs.fill(b, now)
	b.tokens = min(b.tokens+1, float64(bs.limit.Burst))
}

// fill adds the tokens b earned since b.at. bs.mu must be held.
func (bs *buckets) fill(b *bucket, now time.Time) {
	if now.After(b.at) {
		b.tokens = min(b.tokens+float64(now.Sub(b.at))/float64(bs.limit.Every), float64(bs.limit.Burst))
		b.at = now
	}
}

// get returns the bucket of key, creating it full. bs.mu must be held.
func (bs *buckets) get(key string, now time.Time) *bucket {
	if now.Sub(bs.pruned) > limiterIdle || (len(bs.m) >= maxBuckets && now.Sub(bs.pruned) > time.Second) {
		for k, b := range bs.m {
			if now.Sub(b.at) > limiterIdle {
				delete(bs.m, k)
			}
		}
		bs.pruned = now
	}
	b := bs.m[key]
	if b == nil && len(bs.m) >= maxBuckets {
		key = overflowKey
		b = bs.m[key]
	}
	if b == nil {
		b = &bucket{tokens: float64(bs.limit.Burst), at: now}
		bs.m[key] = b
	}
	return b
}

// clientAddr is the address group of r's peer that the login limit counts
// under: its IPv4 address, or its IPv6 /64 (one site's network, whose
// addresses a client can change at will). Forwarding headers are not
// trusted: anyone could set them to escape the limit.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return r.RemoteAddr
	}
	return addrGroup(ip)
}

// addrGroup returns the key of ip's group: an IPv4 address as it is, an
// IPv6 address as its /64.
func addrGroup(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64) // an IPv6 address has 64 bits to keep
	return p.String()
}
