package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	"hoinghi/internal/token"
)

// The point of TestNetnsThinLinkPoint runs in a child process inside the
// namespace; these variables tell it so.
const (
	thinEnvURL   = "HOINGHI_TEST_THIN_POINT_URL"
	thinEnvToken = "HOINGHI_TEST_THIN_POINT_TOKEN"
	thinStatsTag = "THIN-POINT-STATS "
)

// thinSample is what the point in the namespace reports of the hall's
// program, every thinEvery.
type thinSample struct {
	At          time.Duration // since the point dialled
	Layer       int           // encoding of the hall's video
	Frames      uint64        // video frames begun so far
	VideoPkts   uint64
	AudioPkts   uint64
	AudioLost   uint64
	Downlink    string
	LayerSwitch uint64
}

const thinEvery = 200 * time.Millisecond

// TestNetnsThinLinkPoint runs the server on the host end of a veth pair
// and a point in a network namespace whose downlink tc's tbf holds to
// 500 kbit/s, while the hall publishes its camera in three encodings (of
// 120, 400 and 1 200 kbit/s). The point must get the program in a lower
// encoding within 10 s of joining, then lose under 1 % of its sound and
// see no freeze of its picture longer than 2 s; when the limit is lifted
// it must climb back to the highest encoding within 15 s. It needs root,
// ip, tc and nft.
func TestNetnsThinLinkPoint(t *testing.T) {
	if os.Getenv(thinEnvURL) != "" {
		thinPoint(t)
		return
	}
	requireNetns(t)
	if _, err := exec.LookPath("tc"); err != nil {
		netnsUnavailable(t, "needs tc")
	}
	const k = 5
	n := os.Getpid() % 250
	hostIP := fmt.Sprintf("10.%d.%d.1", 240+k, n)
	pointIP := fmt.Sprintf("10.%d.%d.2", 240+k, n)
	ns := fmt.Sprintf("hoinghi-thin-%d", os.Getpid())
	vethHost, vethPoint := fmt.Sprintf("hnl%da", os.Getpid()), fmt.Sprintf("hnl%db", os.Getpid())
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Logf("clean up: ip netns del %s: %v: %s", ns, err, out)
		}
		exec.Command("ip", "link", "del", vethHost).Run()
	})
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			netnsUnavailable(t, fmt.Sprintf("%s: %v: %s", strings.Join(args, " "), err, out))
		}
	}
	for _, args := range [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", vethHost, "type", "veth", "peer", "name", vethPoint},
		{"ip", "link", "set", vethPoint, "netns", ns},
		{"ip", "link", "set", vethHost, "addrgenmode", "none"},
		{"ip", "netns", "exec", ns, "ip", "link", "set", vethPoint, "addrgenmode", "none"},
		{"ip", "addr", "add", hostIP + "/30", "dev", vethHost},
		{"ip", "link", "set", vethHost, "up"},
		{"ip", "netns", "exec", ns, "ip", "addr", "add", pointIP + "/30", "dev", vethPoint},
		{"ip", "netns", "exec", ns, "ip", "link", "set", vethPoint, "up"},
		{"ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"},
		// The point's downlink: what the host sends it leaves through a
		// token bucket of 500 kbit/s with 100 ms of queue.
		{"tc", "qdisc", "add", "dev", vethHost, "root", "tbf", "rate", "500kbit", "burst", "6kb", "latency", "100ms"},
	} {
		run(args...)
	}

	port := freeTCPPort(t, hostIP)
	secret := strings.Repeat("l", 32)
	cfg := config.Default()
	cfg.Listen = net.JoinHostPort(hostIP, strconv.Itoa(port))
	cfg.PublicURL = "https://" + cfg.Listen
	cfg.TLS.SelfSigned = true
	cfg.DataDir = t.TempDir()
	cfg.Token.Secret = secret
	cfg.Instance = "thin-test"
	cfg.Media.UDPPort, cfg.Media.TCPPort = 0, -1
	cfg.Media.ListenIPs = []string{hostIP}
	cfg.Media.IncludeLoopback = false
	cfg.TURN.Enabled = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
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
		Publish: true, Simulcast: true, VideoBitrate: 1_200_000, InsecureTLS: true, SkipICEServers: true})
	if err != nil {
		t.Fatalf("hall: %v", err)
	}
	defer hall.Close()

	child := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0],
		"-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	child.Env = append(os.Environ(), thinEnvURL+"="+cfg.PublicURL, thinEnvToken+"="+pointToken)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var childErr strings.Builder
	child.Stderr = &childErr
	release, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	samples := make(chan thinSample, 1024)
	var childLog strings.Builder
	go func() {
		defer close(samples)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s, ok := strings.CutPrefix(sc.Text(), thinStatsTag)
			if !ok {
				childLog.WriteString(sc.Text() + "\n")
				continue
			}
			var v thinSample
			if json.Unmarshal([]byte(s), &v) == nil {
				samples <- v
			}
		}
	}()
	defer func() {
		release.Close()
		child.Wait()
		if t.Failed() {
			t.Logf("point output:\n%s%s", childLog.String(), childErr.String())
		}
	}()
	next := func() thinSample {
		t.Helper()
		select {
		case s, ok := <-samples:
			if !ok {
				t.Fatal("the point stopped reporting")
			}
			return s
		case <-ctx.Done():
			t.Fatal("timed out")
		}
		return thinSample{}
	}

	// Down to a lower encoding within 10 s of joining, and staying there
	// for 3 s.
	var s thinSample
	var lowSince time.Duration = -1
	for {
		s = next()
		if s.VideoPkts > 0 && s.Layer < 2 {
			if lowSince < 0 {
				lowSince = s.At
			}
			if s.At-lowSince >= 3*time.Second {
				break
			}
		} else {
			lowSince = -1
		}
		if s.At > 13*time.Second {
			t.Fatalf("after %v on a 500 kbit/s link the program is at encoding %d (%+v)", s.At, s.Layer, s)
		}
	}
	t.Logf("on the thin link: encoding %d steady from %v after joining", s.Layer, lowSince)

	// Then 8 s of sound under 1 % lost and no freeze over 2 s.
	start, lastFrames, lastFrameAt, freeze := s, s.Frames, s.At, time.Duration(0)
	for s.At-start.At < 8*time.Second {
		s = next()
		if s.Frames > lastFrames {
			lastFrames, lastFrameAt = s.Frames, s.At
		}
		freeze = max(freeze, s.At-lastFrameAt)
	}
	audio := s.AudioPkts - start.AudioPkts
	lost := s.AudioLost - start.AudioLost
	t.Logf("8 s on the thin link: %d frames, longest freeze %v, sound %d packets, %d lost, %d switches, downlink %s",
		s.Frames-start.Frames, freeze, audio, lost, s.LayerSwitch-start.LayerSwitch, s.Downlink)
	if audio == 0 || float64(lost) > 0.01*float64(audio+lost) {
		t.Errorf("sound on the thin link: %d packets, %d lost; want under 1 %% lost", audio, lost)
	}
	if freeze > 2*time.Second {
		t.Errorf("the picture froze for %v on the thin link", freeze)
	}
	if s.Frames == start.Frames {
		t.Error("no video frame on the thin link")
	}

	// The limit is lifted: the highest encoding within 15 s.
	if out, err := exec.Command("tc", "-s", "qdisc", "show", "dev", vethHost).CombinedOutput(); err == nil {
		t.Logf("the thin link before the limit is lifted: %s", out)
	}
	run("tc", "qdisc", "del", "dev", vethHost, "root")
	lifted := s.At
	for s.Layer != 2 {
		s = next()
		if s.At-lifted > 15*time.Second {
			t.Fatalf("15 s after the limit was lifted the program is at encoding %d (%+v)", s.Layer, s)
		}
	}
	t.Logf("limit lifted: the highest encoding %v later", s.At-lifted)
}

