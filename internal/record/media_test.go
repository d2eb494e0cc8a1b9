package record

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"hoinghi/internal/testenv"
)

// The test media: 3 s of 320x180 video at 15 fps, 3 s of a 440 Hz tone
// in 20 ms Opus packets.
const (
	testSeconds = 3
	testFPS     = 15
)

// tools returns the paths of ffmpeg and ffprobe, or ends the test.
func tools(t *testing.T) (ffmpeg, ffprobe string) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	testenv.Need(t, "ffmpeg", err)
	ffprobe, err = exec.LookPath("ffprobe")
	testenv.Need(t, "ffprobe", err)
	return ffmpeg, ffprobe
}

func runFFmpeg(t *testing.T, ffmpeg string, args ...string) {
	t.Helper()
	args = append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
	if out, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// vp8Frames makes real VP8 frames with ffmpeg.
func vp8Frames(t *testing.T, ffmpeg string) [][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "v.ivf")
	runFFmpeg(t, ffmpeg, "-f", "lavfi", "-i", "testsrc=size=320x180:rate="+strconv.Itoa(testFPS),
		"-t", strconv.Itoa(testSeconds), "-c:v", "libvpx", "-deadline", "realtime", "-g", "15",
		"-auto-alt-ref", "0", "-lag-in-frames", "0", "-b:v", "200k", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, frame)
	}
	return frames
}

// h264Frames makes real H.264 access units (Annex B) with ffmpeg.
func h264Frames(t *testing.T, ffmpeg string) [][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "v.h264")
	runFFmpeg(t, ffmpeg, "-f", "lavfi", "-i", "testsrc=size=320x180:rate="+strconv.Itoa(testFPS),
		"-t", strconv.Itoa(testSeconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
		"-bf", "0", "-g", "15", "-pix_fmt", "yuv420p", "-bsf:v", "h264_mp4toannexb", "-f", "h264", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	var au []byte
	vclSeen := false
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// An access unit starts with a parameter set or SEI after a
		// slice, or with a slice whose first_mb_in_slice is 0 (its
		// Exp-Golomb code is the single bit 1): zerolatency makes
		// several slices a picture.
		typ := nal.Data[0] & 0x1f
		vcl := typ == 1 || typ == 5
		if vclSeen && (!vcl || nal.Data[1]&0x80 != 0) {
			frames = append(frames, au)
			au, vclSeen = nil, false
		}
		vclSeen = vclSeen || vcl
		au = append(au, 0, 0, 0, 1)
		au = append(au, nal.Data...)
	}
	return append(frames, au)
}

// opusFrames makes real Opus packets with ffmpeg.
func opusFrames(t *testing.T, ffmpeg string) [][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.ogg")
	runFFmpeg(t, ffmpeg, "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-t", strconv.Itoa(testSeconds),
		"-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	packets := oggPackets(t, data)
	if len(packets) < 2 || !bytes.HasPrefix(packets[0], []byte("OpusHead")) {
		t.Fatalf("ffmpeg's Ogg file has no OpusHead")
	}
	return packets[2:] // after OpusHead and OpusTags
}

// oggPackets splits an Ogg file into its packets.
func oggPackets(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var packets [][]byte
	var cur []byte
	for len(data) > 0 {
		if len(data) < oggHeaderSize || string(data[:4]) != "OggS" {
			t.Fatalf("not an Ogg page")
		}
		nseg := int(data[26])
		lacing := data[27 : 27+nseg]
		body := data[27+nseg:]
		for _, l := range lacing {
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
			}
		}
		data = body
	}
	return packets
}

// stream is a synthetic RTP stream.
type stream struct {
	frames  [][]byte
	pay     rtp.Payloader
	clock   uint32
	step    uint32 // RTP time between frames
	gapAt   int    // frame before which the timestamps jump, 0 for none
	gap     uint32 // by how much
	seq0    uint16
	ts0     uint32
	nominal []time.Duration // per packet: when it was sent
}

func (s *stream) packets() []*rtp.Packet {
	var out []*rtp.Packet
	s.nominal = s.nominal[:0]
	seq := s.seq0
	for i, f := range s.frames {
		ts := s.ts0 + uint32(i)*s.step
		if s.gapAt > 0 && i >= s.gapAt {
			ts += s.gap
		}
		payloads := s.pay.Payload(1200, f)
		for j, p := range payloads {
			out = append(out, &rtp.Packet{
				Header: rtp.Header{
					Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts,
					Marker: j == len(payloads)-1, SSRC: 0x1234,
				},
				Payload: p,
			})
			s.nominal = append(s.nominal, time.Duration(ts-s.ts0)*time.Second/time.Duration(s.clock))
			seq++
		}
	}
	return out
}

// deliver sends packets (in the order given by order, indexes into pkts)
// to the track; each arrives at the nominal time of the latest packet
// sent so far.
func deliver(t *testing.T, tr *Track, pkts []*rtp.Packet, nominal []time.Duration, order []int, base time.Time) time.Time {
	t.Helper()
	var latest time.Duration
	for _, i := range order {
		latest = max(latest, nominal[i])
		if err := tr.WriteRTP(pkts[i], base.Add(latest)); err != nil {
			t.Fatalf("WriteRTP: %v", err)
		}
	}
	return base.Add(latest)
}

