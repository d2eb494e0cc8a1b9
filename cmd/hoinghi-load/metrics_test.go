package main

import (
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]float64
		wantErr bool
	}{
		{
			name: "plain",
			in: `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.34
hoinghi_packets_forwarded_total 1.2345e+06
go_goroutines 42
`,
			want: map[string]float64{metricCPU: 12.34, metricForwarded: 1234500},
		},
		{
			name: "labels summed, quoted braces and spaces",
			in: `hoinghi_packets_forwarded_total{kind="audio"} 10
hoinghi_packets_forwarded_total{kind="vi}deo x",note="a\"b"} 5 1700000000000
process_cpu_seconds_total_extra 99
`,
			want: map[string]float64{metricForwarded: 15},
		},
		{name: "empty", in: "", want: map[string]float64{}},
		{name: "no value", in: "process_cpu_seconds_total\n", wantErr: true},
		{name: "bad value", in: "process_cpu_seconds_total abc\n", wantErr: true},
		{name: "unterminated", in: `hoinghi_packets_forwarded_total{kind="a 1` + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMetrics(strings.NewReader(tt.in), metricCPU, metricForwarded)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if tt.wantErr {
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestParseMetricsServerFigures(t *testing.T) {
	in := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 1712
go_memstats_heap_inuse_bytes 5.2e+07
go_gc_duration_seconds{quantile="0.5"} 0.0001
process_resident_memory_bytes 1.24932096e+08
process_resident_memory_bytes_extra 1
process_cpu_seconds_total 2.29
hoinghi_ws_connections 21
hoinghi_ws_connections_total 40
hoinghi_participants 21
hoinghi_participants_by_role{role="point"} 20
hoinghi_packets_forwarded_total 40003
hoinghi_packets_in_total 26258
hoinghi_packets_dropped_total 0
`
	got, err := parseMetrics(strings.NewReader(in), scraped...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		metricGoroutines: 1712, metricHeap: 52e6, metricRSS: 124932096, metricCPU: 2.29,
		metricWS: 21, metricParticipants: 21, metricForwarded: 40003, metricIn: 26258, metricDropped: 0,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestServerFigures(t *testing.T) {
	start := map[string]float64{metricRSS: 30 << 20, metricHeap: 10 << 20, metricGoroutines: 30, metricCPU: 1, metricForwarded: 5, metricIn: 5}
	joined := map[string]float64{metricRSS: 80 << 20, metricHeap: 40 << 20, metricGoroutines: 800, metricCPU: 3, metricForwarded: 1005, metricIn: 505}
	end := map[string]float64{metricRSS: 130 << 20, metricHeap: 60 << 20, metricGoroutines: 1030, metricCPU: 5, metricForwarded: 5005,
		metricIn: 2505, metricDropped: 7, metricWS: 11, metricParticipants: 11}
	tests := []struct {
		name     string
		s        serverSamples
		per      int
		want     *serverFigs
		wantNone bool
	}{
		{name: "no start", s: serverSamples{end: end}, per: 10, wantNone: true},
		{name: "no end", s: serverSamples{start: start, joined: joined}, per: 10, wantNone: true},
		{name: "all samples", s: serverSamples{start: start, joined: joined, end: end}, per: 10, want: &serverFigs{
			RSSStart: 30 << 20, RSSEnd: 130 << 20, RSSPerPoint: 10 << 20,
			HeapStart: 10 << 20, HeapEnd: 60 << 20, HeapPerPoint: 5 << 20,
			GoroutinesStart: 30, GoroutinesEnd: 1030, GoroutinesPerPoint: 100,
			CPUJoinS: 2, CPUWindowS: 2, PacketsIn: 2000, PacketsForwarded: 4000, PacketsDropped: 7,
			CPUPerForwardedUS: 500, WSConnectionsEnd: 11, SFUParticipantsEnd: 11,
			hasRSS: true, hasHeap: true, hasGoroutine: true, hasJoin: true,
		}},
		{name: "no join sample: the window counts from the start", s: serverSamples{start: start, end: end}, per: 10, want: &serverFigs{
			RSSStart: 30 << 20, RSSEnd: 130 << 20, RSSPerPoint: 10 << 20,
			HeapStart: 10 << 20, HeapEnd: 60 << 20, HeapPerPoint: 5 << 20,
			GoroutinesStart: 30, GoroutinesEnd: 1030, GoroutinesPerPoint: 100,
			CPUWindowS: 4, PacketsIn: 2500, PacketsForwarded: 5000, PacketsDropped: 7,
			CPUPerForwardedUS: 800, WSConnectionsEnd: 11, SFUParticipantsEnd: 11,
			hasRSS: true, hasHeap: true, hasGoroutine: true,
		}},
		{name: "nobody connected: no per-point figures", s: serverSamples{start: start, joined: joined, end: end}, per: 0, want: &serverFigs{
			RSSStart: 30 << 20, RSSEnd: 130 << 20, HeapStart: 10 << 20, HeapEnd: 60 << 20,
			GoroutinesStart: 30, GoroutinesEnd: 1030,
			CPUJoinS: 2, CPUWindowS: 2, PacketsIn: 2000, PacketsForwarded: 4000, PacketsDropped: 7,
			CPUPerForwardedUS: 500, WSConnectionsEnd: 11, SFUParticipantsEnd: 11,
			hasRSS: true, hasHeap: true, hasGoroutine: true, hasJoin: true,
		}},
		{name: "no memory figures", s: serverSamples{start: map[string]float64{metricCPU: 1, metricForwarded: 0},
			end: map[string]float64{metricCPU: 2, metricForwarded: 0}}, per: 3, want: &serverFigs{CPUWindowS: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serverFigures(tt.s, tt.per)
			if tt.wantNone {
				if got != nil {
					t.Errorf("got %+v, want none", got)
				}
				return
			}
			if got == nil || *got != *tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
