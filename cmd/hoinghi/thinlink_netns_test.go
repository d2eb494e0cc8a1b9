package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
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
	"hoinghi/internal/token"
)

// The point of TestNetnsThinLinkPoint runs in a child process inside the
// namespace; these variables tell it so.
const (
	thinEnvURL   = "HOINGHI_TEST_THIN_POINT_URL"
	thinEnvToken = "HOINGHI_TEST_THIN_POINT_TOKEN"
	thinStatsTag = "THIN-POINT-STATS "
	// thinEnvKeyframeOnLoss makes the point ask for a keyframe whenever
	// it lost video (client.Options.KeyframeOnLoss).
	thinEnvKeyframeOnLoss = "HOINGHI_TEST_THIN_POINT_KEYFRAME_ON_LOSS"
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
	VideoLost   uint64
	Keyframes   uint64
	PLIs        int
	Upper       uint64 // pictures of temporal layers above the base
	Gaps        uint64 // pictures whose id did not follow the newest before
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
	requireTC(t)
	l := newPointLink(t, 5, "tbf")
	// The point's downlink: what the host sends it leaves through a token
	// bucket of 500 kbit/s with 100 ms of queue.
	l.run("tc", "qdisc", "add", "dev", l.vethHost, "root", "tbf", "rate", "500kbit", "burst", "6kb", "latency", "100ms")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv := l.serve(ctx)
	hall := srv.dial(ctx, conference.RoleTechnician, "", client.Options{Publish: true, Simulcast: true, VideoBitrate: 1_200_000})
	defer hall.Close()
	next := l.point(ctx, srv, "bien-hoa", nil)

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
	t.Logf("8 s on the thin link: %d frames (%d above the base temporal layer, %d after a gap in picture ids), longest freeze %v, sound %d packets, %d lost, %d switches, downlink %s",
		s.Frames-start.Frames, s.Upper-start.Upper, s.Gaps-start.Gaps, freeze, audio, lost, s.LayerSwitch-start.LayerSwitch, s.Downlink)
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
	if out, err := exec.Command("tc", "-s", "qdisc", "show", "dev", l.vethHost).CombinedOutput(); err == nil {
		t.Logf("the thin link before the limit is lifted: %s", out)
	}
	l.run("tc", "qdisc", "del", "dev", l.vethHost, "root")
	lifted := s.At
	for s.Layer != 2 {
		s = next()
		if s.At-lifted > 15*time.Second {
			t.Fatalf("15 s after the limit was lifted the program is at encoding %d (%+v)", s.Layer, s)
		}
	}
	t.Logf("limit lifted: the highest encoding %v later", s.At-lifted)
}

// pointLink is a network namespace for a point, joined to the host by a
// veth pair whose host end carries the server.
type pointLink struct {
	t                  *testing.T
	ns                 string
	hostIP, pointIP    string
	vethHost, vethPeer string
}

// newPointLink makes the k-th such namespace of this process (k names it
// apart from those of other tests), removed when the test ends. It needs
// root, ip and nft; a test that shapes the link calls requireTC too.
func newPointLink(t *testing.T, k int, name string) *pointLink {
	t.Helper()
	requireNetns(t)
	n := os.Getpid() % 250
	l := &pointLink{t: t,
		ns:     fmt.Sprintf("hoinghi-%s-%d", name, os.Getpid()),
		hostIP: fmt.Sprintf("10.%d.%d.1", 240+k, n), pointIP: fmt.Sprintf("10.%d.%d.2", 240+k, n),
		vethHost: fmt.Sprintf("hnl%d%c", os.Getpid(), 'a'+2*k), vethPeer: fmt.Sprintf("hnl%d%c", os.Getpid(), 'b'+2*k)}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", l.ns).CombinedOutput(); err != nil {
			t.Logf("clean up: ip netns del %s: %v: %s", l.ns, err, out)
		}
		exec.Command("ip", "link", "del", l.vethHost).Run()
	})
	for _, args := range [][]string{
		{"ip", "netns", "add", l.ns},
		{"ip", "link", "add", l.vethHost, "type", "veth", "peer", "name", l.vethPeer},
		{"ip", "link", "set", l.vethPeer, "netns", l.ns},
		{"ip", "link", "set", l.vethHost, "addrgenmode", "none"},
		{"ip", "netns", "exec", l.ns, "ip", "link", "set", l.vethPeer, "addrgenmode", "none"},
		{"ip", "addr", "add", l.hostIP + "/30", "dev", l.vethHost},
		{"ip", "link", "set", l.vethHost, "up"},
		{"ip", "netns", "exec", l.ns, "ip", "addr", "add", l.pointIP + "/30", "dev", l.vethPeer},
		{"ip", "netns", "exec", l.ns, "ip", "link", "set", l.vethPeer, "up"},
		{"ip", "netns", "exec", l.ns, "ip", "link", "set", "lo", "up"},
	} {
		l.run(args...)
	}
	return l
}

// requireTC skips the test without tc, or fails it in CI.
func requireTC(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tc"); err != nil {
		netnsUnavailable(t, "needs tc")
	}
}

