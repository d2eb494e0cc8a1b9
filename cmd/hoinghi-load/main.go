// Command hoinghi-load is a load generator for a hoinghi server. It creates a
// conference with N connection points, connects the hall (technician,
// publishing) and every point (publishing) with internal/client, all in this
// process, lets synthetic media flow for a while and prints join times,
// packet counts and losses per direction, and the server's CPU time per
// forwarded packet from its /metrics.
//
// Usage:
//
//	hoinghi-load -server http://127.0.0.1:8080 -points 20 -duration 60s
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/token"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hoinghi-load:", err)
		}
		os.Exit(1)
	}
}

// config holds the command-line settings.
type config struct {
	server       string
	metricsURL   string
	secretFile   string
	token        string
	points       int
	duration     time.Duration
	warmup       time.Duration
	videoBitrate int
	audioBitrate int
	conference   string
	switches     int
	insecure     bool
	verbose      bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("hoinghi-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.server, "server", "http://127.0.0.1:8080", "base URL of the server")
	fs.StringVar(&c.metricsURL, "metrics", "", "URL of the server's Prometheus metrics (default SERVER/metrics)")
	fs.StringVar(&c.secretFile, "secret-file", "data/token-secret", "the server's token secret, to sign a technician token")
	fs.StringVar(&c.token, "token", "", "a technician token of the conference (instead of -secret-file)")
	fs.IntVar(&c.points, "points", 20, "number of connection points")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "length of the measured window")
	fs.IntVar(&c.switches, "switches", 20, "floor switches to measure after the window (0: none)")
	fs.DurationVar(&c.warmup, "warmup", 20*time.Second, "longest wait for media to reach everyone before the window starts")
	fs.IntVar(&c.videoBitrate, "video-bitrate", client.DefaultVideoBitrate, "video bits/s per publisher")
	fs.IntVar(&c.audioBitrate, "audio-bitrate", client.DefaultAudioBitrate, "audio bits/s per publisher")
	fs.StringVar(&c.conference, "conference", "", "conference id (default load-UNIXTIME, or the -token's conference)")
	fs.BoolVar(&c.insecure, "insecure", false, "accept a self-signed server certificate")
	fs.BoolVar(&c.verbose, "v", false, "log client events")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.points < 1 {
		return c, errors.New("-points must be at least 1")
	}
	if c.duration <= 0 {
		return c, errors.New("-duration must be positive")
	}
	c.server = strings.TrimSuffix(c.server, "/")
	if c.metricsURL == "" {
		c.metricsURL = c.server + "/metrics"
	}
	if c.conference == "" && c.token != "" {
		conf, err := tokenConference(c.token)
		if err != nil {
			return c, err
		}
		c.conference = conf
	}
	if c.conference == "" {
		c.conference = fmt.Sprintf("load-%d", time.Now().Unix())
	}
	if err := conference.ValidateID(c.conference); err != nil {
		return c, fmt.Errorf("-conference: %w", err)
	}
	return c, nil
}

// tokenConference reads the conference claim of a token without verifying
// it; the server verifies it.
func tokenConference(raw string) (string, error) {
	var claims token.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &claims); err != nil {
		return "", fmt.Errorf("-token: %w", err)
	}
	if claims.Conference == "" {
		return "", errors.New("-token: no conference claim")
	}
	return claims.Conference, nil
}

