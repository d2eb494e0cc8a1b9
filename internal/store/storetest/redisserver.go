package storetest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hoinghi/internal/testenv"
)

// RedisServer is a redis-server process of the test's own on a free
// loopback port. It keeps its data in an append-only file synced on every
// write, so that Stop and Start give back the data it had, as a real
// server that is restarted does.
type RedisServer struct {
	t    testing.TB
	Addr string
	dir  string
	bin  string
	cmd  *exec.Cmd
	exit chan error
}

// StartRedisServer starts a redis-server found on PATH and stops it when
// the test ends. Without redis-server the test is skipped, or fails in CI
// (see testenv.Need).
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	testenv.Need(t, "redis-server on PATH", err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := &RedisServer{t: t, Addr: addr, dir: t.TempDir(), bin: bin}
	r.Start()
	t.Cleanup(func() {
		if r.cmd != nil {
			r.cmd.Process.Kill()
			<-r.exit
		}
	})
	return r
}

// Start starts the server again on the same port and data, and waits until
// it answers.
func (r *RedisServer) Start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.Addr)
	cmd := exec.Command(r.bin, "--port", port, "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--protected-mode", "no", "--loglevel", "warning")
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	r.cmd, r.exit = cmd, make(chan error, 1)
	go func() { r.exit <- cmd.Wait() }()

	rdb := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case werr := <-r.exit:
			r.cmd = nil
			r.t.Fatalf("redis-server on %s exited: %v", r.Addr, werr)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s does not answer: %v", r.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts the server down as an administrator would (SIGTERM: it syncs
// its append-only file and exits) and waits until it has exited.
func (r *RedisServer) Stop() {
	r.t.Helper()
	if r.cmd == nil {
		return
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		r.t.Fatalf("stop redis-server: %v", err)
	}
	select {
	case <-r.exit:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exit
		r.t.Fatal("redis-server did not stop within 10 s")
	}
	r.cmd = nil
}
