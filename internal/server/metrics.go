package server

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hoinghi/internal/conference"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
)

// hubStats is the part of a Hub that reports signaling totals;
// *signal.Hub has it.
type hubStats interface {
	Stats() signal.Stats
}

// newRegistry returns a registry with the process and Go collectors and
// hoinghi's own metrics, read at each scrape from the SFU's, the hub's and
// the store's totals. Labels are few and bounded: a role, a Redis command
// name, a signaling error code; never a conference or a participant.
func newRegistry(d Deps) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	c := &collector{stats: d.Stats, spoolDepth: d.Store.SpoolDepth, deadLetters: d.Store.DeadLettered,
		redisErrors: d.Store.RedisErrors}
	if h, ok := d.Hub.(hubStats); ok {
		c.hub = h.Stats
	}
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		c,
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

// metric describes one of hoinghi's metrics and reads its value from a
// snapshot.
type metric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*snapshot) float64
}

// snapshot is everything one scrape reports, read once.
type snapshot struct {
	sfu         sfu.Stats
	hub         signal.Stats
	spool       int
	deadLetters uint64
}

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// Metrics without labels.
var plainMetrics = []metric{
	{newDesc("hoinghi_participants", "Participants connected to the SFU."), prometheus.GaugeValue,
		func(s *snapshot) float64 { return float64(s.sfu.Participants) }},
	{newDesc("hoinghi_up_tracks", "Tracks received from publishers."), prometheus.GaugeValue,
		func(s *snapshot) float64 { return float64(s.sfu.UpTracks) }},
	{newDesc("hoinghi_down_tracks", "Tracks forwarded to subscribers."), prometheus.GaugeValue,
		func(s *snapshot) float64 { return float64(s.sfu.DownTracks) }},
	{newDesc("hoinghi_direct_paths", "Subscribers whose media the SFU encrypts and sends itself, on its UDP socket (the others: ICE-TCP, through pion)."), prometheus.GaugeValue,
		func(s *snapshot) float64 { return float64(s.sfu.DirectPaths) }},
	{newDesc("hoinghi_packets_in_total", "RTP packets received from publishers."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.PacketsIn) }},
	{newDesc("hoinghi_packets_forwarded_total", "RTP packets written to subscribers."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.PacketsForwarded) }},
	{newDesc("hoinghi_packets_forwarded_by_writers_total", "RTP packets of hoinghi_packets_forwarded_total written by the writer pool (tracks with many subscribers)."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.ForwardedByWriters) }},
	{newDesc("hoinghi_packets_dropped_total", "RTP packets received but not forwarded."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.PacketsDropped) }},
	{newDesc("hoinghi_bytes_in_total", "Bytes of RTP received from publishers."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.BytesIn) }},
	{newDesc("hoinghi_bytes_forwarded_total", "Bytes of RTP forwarded to subscribers."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.BytesForwarded) }},
	{newDesc("hoinghi_nacks_total", "NACKs received from subscribers."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.NACKs) }},
	{newDesc("hoinghi_retransmits_total", "Packets resent to subscribers from the packet caches, answering their NACKs."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.Retransmits) }},
	{newDesc("hoinghi_nacks_sent_total", "NACKs sent to publishers for packets that did not arrive (loss on the way to the server)."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.NACKsSent) }},
	{newDesc("hoinghi_nack_misses_total", "Packets subscribers asked for again that the packet caches no longer held (or never had)."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.NACKMisses) }},
	{newDesc("hoinghi_probes_total", "Probes of subscribers' links held back to lower encodings."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.Probes) }},
	{newDesc("hoinghi_probe_packets_total", "Padding packets sent by the probes."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.ProbePackets) }},
	{newDesc("hoinghi_plis_total", "PLIs received from subscribers."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.PLIs) }},
	{newDesc("hoinghi_keyframe_requests_total", "Keyframe requests sent to publishers."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.sfu.KeyframeRequests) }},
	{newDesc("hoinghi_floor_switches_total", "Times the floor passed to a new first holder, whose picture the points see."),
		prometheus.CounterValue, func(s *snapshot) float64 { return float64(s.sfu.FloorSwitches) }},
	{newDesc("hoinghi_ws_connections", "Signaling WebSockets open."), prometheus.GaugeValue,
		func(s *snapshot) float64 { return float64(s.hub.Connections) }},
	{newDesc("hoinghi_ws_connections_total", "Signaling WebSockets opened."), prometheus.CounterValue,
		func(s *snapshot) float64 { return float64(s.hub.ConnectionsTotal) }},
	{newDesc("hoinghi_signaling_encoded_bytes_total", "Bytes of signaling messages encoded; a message sent to many connections counts once."),
		prometheus.CounterValue, func(s *snapshot) float64 { return float64(s.hub.EncodedBytes) }},
	{newDesc("hoinghi_signaling_shed_total", "Queued signaling messages dropped because a newer one superseded them or the connection fell behind."),
		prometheus.CounterValue, func(s *snapshot) float64 { return float64(s.hub.Shed) }},
	{newDesc("hoinghi_signaling_slow_disconnects_total", "Connections (of points) closed because they did not take their messages."),
		prometheus.CounterValue, func(s *snapshot) float64 { return float64(s.hub.SlowDisconnects) }},
	{newDesc("hoinghi_attendance_spool_depth", "Attendance events waiting to be written to Redis (more than 0 while Redis is away)."),
		prometheus.GaugeValue, func(s *snapshot) float64 { return float64(s.spool) }},
	{newDesc("hoinghi_attendance_dead_letters_total", "Attendance events Redis refused for good (e.g. WRONGTYPE), set aside in DATA_DIR/attendance.deadletter instead of written."),
		prometheus.CounterValue, func(s *snapshot) float64 { return float64(s.deadLetters) }},
}

