// Package compose writes the archive video of a recorded conference: one
// MP4 (H.264 and AAC) of the program, composed by ffmpeg from the
// per-track recordings placed on the conference timeline.
//
// A Plan says what the program shows: for each stretch of time (a Shot) one
// video full frame, optionally another small in the bottom-right corner, and
// a caption; the audio of some inputs mixed over the whole program; and, in
// the top-right corner, the time of day. Compose turns the plan into one
// ffmpeg command (a single filter graph, no shell) and runs it as a child
// process, reporting its progress.
//
// Each recording keeps its own timeline: a file with gaps (a track that was
// not sent for a while) is placed by its timestamps, so what follows a gap
// shows at the right time. During a gap inside a shot the file's last
// picture stays on screen; after a file's end the shot shows black. Audio
// gaps become silence.
package compose

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
	"time"

	"hoinghi/internal/export"
)

// Input is one recorded file placed on the program timeline.
type Input struct {
	File   string        // path
	Offset time.Duration // where the file's time zero sits on the timeline (may be negative: the file started before; cut it)
	Audio  bool          // an audio file (else video)
}

// Shot is a stretch of the program showing Main full frame and Inset small
// (bottom-right), with a caption.
type Shot struct {
	From, To time.Duration
	Main     int    // index into Plan.Inputs of a video input, -1 for a black frame
	Inset    int    // -1 for none
	Caption  string // speaker's name etc., "" for none
}

// Plan is one composition.
type Plan struct {
	Duration time.Duration  // the output's duration, exactly
	Start    time.Time      // wallclock of timeline zero: the caption shows the time of day
	Location *time.Location // for the time of day (nil: time.Local)
	Inputs   []Input
	Shots    []Shot // in order, not overlapping; stretches not covered show black
	Audio    []int  // audio inputs mixed over the whole program (each is silent where it has no packets)
	Width    int    // 0: 1280x720 (with Height)
	Height   int

	// Font is the TrueType file for the caption and the clock; it must
	// have the Vietnamese glyphs. "" uses DejaVu Sans as package export
	// embeds it.
	Font string
	// Threads bounds the threads of the encoder and of the filter graph
	// (decoders use one each); 0 means 2.
	Threads int
	// Logger receives the job's start and end; nil discards them.
	Logger *slog.Logger
}

// Progress is how far a job is: Done of Total of the program is written,
// at Speed times real time (0 when ffmpeg has not said yet).
type Progress struct {
	Done, Total time.Duration
	Speed       float64
}

// ErrNoFFmpeg is the error, wrapped, when the ffmpeg program is absent.
var ErrNoFFmpeg = errors.New("ffmpeg not found (install the Debian package ffmpeg)")

// FFmpeg finds ffmpeg on PATH, with a clear error naming the Debian package
// when it is absent; the error wraps ErrNoFFmpeg.
func FFmpeg() (string, error) {
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", fmt.Errorf("compose: %w: %v", ErrNoFFmpeg, err)
	}
	return p, nil
}

// stderrLines is how many of ffmpeg's last stderr lines an error carries.
const stderrLines = 12

// Compose runs ffmpeg to write plan to out (MP4, H.264 + AAC, faststart),
// reporting progress from `-progress pipe:1`; it returns an error with
// ffmpeg's last stderr lines when ffmpeg fails; ctx cancels it (kill the
// child, remove the partial output).
//
// The output is written next to out under a temporary name and renamed to
// out when ffmpeg succeeds, so out is either absent or whole. progress may
// be nil; it is called on Compose's goroutine while ffmpeg runs (about
// twice a second), with Done never decreasing, and on success a last time
// with Done equal to Total. Before ffmpeg starts, Compose reads each Ogg
// audio input once to find its long gaps. A missing ffmpeg gives an error
// wrapping ErrNoFFmpeg.
func Compose(ctx context.Context, ffmpeg string, plan Plan, out string, progress func(Progress)) (err error) {
	plan = plan.withDefaults()
	if err := plan.validate(); err != nil {
		return err
	}
	log := plan.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tmp, err := os.MkdirTemp("", "hoinghi-compose-")
	if err != nil {
		return fmt.Errorf("compose: temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	font := plan.Font
	if font == "" {
		font = filepath.Join(tmp, "font.ttf")
		if err := os.WriteFile(font, export.RegularFont(), 0o600); err != nil {
			return fmt.Errorf("compose: writing the font: %w", err)
		}
	}
	pieces := make(map[int][]time.Duration)
	for _, a := range plan.Audio {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("compose: %w", context.Cause(ctx))
		}
		starts, err := oggPieces(plan.Inputs[a].File)
		if err != nil {
			return err
		}
		pieces[a] = starts
	}
	part := out + ".part"
	args, err := buildArgs(plan, font, tmp, part, pieces)
	if err != nil {
		return err
	}

	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.Stdin = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("compose: ffmpeg stdout: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("compose: ffmpeg stderr: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(part)
		}
	}()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("compose: starting %q: %w: %v", ffmpeg, ErrNoFFmpeg, err)
		}
		return fmt.Errorf("compose: starting %q: %w", ffmpeg, err)
	}
	log.InfoContext(ctx, "compose: ffmpeg started", "out", out, "duration", plan.Duration,
		"inputs", len(plan.Inputs), "shots", len(plan.Shots), "audio", len(plan.Audio), "pid", cmd.Process.Pid)

	tail := make(chan []string, 1)
	go func() { tail <- lastLines(stderr, stderrLines) }()
	var last Progress
	readProgress(stdout, plan.Duration, func(p Progress) {
		last = p
		if progress != nil {
			progress(p)
		}
	})
	lines := <-tail
	werr := cmd.Wait()

	switch {
	case ctx.Err() != nil:
		log.InfoContext(ctx, "compose: cancelled", "out", out, "done", last.Done)
		return fmt.Errorf("compose: %w", context.Cause(ctx))
	case werr != nil:
		log.WarnContext(ctx, "compose: ffmpeg failed", "out", out, "err", werr)
		return fmt.Errorf("compose: ffmpeg: %w\n%s", werr, strings.Join(lines, "\n"))
	}
	if err := os.Rename(part, out); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	if progress != nil && last.Done < plan.Duration {
		progress(Progress{Done: plan.Duration, Total: plan.Duration, Speed: last.Speed})
	}
	log.InfoContext(ctx, "compose: done", "out", out, "duration", plan.Duration, "took", time.Since(began))
	return nil
}

// lastLines reads r to its end and returns its last n lines.
func lastLines(r io.Reader, n int) []string {
	ring := make([]string, 0, n)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if len(ring) == n {
			copy(ring, ring[1:])
			ring = ring[:n-1]
		}
		ring = append(ring, line)
	}
	io.Copy(io.Discard, r) // a line too long ends Scan; keep draining
	return ring
}