// thinPoint is the point inside the namespace: it joins and reports what
// it receives of the hall's program every thinEvery until its standard
// input closes.
func thinPoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()
	start := time.Now()
	c, err := client.Dial(ctx, client.Options{ServerURL: os.Getenv(thinEnvURL), Token: os.Getenv(thinEnvToken),
		Publish: true, VideoBitrate: 200_000, InsecureTLS: true})
	if err != nil {
		t.Fatalf("point: %v", err)
	}
	defer c.Close()
	released := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(released)
	}()
	tick := time.NewTicker(thinEvery)
	defer tick.Stop()
	for {
		select {
		case <-released:
			return
		case <-ctx.Done():
			t.Fatal("point: not released by the test")
		case <-tick.C:
		}
		s := thinSample{At: time.Since(start), Downlink: c.Downlink()}
		for _, st := range c.Received() {
			if st.Participant == client.SpeakerStreamID || st.From == "" {
				continue
			}
			switch st.Kind {
			case "video":
				s.Layer, s.Frames, s.VideoPkts, s.LayerSwitch = st.Layer, st.Frames, st.Packets, st.LayerSwitches
			case "audio":
				s.AudioPkts, s.AudioLost = st.Packets, st.Lost
			}
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s%s\n", thinStatsTag, b)
	}
}
