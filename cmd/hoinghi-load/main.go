// Command hoinghi-load is a load generator for a hoinghi server. It creates a
// conference with N connection points, connects the hall (technician,
// publishing) and every point (publishing) with internal/client, all in this
// process, lets synthetic media flow for a while and prints how many points
// joined (and why the others failed or were disconnected), join times,
// packet counts and losses per direction, floor switch times, and the
// server's memory, goroutines and CPU time from its /metrics.
//
// A point that fails to join does not stop the run: the run goes on with
// the points that joined, and fails (exit status 1) only when fewer than
// -min-joined of them joined and stayed connected, or media did not reach
// its receivers whole.
//
// With -idle N it instead opens N signaling-only connections (points that
// do not publish) and holds them for the window, to measure what an idle
// connection costs the server.
//
// Usage:
//
//	hoinghi-load -server http://127.0.0.1:8080 -points 20 -duration 60s
//	hoinghi-load -points 250 -ramp 10s -video-bitrate 150000 -duration 60s
//	hoinghi-load -idle 1000 -ramp 20s -duration 60s
//	hoinghi-load -fanout -points 200 -video-bitrate 1000000 -duration 25s
//	hoinghi-load -galene ws://127.0.0.1:8443/ws -group bench -fanout -points 50 -server-pid PID
//
// With -galene it runs the same fan-out against a Galene server instead
// (see galene.go), and with -server-pid it reads the server's CPU time and
// memory from /proc, the same way for either server (see proc.go).
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
	idle         int
	fanout       bool
	duration     time.Duration
	warmup       time.Duration
	ramp         time.Duration
	joinTimeout  time.Duration
	retries      int
	minJoined    float64
	videoBitrate int
	audioBitrate int
	conference   string
	switches     int
	wall         int
	simulcast    bool
	settle       time.Duration
	turn         bool
	jsonFile     string
	insecure     bool
	verbose      bool
	galene       string // Galene's WebSocket endpoint: run against Galene
	group        string // the Galene group
	serverPID    int    // the server's process, read in /proc
	record       bool   // record the conference during the window
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
	fs.BoolVar(&c.fanout, "fanout", false, "the points only subscribe: one publisher (the hall) fans out to -points subscribers, to measure forwarding")
	fs.IntVar(&c.idle, "idle", 0, "open this many signaling-only connections (points that do not publish) instead, with no hall")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "length of the measured window (-idle: how long the connections are held)")
	fs.DurationVar(&c.ramp, "ramp", 0, "spread the points' dials evenly over this time (0: all at once)")
	fs.DurationVar(&c.joinTimeout, "join-timeout", 30*time.Second, "longest wait for one dial attempt of a point")
	fs.IntVar(&c.retries, "retries", 5, "retries of a point refused as busy (HTTP 503), after 1-2 s each")
	fs.Float64Var(&c.minJoined, "min-joined", 1, "fraction of the points that must join and stay connected for the run to pass")
	fs.IntVar(&c.switches, "switches", 20, "floor switches to measure after the window (0: none)")
	fs.IntVar(&c.wall, "wall", 0, "the hall subscribes to the video of the first N points only, as a console's visible tiles (0: all)")
	fs.BoolVar(&c.turn, "turn", false, "use the STUN and TURN servers of welcome (default: host candidates only)")
	fs.DurationVar(&c.warmup, "warmup", 20*time.Second, "longest wait for media to reach everyone before the window starts")
	fs.DurationVar(&c.settle, "settle", 0, "once media reaches everyone, wait this long before the window starts (encodings nobody receives pause after 3 s)")
	fs.IntVar(&c.videoBitrate, "video-bitrate", client.DefaultVideoBitrate, "video bits/s per publisher")
	fs.BoolVar(&c.simulcast, "simulcast", false, "publishers send their video as three encodings (a tenth, a third and all of -video-bitrate), as the pages send a camera")
	fs.IntVar(&c.audioBitrate, "audio-bitrate", client.DefaultAudioBitrate, "audio bits/s per publisher")
	fs.StringVar(&c.conference, "conference", "", "conference id (default load-UNIXTIME, or the -token's conference)")
	fs.StringVar(&c.jsonFile, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&c.insecure, "insecure", false, "accept a self-signed server certificate")
	fs.BoolVar(&c.verbose, "v", false, "log client events")
	fs.StringVar(&c.galene, "galene", "", "run the -fanout against the Galene server at this WebSocket endpoint (ws://HOST:PORT/ws) instead")
	fs.StringVar(&c.group, "group", "bench", "-galene: the group, which must let any user present")
	fs.BoolVar(&c.record, "record", false, "record the conference (its REST API) from the window's start to its end, to measure what recording costs")
	fs.IntVar(&c.serverPID, "server-pid", 0, "the server's process id, to read its CPU time and memory from /proc (either server)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.idle < 0:
		return c, errors.New("-idle must not be negative")
	case c.idle > 0 && set["points"]:
		return c, errors.New("-idle and -points exclude each other: -idle N opens N connections")
	case c.idle > 0 && c.fanout:
		return c, errors.New("-fanout needs the hall, which -idle does not connect")
	case c.idle > 0 && set["wall"]:
		return c, errors.New("-wall needs the hall, which -idle does not connect")
	case c.idle == 0 && c.points < 1:
		return c, errors.New("-points must be at least 1")
	case c.duration <= 0:
		return c, errors.New("-duration must be positive")
	case c.ramp < 0:
		return c, errors.New("-ramp must not be negative")
	case c.joinTimeout <= 0:
		return c, errors.New("-join-timeout must be positive")
	case c.retries < 0:
		return c, errors.New("-retries must not be negative")
	case c.minJoined < 0 || c.minJoined > 1:
		return c, errors.New("-min-joined must be between 0 and 1")
	case c.wall < 0:
		return c, errors.New("-wall must not be negative")
	case c.serverPID < 0:
		return c, errors.New("-server-pid must not be negative")
	case c.galene != "" && !c.fanout:
		return c, errors.New("-galene runs the fan-out only: add -fanout")
	case c.galene != "" && (set["wall"] || set["token"] || set["turn"] || c.simulcast):
		return c, errors.New("-galene excludes -wall, -token, -turn and -simulcast")
	case c.galene != "" && c.group == "":
		return c, errors.New("-galene needs a -group")
	}
	if c.fanout {
		c.switches = 0 // subscribers do not publish: nobody to give the floor to
	}
	if c.idle > 0 {
		c.points, c.switches = c.idle, 0
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
	if c.galene != "" {
		c.conference = c.group
		return c, nil
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

// env is what a run needs besides its settings.
type env struct {
	cfg    config
	hc     *http.Client
	log    *slog.Logger
	stdout io.Writer
	plan   joinPlan
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
	e := &env{cfg: cfg, hc: hc, log: log, stdout: stdout,
		plan: joinPlan{ramp: cfg.ramp, timeout: cfg.joinTimeout, retries: cfg.retries}}
	r := &result{idle: cfg.idle > 0, fanout: cfg.fanout, conference: cfg.conference, points: cfg.points, ramp: cfg.ramp,
		minJoined: cfg.minJoined, switchN: cfg.switches, wall: cfg.wall, galene: cfg.galene != "", proc: procSamples{pid: cfg.serverPID}}
	if r.galene {
		err = runGalene(ctx, e, r)
	} else {
		err = runHoinghi(ctx, e, r)
	}
	if err != nil {
		return err
	}
	r.ownTotal = cpuTime() - startCPU

	fmt.Fprintln(stdout)
	r.print(stdout)
	if cfg.jsonFile != "" {
		if err := writeJSON(cfg.jsonFile, r.summary()); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if fails := r.failures(); len(fails) > 0 {
		return fmt.Errorf("load test failed: %s", strings.Join(fails, "; "))
	}
	return nil
}

// runHoinghi sets the conference up on a hoinghi server and runs the
// points, idle or with media.
func runHoinghi(ctx context.Context, e *env, r *result) error {
	cfg := e.cfg
	tech := cfg.token
	if tech == "" {
		expiry := time.Now().Add(cfg.ramp + cfg.warmup + cfg.duration + time.Hour)
		var err error
		if tech, err = technicianToken(cfg.secretFile, cfg.conference, expiry); err != nil {
			return err
		}
	}
	api := &apiClient{hc: e.hc, base: cfg.server, token: tech}
	hallToken, links, err := setUp(ctx, api, cfg)
	if err != nil {
		return err
	}
	r.server.start = e.scrape(ctx, &r.server, "start")
	if r.idle {
		return runIdle(ctx, e, links, r)
	}
	return runMedia(ctx, e, hallToken, links, r)
}

// scrape reads the server's metrics, even after an interrupt (the HTTP
// client's timeout bounds it); a failure is logged, kept in s (the first
// one) and returns nil.
// recording starts the conference's recording through the REST API, or
// with id stops that one, and returns the recording's id.
func (e *env) recording(ctx context.Context, tok, id string) (string, error) {
	url := strings.TrimRight(e.cfg.server, "/") + "/api/conferences/" + e.cfg.conference + "/recordings"
	if id != "" {
		url += "/" + id + "/stop"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("recording: %w", err)
	}
	defer resp.Body.Close()
	var rec struct {
		ID string `json:"id"`
	}
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("recording: %s: %s", resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil {
		return "", fmt.Errorf("recording: %w", err)
	}
	return rec.ID, nil
}

func (e *env) scrape(ctx context.Context, s *serverSamples, when string) map[string]float64 {
	m, err := scrape(context.WithoutCancel(ctx), e.hc, e.cfg.metricsURL)
	if err != nil {
		e.log.Warn("server metrics unavailable", "at", when, "err", err)
		if s.err == nil {
			s.err = err
		}
		return nil
	}
	return m
}

// options returns the client settings of a participant with token tok.
func (e *env) options(tok string, publish bool) client.Options {
	return client.Options{
		ServerURL: e.cfg.server, Token: tok, Publish: publish,
		VideoBitrate: e.cfg.videoBitrate, AudioBitrate: e.cfg.audioBitrate, Simulcast: e.cfg.simulcast,
		InsecureTLS: e.cfg.insecure, SkipICEServers: !e.cfg.turn, Logger: e.log,
	}
}

// join dials every point with the run's plan and records in r how many
// joined, why the others failed, the retries and the signaling join
// times. It returns the clients that joined, in the order of links.
func (e *env) join(ctx context.Context, links []pointLink, publish bool, r *result) []*client.Client {
	rs := joinAll(ctx, len(links), e.plan, func(ctx context.Context, i int) (*client.Client, error) {
		c, err := client.Dial(ctx, e.options(links[i].token, publish))
		if err != nil {
			return nil, fmt.Errorf("connect point %s: %w", links[i].id, err)
		}
		return c, nil
	})
	var out []*client.Client
	for _, j := range rs {
		r.retries += j.retries
		if j.err == nil {
			out = append(out, j.conn)
			r.dialTimes = append(r.dialTimes, j.dialTime)
		}
	}
	r.joined = len(out)
	r.failed = groupFailures(rs)
	return out
}

// hold waits for d or until ctx ends, and returns the time waited.
func hold(ctx context.Context, d time.Duration) time.Duration {
	t0 := time.Now()
	_ = sleep(ctx, d) // an interrupt ends the window early; run reports it
	return time.Since(t0)
}

// survivors returns the clients whose signaling connection is still open
// and records the others' reasons in r.
func survivors(cs []*client.Client, r *result) (live []*client.Client, idx []int) {
	var t tally
	for i, c := range cs {
		if ended(c) {
			t.add(disconnectKind(c), "")
			continue
		}
		live, idx = append(live, c), append(idx, i)
	}
	r.dropped, r.connected = t.sorted(), len(live)
	return live, idx
}

// runMedia connects the hall and the points, all publishing, waits for
// media to flow, measures the window and then the floor switches.
func runMedia(ctx context.Context, e *env, hallToken string, links []pointLink, r *result) error {
	cfg := e.cfg
	t0 := time.Now()
	hctx, cancel := context.WithTimeout(ctx, cfg.joinTimeout)
	hall, err := client.Dial(hctx, e.options(hallToken, true))
	cancel()
	if err != nil {
		return fmt.Errorf("connect hall: %w", err)
	}
	defer hall.Close()
	wall := make(map[string]bool)
	if cfg.wall > 0 {
		ids := make([]string, 0, cfg.wall)
		for _, l := range links[:min(cfg.wall, len(links))] {
			ids = append(ids, l.id)
			wall[l.id] = true
		}
		if w, ok := any(hall).(interface{ SetWall([]string) error }); ok {
			if err := w.SetWall(ids); err != nil {
				return fmt.Errorf("set the hall's wall: %w", err)
			}
			r.wallSet, r.onWall = true, wall
		} else {
			e.log.Warn("-wall ignored: the client has no SetWall; the hall receives every point")
		}
	}
	fmt.Fprintf(e.stdout, "conference %s: hall connected; %d points joining %s (ramp %s)\n", cfg.conference, cfg.points, cfg.server, cfg.ramp)
	r.proc.sample(&r.proc.base)
	points := e.join(ctx, links, !cfg.fanout, r)
	defer closeAll(points)

	expect := make(map[uint32]bool)
	for _, p := range points {
		if id := p.Welcome().ParticipantID; !cfg.fanout && (!r.wallSet || wall[id]) {
			expect[client.SenderHash(id)] = true
		}
	}
	fmt.Fprintf(e.stdout, "%d joined, %d failed; waiting up to %s for media to reach everyone\n", r.joined, total(r.failed), cfg.warmup)
	waitFlowing(ctx, hall, points, expect, cfg.warmup)
	r.joinPhase = time.Since(t0)
	if cfg.settle > 0 {
		fmt.Fprintf(e.stdout, "media flows; settling for %s\n", cfg.settle)
		hold(ctx, cfg.settle)
	}

	var recordingID string
	if cfg.record {
		if recordingID, err = e.recording(ctx, hallToken, ""); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "recording %s\n", recordingID)
	}
	r.server.joined = e.scrape(ctx, &r.server, "window start")
	before := snapshot(hall, points)
	r.proc.sample(&r.proc.start)
	cpu0 := cpuTime()
	fmt.Fprintf(e.stdout, "measuring for %s\n", cfg.duration)
	r.window = hold(ctx, cfg.duration)
	r.proc.sample(&r.proc.end)
	r.server.end = e.scrape(ctx, &r.server, "window end")
	if recordingID != "" {
		if _, err := e.recording(ctx, hallToken, recordingID); err != nil {
			return err
		}
	}
	r.ownCPU = cpuTime() - cpu0
	after := snapshot(hall, points)

	live, idx := survivors(points, r)
	if ended(hall) {
		r.hallLost = disconnectKind(hall)
	}
	b, a := []peerStats{before[0]}, []peerStats{after[0]}
	for _, i := range idx {
		b, a = append(b, before[1+i]), append(a, after[1+i])
	}
	r.addMedia(b, a)
	if cfg.fanout {
		r.hallExpect = 0
	} else if r.wallSet {
		r.hallExpect = 0
		for _, p := range live {
			if wall[p.Welcome().ParticipantID] {
				r.hallExpect++
			}
		}
	}

	if cfg.switches > 0 && len(live) >= 2 && r.hallLost == "" && ctx.Err() == nil {
		fmt.Fprintf(e.stdout, "measuring %d floor switches\n", cfg.switches)
		r.switchTime, r.switchErr = measureFloorSwitches(ctx, hall, live, cfg.switches)
	}
	return nil
}

// runIdle opens one signaling-only connection per point, holds them for
// the window and records how many stayed open.
func runIdle(ctx context.Context, e *env, links []pointLink, r *result) error {
	cfg := e.cfg
	fmt.Fprintf(e.stdout, "conference %s: %d idle connections opening to %s (ramp %s)\n", cfg.conference, cfg.points, cfg.server, cfg.ramp)
	t0 := time.Now()
	r.proc.sample(&r.proc.base)
	conns := e.join(ctx, links, false, r)
	defer closeAll(conns)
	r.joinPhase = time.Since(t0)
	r.server.joined = e.scrape(ctx, &r.server, "all open")
	fmt.Fprintf(e.stdout, "%d open, %d failed; holding them for %s\n", r.joined, total(r.failed), cfg.duration)
	r.proc.sample(&r.proc.start)
	cpu0 := cpuTime()
	r.window = hold(ctx, cfg.duration)
	r.proc.sample(&r.proc.end)
	r.server.end = e.scrape(ctx, &r.server, "end")
	r.ownCPU = cpuTime() - cpu0
	survivors(conns, r)
	return nil
}

// closeAll closes the clients, in parallel.
func closeAll(cs []*client.Client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { c.Close() })
	}
	wg.Wait()
}

// writeJSON writes s as indented JSON to path.
func writeJSON(path string, s summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// pointLink is a point's id and join token.
type pointLink struct {
	id, token string
}

// setUp creates the conference and its points and returns the hall's
// (technician) token and the points' links, in the order of their ids,
// from the links the server signs.
func setUp(ctx context.Context, api *apiClient, cfg config) (string, []pointLink, error) {
	conf := conference.Conference{ID: cfg.conference, Title: "Kiểm tra tải " + cfg.conference, TimeZone: conference.DefaultTimeZone}
	if err := api.do(ctx, http.MethodPut, "/api/conferences/"+cfg.conference, conf, nil); err != nil {
		return "", nil, fmt.Errorf("create conference: %w", err)
	}
	ids := make([]string, cfg.points)
	for i := range ids {
		ids[i] = fmt.Sprintf("diem-%03d", i+1)
	}
	// A few requests at a time: each is a synced write on the embedded store.
	const workers = 4
	work := make(chan int)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range work {
				p := conference.Point{ID: ids[i], Name: fmt.Sprintf("Điểm cầu thử tải %d", i+1), ExpectedDelegates: 10}
				if err := api.do(ctx, http.MethodPut, "/api/conferences/"+cfg.conference+"/points/"+p.ID, p, nil); err != nil {
					errs[i] = fmt.Errorf("create point %s: %w", p.ID, err)
				}
			}
		})
	}
	for i := range ids {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", nil, err
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
	tokens := make(map[string]string, len(ids))
	for _, l := range links {
		u, err := url.Parse(l.URL)
		if err != nil {
			return "", nil, fmt.Errorf("link of %s %s: %w", l.Role, l.PointID, err)
		}
		t := u.Query().Get("t")
		switch l.Role {
		case conference.RoleTechnician:
			hall = t
		case conference.RolePoint:
			tokens[l.PointID] = t
		}
	}
	if hall == "" {
		return "", nil, errors.New("links: no technician link")
	}
	out := make([]pointLink, 0, len(ids))
	for _, id := range ids {
		if tokens[id] == "" {
			return "", nil, fmt.Errorf("links: no link for point %s", id)
		}
		out = append(out, pointLink{id: id, token: tokens[id]})
	}
	return hall, out, nil
}

