package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testInput is an Input on free ports: VP8 video and two Opus streams.
func testInput(t *testing.T) Input {
	t.Helper()
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	return Input{VideoCodec: "vp8", VideoPort: ports[0], VideoPT: testVideoPT, AudioPorts: ports[1:], AudioPT: testAudioPT}
}

// watcher samples a Runner's state while it runs.
type watcher struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	running bool    // seen running with frames going out
	maxKbps float64 // the highest bitrate seen while running
	last    State
}

func watch(r *Runner) *watcher {
	w := &watcher{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			st := r.State()
			w.mu.Lock()
			if st.Running && st.Frames > 0 {
				w.running = true
				w.maxKbps = max(w.maxKbps, st.BitrateKbps)
			}
			w.last = st
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *watcher) end() *watcher {
	close(w.stop)
	w.wg.Wait()
	return w
}

// cpuSeconds is the CPU time a process has used, from /proc; 0 where
// there is no /proc.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ is 100 on Linux
}

// probe is what ffprobe says of a media file.
type probe struct {
	Streams []struct {
		CodecName string `json:"codec_name"`
		CodecType string `json:"codec_type"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t *testing.T, bin, path string) probe {
	t.Helper()
	out := run(t, bin, "-v", "error", "-show_entries",
		"stream=codec_name,codec_type,width,height:format=duration", "-of", "json", path)
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	return p
}

// checkH264AAC fails the test unless p has a 1280x720 H.264 stream and an
// AAC stream.
func checkH264AAC(t *testing.T, what string, p probe) {
	t.Helper()
	var codecs []string
	for _, s := range p.Streams {
		codecs = append(codecs, s.CodecName)
		if s.CodecType == "video" && (s.Width != outWidth || s.Height != outHeight) {
			t.Errorf("%s: picture %dx%d, want %dx%d", what, s.Width, s.Height, outWidth, outHeight)
		}
	}
	slices.Sort(codecs)
	if !slices.Equal(codecs, []string{"aac", "h264"}) {
		t.Errorf("%s: codecs %v, want aac and h264", what, codecs)
	}
}

// freeTCPPort is a loopback TCP port nobody listens on.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits until something listens on a loopback TCP port,
// read from /proc/net/tcp so as not to use up the one connection an
// ffmpeg -listen 1 accepts.
func waitListening(t *testing.T, port int) {
	t.Helper()
	want := fmt.Sprintf("0100007F:%04X", port)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			time.Sleep(time.Second) // no /proc: a second is plenty
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 3 && f[1] == want && f[3] == "0A" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

func TestRTMP(t *testing.T) {
	ffmpeg, ffprobeBin := needFFmpeg(t)
	dir := t.TempDir()
	in := testInput(t)
	startFeed(t, in, []videoClip{makeVP8(t, ffmpeg, "320x180")}, time.Hour,
		[][][]byte{makeOpus(t, ffmpeg, 440), makeOpus(t, ffmpeg, 660)})

	// The sink: an RTMP server of one connection, writing what it gets.
	port := freeTCPPort(t)
	flv := filepath.Join(dir, "out.flv")
	sink := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-listen", "1",
		"-i", fmt.Sprintf("rtmp://127.0.0.1:%d/live/test", port), "-c", "copy", "-f", "flv", flv)
	var sinkErr strings.Builder
	sink.Stderr = &sinkErr
	if err := sink.Start(); err != nil {
		t.Fatal(err)
	}
	sinkDone := make(chan error, 1)
	go func() { sinkDone <- sink.Wait() }()
	defer func() {
		_ = sink.Process.Kill()
		<-sinkDone
	}()
	waitListening(t, port)

	r, err := Start(t.Context(), ffmpeg, in,
		Target{RTMP: fmt.Sprintf("rtmp://127.0.0.1:%d/live/test", port)}, filepath.Join(dir, "work"), testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	w := watch(r)
	time.Sleep(2 * time.Second)
	cpu0, t0 := cpuSeconds(r.cmd.Process.Pid), time.Now()
	time.Sleep(5 * time.Second)
	cpu := (cpuSeconds(r.cmd.Process.Pid) - cpu0) / time.Since(t0).Seconds()
	at, st := time.Now(), r.State()
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	w.end()
	t.Logf("720p runner: %.0f%% of one core; %d frames, speed %.2f, %.0f kbit/s; output clock %v behind the wall clock since Start",
		cpu*100, st.Frames, st.Speed, w.maxKbps, (at.Sub(st.Since) - st.OutTime).Round(time.Millisecond))
	if !w.running || w.maxKbps <= 0 {
		t.Errorf("while it ran: running %v, highest bitrate %.0f kbit/s; want running and a bitrate", w.running, w.maxKbps)
	}
	if got := r.State(); got.Running || got.Err != "" {
		t.Errorf("after Stop: %+v, want not running and no error", got)
	}
	if st.Delay != EncoderDelay {
		t.Errorf("delay %v, want %v", st.Delay, EncoderDelay)
	}

	select {
	case err := <-sinkDone:
		sinkDone <- err
		if err != nil {
			t.Fatalf("sink: %v\n%s", err, sinkErr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sink did not end after the stream did")
	}
	p := ffprobe(t, ffprobeBin, flv)
	checkH264AAC(t, "RTMP output", p)
	if d, _ := strconv.ParseFloat(p.Format.Duration, 64); d <= 3 {
		t.Errorf("RTMP output lasts %q s, want more than 3", p.Format.Duration)
	}
}

// TestHLS writes HLS while the caption changes and the source switches
// to a picture of another size.
func TestHLS(t *testing.T) {
	ffmpeg, ffprobeBin := needFFmpeg(t)
	dir := t.TempDir()
	hls := filepath.Join(dir, "hls")
	// Leftovers of an earlier run, which Start removes.
	if err := os.MkdirAll(hls, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"seg1.ts", HLSPlaylist} {
		if err := os.WriteFile(filepath.Join(hls, f), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := testInput(t)
	startFeed(t, in, []videoClip{makeVP8(t, ffmpeg, "320x180"), makeVP8(t, ffmpeg, "480x360")}, 3*time.Second,
		[][][]byte{makeOpus(t, ffmpeg, 440), makeOpus(t, ffmpeg, 660)})

	r, err := Start(t.Context(), ffmpeg, in, Target{HLSDir: hls}, filepath.Join(dir, "work"), testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if _, err := os.Stat(filepath.Join(hls, "seg1.ts")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an earlier run's segment is still there: %v", err)
	}
	w := watch(r)

	// The floor changes while it runs.
	names := []string{"Đại biểu Nguyễn Văn A", "", "Chủ tọa: Trần Thị B — 100% {x}", `a\b'c:d`}
	var segments []string
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; len(segments) < 3; n++ {
		if time.Now().After(deadline) {
			t.Fatalf("no three segments in the playlist in time; state %+v", r.State())
		}
		if err := r.SetCaption(names[n%len(names)]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
		segments = playlistSegments(t, hls)
	}
	st := r.State()
	if !st.Running || st.Err != "" {
		t.Fatalf("state after caption changes and a switch: %+v", st)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	w.end()
	if !w.running || w.maxKbps <= 0 {
		t.Errorf("while it ran: running %v, highest bitrate %.0f kbit/s; want running and a bitrate", w.running, w.maxKbps)
	}
	if st.Delay != HLSSegment*HLSListSize {
		t.Errorf("delay %v, want %v", st.Delay, HLSSegment*HLSListSize)
	}
	t.Logf("HLS: %d frames, %.0f kbit/s, delay stated %v", st.Frames, w.maxKbps, st.Delay)
	// The first segment has the first source, the last the second.
	for _, s := range []string{segments[0], segments[len(segments)-1]} {
		checkH264AAC(t, s, ffprobe(t, ffprobeBin, filepath.Join(hls, s)))
	}
	// The second source is 4:3: its sides (the right one: testsrc is
	// white there) are the blurred picture, not
	// black or the garbage (zeros: green) a fixed pad leaves.
	side := run(t, ffmpeg, "-hide_banner", "-loglevel", "error",
		"-i", filepath.Join(hls, segments[len(segments)-1]), "-frames:v", "1",
		"-vf", "crop=120:720:1160:0,scale=12:72", "-f", "rawvideo", "-pix_fmt", "gray", "-")
	var sum int
	for _, y := range side {
		sum += int(y)
	}
	if len(side) == 0 || sum/len(side) < 40 {
		t.Errorf("the right side of the 4:3 picture has a mean luma of %d, want the blurred picture", sum/max(len(side), 1))
	}
}

// playlistSegments lists the segments an HLS playlist names, none if it
// is not there yet.
func playlistSegments(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, HLSPlaylist))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var segs []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			segs = append(segs, line)
		}
	}
	return segs
}

