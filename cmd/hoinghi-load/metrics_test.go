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