// hallSettle is how long the set of points the hall receives video from
// must stay the same before waitFlowing stops waiting for the rest.
const hallSettle = 5 * time.Second

// waitFlowing waits until every point receives hall video and the hall
// receives video from every point in expect (by SenderHash), or until
// limit. The hall's wait also ends when it receives video from some points
// and that set has not grown for hallSettle: the server may send the hall
// fewer points than expected (a wall of visible tiles only).
func waitFlowing(ctx context.Context, hall *client.Client, points []*client.Client, expect map[uint32]bool, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range points {
		wg.Go(func() {
			p.WaitMedia(ctx, func(st []client.TrackStats) bool { return len(videoSenders(st, nil)) > 0 })
		})
	}
	hw := &hallWait{expect: expect, settle: hallSettle}
	wg.Go(func() {
		hall.WaitMedia(ctx, func(st []client.TrackStats) bool { return hw.done(st, time.Now()) })
	})
	wg.Wait()
}

// hallWait decides when the hall has received enough video: from every
// point in expect, or from some, unchanged for settle.
type hallWait struct {
	expect map[uint32]bool
	settle time.Duration
	last   int       // points seen at the previous call
	since  time.Time // when last changed
}

// done reports whether the wait is over, given the hall's tracks at now.
func (w *hallWait) done(st []client.TrackStats, now time.Time) bool {
	n := len(videoSenders(st, w.expect))
	switch {
	case n >= len(w.expect):
		return true
	case n == 0 || n != w.last:
		w.last, w.since = n, now
		return false
	}
	return now.Sub(w.since) >= w.settle
}

