package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/config"
)

// startup is a server started as run starts it, its log and stdout
// written in order into one buffer, as a terminal shows them.
type startup struct {
	t    *testing.T
	out  *lockedBuffer
	stop context.CancelFunc
	done chan error
}

// startServer loads the configuration from args as run does, with a data
// dir of the test's own and free ports, and serves it until the test ends.
func startServer(t *testing.T, args ...string) *startup {
	t.Helper()
	args = append([]string{"-data-dir", t.TempDir(), "-udp-port", "0", "-tcp-port", "0", "-turn-port", "0"}, args...)
	cfg, err := config.Load(args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s := &startup{t: t, out: &lockedBuffer{}, done: make(chan error, 1)}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go func() { s.done <- serve(ctx, cfg, cfg.NewLogger(s.out), s.out) }()
	t.Cleanup(func() {
		if err := s.shutdown(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// shutdown stops the server and returns what serve returned.
func (s *startup) shutdown() error {
	if s.stop == nil {
		return nil
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		return err
	case <-time.After(20 * time.Second):
		var stacks bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		return fmt.Errorf("serve did not return 20 s after its context ended; goroutines:\n%s", stacks.String())
	}
}

// linkLine is a line of the demo's links: role, name, URL.
var linkLine = regexp.MustCompile(`^  (technician|chair|secretariat|point) +\S.* +https?://\S+/\?t=\S+$`)

// waitLinks waits until the demo's six links are printed, then 500 ms
// more, and returns the output, split into lines.
func (s *startup) waitLinks() []string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := countMatches(s.out.String(), linkLine); n >= 6 {
			break
		}
		select {
		case err := <-s.done:
			s.t.Fatalf("serve returned %v before the links; output:\n%s", err, s.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no links after 30 s; output:\n%s", s.out.String())
		}
	}
	time.Sleep(500 * time.Millisecond) // for anything printed after them
	return strings.Split(s.out.String(), "\n")
}

func countMatches(out string, re *regexp.Regexp) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// TestStartUpPrintsTheLinksLast: the server logs its start-up (the store,
// TURN, where media listens, serving), then prints the demo's links, and
// nothing after them: they stay at the bottom of the terminal.
func TestStartUpPrintsTheLinksLast(t *testing.T) {
	s := startServer(t, "-listen", "127.0.0.1:0")
	lines := s.waitLinks()
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	last := len(lines) - 6
	if last < 0 {
		t.Fatalf("output too short:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines[last:] {
		if !linkLine.MatchString(l) {
			t.Fatalf("the last 6 lines are not the links; output:\n%s", strings.Join(lines, "\n"))
		}
	}
	// Every log line, the last ones of start-up included, comes before the
	// links.
	before := strings.Join(lines[:last], "\n")
	for _, msg := range []string{`msg="embedded store started"`, `msg="turn serving"`, `msg="media listening"`, `msg="hoinghi serving"`} {
		if !strings.Contains(before, msg) {
			t.Errorf("no %s before the links; output:\n%s", msg, strings.Join(lines, "\n"))
		}
	}
	if err := s.shutdown(); err != nil {
		t.Errorf("serve: %v", err)
	}
	out := s.out.String()
	if tail := out[strings.LastIndex(out, "/point/?t="):]; !strings.Contains(tail, `msg="shutting down"`) {
		t.Errorf("no shutdown logged after the links; output:\n%s", out)
	}
}

// TestStartUpBindsLikeTheWebPort: with the default listen address, every
// socket of the server (web, media UDP and ICE-TCP, TURN, the embedded
// store) is on loopback, the server says so and how to open it to the
// LAN; with listen on every address, media is on every address too.
func TestStartUpBindsLikeTheWebPort(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		port := freeTCPPort(t, "127.0.0.1")
		s := startServer(t, "-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		lines := s.waitLinks()
		media := mediaLine(t, lines)
		if !strings.Contains(media, "UDP 127.0.0.1:") || !strings.Contains(media, "TCP 127.0.0.1:") {
			t.Errorf("media line %q: want UDP and TCP on 127.0.0.1", media)
		}
		for _, f := range strings.Fields(media) {
			if ap, err := netip.ParseAddrPort(strings.TrimSuffix(f, ",")); err == nil && !ap.Addr().IsLoopback() {
				t.Errorf("media reachable on %s, not loopback: %q", ap, media)
			}
		}
		hint := fmt.Sprintf("this machine only. Mở cho mạng LAN / to open it to the LAN: -listen 0.0.0.0:%d -tls-self-signed -public-url https://", port)
		if !strings.Contains(strings.Join(lines, "\n"), hint) {
			t.Errorf("no word on opening the server to the LAN; output:\n%s", strings.Join(lines, "\n"))
		}

		socks, err := ownSockets()
		if errors.Is(err, os.ErrNotExist) {
			t.Skipf("no /proc to read the sockets from: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		var udp, listening int
		for _, k := range socks {
			if !k.local.Addr().IsLoopback() {
				t.Errorf("%s socket on %s, not loopback", k.proto, k.local)
			}
			if strings.HasPrefix(k.proto, "udp") {
				udp++
			} else if k.listen {
				listening++
			}
		}
		// Media UDP and TURN UDP; web, media ICE-TCP, TURN TCP, the store.
		if udp < 2 || listening < 4 {
			t.Errorf("%d UDP sockets and %d listening TCP ones, want at least 2 and 4: %v", udp, listening, socks)
		}
	})
	t.Run("every address", func(t *testing.T) {
		if !hasNonLoopbackAddress() {
			t.Skip("the host has no address but loopback")
		}
		s := startServer(t, "-listen", "0.0.0.0:0")
		lines := s.waitLinks()
		media := mediaLine(t, lines)
		wide := false
		for _, f := range strings.Fields(media) {
			if ap, err := netip.ParseAddrPort(strings.TrimSuffix(f, ",")); err == nil && !ap.Addr().IsLoopback() {
				wide = true
			}
		}
		if !wide {
			t.Errorf("media line %q: want addresses beyond loopback with listen 0.0.0.0", media)
		}
		if strings.Contains(strings.Join(lines, "\n"), "this machine only") {
			t.Errorf("a server on every address says it is for this machine only")
		}
	})
}

func mediaLine(t *testing.T, lines []string) string {
	t.Helper()
	for _, l := range lines {
		if strings.HasPrefix(l, "Hình và tiếng / media: ") {
			return l
		}
	}
	t.Fatalf("no media line; output:\n%s", strings.Join(lines, "\n"))
	return ""
}

// hasNonLoopbackAddress reports whether the host has an address that is
// neither loopback nor link-local, where media on every address would be.
func hasNonLoopbackAddress() bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return true
		}
	}
	return false
}

// socket is one of this process's sockets as /proc/net lists it.
type socket struct {
	proto  string // tcp, tcp6, udp or udp6
	local  netip.AddrPort
	listen bool // a TCP socket in LISTEN state
}

func (s socket) String() string { return s.proto + " " + s.local.String() }

// ownSockets returns the TCP and UDP sockets this process has open: those
// of /proc/net/{tcp,tcp6,udp,udp6} whose inode is one of /proc/self/fd.
func ownSockets() ([]socket, error) {
	fds, err := filepath.Glob("/proc/self/fd/*")
	if err != nil {
		return nil, fmt.Errorf("list fds: %w", err)
	}
	if len(fds) == 0 {
		return nil, fmt.Errorf("no /proc/self/fd: %w", os.ErrNotExist)
	}
	inodes := make(map[string]bool)
	for _, fd := range fds {
		if target, err := os.Readlink(fd); err == nil && strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	var out []socket
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		f, err := os.Open("/proc/net/" + proto)
		if err != nil {
			return nil, fmt.Errorf("read sockets: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || !inodes[fields[9]] {
				continue
			}
			local, err := parseProcAddr(fields[1])
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("/proc/net/%s: %w", proto, err)
			}
			out = append(out, socket{proto: proto, local: local, listen: strings.HasPrefix(proto, "tcp") && fields[3] == "0A"})
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read /proc/net/%s: %w", proto, err)
		}
	}
	return out, nil
}

// parseProcAddr parses an address of /proc/net/{tcp,udp}[6]: the address
// in hex as 32-bit words in host (little-endian) order, a colon, the port
// in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	raw, err := hex.DecodeString(h)
	port, perr := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil || perr != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address", s)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	a, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
}

// lockedBuffer is a bytes.Buffer that the server's goroutines may write
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
