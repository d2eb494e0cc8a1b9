package live

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// report is one block of ffmpeg's -progress output: key=value lines
// ending with a "progress=continue" or "progress=end" line. A field
// ffmpeg gives as N/A is -1.
type report struct {
	Frames    int64
	TotalSize int64         // bytes written to the output so far
	OutTime   time.Duration // the output's clock
	Speed     float64       // output time over wall time; 1 is real time
	Bitrate   float64       // ffmpeg's average over the whole run, kbit/s
	End       bool          // the last report: ffmpeg is finishing
}

// reset makes r an empty report, every field N/A.
func (r *report) reset() {
	*r = report{Frames: -1, TotalSize: -1, OutTime: -1, Speed: -1, Bitrate: -1}
}

// line reads one line of the output into r and reports whether it ends
// the block. Unknown keys and malformed values are ignored.
func (r *report) line(b []byte) bool {
	k, v, ok := bytes.Cut(bytes.TrimSpace(b), []byte("="))
	if !ok {
		return false
	}
	switch string(k) {
	case "frame":
		r.Frames = parseInt(v)
	case "total_size":
		r.TotalSize = parseInt(v)
	case "out_time_us":
		if us := parseInt(v); us >= 0 {
			r.OutTime = time.Duration(us) * time.Microsecond
		}
	case "speed":
		r.Speed = parseFloat(bytes.TrimSuffix(v, []byte("x")))
	case "bitrate":
		r.Bitrate = parseFloat(bytes.TrimSuffix(v, []byte("kbits/s")))
	case "progress":
		r.End = string(v) == "end"
		return true
	}
	return false
}

func parseInt(b []byte) int64 {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func parseFloat(b []byte) float64 {
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err != nil || f < 0 {
		return -1
	}
	return f
}

// meter turns the running totals of successive reports into the bitrate
// of the last interval: what the output carries now, where ffmpeg's own
// figure is the average since the start.
type meter struct {
	size int64
	out  time.Duration
	have bool
}

// kbps returns the bitrate between the previous sample and this one, and
// false when there is no previous sample or the output clock went back.
// An output clock that stood still gives 0: nothing went out.
func (m *meter) kbps(size int64, out time.Duration) (float64, bool) {
	if size < 0 || out < 0 {
		return 0, false
	}
	prevSize, prevOut, had := m.size, m.out, m.have
	m.size, m.out, m.have = size, out, true
	switch {
	case !had || out < prevOut || size < prevSize:
		return 0, false
	case out == prevOut:
		return 0, true
	}
	return float64(size-prevSize) * 8 / (out - prevOut).Seconds() / 1000, true
}

// playlistKbps is the bitrate of the segments an HLS playlist lists: their
// bytes over their stated durations. The HLS muxer writes no single
// output, so ffmpeg's progress has no size for it.
func playlistKbps(dir string) (float64, error) {
	f, err := os.Open(filepath.Join(dir, HLSPlaylist))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var (
		secs float64
		size int64
		dur  = -1.0
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#EXTINF:"):
			d := line[8:]
			if i := strings.IndexByte(d, ','); i >= 0 {
				d = d[:i]
			}
			dur, err = strconv.ParseFloat(d, 64)
			if err != nil {
				dur = -1
			}
		case line == "" || line[0] == '#':
		case dur >= 0:
			st, err := os.Stat(filepath.Join(dir, filepath.Base(line)))
			if err == nil {
				secs += dur
				size += st.Size()
			}
			dur = -1
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if secs <= 0 {
		return 0, nil
	}
	return float64(size) * 8 / secs / 1000, nil
}