var (
	byRoleDesc = newDesc("hoinghi_participants_by_role",
		`Participants connected to the SFU, by role; role="point" counts the connection points connected.`, "role")
	joinDesc = newDesc("hoinghi_join_seconds",
		"Time from a participant's signaling WebSocket opening to the first packet of its media reaching the SFU.")
	switchDesc = newDesc("hoinghi_floor_switch_seconds",
		"Time from a floor switch being applied to the first keyframe of the new holder written into a point's speaker slot.")
	redisErrorsDesc = newDesc("hoinghi_redis_errors_total",
		"Redis commands that failed, by command name (missing keys are not failures).", "command")
	signalErrorsDesc = newDesc("hoinghi_signaling_errors_total",
		"Error messages sent to signaling clients, by error code.", "code")
	refusedDesc = newDesc("hoinghi_ws_refused_total",
		"Signaling WebSockets refused before the upgrade, by code (too_many_connections, server_busy).", "code")
)

// collector reads hoinghi's totals once per scrape.
type collector struct {
	stats       func() sfu.Stats
	hub         func() signal.Stats // nil when the hub does not report
	spoolDepth  func() int
	deadLetters func() uint64
	redisErrors func() map[string]uint64
}

// Describe sends the descriptions of every metric of c.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range plainMetrics {
		ch <- m.desc
	}
	for _, d := range []*prometheus.Desc{byRoleDesc, joinDesc, switchDesc, redisErrorsDesc, signalErrorsDesc, refusedDesc} {
		ch <- d
	}
}

// Collect sends the current value of every metric of c.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := snapshot{sfu: c.stats(), spool: c.spoolDepth(), deadLetters: c.deadLetters()}
	if c.hub != nil {
		s.hub = c.hub()
	}
	for _, m := range plainMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
	for _, r := range conference.Roles {
		ch <- prometheus.MustNewConstMetric(byRoleDesc, prometheus.GaugeValue, float64(s.sfu.ByRole[r]), string(r))
	}
	for desc, h := range map[*prometheus.Desc]sfu.Histogram{joinDesc: s.sfu.JoinTime, switchDesc: s.sfu.FloorSwitchTime} {
		ch <- prometheus.MustNewConstHistogram(desc, h.Count, h.Sum, h.Cumulative())
	}
	for cmd, n := range c.redisErrors() {
		ch <- prometheus.MustNewConstMetric(redisErrorsDesc, prometheus.CounterValue, float64(n), cmd)
	}
	for code, n := range s.hub.ErrorsSent {
		ch <- prometheus.MustNewConstMetric(signalErrorsDesc, prometheus.CounterValue, float64(n), code)
	}
	for code, n := range s.hub.Refused {
		ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(n), code)
	}
}
