package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/protocol"
)

func TestRampSchedule(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		n    int
		ramp time.Duration
		want []time.Duration
	}{
		{0, time.Second, []time.Duration{}},
		{3, 0, []time.Duration{0, 0, 0}},
		{3, -time.Second, []time.Duration{0, 0, 0}},
		{1, 10 * time.Second, []time.Duration{0}},
		{4, 100 * ms, []time.Duration{0, 25 * ms, 50 * ms, 75 * ms}},
		{3, 10 * ms, []time.Duration{0, 10 * ms / 3, 20 * ms / 3}},
	}
	for _, tt := range tests {
		got := rampSchedule(tt.n, tt.ramp)
		if !slices.Equal(got, tt.want) {
			t.Errorf("rampSchedule(%d, %v) = %v, want %v", tt.n, tt.ramp, got, tt.want)
		}
	}
	// 250 points within 10 s: evenly spaced, all inside the ramp.
	s := rampSchedule(250, 10*time.Second)
	for i := 1; i < len(s); i++ {
		if d := s[i] - s[i-1]; d != 40*ms {
			t.Fatalf("step %d is %v, want 40ms", i, d)
		}
	}
	if last := s[len(s)-1]; last >= 10*time.Second {
		t.Errorf("last dial at %v, not within the ramp", last)
	}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestFailureKind(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("connect point diem-001: %w", err) }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"busy", wrap(&client.RefusedError{Status: 503, Code: "server_busy"}), "server_busy"},
		{"too many connections", &client.RefusedError{Status: 429, Code: "too_many_connections"}, "too_many_connections"},
		{"refusal without code", &client.RefusedError{Status: 502, Message: "Bad Gateway"}, "HTTP 502"},
		{"closing", wrap(&client.ServerError{Closing: &protocol.Closing{Reason: "shutdown"}}), "closed by server: shutdown"},
		{"error message", &client.ServerError{Err: &protocol.Error{Code: "forbidden"}}, "server error: forbidden"},
		{"context deadline", wrap(fmt.Errorf("wait for welcome: %w", context.DeadlineExceeded)), "timeout"},
		{"net timeout", wrap(&net.OpError{Op: "read", Err: timeoutErr{}}), "timeout"},
		{"os deadline", wrap(os.ErrDeadlineExceeded), "timeout"},
		{"canceled", wrap(context.Canceled), "canceled"},
		{"refused", wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "connection refused"},
		{"reset", wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), "connection reset"},
		{"other", wrap(errors.New("publish: bad SDP")), "other"},
	}
	for _, tt := range tests {
		if got := failureKind(tt.err); got != tt.want {
			t.Errorf("%s: failureKind(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestGroupFailures(t *testing.T) {
	busy := &client.RefusedError{Status: 503, Code: "server_busy"}
	long := errors.New(string(make([]byte, 300)))
	rs := []joined[int]{
		{conn: 1},
		{err: fmt.Errorf("connect point a: %w", context.DeadlineExceeded)},
		{err: fmt.Errorf("connect point b: %w", busy)},
		{err: fmt.Errorf("connect point c: %w", busy)},
		{conn: 2},
		{err: long},
		{err: fmt.Errorf("connect point d: %w", context.DeadlineExceeded)},
		{err: fmt.Errorf("connect point e: %w", busy)},
	}
	got := groupFailures(rs)
	want := []reasonCount{
		{Kind: "server_busy", Count: 3, Example: "connect point b: " + busy.Error()},
		{Kind: "timeout", Count: 2, Example: "connect point a: context deadline exceeded"},
		{Kind: "other", Count: 1, Example: long.Error()[:maxExample] + "..."},
	}
	if !slices.Equal(got, want) {
		t.Errorf("groupFailures:\n got %+v\nwant %+v", got, want)
	}
	if n := total(got); n != 6 {
		t.Errorf("total %d, want 6", n)
	}
	if got := groupFailures([]joined[int]{{conn: 1}}); len(got) != 0 {
		t.Errorf("no failures grouped as %+v", got)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&client.RefusedError{Status: 503, Code: "server_busy"}, true},
		{fmt.Errorf("x: %w", &client.RefusedError{Status: 503}), true},
		{&client.RefusedError{Status: 429, Code: "server_busy"}, true},
		{&client.RefusedError{Status: 429, Code: "too_many_connections"}, false},
		{&client.RefusedError{Status: 401, Code: "token_expired"}, false},
		{context.DeadlineExceeded, false},
		{&client.ServerError{Closing: &protocol.Closing{Reason: "shutdown"}}, false},
	}
	for _, tt := range tests {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestJoinAll(t *testing.T) {
	busy := &client.RefusedError{Status: 503, Code: "server_busy"}
	forbidden := &client.RefusedError{Status: 403, Code: "forbidden"}
	tests := []struct {
		name        string
		retries     int
		fails       []int   // per point: attempts that fail before one succeeds (-1: never succeeds)
		errs        []error // per point: the error of a failing attempt
		wantJoined  []bool
		wantRetries []int
	}{
		{name: "all join", retries: 5, fails: []int{0, 0, 0}, errs: []error{nil, nil, nil},
			wantJoined: []bool{true, true, true}, wantRetries: []int{0, 0, 0}},
		{name: "busy then joined", retries: 5, fails: []int{2, 0}, errs: []error{busy, nil},
			wantJoined: []bool{true, true}, wantRetries: []int{2, 0}},
		{name: "busy beyond retries", retries: 2, fails: []int{-1, 0}, errs: []error{busy, nil},
			wantJoined: []bool{false, true}, wantRetries: []int{2, 0}},
		{name: "no retries", retries: 0, fails: []int{-1}, errs: []error{busy},
			wantJoined: []bool{false}, wantRetries: []int{0}},
		{name: "other refusal not retried", retries: 5, fails: []int{-1, 1}, errs: []error{forbidden, busy},
			wantJoined: []bool{false, true}, wantRetries: []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			attempts := make([]int, len(tt.fails))
			plan := joinPlan{timeout: time.Second, retries: tt.retries, backoff: func() time.Duration { return time.Millisecond }}
			rs := joinAll(context.Background(), len(tt.fails), plan, func(ctx context.Context, i int) (int, error) {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("attempt without a deadline")
				}
				mu.Lock()
				defer mu.Unlock()
				attempts[i]++
				if tt.fails[i] < 0 || attempts[i] <= tt.fails[i] {
					return 0, tt.errs[i]
				}
				return i + 100, nil
			})
			for i, r := range rs {
				if (r.err == nil) != tt.wantJoined[i] || r.retries != tt.wantRetries[i] {
					t.Errorf("point %d: err %v, retries %d; want joined %v, retries %d", i, r.err, r.retries, tt.wantJoined[i], tt.wantRetries[i])
				}
				if r.err == nil && r.conn != i+100 {
					t.Errorf("point %d: conn %d", i, r.conn)
				}
				if r.err != nil && !errors.Is(r.err, tt.errs[i]) {
					t.Errorf("point %d: err %v, want the last attempt's %v", i, r.err, tt.errs[i])
				}
			}
		})
	}
}

func TestJoinAllRamp(t *testing.T) {
	const n, ramp = 5, 200 * time.Millisecond
	var mu sync.Mutex
	starts := make([]time.Duration, n)
	t0 := time.Now()
	joinAll(context.Background(), n, joinPlan{ramp: ramp, timeout: time.Second}, func(ctx context.Context, i int) (int, error) {
		mu.Lock()
		starts[i] = time.Since(t0)
		mu.Unlock()
		return i, nil
	})
	for i, at := range rampSchedule(n, ramp) {
		if starts[i] < at || starts[i] > at+150*time.Millisecond {
			t.Errorf("dial %d started at %v, scheduled at %v", i, starts[i], at)
		}
	}
}

func TestJoinAllCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var called atomic.Bool
	rs := joinAll(ctx, 3, joinPlan{ramp: time.Hour, timeout: time.Second}, func(ctx context.Context, i int) (int, error) {
		called.Store(true)
		return i, ctx.Err()
	})
	if called.Load() {
		t.Error("a dial ran after cancel")
	}
	for i, r := range rs {
		if failureKind(r.err) != "canceled" {
			t.Errorf("point %d: err %v", i, r.err)
		}
	}
}
