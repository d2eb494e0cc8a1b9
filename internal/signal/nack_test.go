package signal_test

import (
	"context"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
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
}
