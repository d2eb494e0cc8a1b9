package live

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := Input{VideoCodec: "vp8", VideoPort: 5000, VideoPT: 96, AudioPorts: []int{5002, 5004}, AudioPT: 111}
	rtmp := Target{RTMP: "rtmps://live-api-s.facebook.com:443/rtmp/KEY"}
	tests := []struct {
		name string
		edit func(*Input, *Target)
		want string // in the error; "" for none
	}{
		{"good", func(*Input, *Target) {}, ""},
		{"h264", func(in *Input, _ *Target) { in.VideoCodec = "h264" }, ""},
		{"no audio", func(in *Input, _ *Target) { in.AudioPorts = nil }, ""},
		{"hls", func(_ *Input, out *Target) { *out = Target{HLSDir: "/srv/hls"} }, ""},
		{"vp9", func(in *Input, _ *Target) { in.VideoCodec = "vp9" }, "codec"},
		{"port 0", func(in *Input, _ *Target) { in.VideoPort = 0 }, "range"},
		{"same port", func(in *Input, _ *Target) { in.AudioPorts[0] = 5000 }, "overlaps"},
		{"on the RTCP port", func(in *Input, _ *Target) { in.AudioPorts[0] = 5001 }, "overlaps"},
		{"payload type", func(in *Input, _ *Target) { in.AudioPT = 200 }, "payload type"},
		{"shared payload type", func(in *Input, _ *Target) { in.AudioPT = 96 }, "share"},
		{"no target", func(_ *Input, out *Target) { *out = Target{} }, "no target"},
		{"two targets", func(_ *Input, out *Target) { out.HLSDir = "/srv/hls" }, "two targets"},
		{"http", func(_ *Input, out *Target) { out.RTMP = "http://example.com/live/KEY" }, "rtmp://"},
		{"no host", func(_ *Input, out *Target) { out.RTMP = "rtmp:///live/KEY" }, "rtmp://"},
		{"percent in HLS dir", func(_ *Input, out *Target) { *out = Target{HLSDir: "/srv/100%"} }, "%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, out := good, rtmp
			in.AudioPorts = slices.Clone(good.AudioPorts)
			tt.edit(&in, &out)
			err := validate(in, out)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("validate: %v, want an error with %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "KEY"):
				t.Fatalf("the error shows the stream key: %v", err)
			}
		})
	}
}

