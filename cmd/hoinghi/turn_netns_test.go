package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/config"
	"hoinghi/internal/server"
	"hoinghi/internal/testenv"
	"hoinghi/internal/token"
)

// The point's side of TestNetnsTURNOnlyPointGetsMediaThroughWebPort runs in
// a child process inside the namespace; these variables tell it so.
const (
	netnsEnvURL   = "HOINGHI_TEST_NETNS_POINT_URL"
	netnsEnvToken = "HOINGHI_TEST_NETNS_POINT_TOKEN"
	netnsStatsTag = "NETNS-POINT-STATS "
)

const netnsMinPackets = 30

// TestNetnsTURNOnlyPointGetsMediaThroughWebPort runs the server on the host
// end of a veth pair and a point in a network namespace whose firewall lets
// out nothing but TCP to the server's HTTPS port: no UDP, no other TCP
// port. The point must join over HTTPS, reach the SFU through TURN over TCP
// on that same port, and exchange video with the hall. It needs root, ip
// (iproute2) and nft (nftables).
func TestNetnsTURNOnlyPointGetsMediaThroughWebPort(t *testing.T) {
	if os.Getenv(netnsEnvURL) != "" {
		netnsPoint(t)
		return
	}
	netnsTURNOnly(t, 0, "")
}

// TestNetnsTURNOnlyPointWithServerBehindNAT is the same with the server
// announcing a public IP that is not its own, as behind a cloud's 1:1 NAT
// without hairpinning: the hall, which cannot reach that address either,
// also goes through TURN, and relayed media to the public IP must stay on
// the host.
func TestNetnsTURNOnlyPointWithServerBehindNAT(t *testing.T) {
	if os.Getenv(netnsEnvURL) != "" {
		netnsPoint(t)
		return
	}
	netnsTURNOnly(t, 1, "203.0.113.77")
}

// TestNetnsTURNOnlyPointWithServerAnnouncingLoopback is the same with the
// server announcing 127.0.0.1, as the Docker compose file does by default:
// the SFU then binds no loopback socket, and relayed media to 127.0.0.1
// must reach it on the relay IP.
func TestNetnsTURNOnlyPointWithServerAnnouncingLoopback(t *testing.T) {
	if os.Getenv(netnsEnvURL) != "" {
		netnsPoint(t)
		return
	}
	netnsTURNOnly(t, 2, "127.0.0.1")
}