// run runs a command that sets up the link; the test ends if it fails.
func (l *pointLink) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		netnsUnavailable(l.t, fmt.Sprintf("%s: %v: %s", strings.Join(args, " "), err, out))
	}
}

// linkServer is the server of a pointLink, on its host address.
type linkServer struct {
	t     *testing.T
	url   string
	issue func(role conference.Role, point string) string
}

// serve starts the server on the host end of l until ctx ends or the test
// does.
func (l *pointLink) serve(ctx context.Context) *linkServer {
	t := l.t
	t.Helper()
	port := freeTCPPort(t, l.hostIP)
	secret := strings.Repeat("l", 32)
	cfg := config.Default()
	cfg.Listen = net.JoinHostPort(l.hostIP, strconv.Itoa(port))
	cfg.PublicURL = "https://" + cfg.Listen
	cfg.TLS.SelfSigned = true
	cfg.DataDir = t.TempDir()
	cfg.Token.Secret = secret
	cfg.Instance = "link-test"
	cfg.Media.UDPPort, cfg.Media.TCPPort = 0, -1
	cfg.Media.ListenIPs = []string{l.hostIP}
	cfg.Media.IncludeLoopback = false
	cfg.TURN.Enabled = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srvCtx, stop := context.WithCancel(ctx)
	var serveErr error
	served := make(chan struct{})
	go func() {
		serveErr = serve(srvCtx, cfg, log, io.Discard)
		close(served)
	}()
	t.Cleanup(func() {
		stop()
		<-served
		if serveErr != nil {
			t.Errorf("serve: %v", serveErr)
		}
	})
	iss, err := token.NewIssuer([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	s := &linkServer{t: t, url: cfg.PublicURL, issue: func(role conference.Role, point string) string {
		tok, err := iss.Issue(server.DemoID, role, point, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}}
	waitSession(ctx, t, cfg.PublicURL, s.issue(conference.RolePoint, "bien-hoa"), served, &serveErr)
	return s
}

// dial joins a client of role (and point) on the host, with opts.
func (s *linkServer) dial(ctx context.Context, role conference.Role, point string, opts client.Options) *client.Client {
	s.t.Helper()
	opts.ServerURL, opts.Token, opts.InsecureTLS, opts.SkipICEServers = s.url, s.issue(role, point), true, true
	c, err := client.Dial(ctx, opts)
	if err != nil {
		s.t.Fatalf("%s %s: %v", role, point, err)
	}
	return c
}

// point runs point in a child process inside l's namespace, with the
// extra environment env, and returns the reader of its samples, which
// ends the test when they stop. The child stays until the test ends.
func (l *pointLink) point(ctx context.Context, s *linkServer, point string, env []string) func() thinSample {
	t := l.t
	t.Helper()
	child := exec.CommandContext(ctx, "ip", "netns", "exec", l.ns, os.Args[0],
		"-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	child.Env = append(append(os.Environ(), thinEnvURL+"="+s.url, thinEnvToken+"="+s.issue(conference.RolePoint, point)), env...)
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
	t.Cleanup(func() {
		release.Close()
		child.Wait()
		if t.Failed() {
			t.Logf("point output:\n%s%s", childLog.String(), childErr.String())
		}
	})
	return func() thinSample {
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
}

// thinPoint is the point inside the namespace: it joins and reports what
// it receives of the hall's program every thinEvery until its standard
// input closes.
func thinPoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()
	start := time.Now()
	c, err := client.Dial(ctx, client.Options{ServerURL: os.Getenv(thinEnvURL), Token: os.Getenv(thinEnvToken),
		Publish: true, VideoBitrate: 200_000, InsecureTLS: true, KeyframeOnLoss: os.Getenv(thinEnvKeyframeOnLoss) != ""})
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
		s := thinSample{At: time.Since(start), Downlink: c.Downlink(), PLIs: c.PLIsSent()}
		for _, st := range c.Received() {
			if st.Participant == client.SpeakerStreamID || st.From == "" {
				continue
			}
			switch st.Kind {
			case "video":
				s.Layer, s.Frames, s.VideoPkts, s.LayerSwitch = st.Layer, st.Frames, st.Packets, st.LayerSwitches
				s.VideoLost, s.Keyframes = st.Lost, st.Keyframes
				s.Upper, s.Gaps = st.UpperPictures, st.PictureGaps
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

// TestNetnsLossyPoint: a point whose link drops 5 % of what reaches it
// (nftables, on its input) and asks for a keyframe at every loss, as a
// browser that cannot wait does, beside two points on clean links. Its
// losses are repaired from the packet caches (retransmits, with none of
// its NACKs going further); its keyframe requests count at most one a
// second (sfu's subscriberPLIThrottle), those of an encoding at most one
// a throttle window upstream, so that the clean points get a keyframe a
// second from it at most besides the periodic ones.
func TestNetnsLossyPoint(t *testing.T) {
	if os.Getenv(thinEnvURL) != "" {
		thinPoint(t)
		return
	}
	l := newPointLink(t, 6, "loss")
	rules := `table inet hoinghi_loss {
  chain input {
    type filter hook input priority 0; policy accept;
    meta l4proto udp numgen random mod 100 < 5 drop
  }
}
`
	nft := exec.Command("ip", "netns", "exec", l.ns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		netnsUnavailable(t, fmt.Sprintf("nft: %v: %s", err, out))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := l.serve(ctx)
	hall := srv.dial(ctx, conference.RoleTechnician, "", client.Options{Publish: true, Simulcast: true, VideoBitrate: 1_200_000})
	defer hall.Close()
	hallID := hall.Welcome().ParticipantID
	var clean []*client.Client
	for _, p := range []string{"long-thanh", "dinh-quan"} {
		c := srv.dial(ctx, conference.RolePoint, p, client.Options{Publish: true, VideoBitrate: 200_000})
		defer c.Close()
		clean = append(clean, c)
	}
	next := l.point(ctx, srv, "bien-hoa", []string{thinEnvKeyframeOnLoss + "=1"})

	// Once the lossy point receives the program, a window of 10 s.
	s := next()
	for s.VideoPkts < 100 {
		s = next()
	}
	hallVideo := func(c *client.Client) client.TrackStats {
		st, _ := trackFrom(c.Received(), hallID, "video")
		return st
	}
	before := s
	metrics0 := scrapeMetrics(t, srv.url)
	var keys0 []uint64
	for _, c := range clean {
		keys0 = append(keys0, hallVideo(c).Keyframes)
	}
	sent0 := hall.Sent()
	const window = 10 * time.Second
	for s.At-before.At < window {
		s = next()
	}
	metrics1 := scrapeMetrics(t, srv.url)
	delta := func(name string) float64 { return metrics1[name] - metrics0[name] }
	plis, requests := delta("hoinghi_plis_total"), delta("hoinghi_keyframe_requests_total")
	retransmits, misses, upstream := delta("hoinghi_retransmits_total"), delta("hoinghi_nack_misses_total"), delta("hoinghi_nacks_sent_total")
	// Lost counts what is missing so far: holes that a retransmission
	// fills later come off it.
	received, lost := s.VideoPkts-before.VideoPkts, s.VideoLost
	t.Logf("10 s at 5 %% loss: the point received %d video packets, %d still missing, sent %d PLIs; the server got %.0f PLIs, asked the hall for %.0f keyframes, resent %.0f packets from its caches, missed %.0f, sent %.0f NACKs upstream",
		received, lost, s.PLIs-before.PLIs, plis, requests, retransmits, misses, upstream)
	if retransmits == 0 {
		t.Error("no packet was resent from the caches")
	}
	if upstream != 0 {
		t.Errorf("%.0f NACKs went to the hall, whose link is clean: the subscriber's losses were not repaired locally", upstream)
	}
	if float64(lost) > 0.01*float64(s.VideoPkts) {
		t.Errorf("%d of %d video packets still missing after repair", lost, s.VideoPkts)
	}
	if s.PLIs-before.PLIs < 10 || plis < 10 {
		t.Fatalf("the lossy point asked for %d keyframes (the server heard %.0f): too few for the test", s.PLIs-before.PLIs, plis)
	}
	// At most one request per encoding and throttle window.
	throttled := window.Seconds() / keyframeThrottleForTest.Seconds()
	if requests > 3*throttled {
		t.Errorf("%.0f keyframe requests to the hall in %v, over %.0f (one per encoding and throttle window)", requests, window, 3*throttled)
	}
	for i, c := range clean {
		got := hallVideo(c).Keyframes - keys0[i]
		if float64(got) > 1.5*window.Seconds()+2 {
			t.Errorf("clean point %d got %d keyframes of the program in %v; one a second from the lossy point and the periodic ones every 2 s make %.0f", i, got, window, 1.5*window.Seconds())
		}
	}
	var hallKeys uint64
	for i, st := range hall.Sent() {
		if st.Kind == "video" && i < len(sent0) {
			hallKeys += st.Keyframes - sent0[i].Keyframes
		}
	}
	t.Logf("the lossy point is at encoding %d (%s); the hall sent %d keyframes of its three encodings; the clean points got %d and %d of the program", s.Layer, s.Downlink, hallKeys,
		hallVideo(clean[0]).Keyframes-keys0[0], hallVideo(clean[1]).Keyframes-keys0[1])
}

// keyframeThrottleForTest is the SFU's least time between two keyframe
// requests of one encoding (sfu.keyframeThrottle).
const keyframeThrottleForTest = 300 * time.Millisecond

// trackFrom returns the stats of the track of kind from participant's own
// stream.
func trackFrom(st []client.TrackStats, participant, kind string) (client.TrackStats, bool) {
	for _, s := range st {
		if s.Participant == participant && s.Kind == kind {
			return s, true
		}
	}
	return client.TrackStats{}, false
}

// scrapeMetrics reads the server's /metrics: each sample's value by name.
func scrapeMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // self-signed test server
	}}
	res, err := hc.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := make(map[string]float64)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}
