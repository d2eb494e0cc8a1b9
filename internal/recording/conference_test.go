package recording_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/recording"
	"hoinghi/internal/server"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/testenv"
	"hoinghi/internal/testmedia"
)

// api calls the REST API of s as token and decodes the JSON answer into
// out (nil: none); it returns the status.
func api(t *testing.T, s *servertest.Stack, method, path, token string, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// centreRect is the middle of a 1280x720 picture, away from the caption
// and the inset.
var centreRect = image.Rect(480, 180, 800, 420)

// probe is what ffprobe says of a file.
type probe struct {
	Codecs   []string
	Duration float64
}

func ffprobe(t *testing.T, file string) probe {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "json", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var r struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	var p probe
	for _, s := range r.Streams {
		p.Codecs = append(p.Codecs, s.CodecName)
	}
	p.Duration, _ = strconv.ParseFloat(r.Format.Duration, 64)
	return p
}

// TestRecordConference records a conference of the hall and two points,
// with a floor turn during which the speaking point shares its content:
// every track's file plays with the length it was sent, the archive is
// as long as the recording and shows the hall, the speaker, the content
// and the hall again where the floor log says, and only the technician
// and the secretariat reach the recordings.
func TestRecordConference(t *testing.T) {
	_, err := exec.LookPath("ffprobe")
	testenv.Need(t, "ffprobe", err)
	_, err = exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)

	st := storetest.Redis(t)
	s := servertest.StartWith(t, st, servertest.Options{})
	const conf = "ghi-hinh"
	points := servertest.Seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	hallVideo, hallAudio := testmedia.Clips(t, "red", 440, 4*time.Second)
	aVideo, aAudio := testmedia.Clips(t, "green", 660, 4*time.Second)
	bVideo, bAudio := testmedia.Clips(t, "blue", 880, 4*time.Second)
	slides, _ := testmedia.Clips(t, "magenta", 0, 4*time.Second)
	dial := func(role conference.Role, point string, o client.Options) *client.Client {
		t.Helper()
		o.ServerURL, o.Token = s.URL, s.Token(conf, role, point, time.Hour)
		c, err := client.Dial(ctx, o)
		if err != nil {
			t.Fatalf("dial %s %s: %v", role, point, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	tech := dial(conference.RoleTechnician, "", client.Options{Publish: true, VideoClip: hallVideo, AudioClip: hallAudio})
	chair := dial(conference.RoleChair, "", client.Options{SignalingOnly: true})
	a := dial(conference.RolePoint, points[0], client.Options{Publish: true, VideoClip: aVideo, AudioClip: aAudio, Content: true, ContentClip: slides})
	b := dial(conference.RolePoint, points[1], client.Options{Publish: true, VideoClip: bVideo, AudioClip: bAudio})
	techID := tech.Welcome().ParticipantID
	for _, p := range []*client.Client{a, b} {
		if err := p.WaitMedia(ctx, func(ts []client.TrackStats) bool {
			for _, s := range ts {
				if s.Participant == client.ProgramStreamID && s.Kind == "video" && s.Packets > 25 {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("the points receive no program: %v", err)
		}
	}
	techToken := s.Token(conf, conference.RoleTechnician, "", time.Hour)

	// Start; every page is told.
	var started recording.Info
	if code := api(t, s, "POST", "/api/conferences/"+conf+"/recordings", techToken, "", &started); code != http.StatusCreated {
		t.Fatalf("start recording: %d", code)
	}
	if code := api(t, s, "POST", "/api/conferences/"+conf+"/recordings", techToken, "", nil); code != http.StatusConflict {
		t.Errorf("a second start: %d, want 409", code)
	}
	for _, c := range []*client.Client{tech, chair, a, b} {
		waitState(t, ctx, c, func(cs protocol.ConferenceState) bool { return cs.Recording && !cs.RecordingSince.IsZero() })
	}
	begin := time.Now()
	at := func() float64 { return time.Since(begin).Seconds() }
	time.Sleep(3 * time.Second)

	// A turn of the first point, sharing its slides in the middle of it.
	turnFrom := at()
	if err := chair.Floor(protocol.Floor{Action: "give", PointID: points[0], Seconds: -1}); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitFloor(ctx, func(f protocol.FloorState) bool { return len(f.Holders) == 1 }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	contentFrom := at()
	if err := a.Send(protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStart, Mid: a.ContentMid()}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	contentTo := at()
	if err := a.Send(protocol.Content{Type: protocol.TypeContent, Action: protocol.ContentStop}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	turnTo := at()
	if err := chair.Floor(protocol.Floor{Action: "take_back"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	var stopped recording.Info
	if code := api(t, s, "POST", "/api/conferences/"+conf+"/recordings/"+started.ID+"/stop", techToken, "", &stopped); code != http.StatusOK {
		t.Fatalf("stop recording: %d", code)
	}
	total := at()
	for _, c := range []*client.Client{tech, a} {
		waitState(t, ctx, c, func(cs protocol.ConferenceState) bool { return !cs.Recording })
	}
	t.Logf("recorded %.1f s: turn %.1f–%.1f, content %.1f–%.1f", total, turnFrom, turnTo, contentFrom, contentTo)

	// The per-track files.
	dir := filepath.Join(s.Recordings.Dir(), conf, started.ID)
	want := map[string]struct {
		codec    string
		duration float64
	}{
		techID + "/audio":      {"opus", total},
		techID + "/video":      {"vp8", total},
		points[0] + "/audio":   {"opus", turnTo - turnFrom},
		points[0] + "/video":   {"vp8", total},
		points[0] + "/content": {"vp8", contentTo - contentFrom},
		points[1] + "/video":   {"vp8", total},
	}
	seen := map[string]bool{}
	for _, f := range stopped.Files {
		key := f.Participant + "/" + f.Media
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected file %s (%s)", f.Name, key)
			continue
		}
		seen[key] = true
		p := ffprobe(t, filepath.Join(dir, f.Name))
		if len(p.Codecs) != 1 || p.Codecs[0] != w.codec {
			t.Errorf("%s: codecs %v, want %s", f.Name, p.Codecs, w.codec)
		}
		// The file ends where the recording stopped; it begins with the
		// track's first keyframe, within a second of the start.
		if math.Abs(p.Duration-w.duration) > 1 {
			t.Errorf("%s: %.2f s, want %.2f ± 1", f.Name, p.Duration, w.duration)
		}
		t.Logf("%s: %s %.2f s (sent %.2f s), %d bytes", f.Name, p.Codecs, p.Duration, w.duration, f.Size)
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("no file of %s", key)
		}
	}
	if stopped.Size <= 0 || math.Abs(stopped.Duration-total) > 1 {
		t.Errorf("recording: %d bytes, %.1f s, want about %.1f s", stopped.Size, stopped.Duration, total)
	}

	// The archive.
	var job recording.Info
	if code := api(t, s, "POST", "/api/conferences/"+conf+"/recordings/"+started.ID+"/archive", techToken, "", &job); code != http.StatusAccepted {
		t.Fatalf("compose: %d", code)
	}
	var done recording.Info
	for {
		if code := api(t, s, "GET", "/api/conferences/"+conf+"/recordings/"+started.ID, techToken, "", &done); code != http.StatusOK {
			t.Fatalf("get recording: %d", code)
		}
		if done.Job != nil && !done.Job.Running {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the archive job did not end: %+v", done.Job)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if done.Job.Error != "" || done.Archive == nil {
		t.Fatalf("archive job: %+v, archive %+v", done.Job, done.Archive)
	}
	archive := filepath.Join(dir, recording.ArchiveFile)
	p := ffprobe(t, archive)
	if strings.Join(p.Codecs, ",") != "h264,aac" {
		t.Errorf("archive codecs %v, want h264,aac", p.Codecs)
	}
	if math.Abs(p.Duration-done.Duration) > 0.5 {
		t.Errorf("archive of %.2f s, the recording %.2f s", p.Duration, done.Duration)
	}
	t.Logf("archive: %.2f s for a recording of %.2f s, composed in %v", p.Duration, done.Duration, done.Job.FinishedAt.Sub(done.Job.StartedAt).Round(time.Millisecond))
	for _, shot := range []struct {
		at   float64
		want string
	}{
		{turnFrom / 2, "red"},
		{(turnFrom + contentFrom) / 2, "green"},
		{(contentFrom + contentTo) / 2, "magenta"},
		{(contentTo + turnTo) / 2, "green"},
		{(turnTo + total) / 2, "red"},
	} {
		rgb, err := testmedia.FrameAt(t, "", archive, time.Duration(shot.at*float64(time.Second)), centreRect)
		if err != nil {
			t.Fatal(err)
		}
		if got := testmedia.DominantColour(rgb); got != shot.want {
			t.Errorf("archive at %.1f s: %v (%s), want %s", shot.at, rgb, got, shot.want)
		}
	}

	// Who reaches the recordings.
	base := "/api/conferences/" + conf + "/recordings"
	file := base + "/" + started.ID + "/files/" + stopped.Files[0].Name
	for _, tt := range []struct {
		role   conference.Role
		point  string
		list   int
		file   int
		delete int
	}{
		{conference.RolePoint, points[1], http.StatusForbidden, http.StatusForbidden, http.StatusForbidden},
		{conference.RoleChair, "", http.StatusForbidden, http.StatusForbidden, http.StatusForbidden},
		{conference.RoleSecretariat, "", http.StatusOK, http.StatusOK, http.StatusForbidden},
	} {
		tok := s.Token(conf, tt.role, tt.point, time.Hour)
		var list server.RecordingList
		if code := api(t, s, "GET", base, tok, "", &list); code != tt.list {
			t.Errorf("%s lists: %d, want %d", tt.role, code, tt.list)
		} else if code == http.StatusOK && (len(list.Recordings) != 1 || list.Active != nil) {
			t.Errorf("%s lists %+v", tt.role, list)
		}
		if code := api(t, s, "GET", file, tok, "", nil); code != tt.file {
			t.Errorf("%s downloads: %d, want %d", tt.role, code, tt.file)
		}
		if code := api(t, s, "DELETE", base+"/"+started.ID, tok, "", nil); code != tt.delete {
			t.Errorf("%s deletes: %d, want %d", tt.role, code, tt.delete)
		}
	}
	if code := api(t, s, "DELETE", base+"/"+started.ID, techToken, "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	var audit []struct {
		Action string `json:"action"`
		Target string `json:"target"`
	}
	if code := api(t, s, "GET", "/api/conferences/"+conf+"/audit", techToken, "", &audit); code != http.StatusOK {
		t.Fatalf("audit: %d", code)
	}
	var actions []string
	for _, e := range audit {
		if e.Target == started.ID {
			actions = append(actions, e.Action)
		}
	}
	if fmt.Sprint(actions) != "[recording_started recording_stopped archive_started recording_deleted]" {
		t.Errorf("audit of the recording: %v", actions)
	}
	if code := api(t, s, "GET", base+"/"+started.ID, techToken, "", nil); code != http.StatusNotFound {
		t.Errorf("a deleted recording: %d, want 404", code)
	}
}

// waitState waits until c's last conference_state satisfies ok.
func waitState(t *testing.T, ctx context.Context, c *client.Client, ok func(protocol.ConferenceState) bool) {
	t.Helper()
	for !ok(c.ConferenceState()) {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: conference_state %+v", c.Welcome().ParticipantID, c.ConferenceState())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
