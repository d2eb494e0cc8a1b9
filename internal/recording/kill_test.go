package recording_test

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/recording"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/sfu"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/testenv"
	"hoinghi/internal/testmedia"
	"hoinghi/internal/token"
)

// killChildEnv names the recordings' directory of the server process of
// TestRecordingSurvivesKill.
const killChildEnv = "HOINGHI_RECORDING_KILL_CHILD"

const killConf = "ghi-bi-ngat"

// TestRecordingKillChild is the server process that
// TestRecordingSurvivesKill kills: it serves until it is killed.
func TestRecordingKillChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("the server process of TestRecordingSurvivesKill")
	}
	st := storetest.Embedded(t)
	s := servertest.StartWith(t, st, servertest.Options{RecordingDir: dir})
	servertest.Seed(t, st, killConf, 1)
	os.Stdout.WriteString("listening " + s.URL + "\n")
	time.Sleep(5 * time.Minute)
}

// TestRecordingSurvivesKill kills the server (SIGKILL) while it records
// the hall and a point: every file plays up to about the kill, and the
// recording is listed, with its length, and composed, by the next run.
func TestRecordingSurvivesKill(t *testing.T) {
	_, err := exec.LookPath("ffprobe")
	testenv.Need(t, "ffprobe", err)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordingKillChild$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				urls <- u
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-time.After(30 * time.Second):
		t.Fatal("the server process did not start")
	}
	iss, err := token.NewIssuer(servertest.Secret)
	if err != nil {
		t.Fatal(err)
	}
	tok := func(role conference.Role, point string) string {
		s, err := iss.Issue(killConf, role, point, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hallVideo, hallAudio := testmedia.Clips(t, "red", 440, 4*time.Second)
	aVideo, aAudio := testmedia.Clips(t, "green", 660, 4*time.Second)
	for _, c := range []struct {
		role  conference.Role
		point string
		v, a  []byte
	}{{conference.RoleTechnician, "", hallVideo, hallAudio}, {conference.RolePoint, "diem-1", aVideo, aAudio}} {
		cl, err := client.Dial(ctx, client.Options{ServerURL: base, Token: tok(c.role, c.point), Publish: true, VideoClip: c.v, AudioClip: c.a})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
	}
	time.Sleep(time.Second)
	req, _ := http.NewRequest("POST", base+"/api/conferences/"+killConf+"/recordings", nil)
	req.Header.Set("Authorization", "Bearer "+tok(conference.RoleTechnician, ""))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("start recording: %d", resp.StatusCode)
	}
	started := time.Now()
	time.Sleep(5 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	recorded := time.Since(started).Seconds()

	// The next run finds it.
	m := recording.New(recording.Config{Dir: dir, Media: noMedia{}})
	defer m.Close()
	list, err := m.List(killConf)
	if err != nil || len(list) != 1 {
		t.Fatalf("recordings after the kill: %+v, %v", list, err)
	}
	rec := list[0]
	if !rec.StoppedAt.IsZero() || rec.Active {
		t.Errorf("a killed recording: %+v, want it neither stopped nor active", rec)
	}
	if math.Abs(rec.Duration-recorded) > 1.5 {
		t.Errorf("listed as %.1f s, recorded %.1f s before the kill", rec.Duration, recorded)
	}
	var video int
	for _, f := range rec.Files {
		p := ffprobe(t, filepath.Join(dir, killConf, rec.ID, f.Name))
		t.Logf("%s: %v %.2f s of %.2f s recorded", f.Name, p.Codecs, p.Duration, recorded)
		if len(p.Codecs) != 1 || p.Duration < recorded-1.5 || p.Duration > recorded+0.5 {
			t.Errorf("%s after the kill: %+v, want one stream of about %.1f s", f.Name, p, recorded)
		}
		if f.Media == "video" {
			video++
		}
	}
	// The point never held the floor: its sound was never forwarded.
	if len(rec.Files) != 3 || video != 2 {
		t.Errorf("files after the kill: %+v, want the sound and camera of the hall and the point's camera", rec.Files)
	}

	// And composes it, as long as it got.
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return
	}
	if _, err := m.Compose(killConf, rec.ID); err != nil {
		t.Fatal(err)
	}
	for {
		got, err := m.Get(killConf, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Job != nil && !got.Job.Running {
			if got.Job.Error != "" || got.Archive == nil {
				t.Fatalf("archive of a killed recording: %+v", got.Job)
			}
			p := ffprobe(t, filepath.Join(dir, killConf, rec.ID, recording.ArchiveFile))
			if math.Abs(p.Duration-rec.Duration) > 0.5 {
				t.Errorf("archive of %.2f s, the recording %.2f s", p.Duration, rec.Duration)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the archive job did not end")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// noMedia is an SFU that forwards nothing, for a manager that only reads
// what an earlier run recorded.
type noMedia struct{}

func (noMedia) SetRecorder(string, sfu.Recorder) {}