// TestH264 takes H.264 video in, as from a WHIP mixer, with one audio
// stream.
func TestH264(t *testing.T) {
	ffmpeg, ffprobeBin := needFFmpeg(t)
	dir := t.TempDir()
	hls := filepath.Join(dir, "hls")
	in := testInput(t)
	in.VideoCodec, in.AudioPorts = "h264", in.AudioPorts[:1]
	startFeed(t, in, []videoClip{makeH264(t, ffmpeg, "320x180")}, time.Hour, [][][]byte{makeOpus(t, ffmpeg, 440)})
	r, err := Start(t.Context(), ffmpeg, in, Target{HLSDir: hls}, filepath.Join(dir, "work"), testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	deadline := time.Now().Add(15 * time.Second)
	for len(playlistSegments(t, hls)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no two segments in the playlist in time; state %+v", r.State())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	segs := playlistSegments(t, hls)
	checkH264AAC(t, segs[0], ffprobe(t, ffprobeBin, filepath.Join(hls, segs[0])))
}

// TestStopWithoutInput: Stop ends an ffmpeg still waiting for its input,
// and so does the end of Start's context.
func TestStopWithoutInput(t *testing.T) {
	ffmpeg, _ := needFFmpeg(t)
	for _, how := range []string{"Stop", "context"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r, err := Start(ctx, ffmpeg, testInput(t), Target{HLSDir: t.TempDir()}, t.TempDir(), testFont(t))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			start := time.Now()
			if how == "Stop" {
				if err := r.Stop(); err != nil {
					t.Fatalf("Stop: %v", err)
				}
			} else {
				cancel()
				select {
				case <-r.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("ffmpeg runs on after the context ended")
				}
			}
			t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
			if st := r.State(); st.Running || st.Err != "" {
				t.Errorf("state %+v, want not running and no error", st)
			}
		})
	}
}