func inOrder(n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return order
}

// shuffled delivers packets out of order: pairs swapped, every 7th
// packet duplicated, every 11th one sent 200 ms late (a retransmission).
func shuffled(nominal []time.Duration) []int {
	n := len(nominal)
	var order []int
	var delayed []int
	for i := 0; i < n; i++ {
		if i%11 == 5 {
			delayed = append(delayed, i)
		} else if i+1 < n && i%4 == 1 && (i+1)%11 != 5 {
			order = append(order, i+1, i)
			i++
		} else {
			order = append(order, i)
		}
		if i%7 == 3 {
			order = append(order, i)
		}
		for len(delayed) > 0 && nominal[delayed[0]]+200*time.Millisecond <= nominal[i] {
			order = append(order, delayed[0])
			delayed = delayed[1:]
		}
	}
	return append(order, delayed...)
}

type probed struct {
	Codec    string
	Duration float64
}

func ffprobe(t *testing.T, ffprobe, path string) probed {
	t.Helper()
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name",
		"-of", "json", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ffprobe %s: %v\n%s", path, err, ee.Stderr)
		}
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var res struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	if len(res.Streams) != 1 {
		t.Fatalf("ffprobe %s: %d streams, want 1: %s", path, len(res.Streams), out)
	}
	d, err := strconv.ParseFloat(res.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe %s: duration %q: %s", path, res.Format.Duration, out)
	}
	return probed{Codec: res.Streams[0].CodecName, Duration: d}
}

// decodes checks that ffmpeg decodes the whole file without an error.
func decodes(t *testing.T, ffmpeg, path string) {
	t.Helper()
	out, err := exec.Command(ffmpeg, "-hide_banner", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg decoding %s: %v\n%s", path, err, out)
	}
}

// TestTrackFiles writes real VP8, H.264 and Opus as RTP, in order, with a
// 2 s gap, and reordered with duplicates and late retransmissions, and
// checks what ffprobe says of the files.
func TestTrackFiles(t *testing.T) {
	ffmpeg, ffprobeBin := tools(t)
	media := map[string][][]byte{
		"vp8":  vp8Frames(t, ffmpeg),
		"h264": h264Frames(t, ffmpeg),
		"opus": opusFrames(t, ffmpeg),
	}
	payloaders := map[string]func() rtp.Payloader{
		"vp8":  func() rtp.Payloader { return &codecs.VP8Payloader{EnablePictureID: true} },
		"h264": func() rtp.Payloader { return &codecs.H264Payloader{} },
		"opus": func() rtp.Payloader { return &codecs.OpusPayloader{} },
	}
	tests := []struct {
		name     string
		codec    string
		gap      time.Duration
		shuffled bool
		want     string
	}{
		{"vp8", "vp8", 0, false, "vp8"},
		{"vp8 gap", "vp8", 2 * time.Second, false, "vp8"},
		{"vp8 reordered", "vp8", 0, true, "vp8"},
		{"h264", "h264", 0, false, "h264"},
		{"h264 gap", "h264", 2 * time.Second, false, "h264"},
		{"h264 reordered", "h264", 0, true, "h264"},
		{"opus", "opus", 0, false, "opus"},
		{"opus gap", "opus", 2 * time.Second, false, "opus"},
		{"opus reordered", "opus", 0, true, "opus"},
	}
	start := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Create(t.TempDir(), "Hội nghị tỉnh", "20261204T200000Z", start)
			if err != nil {
				t.Fatal(err)
			}
			kind := "video"
			s := &stream{frames: media[tt.codec], pay: payloaders[tt.codec](), clock: 90000, step: 90000 / testFPS,
				seq0: 65000, ts0: 0xffff0000}
			if tt.codec == "opus" {
				kind = "audio"
				s.clock, s.step = 48000, 960
			}
			if tt.gap > 0 {
				s.gapAt = len(s.frames) / 2
				s.gap = uint32(tt.gap * time.Duration(s.clock) / time.Second)
			}
			tr, err := rec.AddTrack(TrackInfo{ID: "t1", Participant: "p-1", Media: kind, Codec: tt.codec, Name: "Điểm cầu Sơn La"}, start)
			if err != nil {
				t.Fatal(err)
			}
			pkts := s.packets()
			order := inOrder(len(pkts))
			if tt.shuffled {
				order = shuffled(s.nominal)
			}
			end := deliver(t, tr, pkts, s.nominal, order, start)
			if err := rec.Close(end); err != nil {
				t.Fatal(err)
			}
			got := ffprobe(t, ffprobeBin, filepath.Join(rec.Dir(), tr.File()))
			want := float64(len(s.frames)*int(s.step))/float64(s.clock) + tt.gap.Seconds()
			if got.Codec != tt.want || got.Duration < want-0.2 || got.Duration > want+0.2 {
				t.Errorf("ffprobe: %s, %.3f s; want %s, %.3f s", got.Codec, got.Duration, tt.want, want)
			}
			decodes(t, ffmpeg, filepath.Join(rec.Dir(), tr.File()))
			ix, err := ReadIndex(filepath.Join(rec.Dir(), IndexName))
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Tracks) != 1 || ix.Tracks[0].Frames == 0 || ix.Tracks[0].Lost != 0 {
				t.Fatalf("index tracks %+v; want one with frames and nothing lost", ix.Tracks)
			}
			if tt.shuffled && ix.Tracks[0].Late == 0 {
				t.Errorf("no packet counted late: the test did not reorder")
			}
			if d := ix.Tracks[0].Duration.Seconds(); d < want-0.2 || d > want+0.2 {
				t.Errorf("index duration %.3f s, want %.3f s", d, want)
			}
			if tt.codec != "opus" && (ix.Tracks[0].Width != 320 || ix.Tracks[0].Height != 180) {
				t.Errorf("index picture size %dx%d, want 320x180", ix.Tracks[0].Width, ix.Tracks[0].Height)
			}
		})
	}
}

