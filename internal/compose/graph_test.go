package compose

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	s := time.Second
	ok := func() Plan {
		return Plan{
			Duration: 10 * s,
			Inputs:   []Input{{File: "v.webm"}, {File: "a.ogg", Audio: true}},
			Shots:    []Shot{{From: 0, To: 5 * s, Main: 0, Inset: -1}, {From: 5 * s, To: 10 * s, Main: -1, Inset: 0}},
			Audio:    []int{1},
		}
	}
	tests := []struct {
		name   string
		change func(*Plan)
		want   string // "" for valid
	}{
		{"valid", func(*Plan) {}, ""},
		{"no shots nor audio", func(p *Plan) { p.Shots, p.Audio = nil, nil }, ""},
		{"zero duration", func(p *Plan) { p.Duration = 0; p.Shots = nil }, "duration"},
		{"odd width", func(p *Plan) { p.Width, p.Height = 641, 360 }, "frame size"},
		{"width without height", func(p *Plan) { p.Width = 640 }, "frame size"},
		{"negative threads", func(p *Plan) { p.Threads = -1 }, "threads"},
		{"no file", func(p *Plan) { p.Inputs[0].File = "" }, "no file"},
		{"overlap", func(p *Plan) { p.Shots[1].From = 4 * s }, "shot 1"},
		{"empty shot", func(p *Plan) { p.Shots[0].To = 0 }, "shot 0"},
		{"beyond the end", func(p *Plan) { p.Shots[1].To = 11 * s }, "shot 1"},
		{"main is audio", func(p *Plan) { p.Shots[0].Main = 1 }, "main 1 is an audio input"},
		{"inset out of range", func(p *Plan) { p.Shots[1].Inset = 2 }, "inset 2 is not an input"},
		{"main below -1", func(p *Plan) { p.Shots[0].Main = -2 }, "main -2"},
		{"audio is video", func(p *Plan) { p.Audio = []int{0} }, "audio 0 is a video input"},
		{"audio twice", func(p *Plan) { p.Audio = []int{1, 1} }, "twice"},
		{"audio out of range", func(p *Plan) { p.Audio = []int{5} }, "audio 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok()
			tt.change(&p)
			err := p.withDefaults().validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestOpenings(t *testing.T) {
	s := time.Second
	inputs := []Input{{File: "hall"}, {File: "point", Offset: 20 * s}, {File: "content", Offset: -5 * s}}
	tests := []struct {
		name  string
		shots []Shot
		want  []opening
	}{
		{
			name:  "one shot",
			shots: []Shot{{From: 0, To: 10 * s, Main: 0, Inset: -1}},
			want:  []opening{{input: 0, windows: []window{{0, 10 * s}}}},
		},
		{
			name: "the hall between two turns: opened twice, far apart",
			shots: []Shot{
				{From: 0, To: 10 * s, Main: 0, Inset: -1},
				{From: 20 * s, To: 30 * s, Main: 1, Inset: -1},
				{From: 30 * s, To: 40 * s, Main: 0, Inset: -1},
			},
			want: []opening{
				{input: 0, windows: []window{{0, 10 * s}}},
				{input: 1, windows: []window{{20 * s, 30 * s}}},
				{input: 0, windows: []window{{30 * s, 40 * s}}},
			},
		},
		{
			name: "a short cut away: read through",
			shots: []Shot{
				{From: 0, To: 10 * s, Main: 0, Inset: -1},
				{From: 10 * s, To: 12 * s, Main: 2, Inset: 0},
				{From: 12 * s, To: 20 * s, Main: 0, Inset: -1},
			},
			want: []opening{
				{input: 0, windows: []window{{0, 10 * s}, {12 * s, 20 * s}}},
				{input: 2, windows: []window{{10 * s, 12 * s}}},
				{input: 0, inset: true, windows: []window{{10 * s, 12 * s}}},
			},
		},
		{
			name:  "before the file starts: nothing to read",
			shots: []Shot{{From: 0, To: 20 * s, Main: 1, Inset: -1}, {From: 20 * s, To: 25 * s, Main: -1, Inset: -1}},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := openings(Plan{Inputs: inputs, Shots: tt.shots})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("openings\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSpan(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	tests := []struct {
		name             string
		offset           time.Duration
		windows          []window
		seek, at, length time.Duration
	}{
		{"from the start", 0, []window{{0, 5 * s}}, 0, 0, 5*s + tailroom},
		{"preroll", 0, []window{{10 * s, 15 * s}}, 9 * s, 9 * s, 6*s + tailroom},
		{"file starts later", 8 * s, []window{{10 * s, 15 * s}}, 1 * s, 9 * s, 6*s + tailroom},
		{"file starts within the preroll", 9500 * ms, []window{{10 * s, 15 * s}}, 0, 9500 * ms, 5500*ms + tailroom},
		{"file started before: cut", -30 * s, []window{{0, 5 * s}}, 29 * s, -s, 6*s + tailroom},
		{"several windows", 0, []window{{2 * s, 3 * s}, {5 * s, 6 * s}}, s, s, 5*s + tailroom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seek, at, length := opening{windows: tt.windows}.span(Input{Offset: tt.offset})
			if seek != tt.seek || at != tt.at || length != tt.length {
				t.Errorf("span = %v, %v, %v; want %v, %v, %v", seek, at, length, tt.seek, tt.at, tt.length)
			}
		})
	}
}

func TestClockText(t *testing.T) {
	hanoi := time.FixedZone("ICT", 7*3600)
	tests := []struct {
		start time.Time
		loc   *time.Location
		want  string
	}{
		// 01:30:00.250 UTC is 08:30:00.250 in Hà Nội; gmtime of the epoch
		// plus the zone's offset shows the local time of day.
		{time.Date(2025, 3, 14, 1, 30, 0, 250e6, time.UTC), hanoi, `%{pts:gmtime:1741941000.250:%H\:%M\:%S}`},
		{time.Date(2025, 3, 14, 1, 30, 0, 0, time.UTC), time.UTC, `%{pts:gmtime:1741915800.000:%H\:%M\:%S}`},
		{time.Time{}, hanoi, `%{pts:gmtime:0:%H\:%M\:%S}`},
	}
	for _, tt := range tests {
		if got := clockText(tt.start, tt.loc); got != tt.want {
			t.Errorf("clockText(%v, %v) = %s, want %s", tt.start, tt.loc, got, tt.want)
		}
	}
}

func TestFilterValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/tmp/a/font.ttf", "/tmp/a/font.ttf"},
		{`C:\fonts`, `C\\:\\\\fonts`},
		{"it's", `it\\\'s`},
		{"a,b;[c]", `a\,b\;\[c\]`},
	}
	for _, tt := range tests {
		if got := filterValue(tt.in); got != tt.want {
			t.Errorf("filterValue(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestBuildArgs(t *testing.T) {
	dir := t.TempDir()
	s := time.Second
	p := Plan{
		Duration: 20 * s,
		Inputs: []Input{
			{File: "/rec/hall.mkv"}, {File: "/rec/point.webm", Offset: 5 * s},
			{File: "/rec/hall.ogg", Offset: -2 * s, Audio: true}, {File: "/rec/point.ogg", Offset: 5 * s, Audio: true},
			{File: "/rec/late.ogg", Offset: 30 * s, Audio: true},
		},
		Shots: []Shot{
			{From: 0, To: 10 * s, Main: 0, Inset: -1},
			{From: 10 * s, To: 15 * s, Main: 1, Inset: -1, Caption: "Đ/c Trần Thị Bình"},
			{From: 15 * s, To: 20 * s, Main: 1, Inset: 0, Caption: "Đ/c Trần Thị Bình"},
		},
		Audio: []int{2, 3, 4},
	}.withDefaults()
	args, err := buildArgs(p, "/f/font.ttf", dir, "/out/x.mp4.part", map[int][]time.Duration{2: {0, 10 * s}, 3: {0, 100 * s}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(args, " ")
	for _, want := range []string{
		"-ss 0.000000 -t 10.500000 -i file:/rec/hall.mkv",
		"-ss 4.000000 -t 11.500000 -i file:/rec/point.webm",
		"-ss 14.000000 -t 6.500000 -i file:/rec/hall.mkv",
		"-ss 2.000000 -i file:/rec/hall.ogg",
		"-ss 0.000000 -i file:/rec/point.ogg",
		"-c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p",
		"-c:a aac -b:a 128k",
		"-t 20.000000 -movflags +faststart -f mp4 -y file:/out/x.mp4.part",
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("the command lacks %q:\n%s", want, cmd)
		}
	}
	if strings.Contains(cmd, "late.ogg") {
		t.Errorf("an audio input after the program's end is read:\n%s", cmd)
	}
	graph, err := os.ReadFile(filepath.Join(dir, "graph.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"color=c=black:s=1280x720:r=25:d=20.000000",
		"[1:v:0]setpts=PTS+(9.000000)/TB,scale=1280:720",
		"[2:v:0]setpts=PTS+(14.000000)/TB,scale=384:216",
		"inset overlay",
		"enable='gte(t,10.000000)*lt(t,15.000000)+gte(t,15.000000)*lt(t,20.000000)'",
		// hall.ogg, read from 2 s, has a piece from 10 s (8 s on): the
		// first piece is padded to its 8 s.
		"[3:a:0]asegment=timestamps=8.000000[a1p0][a1p1]",
		"[a1p0]aresample=48000:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,apad=whole_len=384000,atrim=end_sample=384000[a1q0]",
		"[a1p1]asetpts=PTS-(8.000000)/TB,aresample=48000:async=1:first_pts=0",
		"[a1q0][a1q1]concat=n=2:v=0:a=1[a1]",
		// point.ogg's second piece starts after the program's end.
		"[4:a:0]aresample=48000:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo,adelay=delays=240000S:all=1[a2]",
		"[a0][a1][a2]amix=inputs=3:normalize=0:duration=first[aout]",
	} {
		if want == "inset overlay" {
			l := newLayout(1280, 720)
			want = "overlay=x=" + strconv.Itoa(1280-l.insetW-l.margin) + ":y=" + strconv.Itoa(720-l.insetH-l.margin) + ":eof_action=pass"
		}
		if !strings.Contains(string(graph), want) {
			t.Errorf("the graph lacks %q:\n%s", want, graph)
		}
	}
	if n := strings.Count(string(graph), "textfile="); n != 2 {
		t.Errorf("%d drawtext filters, want 2 (one caption shown twice, the clock):\n%s", n, graph)
	}
	caption, err := os.ReadFile(filepath.Join(dir, "caption-0.txt"))
	if err != nil || string(caption) != "Đ/c Trần Thị Bình" {
		t.Errorf("caption file: %q, %v", caption, err)
	}
}

func TestProgressParser(t *testing.T) {
	block := func(us, speed string) string {
		return "frame=10\nfps=25.0\nout_time_us=" + us + "\nout_time_ms=" + us + "\nout_time=00:00:01.000000\nspeed=" + speed + "\nprogress=continue\n"
	}
	tests := []struct {
		name  string
		input string
		want  []Progress
	}{
		{"two blocks", block("500000", "1.5x") + block("1000000", "2x"),
			[]Progress{{Done: 500 * time.Millisecond, Total: 10 * time.Second, Speed: 1.5}, {Done: time.Second, Total: 10 * time.Second, Speed: 2}}},
		{"not yet known", block("N/A", "N/A"), []Progress{{Total: 10 * time.Second}}},
		{"never back", block("2000000", "1x") + block("1000000", "1x"),
			[]Progress{{Done: 2 * time.Second, Total: 10 * time.Second, Speed: 1}, {Done: 2 * time.Second, Total: 10 * time.Second, Speed: 1}}},
		{"never beyond the total", block("12000000", "3x"), []Progress{{Done: 10 * time.Second, Total: 10 * time.Second, Speed: 3}}},
		{"an unfinished block", "out_time_us=1000\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Progress
			readProgress(strings.NewReader(tt.input), 10*time.Second, func(p Progress) { got = append(got, p) })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func BenchmarkProgressLine(b *testing.B) {
	lines := []string{"frame=1234", "out_time_us=49360000", "out_time_ms=49360000", "speed=1.85x", "progress=continue"}
	var p progressParser
	p.cur.Total = time.Hour
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			p.line(l)
		}
	}
}

func TestLastLines(t *testing.T) {
	in := "a\n\nb\nc\nd\n" + strings.Repeat("x", 2<<20) + "\nlast\n"
	got := lastLines(strings.NewReader(in), 2)
	if want := []string{"c", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q (a line too long ends the reading)", got, want)
	}
	if got := lastLines(strings.NewReader("one\ntwo\nthree"), 5); !reflect.DeepEqual(got, []string{"one", "two", "three"}) {
		t.Errorf("got %q", got)
	}
}
