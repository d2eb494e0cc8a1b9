package signal_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

// TestRedisLossyPointIsRepairedFromTheCache: a point that loses 5 % of the
// hall's video on the way gets the lost packets again from the server's
// packet cache of the hall's track: far fewer remain missing than were
// dropped, while a point on a clean link loses none.
func TestRedisLossyPointIsRepairedFromTheCache(t *testing.T) {
	st := storetest.Redis(t)
	s := startStack(t, st)
	const conf = "nack-repair"
	points := seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	// A 500 kbit/s camera: about 75 packets a second.
	hall, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Publish: true, VideoBitrate: 500_000,
		Token: s.token(conf, conference.RoleTechnician, "", time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer hall.Close()
	hallID := hall.Welcome().ParticipantID
	clean := s.dial(ctx, s.token(conf, conference.RolePoint, points[0], time.Hour), false)
	lossy, err := client.Dial(ctx, client.Options{ServerURL: s.URL, VideoLossPercent: 5,
		Token: s.token(conf, conference.RolePoint, points[1], time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer lossy.Close()
	for _, c := range []*client.Client{clean, lossy} {
		if err := c.WaitMedia(ctx, atLeast(1000, []string{hallID}, "video")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second) // the last retransmissions
	v, _ := from(lossy.Received(), hallID, "video")
	c, _ := from(clean.Received(), hallID, "video")
	resent := s.SFU.Stats().Retransmits
	t.Logf("lossy point: %d packets, %d missing, %d corrupt; clean point: %d packets, %d missing; %d resent by the server",
		v.Packets, v.Lost, v.Corrupt, c.Packets, c.Lost, resent)
	// 5 % dropped is about 50 of 1000; each resent packet is dropped
	// at 5 % again, so a handful stay missing.
	if resent < 15 {
		t.Errorf("the server resent %d packets; the lossy point lost about 50", resent)
	}
	if v.Lost*100 > v.Packets { // more than 1 %
		t.Errorf("the lossy point misses %d of %d packets after repair; want under 1 %%", v.Lost, v.Packets)
	}
	if c.Lost != 0 || c.Corrupt != 0 || v.Corrupt != 0 {
		t.Errorf("clean point lost %d, corrupt %d; lossy point corrupt %d", c.Lost, c.Corrupt, v.Corrupt)
	}
	// Both points get the hall's media on a direct path, whose NACKs
	// the socket reads.
	if d := s.SFU.Stats().DirectPaths; d < 2 {
		t.Errorf("%d direct paths, want the two points' at least", d)
	}
}

// TestTCPOnlyPoint: a point whose media goes over ICE-TCP alone (its
// network blocks UDP) receives the hall's audio and video intact; the
// server writes to it through a send queue of its own, so that a congested
// TCP connection never holds up the hall's other subscribers.
func TestTCPOnlyPoint(t *testing.T) { eachStore(t, testTCPOnlyPoint) }

func testTCPOnlyPoint(t *testing.T, st *store.Store) {
	s := startStack(t, st)
	const conf = "tcp-only"
	points := seed(t, st, conf, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	hallID := hall.Welcome().ParticipantID
	tcp, err := client.Dial(ctx, client.Options{ServerURL: s.URL, TCPOnly: true, Publish: true,
		Token: s.token(conf, conference.RolePoint, points[0], time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp := s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), true)
	for _, c := range []*client.Client{tcp, udp} {
		if err := c.WaitMedia(ctx, atLeast(100, []string{hallID}, "audio", "video")); err != nil {
			t.Fatalf("%s: %v", c.Welcome().ParticipantID, err)
		}
	}
	if err := hall.WaitMedia(ctx, atLeast(50, points, "video")); err != nil {
		t.Fatalf("hall: %v", err)
	}
	checkIntact(t, "tcp point", tcp.Received())
	// The hall and the UDP point get their media on a direct path, the
	// TCP point through pion.
	if d := s.SFU.Stats().DirectPaths; d != 2 {
		t.Errorf("%d direct paths, want 2 (the hall and the UDP point)", d)
	}
}

// stallListener hands out connections whose writes can be held: while
// stalled, Write blocks as it does on a TCP connection whose peer stopped
// reading once the socket buffers are full.
type stallListener struct {
	net.Listener
	mu      sync.Mutex
	stalled chan struct{} // closed: writes go through
	conns   atomic.Int32
}

func newStallListener(t *testing.T) *stallListener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stallListener{Listener: l, stalled: make(chan struct{})}
	close(s.stalled)
	return s
}

func (l *stallListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.conns.Add(1)
	return &stallConn{Conn: c, l: l}, nil
}

// stall holds every write from now on, until the returned func is called.
func (l *stallListener) stall() (release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	l.stalled = ch
	return func() { close(ch) }
}

func (l *stallListener) gate() chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stalled
}

type stallConn struct {
	net.Conn
	l *stallListener
}

func (c *stallConn) Write(b []byte) (int, error) {
	<-c.l.gate()
	return c.Conn.Write(b)
}

// TestStalledTCPPointDoesNotDelayOthers: while the ICE-TCP connection of one
// point takes no data (its writes block), the hall's video keeps reaching
// the UDP points at the rate it is sent, and the stalled point gets
// nothing; once its connection drains again, it receives again.
func TestStalledTCPPointDoesNotDelayOthers(t *testing.T) {
	st := storetest.Embedded(t)
	tcpListener := newStallListener(t)
	s := &stack{Stack: servertest.StartWith(t, st, servertest.Options{TCPListener: tcpListener}), t: t}
	const conf = "tcp-stall"
	points := seed(t, st, conf, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	hallID := hall.Welcome().ParticipantID
	tcp, err := client.Dial(ctx, client.Options{ServerURL: s.URL, TCPOnly: true,
		Token: s.token(conf, conference.RolePoint, points[0], time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	udp := []*client.Client{
		s.dial(ctx, s.token(conf, conference.RolePoint, points[1], time.Hour), false),
		s.dial(ctx, s.token(conf, conference.RolePoint, points[2], time.Hour), false),
	}
	for _, c := range append([]*client.Client{tcp}, udp...) {
		if err := c.WaitMedia(ctx, atLeast(100, []string{hallID}, "video")); err != nil {
			t.Fatalf("%s: %v", c.Welcome().ParticipantID, err)
		}
	}
	if tcpListener.conns.Load() == 0 {
		t.Fatal("the TCP-only point did not connect over the test's ICE-TCP listener")
	}
	video := func(c *client.Client) uint64 {
		v, _ := from(c.Received(), hallID, "video")
		return v.Packets
	}
	sent := func() uint64 {
		for _, s := range hall.Sent() {
			if s.Kind == "video" {
				return s.Packets
			}
		}
		return 0
	}

	const window = 4 * time.Second
	release := tcpListener.stall()
	time.Sleep(500 * time.Millisecond) // what was in flight arrives
	sent0, tcp0 := sent(), video(tcp)
	udp0 := []uint64{video(udp[0]), video(udp[1])}
	time.Sleep(window)
	sentN := sent() - sent0
	for i, c := range udp {
		got := video(c) - udp0[i]
		t.Logf("UDP point %d: %d of %d video packets sent in %v while the TCP point was stalled", i, got, sentN, window)
		if sentN < 100 || got < sentN*9/10 {
			t.Errorf("UDP point %d received %d of %d video packets while the TCP point was stalled", i, got, sentN)
		}
	}
	if got := video(tcp) - tcp0; got > 0 {
		t.Errorf("the stalled TCP point received %d video packets", got)
	}

	release()
	tcpBefore := video(tcp)
	if err := tcp.WaitMedia(ctx, func([]client.TrackStats) bool { return video(tcp) > tcpBefore+50 }); err != nil {
		t.Fatalf("the TCP point did not receive again once its connection drained: %v", err)
	}
}

// TestPointsGetSenderReports: every track a point receives comes with RTCP
// sender reports from the SFU's one reporter, whose RTP time stays within
// a fraction of a second of the media's timestamps (what a browser needs
// to keep the hall's sound and picture in step).
func TestPointsGetSenderReports(t *testing.T) {
	st := storetest.Embedded(t)
	s := startStack(t, st)
	const conf = "sender-reports"
	points := seed(t, st, conf, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	hallID := hall.Welcome().ParticipantID
	point := s.dial(ctx, s.token(conf, conference.RolePoint, points[0], time.Hour), true)
	reported := func(st []client.TrackStats) bool {
		for _, kind := range []string{"audio", "video"} {
			if v, ok := from(st, hallID, kind); !ok || v.SenderReports < 3 {
				return false
			}
		}
		return true
	}
	if err := point.WaitMedia(ctx, reported); err != nil {
		t.Fatalf("point: %v (%+v)", err, point.Received())
	}
	for _, kind := range []string{"audio", "video"} {
		v, _ := from(point.Received(), hallID, kind)
		rate := int64(client.AudioClockRate)
		if kind == "video" {
			rate = 90000
		}
		if v.ReportLag < -rate/2 || v.ReportLag > rate/2 {
			t.Errorf("%s: sender report RTP time %d ticks from the newest packet, want within half a second", kind, v.ReportLag)
		}
		t.Logf("%s: %d packets, %d sender reports, lag %d ticks", kind, v.Packets, v.SenderReports, v.ReportLag)
	}
}

// TestLossyUplinkIsRepairedByTheServersNACKs: a point whose uplink loses
// 5 % of its video gets NACKs from the server, resends, and the hall
// receives its video with far fewer packets missing than were dropped; the
// point also gets the server's congestion control feedback and receiver
// reports of what it sends.
func TestLossyUplinkIsRepairedByTheServersNACKs(t *testing.T) {
	st := storetest.Embedded(t)
	s := startStack(t, st)
	const conf = "nack-uplink"
	points := seed(t, st, conf, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	lossy, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Publish: true, VideoBitrate: 500_000,
		VideoSendLossPercent: 5, Token: s.token(conf, conference.RolePoint, points[0], time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	defer lossy.Close()
	if err := hall.WaitMedia(ctx, atLeast(1000, points, "video")); err != nil {
		t.Fatalf("hall: %v", err)
	}
	v, _ := from(hall.Received(), points[0], "video")
	var sent client.TrackStats
	var feedback, reports uint64
	for _, s := range lossy.Sent() {
		if s.Kind == "video" {
			sent = s
		}
		feedback += s.CongestionFeedback
		reports += s.ReceiverReports
	}
	dropped := sent.Packets * 5 / 100
	t.Logf("hall: %d video packets, %d missing, %d corrupt; the point sent %d (about %d dropped), got %d NACKs, %d feedback, %d reports",
		v.Packets, v.Lost, v.Corrupt, sent.Packets, dropped, sent.NACKs, feedback, reports)
	if sent.NACKs == 0 || s.SFU.Stats().NACKsSent == 0 {
		t.Errorf("the point got %d NACKs for a 5 %% lossy uplink, the server counts %d sent", sent.NACKs, s.SFU.Stats().NACKsSent)
	}
	if v.Lost > dropped/4 || v.Corrupt > 0 {
		t.Errorf("hall: %d of about %d dropped packets still missing, %d corrupt", v.Lost, dropped, v.Corrupt)
	}
	if feedback == 0 || reports == 0 {
		t.Errorf("the point got %d congestion control feedback packets and %d receiver reports", feedback, reports)
	}
}

// TestHallReachesManyPointsThroughTheWriters: the hall's tracks, with more
// subscribers than a track's reader writes itself, go through the SFU's
// writer pool; every point receives them whole (no loss, no sequence jump,
// no corrupt payload) and the writers did part of the work.
func TestHallReachesManyPointsThroughTheWriters(t *testing.T) {
	st := storetest.Embedded(t)
	s := startStack(t, st)
	const conf = "writer-pool"
	const n = 12 // more than sfu's inline fan-out of 8
	points := seed(t, st, conf, n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hall := s.dial(ctx, s.token(conf, conference.RoleTechnician, "", time.Hour), true)
	hallID := hall.Welcome().ParticipantID
	clients := make([]*client.Client, n)
	for i, p := range points {
		clients[i] = s.dial(ctx, s.token(conf, conference.RolePoint, p, time.Hour), false)
	}
	before := s.SFU.Stats().PacketsForwarded
	for _, c := range clients {
		if err := c.WaitMedia(ctx, atLeast(150, []string{hallID}, "audio", "video")); err != nil {
			t.Fatalf("%s: %v", c.Welcome().ParticipantID, err)
		}
	}
	for i, c := range clients {
		checkIntact(t, fmt.Sprintf("point %d", i), c.Received())
	}
	if st := s.SFU.Stats(); st.ForwardedByWriters == 0 {
		t.Errorf("the writer pool forwarded nothing (%d packets forwarded in all)", st.PacketsForwarded-before)
	}
}
