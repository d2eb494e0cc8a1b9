// Package live runs the live composition of a conference: ffmpeg reads
// the RTP streams the server sends it on loopback (one video stream whose
// source the server switches, and Opus audio streams), draws the
// speaker's caption and the time of day over the picture, mixes the
// audio, and pushes one H.264 and AAC stream to an RTMP(S) ingest or
// writes it as HLS.
//
// A Runner keeps what the technician sees (running or not, since when,
// the bitrate, the frames, the last error and the delay to viewers) from
// ffmpeg's progress output and its error output. It never restarts
// ffmpeg: when ffmpeg ends by itself, State says so and Done is closed,
// and the caller decides whether to Start again.
package live

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Input describes the RTP streams the server sends to 127.0.0.1.
//
// ffmpeg also binds the port after each RTP port, for RTCP; FreePorts
// picks ports with that room. The server should be sending when Start
// is called, and send a keyframe soon after: ffmpeg learns the picture
// size from the first one. ffmpeg gives up when nothing arrives for 10 s,
// before the first keyframe or later, and State then says so; the
// server keeps the audio streams fed with silence so that this happens
// only when the server stops sending.
type Input struct {
	VideoCodec string // "vp8" or "h264" (packetization mode 1, parameter sets in band)
	VideoPort  int
	VideoPT    uint8
	AudioPorts []int // Opus streams, mixed at their own levels; none gives silence
	AudioPT    uint8 // Opus 48000/2, the same for every audio stream
}

// Target is where the stream goes: exactly one of RTMP (an rtmp:// or
// rtmps:// URL, with its stream key) or HLSDir (a directory; the
// playlist is HLSPlaylist in it, next to its segments).
type Target struct {
	RTMP   string
	HLSDir string
}

// State is what the technician sees.
type State struct {
	Running     bool          // ffmpeg runs: from Start until it exits
	Since       time.Time     // when Start started ffmpeg
	BitrateKbps float64       // the output's bitrate over the last second (HLS: over the playlist's segments)
	Frames      int64         // video frames encoded
	Speed       float64       // encoding speed; below 1 the output falls behind real time
	OutTime     time.Duration // the output's clock: how much has been encoded
	Err         string        // why ffmpeg ended by itself; "" while it runs or after Stop
	// Delay is the delay stated to viewers: for HLS, the playlist
	// window (HLSSegment x HLSListSize), which is how far behind a
	// player starting at the playlist's first segment is; for RTMP,
	// EncoderDelay, to which the platform adds its own.
	Delay time.Duration
}

// Runner is one running ffmpeg. Its methods are safe for concurrent use.
type Runner struct {
	ctx     context.Context
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	log     *slog.Logger
	caption string // path of the caption file
	hlsDir  string
	secrets []string // of the RTMP URL, hidden in messages
	done    chan struct{}

	captionMu sync.Mutex
	stopOnce  sync.Once
	stopErr   error

	mu       sync.Mutex
	state    State
	stopping bool
	reports  int      // progress reports read
	stderr   []string // the last lines ffmpeg wrote to its error output
}

// How long Stop waits for each way of ending ffmpeg.
const (
	interruptWait = 4 * time.Second // after SIGINT; then ffmpeg is killed
	stderrLines   = 8
)