// netnsTURNOnly runs the test in the k-th namespace of this process, with
// the server announcing publicIP when it is not empty.
func netnsTURNOnly(t *testing.T, k int, publicIP string) {
	l := newPointLink(t, k, "turn")
	hostIP, ns := l.hostIP, l.ns

	port := freeTCPPort(t, hostIP)
	// A strict firewall: out, only TCP to the web port (other TCP is reset
	// so that clients give up at once rather than after minutes; UDP is
	// dropped, which a sender sees at once); in, only that port's replies.
	rules := fmt.Sprintf(`table inet hoinghi_test {
  chain output {
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ip daddr %[1]s tcp dport %[2]d accept
    meta l4proto tcp reject with tcp reset
  }
  chain input {
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ip saddr %[1]s tcp sport %[2]d accept
  }
}
`, hostIP, port)
	nft := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		netnsUnavailable(t, fmt.Sprintf("nft: %v: %s", err, out))
	}

	secret := strings.Repeat("n", 32)
	cfg := config.Default()
	cfg.Listen = net.JoinHostPort(hostIP, strconv.Itoa(port))
	cfg.PublicURL = "https://" + cfg.Listen
	cfg.TLS.SelfSigned = true
	cfg.DataDir = t.TempDir()
	cfg.Token.Secret = secret
	cfg.Instance = "netns-test"
	cfg.Media.UDPPort, cfg.Media.TCPPort = 0, 0
	cfg.TURN.Port = 0
	if publicIP != "" {
		cfg.Media.PublicIPs = []string{publicIP}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	srvCtx, stop := context.WithCancel(ctx)
	var serveErr error
	served := make(chan struct{})
	go func() {
		serveErr = serve(srvCtx, cfg, log, io.Discard)
		close(served)
	}()
	defer func() {
		stop()
		<-served
		if serveErr != nil {
			t.Errorf("serve: %v", serveErr)
		}
	}()

	iss, err := token.NewIssuer([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	issue := func(role conference.Role, point string) string {
		tok, err := iss.Issue(server.DemoID, role, point, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	pointToken := issue(conference.RolePoint, "bien-hoa")
	waitSession(ctx, t, cfg.PublicURL, pointToken, served, &serveErr)

	hall, err := client.Dial(ctx, client.Options{ServerURL: cfg.PublicURL, Token: issue(conference.RoleTechnician, ""),
		Publish: true, InsecureTLS: true, SkipICEServers: publicIP == ""})
	if err != nil {
		t.Fatalf("hall: %v", err)
	}
	defer hall.Close()

	child := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0],
		"-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	child.Env = append(os.Environ(), netnsEnvURL+"="+cfg.PublicURL, netnsEnvToken+"="+pointToken)
	var childOut bytes.Buffer
	child.Stdout, child.Stderr = &childOut, &childOut
	release, err := child.StdinPipe() // the point stays until this closes
	if err != nil {
		t.Fatal(err)
	}
	defer release.Close()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	childDone := make(chan error, 1)
	go func() { childDone <- child.Wait() }()

	hallErr := hall.WaitMedia(ctx, func(st []client.TrackStats) bool {
		return videoFrom(st, "bien-hoa") >= netnsMinPackets
	})
	// The server measures the point's link every 2 s; it must see TURN.
	var network string
	for ctx.Err() == nil && hallErr == nil {
		for _, q := range hall.LinkQuality().Participants {
			if q.ID == "bien-hoa" {
				network = q.Network
			}
		}
		if network != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	release.Close()
	childErr := <-childDone
	if childErr != nil || hallErr != nil {
		t.Fatalf("hall: %v; point: %v; point output:\n%s", hallErr, childErr, childOut.String())
	}
	if network != "relay" {
		t.Errorf("the server sees the point's network as %q, want relay; link quality %+v", network, hall.LinkQuality())
	}
	var got []client.TrackStats
	sc := bufio.NewScanner(&childOut)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), netnsStatsTag); ok {
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatalf("point stats: %v", err)
			}
		}
	}
	hallID := hall.Welcome().ParticipantID
	if v := videoFrom(got, hallID); v < netnsMinPackets {
		t.Errorf("point received %d video packets from the hall, want at least %d; stats %+v", v, netnsMinPackets, got)
	}
	for _, st := range append(got, hall.Received()...) {
		if st.Corrupt > 0 {
			t.Errorf("corrupt media: %+v", st)
		}
	}
	t.Logf("point behind the firewall: received %d hall video packets; hall received %d of its video packets; network %s",
		videoFrom(got, hallID), videoFrom(hall.Received(), "bien-hoa"), network)
}

// netnsPoint is the point inside the namespace: it joins, publishes, waits
// for the hall's video, stays until its standard input closes and prints
// what it received.
func netnsPoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{ServerURL: os.Getenv(netnsEnvURL), Token: os.Getenv(netnsEnvToken),
		Publish: true, InsecureTLS: true})
	if err != nil {
		t.Fatalf("point: %v", err)
	}
	defer c.Close()
	hallSeen := func(st []client.TrackStats) bool {
		for _, s := range st {
			if s.Kind == "video" && s.Packets >= netnsMinPackets {
				return true
			}
		}
		return false
	}
	if err := c.WaitMedia(ctx, hallSeen); err != nil {
		t.Fatalf("point: %v", err)
	}
	released := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(released)
	}()
	select {
	case <-released:
	case <-ctx.Done():
		t.Fatal("point: not released by the test")
	}
	b, err := json.Marshal(c.Received())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s%s\n", netnsStatsTag, b)
}

// videoFrom counts the video packets received from participant, on its own
// track or on a slot (the hall's wall) that carries it.
func videoFrom(st []client.TrackStats, participant string) uint64 {
	var n uint64
	for _, s := range st {
		if s.Kind == "video" && (s.Participant == participant || s.From == participant) {
			n += s.Packets
		}
	}
	return n
}

// requireNetns skips the test without root, ip or nft, or fails it in CI.
func requireNetns(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		netnsUnavailable(t, "needs "+strings.Join(missing, ", "))
	}
}

// netnsUnavailable skips the test, or fails it in CI, because the network
// namespace it needs cannot be built, for the reason why.
func netnsUnavailable(t *testing.T, why string) {
	t.Helper()
	testenv.Need(t, "network namespace", errors.New(why))
}

func freeTCPPort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitSession waits until the server answers /api/session for tok, that is
// until it listens and the demo conference exists.
func waitSession(ctx context.Context, t *testing.T, base, tok string, served <-chan struct{}, serveErr *error) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // self-signed test server
	}}
	for {
		res, err := hc.Get(base + "/api/session?t=" + tok)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-served:
			t.Fatalf("server stopped: %v", *serveErr)
		case <-ctx.Done():
			t.Fatalf("server did not come up: last error %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
