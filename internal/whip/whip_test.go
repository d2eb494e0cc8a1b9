package whip_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/whip"
)

// program returns the stats of the hall program's track of kind a point
// receives.
func program(st []client.TrackStats, kind string) (client.TrackStats, bool) {
	for _, s := range st {
		if s.Participant == protocol.ProgramStreamID && s.Kind == kind {
			return s, true
		}
	}
	return client.TrackStats{}, false
}

// showsSender is a WaitMedia predicate: the program's video and audio
// carry sender's payloads, intact, and at least min packets since then.
func showsSender(sender uint32, min uint64) func([]client.TrackStats) bool {
	return func(st []client.TrackStats) bool {
		for _, kind := range []string{"video", "audio"} {
			s, ok := program(st, kind)
			if !ok || s.Sender != sender || s.Packets < min {
				return false
			}
		}
		return true
	}
}

type fixture struct {
	t     *testing.T
	s     *servertest.Stack
	conf  string
	ctx   context.Context
	tech  *client.Client
	point *client.Client
}

func newFixture(t *testing.T, o servertest.Options) *fixture {
	t.Helper()
	st := storetest.Redis(t)
	s := servertest.StartWith(t, st, o)
	// An id that names no role, so that the report's text can be searched.
	conf := fmt.Sprintf("hn-%08x", client.SenderHash(t.Name()))
	servertest.Seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	f := &fixture{t: t, s: s, conf: conf, ctx: ctx}
	f.tech = f.dial(conference.RoleTechnician, "", true)
	f.point = f.dial(conference.RolePoint, "diem-1", true)
	// The technician console's camera is the program until a mixer sends.
	if err := f.point.WaitMedia(ctx, showsSender(client.SenderHash(f.tech.Welcome().ParticipantID), 10)); err != nil {
		t.Fatalf("the console's camera as the program: %v", err)
	}
	return f
}

func (f *fixture) dial(role conference.Role, point string, publish bool) *client.Client {
	f.t.Helper()
	c, err := client.Dial(f.ctx, client.Options{ServerURL: f.s.URL, Token: f.s.Token(f.conf, role, point, time.Hour),
		Publish: publish, VideoBitrate: 300_000})
	if err != nil {
		f.t.Fatalf("dial %s: %v", role, err)
	}
	f.t.Cleanup(func() { c.Close() })
	return c
}

func (f *fixture) publish(sender string, trickle bool) *whip.Publisher {
	f.t.Helper()
	p, err := whip.Publish(f.ctx, whip.Options{Endpoint: f.s.URL + "/whip/" + f.conf,
		Token: f.s.Token(f.conf, conference.RoleIngest, "", time.Hour), Sender: sender, Trickle: trickle})
	if err != nil {
		f.t.Fatalf("publish %s: %v", sender, err)
	}
	f.t.Cleanup(func() { p.Close() })
	return p
}

