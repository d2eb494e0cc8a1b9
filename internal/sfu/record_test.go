package sfu

import (
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/packetcache"
	"hoinghi/internal/record"
)

// fileRecorder records every track into one recording of a directory.
type fileRecorder struct {
	rec    *record.Recording
	tracks chan *record.Track
}

func (f *fileRecorder) RecordTrack(t RecordedTrack, now time.Time) (TrackRecorder, error) {
	tr, err := f.rec.AddTrack(record.TrackInfo{ID: t.ID, Participant: t.Participant, Media: t.Media, Codec: t.Codec, ClockRate: t.ClockRate}, now)
	if err == nil {
		f.tracks <- tr
	}
	return tr, err
}

func (f *fileRecorder) ProgramChanged(ProgramState, time.Time) {}

// cpuTime is the CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkForwardRecorded compares what one forwarded packet costs with
// n down-tracks, with one more down-track, and with a recording of the
// track: its tap in the run loop and, on the same goroutine here, the
// work of the recording's own (reading the packets from the cache and
// writing a WebM file on disk). cpu-ns/op is the process's CPU, the
// writes to disk included.
func BenchmarkForwardRecorded(b *testing.B) {
	const n = 10
	for _, tt := range []struct {
		name   string
		downs  int
		record bool
	}{
		{fmt.Sprintf("downtracks=%d", n), n, false},
		{fmt.Sprintf("downtracks=%d", n+1), n + 1, false},
		{fmt.Sprintf("downtracks=%d+recording", n), n, true},
	} {
		b.Run(tt.name, func(b *testing.B) {
			u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
			u.codec.ClockRate = 90000
			for i := range tt.downs {
				bindTest(u, discardWriter{}, uint32(i+1), 96)
			}
			var tap *recordTap
			var tw *tapWriter
			var fr *fileRecorder
			if tt.record {
				rec, err := record.Create(b.TempDir(), "bench", "r", time.Now())
				if err != nil {
					b.Fatal(err)
				}
				fr = &fileRecorder{rec: rec, tracks: make(chan *record.Track, 1)}
				tap = newRecordTap(u, fr, RecordedTrack{ID: "cam", Participant: "hall", Media: MediaVideo, Codec: "vp8", ClockRate: 90000})
				if u.cache.Load() == nil {
					u.cache.Store(packetcache.New(cachedPackets))
				}
				u.tap.Store(tap)
				tw = newTapWriter(tap, slog.New(slog.DiscardHandler))
			}
			key := vp8Keyframe()
			delta := vp8Packet(0, 0, false, true)
			delta = append(delta, make([]byte, 1000)...)
			var h rtp.Header
			stamp := func(pkt []byte, i int) {
				seq, ts := uint16(i), uint32(i*3000)
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
			}
			stamp(key, 0)
			u.forward(&h, key)
			b.SetBytes(int64(len(delta)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				stamp(delta, i+1)
				u.forward(&h, delta)
				if tap != nil && i%8 == 7 {
					// The recording's work, on this goroutine: what
					// its own does every 20 ms.
					tap.pending(tw.write)
				}
			}
			b.StopTimer()
			if tap != nil {
				tap.pending(tw.write)
				tw.close()
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if tap != nil {
				b.ReportMetric(float64(tap.lost.Load())/float64(b.N), "lost/op")
				select {
				case tr := <-fr.tracks:
					if tr.Bytes() == 0 {
						b.Error("nothing recorded")
					}
				default:
					b.Error("no track recorded")
				}
			}
		})
	}
}

// vp8Keyframe is a VP8 keyframe of 1 KB in one packet whose header names
// a picture of 640x360.
func vp8Keyframe() []byte {
	h := rtp.Header{Version: 2, PayloadType: 96, Marker: true, SSRC: 1234}
	payload := make([]byte, 1000)
	payload[0] = 0x10 // S, partition 0
	// Frame tag: keyframe, version 0, shown, first partition size 0;
	// start code; width and height.
	copy(payload[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01})
	pkt, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return pkt
}

func TestCompareMids(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1", "2", -1}, {"2", "10", -1}, {"10", "2", 1}, {"3", "3", 0}, {"", "0", -1}, {"a", "b", -1}, {"1", "a", -1},
	} {
		if got := compareMids(tt.a, tt.b); got != tt.want {
			t.Errorf("compareMids(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestRecordedTracks picks what a recording keeps of a participant whose
// content track arrived before its camera: the camera by its transceiver,
// every sound, and the content only while it is the conference's.
func TestRecordedTracks(t *testing.T) {
	video := func(mid string) *upTrack {
		u := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
		u.layers = &layerSet{head: u, mid: mid}
		u.layers.list.Store(&[]*upTrack{u})
		return u
	}
	content, camera := video("2"), video("1")
	sound := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	p := &Participant{published: []*upTrack{content, sound, camera}}
	parts := []*Participant{p}
	if got := recordedTracks(parts, nil); len(got) != 2 || got[0] != sound || got[1] != camera {
		t.Errorf("before the share: %v, want the sound and the camera", got)
	}
	if got := p.publishedTracks(); len(got) != 3 || got[0] != sound || got[1] != camera || got[2] != content {
		t.Errorf("published in the order sound, camera, content: %v", got)
	}
	p.contentMid = "2"
	if got := recordedTracks(parts, content); len(got) != 3 || got[0] != content || got[1] != sound || got[2] != camera {
		t.Errorf("while shared: %v, want the content, the sound and the camera", got)
	}
	if got := recordedTracks(parts, nil); len(got) != 2 || got[0] != sound || got[1] != camera {
		t.Errorf("after the share: %v, want the sound and the camera", got)
	}
}