// TestTruncatedFile copies a track's file while the track is open, as a
// kill -9 would leave it, and checks that ffprobe reads it up to about
// the last flush.
func TestTruncatedFile(t *testing.T) {
	ffmpeg, ffprobeBin := tools(t)
	tests := []struct {
		codec  string
		frames [][]byte
		pay    rtp.Payloader
		clock  uint32
		step   uint32
		media  string
	}{
		{"vp8", vp8Frames(t, ffmpeg), &codecs.VP8Payloader{EnablePictureID: true}, 90000, 90000 / testFPS, "video"},
		{"h264", h264Frames(t, ffmpeg), &codecs.H264Payloader{}, 90000, 90000 / testFPS, "video"},
		{"opus", opusFrames(t, ffmpeg), &codecs.OpusPayloader{}, 48000, 960, "audio"},
	}
	start := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.codec, func(t *testing.T) {
			rec, err := Create(t.TempDir(), "c", "r1", start)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := rec.AddTrack(TrackInfo{ID: "t", Participant: "p", Media: tt.media, Codec: tt.codec}, start)
			if err != nil {
				t.Fatal(err)
			}
			s := &stream{frames: tt.frames, pay: tt.pay, clock: tt.clock, step: tt.step, seq0: 1, ts0: 1000}
			pkts := s.packets()
			half := len(pkts) / 2
			last := deliver(t, tr, pkts[:half], s.nominal, inOrder(half), start)
			sent := last.Sub(start).Seconds()
			path := filepath.Join(rec.Dir(), tr.File())
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cut := filepath.Join(t.TempDir(), "cut"+filepath.Ext(path))
			if err := os.WriteFile(cut, data, 0o644); err != nil {
				t.Fatal(err)
			}
			got := ffprobe(t, ffprobeBin, cut)
			// The last flush was at most FlushInterval before the last
			// packet.
			lo, hi := sent-FlushInterval.Seconds()-0.2, sent+0.2
			if got.Codec != tt.codec || got.Duration < lo || got.Duration > hi {
				t.Errorf("cut file: %s, %.3f s; want %s, %.3f to %.3f s", got.Codec, got.Duration, tt.codec, lo, hi)
			}
			decodes(t, ffmpeg, cut)
			if tr.Bytes() < int64(len(data)) {
				t.Errorf("Bytes %d, but the file has %d", tr.Bytes(), len(data))
			}
			if err := rec.Close(last); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOggPages checks the Ogg writer's pages against the CRC and lacing
// rules: a reader that checks CRCs (pion's oggreader would) sees every
// packet.
func TestOggPages(t *testing.T) {
	var buf bytes.Buffer
	o := newOggWriter(&buf, 7)
	if err := o.writeHeaders(2, []string{"TITLE=Điểm cầu"}); err != nil {
		t.Fatal(err)
	}
	sizes := []int{1, 254, 255, 256, 600, 3}
	for i, n := range sizes {
		if err := o.writePacket(bytes.Repeat([]byte{byte(i)}, n), int64(960*(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}
	packets := oggPackets(t, buf.Bytes())
	if len(packets) != 2+len(sizes) {
		t.Fatalf("%d packets, want %d", len(packets), 2+len(sizes))
	}
	for i, n := range sizes {
		if p := packets[2+i]; len(p) != n || (n > 0 && p[0] != byte(i)) {
			t.Errorf("packet %d: %d bytes, want %d", i, len(p), n)
		}
	}
	// Every page's CRC: recompute with the field zeroed.
	data := buf.Bytes()
	for len(data) > 0 {
		nseg := int(data[26])
		size := 27 + nseg
		for _, l := range data[27 : 27+nseg] {
			size += int(l)
		}
		page := append([]byte(nil), data[:size]...)
		want := binary.LittleEndian.Uint32(page[22:])
		binary.LittleEndian.PutUint32(page[22:], 0)
		var crc uint32
		for _, b := range page {
			crc = crc<<8 ^ o.crc[byte(crc>>24)^b]
		}
		if crc != want {
			t.Errorf("page CRC %#x, want %#x", want, crc)
		}
		data = data[size:]
	}
}