// TestUnreachableRTMP: with nothing listening at the ingest, ffmpeg ends
// and the state says why.
func TestUnreachableRTMP(t *testing.T) {
	ffmpeg, _ := needFFmpeg(t)
	in := testInput(t)
	startFeed(t, in, []videoClip{makeVP8(t, ffmpeg, "320x180")}, time.Hour, [][][]byte{makeOpus(t, ffmpeg, 440)})
	r, err := Start(t.Context(), ffmpeg, in,
		Target{RTMP: fmt.Sprintf("rtmp://127.0.0.1:%d/live/key", freeTCPPort(t))}, t.TempDir(), testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case <-r.Done():
	case <-time.After(15 * time.Second):
		r.Stop()
		t.Fatal("ffmpeg still runs 15 s after Start with nothing at the RTMP address")
	}
	st := r.State()
	t.Logf("ended after %v: %s", time.Since(start).Round(time.Millisecond), st.Err)
	if st.Running || st.Err == "" {
		t.Errorf("state %+v, want not running and an error", st)
	}
	if strings.Contains(st.Err, "/live/key") {
		t.Errorf("the error shows the stream key: %s", st.Err)
	}
	if err := r.Stop(); err == nil {
		t.Error("Stop after ffmpeg ended by itself: no error")
	}
}

func TestStartErrors(t *testing.T) {
	font := testFont(t)
	in := Input{VideoCodec: "vp8", VideoPort: 5000, VideoPT: 96, AudioPorts: []int{5002}, AudioPT: 111}
	hls := Target{HLSDir: t.TempDir()}
	tests := []struct {
		name   string
		ffmpeg string
		font   string
		want   error
	}{
		{"ffmpeg not in PATH", "hoinghi-no-such-ffmpeg", font, exec.ErrNotFound},
		{"no ffmpeg at the path", filepath.Join(t.TempDir(), "ffmpeg"), font, fs.ErrNotExist},
		{"no font", "/bin/sh", filepath.Join(t.TempDir(), "none.ttf"), fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Start(t.Context(), tt.ffmpeg, in, hls, t.TempDir(), tt.font)
			if err == nil {
				r.Stop()
				t.Fatal("Start: no error")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Start: %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}