// technicianToken signs a technician token for conf with the server's secret.
func technicianToken(secretFile, conf string, expiry time.Time) (string, error) {
	raw, err := os.ReadFile(secretFile)
	if err != nil {
		return "", fmt.Errorf("read token secret: %w", err)
	}
	iss, err := token.NewIssuer(bytes.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("token secret %s: %w", secretFile, err)
	}
	return iss.Issue(conf, conference.RoleTechnician, "", expiry)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	startCPU := cpuTime()

	hc := &http.Client{Timeout: 15 * time.Second}
	if cfg.insecure {
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // requested by -insecure
	}
	tech := cfg.token
	if tech == "" {
		expiry := time.Now().Add(cfg.warmup + cfg.duration + time.Hour)
		if tech, err = technicianToken(cfg.secretFile, cfg.conference, expiry); err != nil {
			return err
		}
	}
	api := &apiClient{hc: hc, base: cfg.server, token: tech}
	hallToken, pointTokens, err := setUp(ctx, api, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "conference %s: hall and %d points connecting to %s\n", cfg.conference, cfg.points, cfg.server)

	opts := func(tok string) client.Options {
		return client.Options{
			ServerURL: cfg.server, Token: tok, Publish: true,
			VideoBitrate: cfg.videoBitrate, AudioBitrate: cfg.audioBitrate,
			InsecureTLS: cfg.insecure, Logger: log,
		}
	}
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hall, err := client.Dial(dialCtx, opts(hallToken))
	if err != nil {
		return fmt.Errorf("connect hall: %w", err)
	}
	defer hall.Close()
	points, err := dialAll(dialCtx, pointTokens, opts)
	defer func() {
		for _, p := range points {
			p.Close()
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "all connected; waiting up to %s for media to reach everyone\n", cfg.warmup)
	waitFlowing(ctx, hall, points, cfg.warmup)

	before := snapshot(hall, points)
	m0, scrapeErr := scrape(ctx, hc, cfg.metricsURL)
	if scrapeErr != nil {
		log.Warn("server metrics unavailable", "err", scrapeErr)
	}
	cpu0, t0 := cpuTime(), time.Now()
	fmt.Fprintf(stdout, "measuring for %s\n", cfg.duration)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(cfg.duration):
	}
	m1, err := scrape(ctx, hc, cfg.metricsURL)
	if err != nil && scrapeErr == nil {
		scrapeErr = err
		log.Warn("server metrics unavailable", "err", err)
	}
	window, cpu1 := time.Since(t0), cpuTime()
	after := snapshot(hall, points)

	res := buildResult(before, after, window)
	res.ownCPU, res.ownCPUTotal = cpu1-cpu0, cpu1-startCPU
	if scrapeErr == nil {
		res.serverOK = true
		res.server = make(map[string]float64)
		for k, v := range m1 {
			res.server[k] = v - m0[k]
		}
	}
	fmt.Fprintln(stdout)
	res.print(stdout)

	if cfg.switches > 0 {
		times, err := measureFloorSwitches(ctx, hall, points, cfg.switches)
		printSwitches(stdout, cfg.switches, times)
		if err != nil {
			return fmt.Errorf("floor switches: %w", err)
		}
	}
	if fails := res.failures(); len(fails) > 0 {
		return fmt.Errorf("load test failed: %s", strings.Join(fails, "; "))
	}
	return nil
}

// setUp creates the conference and its points and returns the hall's
// (technician) token and the points' tokens, from the links the server signs.
func setUp(ctx context.Context, api *apiClient, cfg config) (string, []string, error) {
	conf := conference.Conference{ID: cfg.conference, Title: "Kiểm tra tải " + cfg.conference, TimeZone: conference.DefaultTimeZone}
	if err := api.do(ctx, http.MethodPut, "/api/conferences/"+cfg.conference, conf, nil); err != nil {
		return "", nil, fmt.Errorf("create conference: %w", err)
	}
	want := make(map[string]bool, cfg.points)
	for i := range cfg.points {
		p := conference.Point{ID: fmt.Sprintf("diem-%03d", i+1), Name: fmt.Sprintf("Điểm cầu thử tải %d", i+1), ExpectedDelegates: 10}
		want[p.ID] = true
		if err := api.do(ctx, http.MethodPut, "/api/conferences/"+cfg.conference+"/points/"+p.ID, p, nil); err != nil {
			return "", nil, fmt.Errorf("create point %s: %w", p.ID, err)
		}
	}
	var links []struct {
		Role    conference.Role `json:"role"`
		PointID string          `json:"point_id"`
		URL     string          `json:"url"`
	}
	if err := api.do(ctx, http.MethodGet, "/api/conferences/"+cfg.conference+"/links", nil, &links); err != nil {
		return "", nil, fmt.Errorf("get links: %w", err)
	}
	var hall string
	var points []string
	for _, l := range links {
		u, err := url.Parse(l.URL)
		if err != nil {
			return "", nil, fmt.Errorf("link of %s %s: %w", l.Role, l.PointID, err)
		}
		t := u.Query().Get("t")
		switch {
		case l.Role == conference.RoleTechnician:
			hall = t
		case l.Role == conference.RolePoint && want[l.PointID]:
			points = append(points, t)
		}
	}
	if hall == "" {
		return "", nil, errors.New("links: no technician link")
	}
	if len(points) != cfg.points {
		return "", nil, fmt.Errorf("links: %d point links, want %d", len(points), cfg.points)
	}
	return hall, points, nil
}