// Start writes the SDP file and the caption file into workDir, starts
// ffmpeg (the program named by ffmpeg, found in PATH if it has no slash)
// and returns at once. font is the TrueType font the caption is drawn
// with; the clock shows the time of day in the time zone of the
// process's TZ. Cancelling ctx stops ffmpeg with SIGINT (then a kill),
// without Stop's wait.
//
// Start removes an earlier run's playlist and segments from
// Target.HLSDir; nothing else there is touched.
func Start(ctx context.Context, ffmpeg string, in Input, out Target, workDir string, font string) (*Runner, error) {
	if err := validate(in, out); err != nil {
		return nil, err
	}
	bin, err := exec.LookPath(ffmpeg)
	if err != nil {
		return nil, fmt.Errorf("live: ffmpeg %q: %w", ffmpeg, err)
	}
	if font == "" {
		return nil, errors.New("live: no font file for the caption")
	}
	font, err = filepath.Abs(font)
	if err != nil {
		return nil, fmt.Errorf("live: font: %w", err)
	}
	if _, err := os.Stat(font); err != nil {
		return nil, fmt.Errorf("live: font: %w", err)
	}
	workDir, err = filepath.Abs(workDir)
	if err != nil {
		return nil, fmt.Errorf("live: work directory: %w", err)
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("live: work directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(workDir, sdpName), []byte(sdp(in)), 0o644); err != nil {
		return nil, fmt.Errorf("live: SDP file: %w", err)
	}
	link := filepath.Join(workDir, fontName)
	if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("live: font link: %w", err)
	}
	if err := os.Symlink(font, link); err != nil {
		return nil, fmt.Errorf("live: font link: %w", err)
	}
	if out.HLSDir != "" {
		out.HLSDir, err = filepath.Abs(out.HLSDir)
		if err != nil {
			return nil, fmt.Errorf("live: HLS directory: %w", err)
		}
		if err := prepareHLSDir(out.HLSDir); err != nil {
			return nil, err
		}
	}

	dest := out.HLSDir
	if out.RTMP != "" {
		dest = redact(out.RTMP)
	}
	r := &Runner{
		ctx:     ctx,
		log:     slog.Default().With("component", "live", "target", dest),
		caption: filepath.Join(workDir, captionName),
		hlsDir:  out.HLSDir,
		secrets: secrets(out.RTMP),
		done:    make(chan struct{}),
	}
	if err := r.SetCaption(""); err != nil {
		return nil, err
	}

	cmd := exec.CommandContext(ctx, bin, args(in, out)...)
	cmd.Dir = workDir
	cmd.Cancel = func() error { return interrupt(cmd.Process) }
	cmd.WaitDelay = interruptWait
	detach(cmd)
	r.cmd = cmd
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("live: ffmpeg stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("live: ffmpeg stdout: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("live: ffmpeg stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("live: start ffmpeg: %w", err)
	}
	r.state = State{Running: true, Since: time.Now(), Delay: delay(out)}
	r.log.Info("live stream started", "pid", cmd.Process.Pid, "video", in.VideoCodec, "audio_streams", len(in.AudioPorts))

	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); r.readProgress(stdout) }()
	go func() { defer readers.Done(); r.readStderr(stderr) }()
	go func() {
		readers.Wait()
		r.exited(cmd.Wait())
	}()
	return r, nil
}

// prepareHLSDir makes the HLS directory and removes the playlist and
// segments an earlier run left there.
func prepareHLSDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("live: HLS directory: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "seg*.ts"))
	if err != nil {
		return fmt.Errorf("live: HLS directory: %w", err)
	}
	old = append(old, filepath.Join(dir, HLSPlaylist))
	for _, f := range old {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("live: HLS directory: %w", err)
		}
	}
	return nil
}

// readProgress keeps the state from ffmpeg's -progress reports.
func (r *Runner) readProgress(stdout io.Reader) {
	var (
		rep report
		m   meter
	)
	rep.reset()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if !rep.line(sc.Bytes()) {
			continue
		}
		kbps, ok := m.kbps(rep.TotalSize, rep.OutTime)
		if r.hlsDir != "" {
			if k, err := playlistKbps(r.hlsDir); err == nil {
				kbps, ok = k, true
			}
		}
		if !ok && rep.Bitrate >= 0 {
			kbps = rep.Bitrate
		}
		r.mu.Lock()
		r.reports++
		r.state.BitrateKbps = kbps
		if rep.Frames >= 0 {
			r.state.Frames = rep.Frames
		}
		if rep.Speed >= 0 {
			r.state.Speed = rep.Speed
		}
		if rep.OutTime >= 0 {
			r.state.OutTime = rep.OutTime
		}
		r.mu.Unlock()
		rep.reset()
	}
	// ffmpeg's exit is reported by exited; a read error here only means
	// the pipe closed.
	_, _ = io.Copy(io.Discard, stdout)
}