// videoSenders returns the SenderHashes of the video received in st, only
// those in want unless want is nil.
func videoSenders(st []client.TrackStats, want map[uint32]bool) map[uint32]bool {
	out := make(map[uint32]bool)
	for _, t := range st {
		if t.Kind == "video" && t.Packets > 0 && (want == nil || want[t.Sender]) {
			out[t.Sender] = true
		}
	}
	return out
}

// snapshot reads the counters of every client.
func snapshot(hall *client.Client, points []*client.Client) []peerStats {
	out := make([]peerStats, 0, 1+len(points))
	for _, c := range append([]*client.Client{hall}, points...) {
		out = append(out, peerStats{name: c.Welcome().ParticipantID, sent: c.Sent(), recv: c.Received()})
	}
	return out
}

// addMedia computes the media figures from snapshots taken at the start and
// end of the window; the first entry of each is the hall.
func (r *result) addMedia(before, after []peerStats) {
	r.media = true
	hall := diffPeer(before[0], after[0])
	points := make([]peerStats, 0, len(after)-1)
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
	r.hallExpect = len(points)
	r.hallDown = kbpsOf(hall.recv, r.window)
	for _, p := range points {
		if up := kbpsOf(p.sent, r.window); r.onWall == nil || r.onWall[p.name] {
			r.watchedUp = append(r.watchedUp, up)
		} else {
			r.unwatchedUp = append(r.unwatchedUp, up)
		}
	}
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
