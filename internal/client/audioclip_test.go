package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"slices"
	"testing"
	"time"

	"hoinghi/internal/testmedia"
)

// oggPage builds one Ogg page of stream serial with the given lacing
// values over body; checksums are left zero (oggPackets does not check
// them).
func oggPage(serial uint32, continued bool, lacing []byte, body []byte) []byte {
	h := make([]byte, oggHeaderLen, oggHeaderLen+len(lacing)+len(body))
	copy(h, "OggS")
	if continued {
		h[5] = oggContinued
	}
	binary.LittleEndian.PutUint32(h[oggSerialAt:], serial)
	h[oggSegmentsAt] = byte(len(lacing))
	h = append(h, lacing...)
	return append(h, body...)
}

// lace returns the lacing values of whole packets of the given sizes.
func lace(sizes ...int) []byte {
	var l []byte
	for _, n := range sizes {
		for ; n >= oggMaxLacingVal; n -= oggMaxLacingVal {
			l = append(l, oggMaxLacingVal)
		}
		l = append(l, byte(n))
	}
	return l
}

// filled returns n bytes of value v.
func filled(v byte, n int) []byte { return bytes.Repeat([]byte{v}, n) }

func TestOggPackets(t *testing.T) {
	tests := []struct {
		name  string
		ogg   []byte
		sizes []int // of the packets, each filled with its index+1
		bad   bool
	}{
		{name: "a packet a page",
			ogg:   slices.Concat(oggPage(7, false, lace(3), filled(1, 3)), oggPage(7, false, lace(2), filled(2, 2))),
			sizes: []int{3, 2}},
		{name: "many packets in a page, one of 255 bytes and one over",
			ogg:   oggPage(7, false, lace(1, 255, 300, 0), slices.Concat(filled(1, 1), filled(2, 255), filled(3, 300))),
			sizes: []int{1, 255, 300, 0}},
		{name: "a packet over two pages",
			ogg: slices.Concat(oggPage(7, false, []byte{4, 255}, slices.Concat(filled(1, 4), filled(2, 255))),
				oggPage(7, true, []byte{10, 1}, slices.Concat(filled(2, 10), filled(3, 1)))),
			sizes: []int{4, 265, 1}},
		{name: "another stream's pages are left out",
			ogg:   slices.Concat(oggPage(7, false, lace(2), filled(1, 2)), oggPage(8, false, lace(5), filled(9, 5)), oggPage(7, false, lace(1), filled(2, 1))),
			sizes: []int{2, 1}},
		{name: "not Ogg", ogg: []byte("RIFF0000WAVEfmt and more bytes than a header"), bad: true},
		{name: "body cut short", ogg: oggPage(7, false, lace(10), filled(1, 4)), bad: true},
		{name: "segment table cut short", ogg: oggPage(7, false, lace(10), nil)[:oggHeaderLen], bad: true},
		{name: "a continued page with no packet open", ogg: oggPage(7, true, lace(1), filled(1, 1)), bad: true},
		{name: "a packet open and the next page not continued",
			ogg: slices.Concat(oggPage(7, false, []byte{255}, filled(1, 255)), oggPage(7, false, lace(1), filled(2, 1))), bad: true},
		{name: "the last packet cut short", ogg: oggPage(7, false, []byte{255}, filled(1, 255)), bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, err := oggPackets(tt.ogg)
			if tt.bad {
				if err == nil {
					t.Fatalf("no error; packets %v", pkts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != len(tt.sizes) {
				t.Fatalf("%d packets, want %d", len(pkts), len(tt.sizes))
			}
			for i, p := range pkts {
				if !bytes.Equal(p, filled(byte(i+1), tt.sizes[i])) {
					t.Errorf("packet %d: %d bytes %v, want %d bytes of %d", i, len(p), p[:min(len(p), 8)], tt.sizes[i], i+1)
				}
			}
		})
	}
}

func TestAudioClip(t *testing.T) {
	tests := []struct {
		file    string
		packets int
		samples uint32
	}{
		// Made as testdata/README.md says: one second of a tone, the
		// audio packets all in one page but the last.
		{file: "testdata/tone-440.ogg", packets: 51, samples: 960},
		// The same in 60 ms packets, of 255 bytes and more.
		{file: "testdata/tone-440-60ms.ogg", packets: 17, samples: 2880},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := newAudioClip(raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.packets) != tt.packets {
				t.Fatalf("%d packets, want %d", len(c.packets), tt.packets)
			}
			first, _ := c.NextPacket()
			for i := 1; i < tt.packets; i++ {
				p, n := c.NextPacket()
				if n != tt.samples || len(p) < 2 {
					t.Fatalf("packet %d: %d bytes of %d samples, want %d", i, len(p), n, tt.samples)
				}
			}
			if again, _ := c.NextPacket(); &again[0] != &first[0] {
				t.Error("after the last packet the clip does not start again")
			}
		})
	}
	for _, bad := range [][]byte{nil, []byte("OggS"), oggPage(1, false, lace(19), filled(0, 19)),
		oggPage(1, false, lace(8, 8), slices.Concat([]byte("OpusHead"), []byte("OpusTags")))} {
		if _, err := newAudioClip(bad); err == nil {
			t.Errorf("newAudioClip of %d bytes: no error", len(bad))
		}
	}
}