// dialAll connects one publishing client per token, all at once. On error it
// returns the clients that connected, for the caller to close.
func dialAll(ctx context.Context, tokens []string, opts func(string) client.Options) ([]*client.Client, error) {
	clients := make([]*client.Client, len(tokens))
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() {
			clients[i], errs[i] = client.Dial(ctx, opts(tok))
			if errs[i] != nil {
				errs[i] = fmt.Errorf("connect point %d: %w", i+1, errs[i])
			}
		})
	}
	wg.Wait()
	connected := clients[:0]
	for _, c := range clients {
		if c != nil {
			connected = append(connected, c)
		}
	}
	return connected, errors.Join(errs...)
}

// waitFlowing waits until every point receives hall video and the hall
// receives video from every point, or until limit.
func waitFlowing(ctx context.Context, hall *client.Client, points []*client.Client, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	hasVideo := func(st []client.TrackStats, n int) bool {
		seen := 0
		for _, t := range st {
			if t.Kind == "video" && t.Packets > 0 {
				seen++
			}
		}
		return seen >= n
	}
	var wg sync.WaitGroup
	for _, p := range points {
		wg.Go(func() { p.WaitMedia(ctx, func(st []client.TrackStats) bool { return hasVideo(st, 1) }) })
	}
	wg.Go(func() { hall.WaitMedia(ctx, func(st []client.TrackStats) bool { return hasVideo(st, len(points)) }) })
	wg.Wait()
}

// snapshot reads the counters of every client.
func snapshot(hall *client.Client, points []*client.Client) []peerStats {
	out := make([]peerStats, 0, 1+len(points))
	for _, c := range append([]*client.Client{hall}, points...) {
		out = append(out, peerStats{name: c.Welcome().ParticipantID, sent: c.Sent(), recv: c.Received()})
	}
	return out
}

// buildResult computes the report from snapshots taken at the start and end
// of the window; the first entry of each is the hall.
func buildResult(before, after []peerStats, window time.Duration) *result {
	r := &result{points: len(after) - 1, window: window}
	hall := diffPeer(before[0], after[0])
	points := make([]peerStats, 0, r.points)
	for i := 1; i < len(after); i++ {
		points = append(points, diffPeer(before[i], after[i]))
		if d, ok := joinTime(after[i].recv); ok {
			r.joins = append(r.joins, d)
		} else {
			r.noMedia = append(r.noMedia, after[i].name)
		}
	}
	r.hallJoin, r.hallMedia = joinTime(after[0].recv)
	r.down = hallToPoints(hall, points)
	r.up = pointsToHall(hall, points)
	return r
}

// cpuTime returns the user and system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// apiClient calls the server's REST API with a bearer token.
type apiClient struct {
	hc    *http.Client
	base  string
	token string
}

// do sends body (JSON, if not nil) and decodes the JSON response into out (if
// not nil). An error status returns the server's error code and message.
func (a *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error     string `json:"error"`
			MessageEN string `json:"message_en"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: HTTP %d %s: %s", method, path, resp.StatusCode, e.Error, e.MessageEN)
		}
		return fmt.Errorf("%s %s: HTTP %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	return nil
}
