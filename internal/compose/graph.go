package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The program's fixed figures.
const (
	defaultWidth  = 1280
	defaultHeight = 720
	frameRate     = 25
	sampleRate    = 48000

	// preroll is how much of a video is decoded before a shot showing it
	// begins, so that the picture on screen at the shot's first frame is
	// there (a recording's frames are not on the program's 25 fps grid).
	preroll = time.Second
	// tailroom is how much of a video is decoded after a shot's end.
	tailroom = 500 * time.Millisecond
	// mergeGap is the longest stretch between two shots of the same video
	// in the same place that is decoded through rather than opened anew.
	mergeGap = 3 * time.Second
)

func (p Plan) withDefaults() Plan {
	if p.Width == 0 && p.Height == 0 {
		p.Width, p.Height = defaultWidth, defaultHeight
	}
	if p.Location == nil {
		p.Location = time.Local
	}
	if p.Threads == 0 {
		p.Threads = 2
	}
	return p
}

// validate reports the first thing wrong with p, which has its defaults.
func (p Plan) validate() error {
	if p.Duration <= 0 {
		return fmt.Errorf("compose: plan duration %v is not positive", p.Duration)
	}
	if p.Width < 16 || p.Height < 16 || p.Width%2 != 0 || p.Height%2 != 0 {
		return fmt.Errorf("compose: frame size %dx%d: want even sides of 16 or more", p.Width, p.Height)
	}
	if p.Threads < 0 {
		return fmt.Errorf("compose: %d threads", p.Threads)
	}
	for i, in := range p.Inputs {
		if in.File == "" {
			return fmt.Errorf("compose: input %d has no file", i)
		}
	}
	video := func(i int, what string, s int) error {
		switch {
		case i == -1:
			return nil
		case i < 0 || i >= len(p.Inputs):
			return fmt.Errorf("compose: shot %d: %s %d is not an input", s, what, i)
		case p.Inputs[i].Audio:
			return fmt.Errorf("compose: shot %d: %s %d is an audio input", s, what, i)
		}
		return nil
	}
	var end time.Duration
	for i, s := range p.Shots {
		if s.From < end || s.To <= s.From || s.To > p.Duration {
			return fmt.Errorf("compose: shot %d (%v to %v) is empty, out of order or beyond the program's %v", i, s.From, s.To, p.Duration)
		}
		end = s.To
		if err := video(s.Main, "main", i); err != nil {
			return err
		}
		if err := video(s.Inset, "inset", i); err != nil {
			return err
		}
	}
	seen := make(map[int]bool, len(p.Audio))
	for _, a := range p.Audio {
		switch {
		case a < 0 || a >= len(p.Inputs):
			return fmt.Errorf("compose: audio %d is not an input", a)
		case !p.Inputs[a].Audio:
			return fmt.Errorf("compose: audio %d is a video input", a)
		case seen[a]:
			return fmt.Errorf("compose: audio %d is mixed twice", a)
		}
		seen[a] = true
	}
	return nil
}

// window is a stretch of the program, From included and To not.
type window struct{ from, to time.Duration }

// opening is one reading of a video input, from the picture on screen at
// its first window's start to its last window's end, shown full frame or as
// the inset during its windows.
type opening struct {
	input   int
	inset   bool
	windows []window
}

