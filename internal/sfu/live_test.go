package sfu

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestLiveWriterSound checks that a live sound is one stream: forwarded
// packets and the silence between them numbered without gaps, timestamps
// moving on with the time that passed.
func TestLiveWriterSound(t *testing.T) {
	ln, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w, err := newLiveWriter(ln.LocalAddr().(*net.UDPAddr), 111, true)
	if err != nil {
		t.Fatal(err)
	}
	defer w.conn.Close()

	start := time.Now().UnixNano()
	ms := func(n int) int64 { return start + int64(n)*int64(time.Millisecond) }
	steps := []struct {
		at      int64
		real    bool
		inTS    uint32
		sends   bool
		wantAdv uint32 // timestamp advance over the packet before; 0: not checked
	}{
		{at: ms(0), real: true, inTS: 1000, sends: true},
		{at: ms(20), real: true, inTS: 1960, sends: true, wantAdv: 960},
		{at: ms(40), sends: false},                   // silence waits silenceAfter
		{at: ms(100), sends: true, wantAdv: 80 * 48}, // 80 ms after the last packet
		{at: ms(110), sends: false},                  // silence paces itself at 20 ms
		{at: ms(120), sends: true, wantAdv: 960},
		{at: ms(140), real: true, inTS: 500000, sends: true, wantAdv: 20 * 48}, // a new source
		{at: ms(160), real: true, inTS: 500960, sends: true, wantAdv: 960},
	}
	var last rtp.Packet
	buf := make([]byte, 1500)
	for i, s := range steps {
		if s.real {
			w.mu.Lock()
			w.advance(s.at, s.inTS, true)
			h := rtp.Header{Version: 2, SequenceNumber: w.seq, Timestamp: w.ts, SSRC: w.ssrc, PayloadType: w.pt}
			w.send(&h, []byte{1, 2, 3})
			w.mu.Unlock()
		} else {
			w.silence(s.at)
		}
		ln.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := ln.Read(buf)
		if !s.sends {
			if err == nil {
				t.Fatalf("step %d: a packet was sent", i)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if p.PayloadType != 111 || p.SSRC != w.ssrc {
			t.Errorf("step %d: payload type %d ssrc %d", i, p.PayloadType, p.SSRC)
		}
		if i > 0 {
			if p.SequenceNumber != last.SequenceNumber+1 {
				t.Errorf("step %d: sequence %d after %d", i, p.SequenceNumber, last.SequenceNumber)
			}
			if s.wantAdv != 0 && p.Timestamp-last.Timestamp != s.wantAdv {
				t.Errorf("step %d: timestamp moved %d, want %d", i, p.Timestamp-last.Timestamp, s.wantAdv)
			}
		}
		if !s.real && string(p.Payload) != string(opusSilence[:]) {
			t.Errorf("step %d: payload %x, want silence", i, p.Payload)
		}
		last = p
	}
}
