package compose

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hoinghi/internal/testenv"
)

// BenchmarkCompose60s composes one minute of 1280x720 program from three
// video recordings (the hall in H.264 720p in Matroska, two points in VP8
// 640x360 in WebM, all with moving pictures) and three Opus recordings,
// with a caption and an inset, as a conference's archive job does. The
// figure s/program-min is the wall time per minute of program.
func BenchmarkCompose60s(b *testing.B) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	testenv.Need(b, "ffmpeg", err)
	dir := b.TempDir()
	hall, p1, p2 := filepath.Join(dir, "hall.mkv"), filepath.Join(dir, "p1.webm"), filepath.Join(dir, "p2.webm")
	a := []string{filepath.Join(dir, "a0.ogg"), filepath.Join(dir, "a1.ogg"), filepath.Join(dir, "a2.ogg")}
	base := []string{"-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"}
	vp8 := []string{"-c:v", "libvpx", "-b:v", "800k", "-deadline", "realtime", "-cpu-used", "8"}
	jobs := [][]string{
		append(base, "testsrc2=s=1280x720:r=25:d=62", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "2M", hall),
		append(append(append(base, "testsrc2=s=640x360:r=25:d=40"), vp8...), p1),
		append(append(append(base, "testsrc=s=640x360:r=25:d=30"), vp8...), p2),
		append(base, "sine=f=440:d=62", "-c:a", "libopus", a[0]),
		append(base, "sine=f=550:d=40", "-c:a", "libopus", a[1]),
		append(base, "sine=f=660:d=30", "-c:a", "libopus", a[2]),
	}
	var wg sync.WaitGroup
	for _, args := range jobs {
		wg.Go(func() {
			if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
				b.Errorf("%v: %v\n%s", args, err, out)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	s := time.Second
	plan := Plan{
		Duration: 60 * s,
		Start:    time.Date(2025, 3, 14, 1, 30, 0, 0, time.UTC),
		Inputs: []Input{
			{File: hall, Offset: -2 * s}, {File: p1, Offset: 15 * s}, {File: p2, Offset: 28 * s},
			{File: a[0], Offset: -2 * s, Audio: true}, {File: a[1], Offset: 15 * s, Audio: true}, {File: a[2], Offset: 28 * s, Audio: true},
		},
		Shots: []Shot{
			{From: 0, To: 20 * s, Main: 0, Inset: -1},
			{From: 20 * s, To: 35 * s, Main: 1, Inset: -1, Caption: "Đ/c Nguyễn Văn An — UBND huyện Nhơn Trạch"},
			{From: 35 * s, To: 50 * s, Main: 2, Inset: 1, Caption: "Đ/c Nguyễn Văn An — UBND huyện Nhơn Trạch"},
			{From: 50 * s, To: 60 * s, Main: 0, Inset: -1},
		},
		Audio: []int{3, 4, 5},
	}
	out := filepath.Join(dir, "program.mp4")
	b.ResetTimer()
	for b.Loop() {
		if err := Compose(b.Context(), ffmpeg, plan, out, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/plan.Duration.Minutes(), "s/program-min")
}
