package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"hoinghi/internal/testenv"
)

// The payload types the tests send with, as the SFU would.
const (
	testVideoPT = 96
	testAudioPT = 111
)

// testFont is the caption font, the one package export embeds.
func testFont(t *testing.T) string {
	t.Helper()
	f, err := filepath.Abs(filepath.Join("..", "export", "fonts", "DejaVuSans.ttf"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f); err != nil {
		t.Fatalf("caption font: %v", err)
	}
	return f
}

// needFFmpeg returns the paths of ffmpeg and ffprobe, or ends the test.
func needFFmpeg(t *testing.T) (ffmpeg, ffprobe string) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)
	ffprobe, err = exec.LookPath("ffprobe")
	testenv.Need(t, "ffprobe", err)
	return ffmpeg, ffprobe
}

// run runs a command to its end and fails the test with its output if it
// fails.
func run(t *testing.T, name string, arg ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, arg...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(arg, " "), err, out)
	}
	return out
}

// videoClip is the frames of a video clip at 15 frames a second, each
// as a payloader takes it.
type videoClip [][]byte

// makeVP8 encodes a test picture of the given size as a four-second VP8
// clip with a keyframe every second, and reads its frames.
func makeVP8(t *testing.T, ffmpeg, size string) videoClip {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.ivf")
	run(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc=size="+size+":rate=15", "-t", "4",
		"-c:v", "libvpx", "-g", "15", "-b:v", "300k", "-deadline", "realtime", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var c videoClip
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c = append(c, frame)
	}
	if len(c) == 0 || c[0][0]&1 != 0 {
		t.Fatal("VP8 clip: no frames, or the first is not a keyframe")
	}
	return c
}

// makeH264 encodes a test picture as a four-second H.264 clip, with a
// keyframe and the parameter sets every second and no B-frames, as a
// WHIP mixer sends, and reads its access units in Annex B.
func makeH264(t *testing.T, ffmpeg, size string) videoClip {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.h264")
	run(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc=size="+size+":rate=15", "-t", "4", "-pix_fmt", "yuv420p",
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-g", "15",
		"-x264-params", "repeat-headers=1", "-f", "h264", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var (
		c  videoClip
		au []byte
	)
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		au = append(append(au, 0, 0, 0, 1), nal.Data...)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr {
			c = append(c, au)
			au = nil
		}
	}
	if len(c) == 0 || !bytes.Contains(c[0], []byte{0, 0, 0, 1, 0x65}) {
		t.Fatal("H.264 clip: no frames, or the first is not a keyframe")
	}
	return c
}

// makeOpus encodes a four-second tone as Opus, one 20 ms packet a page,
// and reads its packets.
func makeOpus(t *testing.T, ffmpeg string, hz int) [][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.ogg")
	run(t, ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=f=%d:sample_rate=48000", hz), "-t", "4",
		"-c:a", "libopus", "-b:a", "48k", "-page_duration", "20000", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		pkts = append(pkts, page)
	}
	if len(pkts) == 0 {
		t.Fatal("Opus clip: no packets")
	}
	return pkts
}

// feed sends the streams of a live composition over UDP to loopback
// until it is stopped: the video clips one after the other, each for
// switchAfter (the last one until the end; each switch starts at the
// clip's keyframe, as the server's would), and each audio stream in a
// loop, all paced in real time.
type feed struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startFeed(t *testing.T, in Input, video []videoClip, switchAfter time.Duration, audio [][][]byte) *feed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &feed{cancel: cancel}
	t.Cleanup(f.stop)
	conn := func(port int) *net.UDPConn {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	vc := conn(in.VideoPort)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer vc.Close()
		var pay rtp.Payloader = &codecs.VP8Payloader{EnablePictureID: true}
		if in.VideoCodec == "h264" {
			pay = &codecs.H264Payloader{}
		}
		p := rtp.NewPacketizer(1200, in.VideoPT, 0x1000, pay, rtp.NewRandomSequencer(), 90000)
		start := time.Now()
		cur, i := 0, 0
		for n := 0; ; n++ {
			if c := min(int(time.Since(start)/switchAfter), len(video)-1); c != cur {
				cur, i = c, 0 // the new source, from its keyframe
			}
			send(vc, p.Packetize(video[cur][i%len(video[cur])], 90000/15))
			i++
			if !sleepUntil(ctx, start.Add(time.Duration(n+1)*time.Second/15)) {
				return
			}
		}
	}()
	for i, port := range in.AudioPorts {
		ac := conn(port)
		pkts := audio[i%len(audio)]
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer ac.Close()
			p := rtp.NewPacketizer(1200, in.AudioPT, uint32(0x2000+i), &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000)
			start := time.Now()
			for n := 0; ; n++ {
				send(ac, p.Packetize(pkts[n%len(pkts)], 960))
				if !sleepUntil(ctx, start.Add(time.Duration(n+1)*20*time.Millisecond)) {
					return
				}
			}
		}()
	}
	return f
}

func (f *feed) stop() {
	f.cancel()
	f.wg.Wait()
}

// send writes packets to a UDP socket; a refusal (ffmpeg not yet, or no
// more, listening) is ignored as the server would ignore it.
func send(c *net.UDPConn, pkts []*rtp.Packet) {
	for _, p := range pkts {
		b, err := p.Marshal()
		if err != nil {
			panic(err)
		}
		_, _ = c.Write(b)
	}
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
