package compose

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// readProgress reads ffmpeg's `-progress` output from r to its end and
// calls report at the end of each block (the line "progress=..."), with
// Done never decreasing and never beyond total.
func readProgress(r io.Reader, total time.Duration, report func(Progress)) {
	var p progressParser
	p.cur.Total = total
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if p.line(sc.Text()) {
			report(p.cur)
		}
	}
	io.Copy(io.Discard, r)
}

// progressParser holds the block of `-progress` lines being read.
type progressParser struct {
	cur Progress
}

// line takes one line of ffmpeg's `-progress` output and reports whether it
// ends a block.
func (p *progressParser) line(s string) bool {
	key, val, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return false
	}
	switch key {
	case "out_time_us", "out_time_ms": // both are microseconds in ffmpeg 5
		us, err := strconv.ParseInt(val, 10, 64)
		if err != nil || us < 0 {
			return false
		}
		d := time.Duration(us) * time.Microsecond
		if d > p.cur.Total {
			d = p.cur.Total
		}
		if d > p.cur.Done {
			p.cur.Done = d
		}
	case "speed":
		f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), "x"), 64)
		if err == nil && f >= 0 {
			p.cur.Speed = f
		}
	case "progress":
		return true
	}
	return false
}