// ingests returns the roster entries of role ingest the client holds.
func ingests(c *client.Client) []protocol.Participant {
	var out []protocol.Participant
	for _, p := range c.Roster() {
		if p.Role == string(conference.RoleIngest) {
			out = append(out, p)
		}
	}
	return out
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestRedisWHIPProgram is the test of the ingest: a Go WHIP client
// publishes synthetic VP8 and Opus with an ingest token (its candidates
// trickled by PATCH); the points receive it as the hall program, payloads
// intact; the roster shows it as the ingest, the hall's program message
// names it; DELETE ends it and the program falls back to the console's
// camera; it is never in the attendance report.
func TestRedisWHIPProgram(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	mixer := client.SenderHash("mixer")
	posted := time.Now()
	p := f.publish("mixer", true)
	if err := f.point.WaitMedia(f.ctx, showsSender(mixer, 1)); err != nil {
		t.Fatalf("the WHIP source as the program: %v", err)
	}
	t.Logf("whip_first_program_packet_ms=%d (from the POST to the first packet of the source in the point's program slot)", time.Since(posted).Milliseconds())
	if err := f.point.WaitMedia(f.ctx, showsSender(mixer, 50)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"video", "audio"} {
		if s, _ := program(f.point.Received(), kind); s.Corrupt != 0 {
			t.Errorf("program %s: %d corrupt packets: %+v", kind, s.Corrupt, s)
		}
	}
	waitFor(f.ctx, t, "the ingest in the roster and the program", func() bool {
		in := ingests(f.tech)
		return len(in) == 1 && f.tech.Program().Video == in[0].ID && f.tech.Program().Audio == in[0].ID
	})
	in := ingests(f.tech)[0]
	if !strings.HasPrefix(in.ID, "ingest-") || in.Name != conference.DisplayName(conference.RoleIngest, "") {
		t.Errorf("roster entry of the ingest: %+v", in)
	}
	if pr := f.tech.Program(); pr.Chosen || pr.VideoChosen {
		t.Errorf("the default program is marked as chosen: %+v", pr)
	}

	if err := p.Delete(f.ctx); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	if err := f.point.WaitMedia(f.ctx, showsSender(client.SenderHash(f.tech.Welcome().ParticipantID), 1)); err != nil {
		t.Fatalf("back to the console's camera after DELETE: %v", err)
	}
	waitFor(f.ctx, t, "the ingest out of the roster", func() bool { return len(ingests(f.tech)) == 0 })
	// The resource is gone.
	req, _ := http.NewRequestWithContext(f.ctx, http.MethodDelete, p.Resource(), nil)
	req.Header.Set("Authorization", "Bearer "+f.s.Token(f.conf, conference.RoleIngest, "", time.Hour))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE of an ended session: %d, want 404", res.StatusCode)
	}
	report := get(t, f.s.URL+"/api/conferences/"+f.conf+"/report", f.s.Token(f.conf, conference.RoleTechnician, "", time.Hour))
	if strings.Contains(report, "ingest") {
		t.Errorf("the report names the ingest: %s", report)
	}
	// The source's coming and going is in the audit log.
	waitFor(f.ctx, t, "whip_started and whip_ended in the audit log", func() bool {
		log, err := f.s.Store.AuditLog(f.ctx, f.conf)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			if e.Role == conference.RoleIngest {
				actions = append(actions, e.Action)
			}
		}
		return slices.Equal(actions, []string{"whip_started", "whip_ended"})
	})
}

// get returns the body of a GET with a Bearer token, which must answer 200.
func get(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return string(b)
}

// TestRedisWHIPRefusals: a forged or expired token gets 401 with the JSON
// error body, a token of another role 403, a body that is not SDP 415 or
// 400; nothing joins.
func TestRedisWHIPRefusals(t *testing.T) {
	st := storetest.Redis(t)
	s := servertest.Start(t, st)
	servertest.Seed(t, st, "whip-refusals", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cases := []struct {
		name, endpoint, token string
		status                int
		code                  string
	}{
		{"no token", "/whip/whip-refusals", "", 401, "token_missing"},
		{"forged token", "/whip/whip-refusals", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", 401, "token_invalid"},
		{"expired token", "/whip/whip-refusals", s.Token("whip-refusals", conference.RoleIngest, "", -time.Minute), 401, "token_expired"},
		{"technician token", "/whip/whip-refusals", s.Token("whip-refusals", conference.RoleTechnician, "", time.Hour), 403, "forbidden"},
		{"viewer token", "/whip/whip-refusals", s.Token("whip-refusals", conference.RoleViewer, "", time.Hour), 403, "forbidden"},
		{"other conference", "/whip/whip-other", s.Token("whip-refusals", conference.RoleIngest, "", time.Hour), 403, "wrong_conference"},
		{"ingest token at WHEP", "/whep/whip-refusals", s.Token("whip-refusals", conference.RoleIngest, "", time.Hour), 403, "forbidden"},
		{"point token at WHEP", "/whep/whip-refusals", s.Token("whip-refusals", conference.RolePoint, "diem-1", time.Hour), 403, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := whip.Publish(ctx, whip.Options{Endpoint: s.URL + tc.endpoint, Token: tc.token, Sender: "mixer"})
			var se *whip.StatusError
			if !errors.As(err, &se) || se.Status != tc.status || se.Code != tc.code {
				t.Errorf("got %v, want %d %s", err, tc.status, tc.code)
			}
		})
	}
	// The ingest and the viewer may not use the signaling WebSocket.
	for _, role := range []conference.Role{conference.RoleIngest, conference.RoleViewer} {
		_, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: s.Token("whip-refusals", role, "", time.Hour), SignalingOnly: true})
		var de *client.RefusedError
		if !errors.As(err, &de) || de.Status != http.StatusForbidden {
			t.Errorf("%s on /ws: %v, want 403", role, err)
		}
	}
	// Content types.
	tok := s.Token("whip-refusals", conference.RoleIngest, "", time.Hour)
	for _, tc := range []struct {
		ctype, body string
		status      int
	}{
		{"application/json", `{}`, http.StatusUnsupportedMediaType},
		{"application/sdp", "not sdp", http.StatusBadRequest},
		{"application/sdp", "v=0\r\nbroken", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/whip/whip-refusals", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("POST %s %q: %d, want %d", tc.ctype, tc.body, res.StatusCode, tc.status)
		}
	}
	// CORS preflight.
	req, _ := http.NewRequest(http.MethodOptions, s.URL+"/whip/whip-refusals", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("OPTIONS: %d %v", res.StatusCode, res.Header)
	}
}

