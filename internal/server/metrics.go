package server

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hoinghi/internal/sfu"
)

// newRegistry returns a registry with the process and Go collectors, the
// SFU's totals, read from stats at each scrape, and the depth of the
// attendance spool, read from spoolDepth.
func newRegistry(stats func() sfu.Stats, spoolDepth func() int) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	gauge := func(name, help string, v func(sfu.Stats) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	counter := func(name, help string, v func(sfu.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	reg.MustRegister(
		gauge("hoinghi_participants", "Participants connected to the SFU.",
			func(s sfu.Stats) int64 { return s.Participants }),
		gauge("hoinghi_up_tracks", "Tracks received from publishers.",
			func(s sfu.Stats) int64 { return s.UpTracks }),
		gauge("hoinghi_down_tracks", "Tracks forwarded to subscribers.",
			func(s sfu.Stats) int64 { return s.DownTracks }),
		counter("hoinghi_packets_in_total", "RTP packets received from publishers.",
			func(s sfu.Stats) uint64 { return s.PacketsIn }),
		counter("hoinghi_packets_forwarded_total", "RTP packets written to subscribers.",
			func(s sfu.Stats) uint64 { return s.PacketsForwarded }),
		counter("hoinghi_packets_dropped_total", "RTP packets received but not forwarded.",
			func(s sfu.Stats) uint64 { return s.PacketsDropped }),
		counter("hoinghi_bytes_forwarded_total", "Bytes of RTP forwarded to subscribers.",
			func(s sfu.Stats) uint64 { return s.BytesForwarded }),
		counter("hoinghi_nacks_total", "NACKs received from subscribers.",
			func(s sfu.Stats) uint64 { return s.NACKs }),
		counter("hoinghi_plis_total", "PLIs received from subscribers.",
			func(s sfu.Stats) uint64 { return s.PLIs }),
		counter("hoinghi_keyframe_requests_total", "Keyframe requests sent to publishers.",
			func(s sfu.Stats) uint64 { return s.KeyframeRequests }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hoinghi_attendance_spool_depth",
			Help: "Attendance events waiting to be written to Redis (more than 0 while Redis is away)."},
			func() float64 { return float64(spoolDepth()) }),
	)
	return reg
}

// metricsHandler serves reg in the Prometheus text format.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: reg,
	})
}
