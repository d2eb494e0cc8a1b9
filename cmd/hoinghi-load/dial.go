package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"

	"hoinghi/internal/client"
)

// joinPlan is how the points dial: spread over ramp, each attempt bounded
// by timeout, a busy server's refusal retried up to retries times after
// backoff.
type joinPlan struct {
	ramp    time.Duration
	timeout time.Duration
	retries int
	backoff func() time.Duration // wait before a retry; nil: busyBackoff
}

// joined is the outcome of one point's dialing.
type joined[T any] struct {
	conn     T
	err      error         // the last attempt's error; nil when joined
	retries  int           // attempts after the first
	dialTime time.Duration // the successful attempt's duration
}

// rampSchedule returns when each of n dials starts, relative to the first:
// evenly spread over ramp, the first at once (all at once for ramp 0).
func rampSchedule(n int, ramp time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	if ramp <= 0 || n == 0 {
		return out
	}
	for i := range out {
		out[i] = ramp * time.Duration(i) / time.Duration(n)
	}
	return out
}

// busyBackoff is the wait before retrying a busy server: 1 s, as the
// server's Retry-After says, plus up to 1 s of jitter so that the refused
// points do not come back together.
func busyBackoff() time.Duration {
	return time.Second + rand.N(time.Second)
}

// retryable reports whether err is a refusal worth retrying: the server is
// busy (HTTP 503) and asks to come back later.
func retryable(err error) bool {
	var re *client.RefusedError
	return errors.As(err, &re) && (re.Status == http.StatusServiceUnavailable || re.Code == "server_busy")
}

// joinAll dials n points with dial, spread over the plan's ramp, and waits
// for all of them; a point that fails does not stop the others. The result
// has one entry per point, in order.
func joinAll[T any](ctx context.Context, n int, plan joinPlan, dial func(ctx context.Context, i int) (T, error)) []joined[T] {
	backoff := plan.backoff
	if backoff == nil {
		backoff = busyBackoff
	}
	out := make([]joined[T], n)
	start := time.Now()
	var wg sync.WaitGroup
	for i, at := range rampSchedule(n, plan.ramp) {
		wg.Go(func() {
			r := &out[i]
			if r.err = sleep(ctx, time.Until(start.Add(at))); r.err != nil {
				return
			}
			for {
				actx, cancel := context.WithTimeout(ctx, plan.timeout)
				t0 := time.Now()
				r.conn, r.err = dial(actx, i)
				r.dialTime = time.Since(t0)
				cancel()
				if r.err == nil || !retryable(r.err) || r.retries >= plan.retries || ctx.Err() != nil {
					return
				}
				r.retries++
				if err := sleep(ctx, backoff()); err != nil {
					return // keep the refusal as the reason
				}
			}
		})
	}
	wg.Wait()
	return out
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// failureKind names the kind of a dial error, for grouping: the server's
// refusal code (e.g. "server_busy", "too_many_connections"), "closed by
// server: REASON", "server error: CODE", "timeout", "canceled",
// "connection refused", "connection reset", or "other".
func failureKind(err error) string {
	var re *client.RefusedError
	var se *client.ServerError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		if re.Code != "" {
			return re.Code
		}
		return fmt.Sprintf("HTTP %d", re.Status)
	case errors.As(err, &se) && se.Closing != nil:
		return "closed by server: " + se.Closing.Reason
	case errors.As(err, &se) && se.Err != nil:
		return "server error: " + se.Err.Code
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	}
	return "other"
}

// disconnectKind names why a joined client's signaling connection ended:
// "closed by server: REASON" when the server said why, else "connection
// lost".
func disconnectKind(c *client.Client) string {
	if m, ok := c.Closing(); ok {
		return "closed by server: " + m.Reason
	}
	return "connection lost"
}

// ended reports whether c's signaling connection has ended.
func ended(c *client.Client) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// reasonCount is how many points failed (or were disconnected) for one
// kind of reason, with the first error seen of that kind.
type reasonCount struct {
	Kind    string `json:"kind"`
	Count   int    `json:"count"`
	Example string `json:"example,omitempty"`
}

// maxExample bounds the length of an example error message.
const maxExample = 200

// tally counts reasons by kind.
type tally struct {
	byKind map[string]*reasonCount
}

// add counts one occurrence of kind; example is kept for the first one.
func (t *tally) add(kind, example string) {
	if t.byKind == nil {
		t.byKind = make(map[string]*reasonCount)
	}
	rc := t.byKind[kind]
	if rc == nil {
		if len(example) > maxExample {
			example = example[:maxExample] + "..."
		}
		rc = &reasonCount{Kind: kind, Example: example}
		t.byKind[kind] = rc
	}
	rc.Count++
}

// sorted returns the counts, most frequent first, then by kind.
func (t *tally) sorted() []reasonCount {
	out := make([]reasonCount, 0, len(t.byKind))
	for _, rc := range t.byKind {
		out = append(out, *rc)
	}
	slices.SortFunc(out, func(a, b reasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// total returns the number of occurrences counted.
func total(rcs []reasonCount) int {
	n := 0
	for _, rc := range rcs {
		n += rc.Count
	}
	return n
}

// groupFailures groups the dial errors of the points that did not join.
func groupFailures[T any](rs []joined[T]) []reasonCount {
	var t tally
	for _, r := range rs {
		if r.err != nil {
			t.add(failureKind(r.err), r.err.Error())
		}
	}
	return t.sorted()
}
