package client

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZLive(t *testing.T) {
	url, hall, point := os.Getenv("LIVE_URL"), os.Getenv("LIVE_HALL"), os.Getenv("LIVE_POINT")
	if url == "" {
		t.Skip()
	}
	ctx := context.Background()
	h, err := Dial(ctx, Options{ServerURL: url, Token: hall, Publish: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p, err := Dial(ctx, Options{ServerURL: url, Token: point, Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	time.Sleep(6 * time.Second)
	for _, c := range []*Client{h, p} {
		c.mu.Lock()
		for _, pc := range []any{c.pubPC, c.subPC} {
			_ = pc
		}
		pub, sub := c.pubPC, c.subPC
		c.mu.Unlock()
		for name, pc := range map[string]any{"pub": pub, "sub": sub} {
			_ = name
			_ = pc
		}
		if pub != nil {
			pair, _ := pub.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
			fmt.Println("pub pair", pair)
		}
		if sub != nil {
			pair, _ := sub.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
			fmt.Println("sub pair", pair)
		}
		fmt.Printf("%s sent %+v\n", c.Welcome().ParticipantID, c.Sent())
		for _, r := range c.Received() {
			fmt.Printf("   recv %+v\n", r)
		}
	}
}