// readStderr logs ffmpeg's messages and keeps the last few for Err.
func (r *Runner) readStderr(stderr io.Reader) {
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := hide(strings.TrimSpace(sc.Text()), r.secrets)
		if line == "" {
			continue
		}
		r.log.Debug("ffmpeg", "line", line)
		r.mu.Lock()
		if len(r.stderr) == stderrLines {
			copy(r.stderr, r.stderr[1:])
			r.stderr = r.stderr[:stderrLines-1]
		}
		r.stderr = append(r.stderr, line)
		r.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, stderr)
}

// exited records ffmpeg's end.
func (r *Runner) exited(err error) {
	r.mu.Lock()
	r.state.Running = false
	r.state.BitrateKbps = 0
	if !r.stopping && r.ctx.Err() == nil {
		msg := "ffmpeg ended by itself"
		if err != nil {
			msg = "ffmpeg: " + err.Error()
		}
		if len(r.stderr) > 0 {
			msg += ": " + strings.Join(r.stderr, " | ")
		}
		r.state.Err = msg
	}
	st := r.state
	r.mu.Unlock()
	close(r.done)
	if st.Err != "" {
		r.log.Error("live stream ended by itself", "err", st.Err, "frames", st.Frames)
	} else {
		r.log.Info("live stream stopped", "frames", st.Frames, "out_time", st.OutTime)
	}
}

// State returns what the technician sees now.
func (r *Runner) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// Done is closed when ffmpeg has exited, whether by Stop, by ctx or by
// itself.
func (r *Runner) Done() <-chan struct{} { return r.done }

// SetCaption rewrites the caption file atomically (a temporary file,
// then a rename), so that drawtext, which reads it again at every frame,
// sees either the old text or the new one. The text is drawn as it is,
// with no % expansion; an empty text draws an empty caption.
func (r *Runner) SetCaption(text string) error {
	text = strings.TrimRight(text, "\r\n")
	if text == "" {
		// drawtext fails on an empty file.
		text = " "
	}
	r.captionMu.Lock()
	defer r.captionMu.Unlock()
	tmp := r.caption + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf("live: caption: %w", err)
	}
	if err := os.Rename(tmp, r.caption); err != nil {
		return fmt.Errorf("live: caption: %w", err)
	}
	return nil
}

// Stop ends ffmpeg so that the output is closed properly (the FLV
// stream ended, the HLS playlist marked as ended): SIGINT, then a kill
// if it does not exit within a few seconds. It returns once ffmpeg has
// exited; its error says ffmpeg had to be killed,
// or why ffmpeg had already ended by itself. Calling Stop again returns
// the same.
func (r *Runner) Stop() error {
	r.stopOnce.Do(func() { r.stopErr = r.stop() })
	return r.stopErr
}

func (r *Runner) stop() error {
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	select {
	case <-r.done:
		if st := r.State(); st.Err != "" {
			return fmt.Errorf("live: %s", st.Err)
		}
		return nil
	default:
	}
	// SIGINT ends ffmpeg as q does, its output finished (the FLV's
	// end, the HLS playlist's last segment), and reaches it also while
	// it waits for its input's streams, when it reads no keys; q on
	// stdin was seen to wait for the next packet, seconds on a quiet
	// input.
	if err := interrupt(r.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		r.log.Debug("ffmpeg interrupt", "err", err)
	}
	select {
	case <-r.done:
		return nil
	case <-time.After(interruptWait):
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("live: kill ffmpeg: %w", err)
	}
	<-r.done
	return errors.New("live: ffmpeg did not stop in time and was killed")
}
