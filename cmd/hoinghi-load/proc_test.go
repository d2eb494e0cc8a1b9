package main

import (
	"math"
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis, as proc(5) allows.
	stat := "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 130 0 0 20 0 12 0 5000 1000000 2000 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3800 * time.Millisecond; got != want { // (250+130) ticks of 10 ms
		t.Errorf("cpu %s, want %s", got, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 12 13"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	status := "Name:\tgalene\nVmPeak:\t  900000 kB\nVmRSS:\t   23456 kB\nThreads:\t12\n"
	got, err := parseStatusRSS([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(23456 * 1024); got != want {
		t.Errorf("rss %d, want %d", got, want)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tx kB\n"} {
		if _, err := parseStatusRSS([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	p := procSamples{pid: os.Getpid()}
	p.sample(&p.base)
	if p.err != nil || !p.base.ok || p.base.rss == 0 {
		t.Fatalf("sample %+v, err %v", p.base, p.err)
	}
	none := procSamples{}
	none.sample(&none.base)
	if none.base.ok || none.err != nil {
		t.Errorf("no pid: sample %+v, err %v", none.base, none.err)
	}
	gone := procSamples{pid: math.MaxInt32}
	gone.sample(&gone.base)
	if gone.base.ok || gone.err == nil {
		t.Errorf("no such process: sample %+v, err %v", gone.base, gone.err)
	}
}

func TestProcFigures(t *testing.T) {
	p := procSamples{pid: 7,
		base:  procSample{ok: true, cpu: time.Second, rss: 10 << 20},
		start: procSample{ok: true, cpu: 2 * time.Second, rss: 30 << 20},
		end:   procSample{ok: true, cpu: 4 * time.Second, rss: 30 << 20},
	}
	f := procFigures(p, 10, 100_000, 100, 10)
	if f == nil {
		t.Fatal("no figures")
	}
	if f.CPUWindowS != 2 || f.RSSPerSubscriber != 2<<20 || f.ForwardedPerS != 10_000 || f.CPUCorePercent != 20 {
		t.Errorf("figures %+v", f)
	}
	if math.Abs(f.CPUPerForwardedUS-20) > 1e-9 || math.Abs(f.LossPercent-100.0/1001) > 1e-9 {
		t.Errorf("per packet %g µs, loss %g%%", f.CPUPerForwardedUS, f.LossPercent)
	}
	p.start.ok = false
	if procFigures(p, 10, 1, 0, 10) != nil {
		t.Error("figures from an incomplete set of samples")
	}
}