// openings lists the readings of the video inputs that p's shots need:
// the main pictures first, then the insets, each in the order of their
// first shot. A window before its file's time zero shows nothing and is
// left out.
func openings(p Plan) []opening {
	var out []opening
	last := make(map[[2]int]int) // (input, inset) → index in out of its latest opening
	for _, inset := range []bool{false, true} {
		for _, s := range p.Shots {
			i := s.Main
			if inset {
				i = s.Inset
			}
			if i < 0 || s.To <= p.Inputs[i].Offset {
				continue
			}
			w := window{s.From, s.To}
			k := [2]int{i, boolInt(inset)}
			if j, ok := last[k]; ok {
				o := &out[j]
				if w.from-o.windows[len(o.windows)-1].to <= mergeGap {
					o.windows = append(o.windows, w)
					continue
				}
			}
			last[k] = len(out)
			out = append(out, opening{input: i, inset: inset, windows: []window{w}})
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// span is where o starts reading its file (file time, for -ss), where that
// point sits on the program timeline, and how much of the file it reads.
func (o opening) span(in Input) (seek, at, length time.Duration) {
	from, to := o.windows[0].from, o.windows[len(o.windows)-1].to
	seek = max(0, from-preroll-in.Offset)
	at = seek + in.Offset
	return seek, at, to + tailroom - at
}

// enable is the timeline expression true during ws.
func enable(ws []window) string {
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteByte('+')
		}
		fmt.Fprintf(&b, "gte(t,%s)*lt(t,%s)", sec(w.from), sec(w.to))
	}
	return "'" + b.String() + "'"
}

// sec formats d in seconds for ffmpeg.
func sec(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
}

// filterValue escapes s to be an option's value in a filter graph: once for
// the filter's option list, once for the graph.
func filterValue(s string) string {
	esc := func(s, special string) string {
		var b strings.Builder
		for _, r := range s {
			if strings.ContainsRune(special, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return esc(esc(s, `\':`), `\'[],;`)
}

// clockText is the drawtext text showing the time of day of the program's
// frame: the frame's time plus the wallclock of timeline zero, in loc's
// offset at start. A zero start shows the program's own time from 00:00:00.
func clockText(start time.Time, loc *time.Location) string {
	var epoch string
	if !start.IsZero() {
		t := start.In(loc)
		_, off := t.Zone()
		ms := t.UnixMilli() + int64(off)*1000
		epoch = fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
	} else {
		epoch = "0"
	}
	return `%{pts:gmtime:` + epoch + `:%H\:%M\:%S}`
}

// layout is where the pictures and texts go on a frame of w by h.
type layout struct {
	insetW, insetH, margin     int
	captionSize, clockSize     int
	captionBorder, clockBorder int
}

func newLayout(w, h int) layout {
	even := func(v int) int { return max(2, v&^1) }
	return layout{
		insetW:        even(w * 3 / 10),
		insetH:        even(h * 3 / 10),
		margin:        max(4, h/36),
		captionSize:   max(10, h/24),
		clockSize:     max(8, h/32),
		captionBorder: max(2, h/72),
		clockBorder:   max(2, h/90),
	}
}

// buildArgs writes the filter graph and the texts of p into dir and returns
// ffmpeg's arguments to compose p into part with font.
//
// pieces holds, for an audio input, where the pieces of its file start
// (see oggPieces); an input without is one piece.
func buildArgs(p Plan, font, dir, part string, pieces map[int][]time.Duration) ([]string, error) {
	l := newLayout(p.Width, p.Height)
	ops := openings(p)
	// ffmpeg closes up a jump of more than -dts_delta_threshold seconds
	// (10 by default) in the timestamps of a format that may have
	// discontinuities, such as Ogg: in a recording such a jump is a gap
	// and must stay.
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
		"-progress", "pipe:1", "-filter_complex_threads", strconv.Itoa(p.Threads),
		"-dts_delta_threshold", "1e9"}

	var g strings.Builder // the filter graph, one chain a line
	fmt.Fprintf(&g, "color=c=black:s=%dx%d:r=%d:d=%s,format=yuv420p[v0];\n", p.Width, p.Height, frameRate, sec(p.Duration))
	v := 0 // the latest video label, [vN]
	for j, o := range ops {
		in := p.Inputs[o.input]
		seek, at, length := o.span(in)
		args = append(args, "-threads", "1", "-seek_timestamp", "1", "-ss", sec(seek), "-t", sec(length), "-i", "file:"+in.File)
		w, h, x, y := p.Width, p.Height, "0", "0"
		if o.inset {
			w, h = l.insetW, l.insetH
			x, y = strconv.Itoa(p.Width-w-l.margin), strconv.Itoa(p.Height-h-l.margin)
		}
		fmt.Fprintf(&g, "[%d:v:0]setpts=PTS+(%s)/TB,scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1[s%d];\n",
			j, sec(at), w, h, w, h, j)
		fmt.Fprintf(&g, "[v%d][s%d]overlay=x=%s:y=%s:eof_action=pass:enable=%s[v%d];\n", v, j, x, y, enable(o.windows), v+1)
		v++
	}

	fontArg := filterValue(font)
	captions := map[string]int{} // text → index in order
	var order []string
	var when [][]window
	for _, s := range p.Shots {
		c := strings.TrimSpace(s.Caption)
		if c == "" {
			continue
		}
		k, ok := captions[c]
		if !ok {
			k = len(order)
			captions[c] = k
			order = append(order, c)
			when = append(when, nil)
		}
		when[k] = append(when[k], window{s.From, s.To})
	}
	for k, c := range order {
		file := filepath.Join(dir, fmt.Sprintf("caption-%d.txt", k))
		if err := os.WriteFile(file, []byte(c), 0o600); err != nil {
			return nil, fmt.Errorf("compose: writing a caption: %w", err)
		}
		fmt.Fprintf(&g, "[v%d]drawtext=fontfile=%s:textfile=%s:expansion=none:fontsize=%d:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=%d:x=%d:y=h-th-%d:enable=%s[v%d];\n",
			v, fontArg, filterValue(file), l.captionSize, l.captionBorder, l.margin+l.captionBorder, l.margin+l.captionBorder, enable(when[k]), v+1)
		v++
	}
	clock := filepath.Join(dir, "clock.txt")
	if err := os.WriteFile(clock, []byte(clockText(p.Start, p.Location)), 0o600); err != nil {
		return nil, fmt.Errorf("compose: writing the clock: %w", err)
	}
	fmt.Fprintf(&g, "[v%d]drawtext=fontfile=%s:textfile=%s:fontsize=%d:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=%d:x=w-tw-%d:y=%d[vout];\n",
		v, fontArg, filterValue(clock), l.clockSize, l.clockBorder, l.margin+l.clockBorder, l.margin+l.clockBorder)

	// Audio: a silence as long as the program, and each input placed on
	// the timeline with its gaps filled, summed without scaling.
	fmt.Fprintf(&g, "anullsrc=r=%d:cl=stereo:d=%s[a0]", sampleRate, sec(p.Duration))
	mixed := 1
	for _, a := range p.Audio {
		in := p.Inputs[a]
		if in.Offset >= p.Duration {
			continue
		}
		seek, bounds := audioPieces(in, pieces[a], p.Duration)
		args = append(args, "-threads", "1", "-seek_timestamp", "1", "-ss", sec(seek), "-i", "file:"+in.File)
		writeAudio(&g, len(ops)+mixed-1, mixed, seek+in.Offset, bounds)
		mixed++
	}
	g.WriteString(";\n")
	for i := range mixed {
		fmt.Fprintf(&g, "[a%d]", i)
	}
	fmt.Fprintf(&g, "amix=inputs=%d:normalize=0:duration=first[aout]\n", mixed)

	script := filepath.Join(dir, "graph.txt")
	if err := os.WriteFile(script, []byte(g.String()), 0o600); err != nil {
		return nil, fmt.Errorf("compose: writing the filter graph: %w", err)
	}
	args = append(args,
		"-filter_complex_script", script,
		"-map", "[vout]", "-map", "[aout]",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
		"-r", strconv.Itoa(frameRate), "-threads", strconv.Itoa(p.Threads),
		"-c:a", "aac", "-b:a", "128k", "-ar", strconv.Itoa(sampleRate),
		"-t", sec(p.Duration), "-movflags", "+faststart", "-f", "mp4", "-y", "file:"+part)
	return args, nil
}

// audioPieces returns where to start reading in's file (its time) and,
// relative to that, where the second and later pieces of those starting at
// starts begin, leaving out the pieces before the program's start and
// after its end d.
func audioPieces(in Input, starts []time.Duration, d time.Duration) (seek time.Duration, bounds []time.Duration) {
	seek = max(0, -in.Offset)
	for len(starts) > 1 && starts[1] <= seek {
		starts = starts[1:]
	}
	if len(starts) > 0 {
		seek = max(seek, starts[0])
		starts = starts[1:]
	}
	for _, s := range starts {
		if s+in.Offset >= d {
			break
		}
		bounds = append(bounds, s-seek)
	}
	return seek, bounds
}

// writeAudio writes to g the chain of ffmpeg input k, an audio file read
// from a point placed at delay on the timeline, labelled [aN]: each piece
// (cut at bounds) with the gaps inside it and before its first packet
// filled by aresample, the pieces but the last padded with silence to
// their length and joined, the whole delayed to its place.
func writeAudio(g *strings.Builder, k, n int, delay time.Duration, bounds []time.Duration) {
	format := fmt.Sprintf("aresample=%d:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo", sampleRate, sampleRate)
	samples := func(d time.Duration) int64 { return (int64(d)*sampleRate + int64(time.Second)/2) / int64(time.Second) }
	fmt.Fprintf(g, ";\n[%d:a:0]", k)
	if len(bounds) == 0 {
		g.WriteString(format)
	} else {
		g.WriteString("asegment=timestamps=")
		for i, b := range bounds {
			if i > 0 {
				g.WriteByte('|')
			}
			g.WriteString(sec(b))
		}
		for i := range len(bounds) + 1 {
			fmt.Fprintf(g, "[a%dp%d]", n, i)
		}
		var from time.Duration
		for i := range len(bounds) + 1 {
			fmt.Fprintf(g, ";\n[a%dp%d]", n, i)
			if i > 0 {
				fmt.Fprintf(g, "asetpts=PTS-(%s)/TB,", sec(from))
			}
			g.WriteString(format)
			if i < len(bounds) {
				length := samples(bounds[i]) - samples(from)
				fmt.Fprintf(g, ",apad=whole_len=%d,atrim=end_sample=%d", length, length)
				from = bounds[i]
			}
			fmt.Fprintf(g, "[a%dq%d]", n, i)
		}
		g.WriteString(";\n")
		for i := range len(bounds) + 1 {
			fmt.Fprintf(g, "[a%dq%d]", n, i)
		}
		fmt.Fprintf(g, "concat=n=%d:v=0:a=1", len(bounds)+1)
	}
	if s := samples(delay); s > 0 {
		fmt.Fprintf(g, ",adelay=delays=%dS:all=1", s)
	}
	fmt.Fprintf(g, "[a%d]", n)
}