// TestRedisWHIPSecondPublisherReplaces: a second WHIP publisher of the
// same conference replaces the first (the newer source is the program;
// the first session's resource is gone), and the roster holds one ingest.
func TestRedisWHIPSecondPublisherReplaces(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	first := f.publish("mixer-a", false)
	if err := f.point.WaitMedia(f.ctx, showsSender(client.SenderHash("mixer-a"), 10)); err != nil {
		t.Fatal(err)
	}
	f.publish("mixer-b", false)
	if err := f.point.WaitMedia(f.ctx, showsSender(client.SenderHash("mixer-b"), 10)); err != nil {
		t.Fatalf("the second source as the program: %v", err)
	}
	waitFor(f.ctx, t, "one ingest in the roster", func() bool { return len(ingests(f.tech)) == 1 })
	err := first.Delete(f.ctx)
	var se *whip.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusNotFound {
		t.Errorf("DELETE of the replaced session: %v, want 404", err)
	}
	if s, _ := program(f.point.Received(), "video"); s.Sender != client.SenderHash("mixer-b") {
		t.Errorf("the program after the replaced session's DELETE: sender %x", s.Sender)
	}
}

// TestRedisProgramVideoControl: the technician chooses the console's
// camera over the WHIP source (program_video), the points follow, and ""
// goes back to the default, the WHIP source; a point is no program source.
func TestRedisProgramVideoControl(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	f.publish("mixer", false)
	mixer := client.SenderHash("mixer")
	if err := f.point.WaitMedia(f.ctx, showsSender(mixer, 10)); err != nil {
		t.Fatal(err)
	}
	techID := f.tech.Welcome().ParticipantID
	if err := f.tech.Send(protocol.Control{Type: protocol.TypeControl, Action: protocol.ControlProgramVideo, ParticipantID: techID}); err != nil {
		t.Fatal(err)
	}
	if err := f.point.WaitMedia(f.ctx, showsSender(client.SenderHash(techID), 1)); err != nil {
		t.Fatalf("the chosen console camera as the program: %v", err)
	}
	waitFor(f.ctx, t, "program names the chosen console", func() bool {
		pr := f.tech.Program()
		return pr.Video == techID && pr.VideoChosen && pr.Audio == techID
	})
	if err := f.tech.Send(protocol.Control{Type: protocol.TypeControl, Action: protocol.ControlProgramVideo, ParticipantID: ""}); err != nil {
		t.Fatal(err)
	}
	if err := f.point.WaitMedia(f.ctx, showsSender(mixer, 1)); err != nil {
		t.Fatalf("back to the WHIP source: %v", err)
	}
	waitFor(f.ctx, t, "program back to the default", func() bool { return !f.tech.Program().VideoChosen })

	if err := f.tech.Send(protocol.Control{Type: protocol.TypeControl, Action: protocol.ControlProgramVideo, ParticipantID: "diem-1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-f.tech.Errors():
		if e.Code != protocol.CodeBadRequest || e.Request != protocol.TypeControl {
			t.Errorf("program_video of a point: %+v", e)
		}
	case <-f.ctx.Done():
		t.Fatal("no error for program_video of a point")
	}
	if err := f.point.Send(protocol.Control{Type: protocol.TypeControl, Action: protocol.ControlProgramVideo, ParticipantID: ""}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-f.point.Errors():
		if e.Code != protocol.CodeForbidden {
			t.Errorf("program_video by a point: %+v", e)
		}
	case <-f.ctx.Done():
		t.Fatal("no error for program_video by a point")
	}
}

// TestRedisWHEPViewer is the test of the egress: a Go WHEP client
// receives the hall program's picture and sound (the console's camera,
// then the WHIP source's, without renegotiation); viewers are in no
// roster and no attendance report; one viewer more than the bound gets
// 503; DELETE ends a viewer.
func TestRedisWHEPViewer(t *testing.T) {
	f := newFixture(t, servertest.Options{MaxViewers: 2})
	viewerTok := f.s.Token(f.conf, conference.RoleViewer, "", time.Hour)
	watch := func() (*whip.Viewer, error) {
		return whip.Watch(f.ctx, whip.Options{Endpoint: f.s.URL + "/whep/" + f.conf, Token: viewerTok})
	}
	v, err := watch()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	techSender := client.SenderHash(f.tech.Welcome().ParticipantID)
	if err := v.WaitMedia(f.ctx, showsSender(techSender, 20)); err != nil {
		t.Fatalf("the viewer receives the program: %v", err)
	}
	f.publish("mixer", false)
	if err := v.WaitMedia(f.ctx, showsSender(client.SenderHash("mixer"), 20)); err != nil {
		t.Fatalf("the viewer follows the program to the WHIP source: %v", err)
	}
	for _, s := range v.Received() {
		if s.Corrupt != 0 {
			t.Errorf("viewer %s: %d corrupt: %+v", s.Kind, s.Corrupt, s)
		}
	}
	v2, err := watch()
	if err != nil {
		t.Fatal(err)
	}
	_, err = watch()
	var se *whip.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable || se.Code != "too_many_viewers" {
		t.Errorf("a viewer beyond the bound: %v, want 503 too_many_viewers", err)
	}
	if err := v2.Delete(f.ctx); err != nil {
		t.Fatalf("DELETE of a viewer: %v", err)
	}
	waitFor(f.ctx, t, "a place for a viewer after DELETE", func() bool { return f.s.Hub.Viewers(f.conf) == 1 })
	v3, err := watch()
	if err != nil {
		t.Fatalf("a viewer after another left: %v", err)
	}
	defer v3.Close()

	for _, p := range f.tech.Roster() {
		if p.Role == string(conference.RoleViewer) || strings.HasPrefix(p.ID, "viewer-") {
			t.Errorf("a viewer in the roster: %+v", p)
		}
	}
	if roles := rosterRoles(f.point); slices.Contains(roles, string(conference.RoleViewer)) {
		t.Errorf("the point's roster has a viewer: %v", roles)
	}
	report := get(t, f.s.URL+"/api/conferences/"+f.conf+"/report", f.s.Token(f.conf, conference.RoleTechnician, "", time.Hour))
	if strings.Contains(report, "viewer") || strings.Contains(report, "ingest") {
		t.Errorf("the report names a viewer or the ingest: %s", report)
	}
}

func rosterRoles(c *client.Client) []string {
	var out []string
	for _, p := range c.Roster() {
		out = append(out, p.Role)
	}
	return out
}

// showsCodec is a WaitMedia predicate: the program's video is codec
// (webrtc's MIME type) from sender, at least min packets of it.
func showsCodec(codec string, sender uint32, min uint64) func([]client.TrackStats) bool {
	return func(st []client.TrackStats) bool {
		s, ok := program(st, "video")
		return ok && strings.EqualFold(s.Codec, codec) && s.Sender == sender && s.Packets >= min
	}
}

// TestRedisWHIPH264Program: a WHIP source that sends H.264 (constrained
// baseline, packetization mode 1, as OBS does) and Opus is the hall
// program at a point, in the program's video slot that carried the
// console's VP8 camera: the same track, H.264 from an IDR picture on,
// payloads intact; a WHEP viewer that offers H.264 gets it too, one that
// offers VP8 alone keeps the console's camera with the mixer's sound.
// DELETE brings the console's VP8 camera back in the same slot, the
// sequence numbers continuous throughout.
func TestRedisWHIPH264Program(t *testing.T) {
	f := newFixture(t, servertest.Options{MaxViewers: 2})
	techSender := client.SenderHash(f.tech.Welcome().ParticipantID)
	mixer := client.SenderHash("mixer")
	viewerTok := f.s.Token(f.conf, conference.RoleViewer, "", time.Hour)
	watch := func(h264 bool) *whip.Viewer {
		v, err := whip.Watch(f.ctx, whip.Options{Endpoint: f.s.URL + "/whep/" + f.conf, Token: viewerTok, H264: h264})
		if err != nil {
			t.Fatalf("watch (H.264 %v): %v", h264, err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	vp8Viewer, h264Viewer := watch(false), watch(true)
	before, _ := program(f.point.Received(), "video")

	p, err := whip.Publish(f.ctx, whip.Options{Endpoint: f.s.URL + "/whip/" + f.conf,
		Token: f.s.Token(f.conf, conference.RoleIngest, "", time.Hour), Sender: "mixer", H264: true})
	if err != nil {
		t.Fatalf("publish H.264: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	if err := f.point.WaitMedia(f.ctx, showsCodec(webrtc.MimeTypeH264, mixer, 100)); err != nil {
		t.Fatalf("the H.264 source as the point's program: %v", err)
	}
	if err := f.point.WaitMedia(f.ctx, showsSender(mixer, 20)); err != nil {
		t.Fatalf("the mixer's sound as the point's program: %v", err)
	}
	video, _ := program(f.point.Received(), "video")
	if video.SSRC != before.SSRC {
		t.Errorf("the program's video came on SSRC %d, the console's camera on %d: want one slot", video.SSRC, before.SSRC)
	}
	t.Logf("the point's H.264 program video: %+v", video)
	if video.Corrupt != 0 || video.Keyframes == 0 || video.Width != client.H264Width || video.Height != client.H264Height {
		t.Errorf("the point's H.264 program: %+v", video)
	}
	if err := h264Viewer.WaitMedia(f.ctx, showsCodec(webrtc.MimeTypeH264, mixer, 50)); err != nil {
		t.Fatalf("the H.264 program at a viewer that offered H.264: %v", err)
	}
	// Without H.264 the picture stays the console's camera; the sound is
	// the program's.
	if err := vp8Viewer.WaitMedia(f.ctx, func(st []client.TrackStats) bool {
		a, ok := program(st, "audio")
		return ok && a.Sender == mixer && a.Packets >= 20 && showsCodec(webrtc.MimeTypeVP8, techSender, 1)(st)
	}); err != nil {
		t.Fatalf("a VP8-only viewer: %v", err)
	}
	for _, v := range []*whip.Viewer{vp8Viewer, h264Viewer} {
		if s, _ := program(v.Received(), "video"); s.Corrupt != 0 || s.Switches > 2 {
			t.Errorf("a viewer's program video: %+v", s)
		}
	}

	if err := p.Delete(f.ctx); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	after := video.Packets
	if err := f.point.WaitMedia(f.ctx, func(st []client.TrackStats) bool {
		s, ok := program(st, "video")
		return ok && s.Codec == webrtc.MimeTypeVP8 && s.Sender == techSender && s.Packets >= after+50
	}); err != nil {
		t.Fatalf("back to the console's VP8 camera after DELETE: %v", err)
	}
	video, _ = program(f.point.Received(), "video")
	t.Logf("the point's program video: %+v", video)
	if video.SSRC != before.SSRC || video.SeqJumps != 0 || video.Lost != 0 || video.Corrupt != 0 || video.Switches != 3 {
		t.Errorf("the program's video across VP8, H.264 and VP8 again: %+v (want one SSRC, no sequence jumps nor losses, 3 senders)", video)
	}
}