func TestSDP(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{"vp8 and two Opus", Input{VideoCodec: "vp8", VideoPort: 5000, VideoPT: 96, AudioPorts: []int{5002, 5004}, AudioPT: 111}, []string{
			"v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=hoinghi live", "c=IN IP4 127.0.0.1", "t=0 0",
			"m=video 5000 RTP/AVP 96", "a=rtpmap:96 VP8/90000",
			"m=audio 5002 RTP/AVP 111", "a=rtpmap:111 opus/48000/2",
			"m=audio 5004 RTP/AVP 111", "a=rtpmap:111 opus/48000/2",
		}},
		{"h264 alone", Input{VideoCodec: "h264", VideoPort: 6000, VideoPT: 102}, []string{
			"v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=hoinghi live", "c=IN IP4 127.0.0.1", "t=0 0",
			"m=video 6000 RTP/AVP 102", "a=rtpmap:102 H264/90000", "a=fmtp:102 packetization-mode=1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Split(strings.TrimSuffix(sdp(tt.in), "\r\n"), "\r\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("sdp:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestArgs(t *testing.T) {
	in := Input{VideoCodec: "vp8", VideoPort: 5000, VideoPT: 96, AudioPorts: []int{5002, 5004}, AudioPT: 111}
	tests := []struct {
		name  string
		in    Input
		out   Target
		want  [][]string // runs of arguments that must appear in order
		graph []string   // in the filter graph
	}{
		{"rtmp", in, Target{RTMP: "rtmp://a.rtmp.youtube.com/live2/KEY"}, [][]string{
			{"-progress", "pipe:1"},
			{"-protocol_whitelist", "file,udp,rtp"},
			{"-i", sdpName},
			{"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "50"},
			{"-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5000k", "-pix_fmt", "yuv420p"},
			{"-c:a", "aac", "-b:a", "128k"},
			{"-f", "flv", "-flvflags", "no_duration_filesize", "rtmp://a.rtmp.youtube.com/live2/KEY"},
		}, []string{"scale=1280:720:force_original_aspect_ratio=decrease", "overlay=x=(W-w)/2:y=(H-h)/2:eval=frame", "textfile=caption.txt:reload=1", "amix=inputs=2", "[0:a:1]aresample=async=1"}},
		{"hls", in, Target{HLSDir: "/srv/hls"}, [][]string{
			{"-f", "hls", "-hls_time", "2", "-hls_list_size", "6", "-hls_flags", "delete_segments+independent_segments+temp_file"},
			{"-hls_segment_filename", "/srv/hls/seg%d.ts", "/srv/hls/index.m3u8"},
		}, []string{"amix=inputs=2"}},
		{"one audio stream", Input{VideoCodec: "h264", VideoPort: 5000, AudioPorts: []int{5002}}, Target{HLSDir: "/srv/hls"}, nil,
			[]string{"[0:a:0]aresample=async=1"}},
		{"no audio", Input{VideoCodec: "h264", VideoPort: 5000}, Target{HLSDir: "/srv/hls"}, nil,
			[]string{"anullsrc=r=48000:cl=stereo[a]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := args(tt.in, tt.out)
			at := 0
			for _, run := range tt.want {
				i := indexRun(a[at:], run)
				if i < 0 {
					t.Fatalf("args lack %q after position %d:\n%q", run, at, a)
				}
				at += i + len(run)
			}
			i := slices.Index(a, "-filter_complex")
			if i < 0 {
				t.Fatalf("no filter graph: %q", a)
			}
			for _, g := range tt.graph {
				if !strings.Contains(a[i+1], g) {
					t.Errorf("filter graph lacks %q:\n%s", g, a[i+1])
				}
			}
			if tt.out.RTMP == "" && strings.Contains(a[i+1], "amix") != (len(tt.in.AudioPorts) > 1) {
				t.Errorf("amix with %d audio streams:\n%s", len(tt.in.AudioPorts), a[i+1])
			}
		})
	}
}

func indexRun(a, run []string) int {
	for i := 0; i+len(run) <= len(a); i++ {
		if slices.Equal(a[i:i+len(run)], run) {
			return i
		}
	}
	return -1
}

func TestHide(t *testing.T) {
	tests := []struct {
		url, line, want string
	}{
		{"rtmp://a.rtmp.youtube.com/live2/abcd-1234", "rtmp://a.rtmp.youtube.com/live2/abcd-1234: I/O error", "…: I/O error"},
		{"rtmp://h/app/abcd-1234", "Publishing /app/abcd-1234 failed", "Publishing … failed"},
		{"rtmps://h:443/app?key=s3cr3t", "query key=s3cr3t refused", "query … refused"},
		{"", "nothing to hide", "nothing to hide"},
	}
	for _, tt := range tests {
		if got := hide(tt.line, secrets(tt.url)); got != tt.want {
			t.Errorf("hide(%q) with %q = %q, want %q", tt.line, tt.url, got, tt.want)
		}
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		want  report
	}{
		{"rtmp", "frame=125\nfps=25.00\nstream_0_0_q=23.0\nbitrate=2476.3kbits/s\ntotal_size=1548207\nout_time_us=5002000\nout_time_ms=5002000\nout_time=00:00:05.002000\ndup_frames=3\ndrop_frames=0\nspeed=1.01x\nprogress=continue\n",
			report{Frames: 125, TotalSize: 1548207, OutTime: 5002 * time.Millisecond, Speed: 1.01, Bitrate: 2476.3}},
		{"hls, the end", "frame=10\nbitrate=N/A\ntotal_size=N/A\nout_time_us=N/A\nspeed=N/A\nprogress=end\n",
			report{Frames: 10, TotalSize: -1, OutTime: -1, Speed: -1, Bitrate: -1, End: true}},
		{"garbage", "frame=x\nnot a field\n=\nspeed= 0.5x\nprogress=continue\n",
			report{Frames: -1, TotalSize: -1, OutTime: -1, Speed: 0.5, Bitrate: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r report
			r.reset()
			lines := strings.Split(strings.TrimSuffix(tt.lines, "\n"), "\n")
			for i, l := range lines {
				if end := r.line([]byte(l)); end != (i == len(lines)-1) {
					t.Fatalf("line %q: end %v", l, end)
				}
			}
			if r != tt.want {
				t.Errorf("report %+v, want %+v", r, tt.want)
			}
		})
	}
}

func TestMeter(t *testing.T) {
	type sample struct {
		size int64
		out  time.Duration
		kbps float64
		ok   bool
	}
	tests := []struct {
		name    string
		samples []sample
	}{
		{"steady", []sample{{0, 0, 0, false}, {312500, time.Second, 2500, true}, {625000, 2 * time.Second, 2500, true}}},
		{"stalled", []sample{{1000, time.Second, 0, false}, {1000, time.Second, 0, true}}},
		{"n/a", []sample{{-1, -1, 0, false}, {1000, time.Second, 0, false}, {2000, 2 * time.Second, 8, true}}},
		{"clock back", []sample{{1000, 2 * time.Second, 0, false}, {2000, time.Second, 0, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m meter
			for i, s := range tt.samples {
				kbps, ok := m.kbps(s.size, s.out)
				if kbps != s.kbps || ok != s.ok {
					t.Errorf("sample %d: %v %v, want %v %v", i, kbps, ok, s.kbps, s.ok)
				}
			}
		})
	}
}

func TestPlaylistKbps(t *testing.T) {
	dir := t.TempDir()
	if _, err := playlistKbps(dir); err == nil {
		t.Error("no playlist: no error")
	}
	write := func(name string, size int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("seg1.ts", 500000)
	write("seg2.ts", 250000)
	write(HLSPlaylist, 0)
	if err := os.WriteFile(filepath.Join(dir, HLSPlaylist), []byte(
		"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n"+
			"#EXTINF:2.000000,\nseg1.ts\n#EXTINF:1.000000,\nseg2.ts\n#EXTINF:2.000000,\nseg3.ts\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// seg3.ts is gone (deleted while the playlist was read): not counted.
	got, err := playlistKbps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(750000*8) / 3 / 1000; got != want {
		t.Errorf("playlistKbps = %v, want %v", got, want)
	}
}

func TestFreePorts(t *testing.T) {
	for _, n := range []int{0, 1, 4} {
		ports, err := FreePorts(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ports) != n {
			t.Fatalf("FreePorts(%d) gave %v", n, ports)
		}
		in := Input{VideoCodec: "vp8", AudioPT: 1}
		if n > 0 {
			in.VideoPort, in.AudioPorts = ports[0], ports[1:]
			if err := validate(in, Target{HLSDir: "x"}); err != nil {
				t.Errorf("FreePorts(%d) = %v: %v", n, ports, err)
			}
		}
		for _, p := range ports {
			for _, q := range []int{p, p + 1} {
				c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(q))
				if err != nil {
					t.Errorf("port %d of %v: %v", q, ports, err)
					continue
				}
				c.Close()
			}
		}
	}
	if _, err := FreePorts(-1); err == nil {
		t.Error("FreePorts(-1): no error")
	}
}

func TestSetCaption(t *testing.T) {
	r := &Runner{caption: filepath.Join(t.TempDir(), captionName)}
	for _, tt := range []struct{ text, want string }{
		{"Đại biểu Nguyễn Văn A", "Đại biểu Nguyễn Văn A"},
		{"", " "},
		{"100% {x}\n", "100% {x}"},
	} {
		if err := r.SetCaption(tt.text); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(r.caption)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("SetCaption(%q) wrote %q, want %q", tt.text, b, tt.want)
		}
	}
	if _, err := os.Stat(r.caption + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
}

func BenchmarkReport(b *testing.B) {
	lines := [][]byte{
		[]byte("frame=125"), []byte("fps=25.00"), []byte("bitrate=2476.3kbits/s"), []byte("total_size=1548207"),
		[]byte("out_time_us=5002000"), []byte("out_time=00:00:05.002000"), []byte("speed=1.01x"), []byte("progress=continue"),
	}
	var (
		r report
		m meter
	)
	b.ReportAllocs()
	for i := range b.N {
		r.reset()
		for _, l := range lines {
			r.line(l)
		}
		m.kbps(r.TotalSize*int64(i+1), r.OutTime*time.Duration(i+1))
	}
}