// TestClientEchoClips publishes the clips in place of the synthetic
// media through the echo server: every audio packet of the clip goes out
// in turn, as often as the packets' duration says, and comes back; the
// receiver cannot check the clips' payloads and counts them as corrupt.
func TestClientEchoClips(t *testing.T) {
	files := func(ivf, ogg string) func(t *testing.T) ([]byte, []byte) {
		return func(t *testing.T) ([]byte, []byte) {
			v, err := os.ReadFile(ivf)
			if err != nil {
				t.Fatal(err)
			}
			a, err := os.ReadFile(ogg)
			if err != nil {
				t.Fatal(err)
			}
			return v, a
		}
	}
	tests := []struct {
		name      string
		clips     func(t *testing.T) (ivf, ogg []byte)
		perSecond float64 // audio packets
	}{
		{name: "20 ms", clips: files("testdata/point-160x90.ivf", "testdata/tone-440.ogg"), perSecond: 50},
		{name: "60 ms", clips: files("testdata/point-160x90.ivf", "testdata/tone-440-60ms.ogg"), perSecond: 1000.0 / 60},
		// As the recording tests make them: a page for each packet.
		{name: "testmedia", clips: func(t *testing.T) ([]byte, []byte) {
			return testmedia.Clips(t, "magenta", 660, time.Second)
		}, perSecond: 50},
	}
	srv := newEchoServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ivf, ogg := tt.clips(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := Dial(ctx, Options{ServerURL: srv.URL, Token: "tan-uyen", Publish: true, AudioClip: ogg, VideoClip: ivf, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.WaitMedia(ctx, func(st []TrackStats) bool {
				return len(st) == 2 && st[0].Packets >= 10 && st[1].Packets >= 10
			}); err != nil {
				t.Fatal(err)
			}
			before, at := c.Sent()[0].Packets, time.Now()
			time.Sleep(time.Second)
			sent := c.Sent()
			rate := float64(sent[0].Packets-before) / time.Since(at).Seconds()
			if rate < tt.perSecond*0.75 || rate > tt.perSecond*1.25 {
				t.Errorf("%.1f audio packets a second, want %.1f", rate, tt.perSecond)
			}
			// The bytes sent are those of the clip's packets, in turn.
			want, err := newAudioClip(ogg)
			if err != nil {
				t.Fatal(err)
			}
			size := uint64(0)
			for range sent[0].Packets {
				p, _ := want.NextPacket()
				size += uint64(len(p))
			}
			if sent[0].Bytes != size {
				t.Errorf("sent %d audio packets of %d bytes, want %d bytes", sent[0].Packets, sent[0].Bytes, size)
			}
			for _, r := range c.Received() {
				if r.Packets == 0 || r.Corrupt != r.Packets || r.Lost != 0 {
					t.Errorf("%s: %d packets received, %d corrupt, %d lost; want all corrupt (not synthetic), none lost",
						r.Kind, r.Packets, r.Corrupt, r.Lost)
				}
			}
		})
	}
}

func BenchmarkAudioClipNextPacket(b *testing.B) {
	raw, err := os.ReadFile("testdata/tone-440.ogg")
	if err != nil {
		b.Fatal(err)
	}
	c, err := newAudioClip(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p, n := c.NextPacket(); len(p) == 0 || n == 0 {
			b.Fatal("empty packet")
		}
	}
}
