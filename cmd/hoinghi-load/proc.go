package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Server process figures (-server-pid), read from /proc the same way for any
// server, so that hoinghi and another server are measured alike: CPU time
// from /proc/PID/stat and resident memory from /proc/PID/status.

// clockTicks is the unit of utime and stime in /proc/PID/stat, USER_HZ
// (getconf CLK_TCK). Linux fixes it at 100 for what it exports to user space
// on every architecture it runs on, whatever the kernel's own tick rate, and
// Go cannot ask sysconf without cgo.
const clockTicks = 100

// procSample is what a process had used at a moment.
type procSample struct {
	ok  bool          // the sample was read
	cpu time.Duration // user and system CPU time
	rss uint64        // resident set size, bytes
}

// procSamples are the server process's samples: before the subscribers (or
// points) joined, at the start of the window and at its end.
type procSamples struct {
	pid              int
	base, start, end procSample
	err              error // the first read error
}

// sample reads the process into s, unless no pid was given; a failure is
// kept in p (the first one) and leaves s unread.
func (p *procSamples) sample(s *procSample) {
	if p.pid <= 0 {
		return
	}
	v, err := readProc(p.pid)
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return
	}
	*s = v
}

// readProc reads the CPU time and resident memory of process pid.
func readProc(pid int) (procSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, fmt.Errorf("server process: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procSample{}, fmt.Errorf("server process /proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}, fmt.Errorf("server process: %w", err)
	}
	rss, err := parseStatusRSS(status)
	if err != nil {
		return procSample{}, fmt.Errorf("server process /proc/%d/status: %w", pid, err)
	}
	return procSample{ok: true, cpu: cpu, rss: rss}, nil
}

// parseStatCPU returns utime+stime from the contents of /proc/PID/stat
// (proc(5)): fields 14 and 15, in clock ticks. The command name, field 2,
// is in parentheses and may hold spaces and parentheses itself, so the
// fields are counted from the last closing parenthesis.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("%d fields after the command name, want at least %d", len(f), stime+1)
	}
	var ticks uint64
	for _, k := range []int{utime, stime} {
		v, err := strconv.ParseUint(string(f[k]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %d: %w", k+3, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parseStatusRSS returns VmRSS from the contents of /proc/PID/status, in
// bytes.
func parseStatusRSS(b []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("VmRSS: unexpected %q", rest)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS: %w", err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
}

// procFigs are the server process's figures over the window, with the
// forwarded packets counted by the subscribers (every packet some
// subscriber received from the publisher), so that they compare across
// servers whatever each counts itself.
type procFigs struct {
	PID               int     `json:"pid"`
	CPUWindowS        float64 `json:"cpu_window_s"`
	RSSBase           float64 `json:"rss_before_subscribers_bytes"`
	RSSEnd            float64 `json:"rss_end_bytes"`
	RSSPerSubscriber  float64 `json:"rss_per_subscriber_bytes"`
	Subscribers       int     `json:"subscribers"`
	Forwarded         uint64  `json:"forwarded_packets"` // received by all subscribers in the window
	ForwardedPerS     float64 `json:"forwarded_packets_per_s"`
	Lost              uint64  `json:"lost_packets"`
	LossPercent       float64 `json:"loss_percent"`
	CPUPerForwardedUS float64 `json:"cpu_per_forwarded_packet_us"`
	CPUCorePercent    float64 `json:"cpu_core_percent"` // of one core over the window
}

// procFigures computes the process figures of r, or nil without a complete
// set of samples. subscribers is how many receivers stayed connected;
// forwarded and lost are their packets over a window of windowS seconds.
func procFigures(p procSamples, subscribers int, forwarded, lost uint64, windowS float64) *procFigs {
	if !p.base.ok || !p.start.ok || !p.end.ok {
		return nil
	}
	f := &procFigs{
		PID:        p.pid,
		CPUWindowS: (p.end.cpu - p.start.cpu).Seconds(),
		RSSBase:    float64(p.base.rss), RSSEnd: float64(p.end.rss),
		Subscribers: subscribers, Forwarded: forwarded, Lost: lost,
	}
	if subscribers > 0 {
		f.RSSPerSubscriber = (f.RSSEnd - f.RSSBase) / float64(subscribers)
	}
	if windowS > 0 {
		f.ForwardedPerS = float64(forwarded) / windowS
		f.CPUCorePercent = 100 * f.CPUWindowS / windowS
	}
	if n := forwarded + lost; n > 0 {
		f.LossPercent = 100 * float64(lost) / float64(n)
	}
	if forwarded > 0 {
		f.CPUPerForwardedUS = f.CPUWindowS / float64(forwarded) * 1e6
	}
	return f
}
