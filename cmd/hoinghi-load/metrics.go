package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Server metrics the load generator reads.
const (
	metricCPU       = "process_cpu_seconds_total"
	metricForwarded = "hoinghi_packets_forwarded_total"
	metricIn        = "hoinghi_packets_in_total"
	metricDropped   = "hoinghi_packets_dropped_total"
	// Gauges, read as they are at a moment.
	metricRSS          = "process_resident_memory_bytes"
	metricHeap         = "go_memstats_heap_inuse_bytes"
	metricGoroutines   = "go_goroutines"
	metricWS           = "hoinghi_ws_connections"
	metricParticipants = "hoinghi_participants"
)

// scraped lists every metric scrape reads.
var scraped = []string{metricCPU, metricForwarded, metricIn, metricDropped,
	metricRSS, metricHeap, metricGoroutines, metricWS, metricParticipants}

// parseMetrics reads the Prometheus text format and returns, for each metric
// name in want, the sum of its samples over all label sets. Names absent from
// the input are absent from the result.
func parseMetrics(r io.Reader, want ...string) (map[string]float64, error) {
	wanted := make(map[string]bool, len(want))
	for _, w := range want {
		wanted[w] = true
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// name{labels} value [timestamp]; label values may hold spaces.
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ \t"); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if !wanted[name] {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			end := closingBrace(rest)
			if end < 0 {
				return nil, fmt.Errorf("metrics: unterminated labels in %q", line)
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics: no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: value of %q: %w", line, err)
		}
		out[name] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return out, nil
}

// closingBrace returns the index of the brace closing the label set that s
// starts with, skipping quoted label values, or -1.
func closingBrace(s string) int {
	inQuote := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '}':
			return i
		}
	}
	return -1
}

// scrape fetches url and returns the metrics the load generator reads; the
// CPU time and the forwarded packets must be there, the others may be
// missing (the resident memory is Linux only).
func scrape(ctx context.Context, hc *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: HTTP %s", url, resp.Status)
	}
	m, err := parseMetrics(resp.Body, scraped...)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	for _, name := range []string{metricCPU, metricForwarded} {
		if _, ok := m[name]; !ok {
			return nil, fmt.Errorf("scrape %s: no %s", url, name)
		}
	}
	return m, nil
}
