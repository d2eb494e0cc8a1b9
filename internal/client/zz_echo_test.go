package client

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestZZEchoLong(t *testing.T) {
	srv := newEchoServer(t)
	ctx := context.Background()
	var cs []*Client
	for i := range 3 {
		c, err := Dial(ctx, Options{ServerURL: srv.URL, Token: fmt.Sprintf("p%d", i), Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	time.Sleep(8 * time.Second)
	for _, c := range cs {
		for _, r := range c.Received() {
			fmt.Printf("%s %s pk %d jumps %d lost %d\n", r.Participant, r.Kind, r.Packets, r.SeqJumps, r.Lost)
		}
	}
}
