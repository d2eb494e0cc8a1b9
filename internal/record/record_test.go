package record

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var t0 = time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hall", "hall"},
		{"Hội nghị tỉnh Sơn La", "Hoi-nghi-tinh-Son-La"},
		{"Đồng Tháp", "Dong-Thap"},
		{"../../etc/passwd", "etc-passwd"},
		{"a__b", "a-b"},
		{"p-1", "p-1"},
		{"", "x"},
		{"???", "x"},
		{"điểm cầu 07", "diem-cau-07"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, conference, id string
		wantErr              bool
	}{
		{"plain", "Hội nghị", "20261204T200000Z", false},
		{"again", "Hội nghị", "20261204T200000Z", true}, // exists
		{"other id", "Hội nghị", "20261204T200001Z", false},
		{"bad id", "c", "../x", true},
		{"empty id", "c", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Create(dir, tt.conference, tt.id, t0)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Create(%q, %q) succeeded, want an error", tt.conference, tt.id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, sanitize(tt.conference), tt.id); rec.Dir() != want {
				t.Errorf("Dir %s, want %s", rec.Dir(), want)
			}
			if err := rec.Close(t0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAddTrack(t *testing.T) {
	rec, err := Create(t.TempDir(), "Hội nghị", "r", t0)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(t0)
	tests := []struct {
		info     TrackInfo
		wantFile string // "" for an error
	}{
		{TrackInfo{ID: "a", Participant: "hall", Media: "audio", Codec: "opus"}, "Hoi-nghi_hall_audio_20261204T200000Z.ogg"},
		{TrackInfo{ID: "b", Participant: "hall", Media: "audio", Codec: "audio/OPUS"}, "Hoi-nghi_hall_audio_20261204T200000Z-2.ogg"},
		{TrackInfo{ID: "c", Participant: "hall", Media: "audio", Codec: "opus"}, "Hoi-nghi_hall_audio_20261204T200000Z-3.ogg"},
		{TrackInfo{ID: "d", Participant: "Trần Văn A", Media: "video", Codec: "VP8"}, "Hoi-nghi_Tran-Van-A_video_20261204T200000Z.webm"},
		{TrackInfo{ID: "e", Participant: "whip", Media: "content", Codec: "video/H264"}, "Hoi-nghi_whip_content_20261204T200000Z.mkv"},
		{TrackInfo{ID: "a", Participant: "x", Media: "audio", Codec: "opus"}, ""},                  // id taken
		{TrackInfo{ID: "f", Participant: "x", Media: "video", Codec: "vp9"}, ""},                   // codec
		{TrackInfo{ID: "g", Participant: "x", Media: "audio", Codec: "opus", ClockRate: 8000}, ""}, // clock
		{TrackInfo{Participant: "x", Media: "audio", Codec: "opus"}, ""},                           // no id
	}
	for _, tt := range tests {
		tr, err := rec.AddTrack(tt.info, t0)
		if tt.wantFile == "" {
			if err == nil {
				t.Errorf("AddTrack(%+v) succeeded, want an error", tt.info)
			}
			continue
		}
		if err != nil {
			t.Errorf("AddTrack(%+v): %v", tt.info, err)
			continue
		}
		if tr.File() != tt.wantFile {
			t.Errorf("AddTrack(%+v) file %s, want %s", tt.info, tr.File(), tt.wantFile)
		}
		if _, err := os.Stat(filepath.Join(rec.Dir(), tr.File())); err != nil {
			t.Errorf("track file: %v", err)
		}
	}
}

func TestEventKinds(t *testing.T) {
	rec, err := Create(t.TempDir(), "c", "r", t0)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(t0)
	for _, kind := range []string{"", KindStart, KindTrack, KindTrackStart, KindSenderReport, KindTrackEnd, KindStop} {
		if err := rec.Event(kind, t0, nil); err == nil {
			t.Errorf("Event(%q) succeeded, want an error", kind)
		}
	}
	if err := rec.Event("floor", t0, map[string]string{"speaker": "p1"}); err != nil {
		t.Errorf("Event(floor): %v", err)
	}
}

// ntpOf returns the NTP timestamp of a time.
func ntpOf(t time.Time) uint64 {
	sec := uint64(t.Unix() + 2208988800)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

// vp8Payload returns the RTP payload of a one-packet VP8 frame: a
// keyframe of 320x180 or an inter frame; the bytes after the header are
// not a real picture.
func vp8Payload(key bool) []byte {
	p := make([]byte, 40)
	p[0] = 0x10 // S, partition 0
	if key {
		copy(p[1:], []byte{0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00})
	} else {
		p[1] = 0x01
	}
	return p
}

// TestTrackStart places a participant's audio and video by their sender
// reports: the source's clock is hours off the server's, the reports
// arrive after varying delays, the first packets after more.
func TestTrackStart(t *testing.T) {
	const clockOff = 3*time.Hour + 17*time.Minute // source clock = server clock - clockOff
	const (
		a0 = 1000       // audio RTP time at server time t0
		v0 = 4294960000 // video RTP time at t0+40ms, near the wrap
	)
	audioAt := func(ts uint32) time.Time { return t0.Add(time.Duration(ts-a0) * time.Second / 48000) }
	videoAt := func(ts uint32) time.Time {
		return t0.Add(40*time.Millisecond + time.Duration(int32(ts-v0))*time.Second/90000)
	}
	tests := []struct {
		name      string
		reports   bool
		bogus     bool // reports whose RTP times belong to another source
		wantAudio time.Time
		wantVideo time.Time
		wantFrom  string
	}{
		// The least delay of a report is 5 ms, hence the 5 ms.
		{"sender reports", true, false, t0.Add(5 * time.Millisecond), t0.Add(45 * time.Millisecond), "sr"},
		{"no reports", false, false, t0.Add(30 * time.Millisecond), t0.Add(100 * time.Millisecond), "arrival"},
		{"bogus reports", true, true, t0.Add(30 * time.Millisecond), t0.Add(100 * time.Millisecond), "arrival"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Create(t.TempDir(), "c", "r", t0)
			if err != nil {
				t.Fatal(err)
			}
			audio, err := rec.AddTrack(TrackInfo{ID: "a", Participant: "p", Media: "audio", Codec: "opus"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			video, err := rec.AddTrack(TrackInfo{ID: "v", Participant: "p", Media: "video", Codec: "vp8"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			// First packets: audio 30 ms after capture, video 60 ms.
			for i := range 100 {
				ts := uint32(a0 + 960*i)
				p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: ts}, Payload: opusSilence[:]}
				if err := audio.WriteRTP(p, audioAt(ts).Add(30*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 60 {
				ts := uint32(v0 + 3000*i)
				p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: ts, Marker: true}, Payload: vp8Payload(i%30 == 0)}
				if err := video.WriteRTP(p, videoAt(ts).Add(60*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.reports {
				delays := []time.Duration{20 * time.Millisecond, 5 * time.Millisecond, 12 * time.Millisecond}
				for i, d := range delays {
					ats := uint32(a0 + 48000*(i+1))
					vts := uint32(v0 + 90000*(i+1))
					aw, vw := audioAt(ats), videoAt(vts)
					if tt.bogus {
						ats, vts = ats+48000*60, vts+90000*60
					}
					if err := audio.SenderReport(ntpOf(aw.Add(-clockOff)), ats, aw.Add(d)); err != nil {
						t.Fatal(err)
					}
					if err := video.SenderReport(ntpOf(vw.Add(-clockOff)), vts, vw.Add(d+time.Millisecond)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := rec.Close(t0.Add(4 * time.Second)); err != nil {
				t.Fatal(err)
			}
			ix, err := ReadIndex(filepath.Join(rec.Dir(), IndexName))
			if err != nil {
				t.Fatal(err)
			}
			if len(ix.Tracks) != 2 {
				t.Fatalf("%d tracks, want 2", len(ix.Tracks))
			}
			for _, c := range []struct {
				tr   IndexTrack
				want time.Time
			}{{ix.Tracks[0], tt.wantAudio}, {ix.Tracks[1], tt.wantVideo}} {
				if d := c.tr.Start.Sub(c.want); d < -time.Millisecond || d > time.Millisecond || c.tr.StartFrom != tt.wantFrom {
					t.Errorf("track %s: start %v from %s, want %v from %s", c.tr.ID, c.tr.Start, c.tr.StartFrom, c.want, tt.wantFrom)
				}
				if c.tr.End.IsZero() || !c.tr.End.Equal(c.tr.Start.Add(c.tr.Duration)) {
					t.Errorf("track %s: end %v, start %v, duration %v", c.tr.ID, c.tr.End, c.tr.Start, c.tr.Duration)
				}
			}
			if got := ix.Tracks[0].Duration; got != 2*time.Second {
				t.Errorf("audio duration %v, want 2s", got)
			}
		})
	}
}

// TestSenderReportsThinned: the index keeps the first reports and then
// one every 30 s.
func TestSenderReportsThinned(t *testing.T) {
	rec, err := Create(t.TempDir(), "c", "r", t0)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rec.AddTrack(TrackInfo{ID: "a", Participant: "p", Media: "audio", Codec: "opus"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 { // one a second for two minutes
		at := t0.Add(time.Duration(i) * time.Second)
		if err := tr.SenderReport(ntpOf(at), uint32(48000*i), at); err != nil {
			t.Fatal(err)
		}
	}
	rec.Close(t0.Add(2 * time.Minute))
	ix, err := ReadIndex(filepath.Join(rec.Dir(), IndexName))
	if err != nil {
		t.Fatal(err)
	}
	// 0..4, then 34, 64, 94.
	if got := len(ix.Tracks[0].Reports); got != 8 {
		t.Errorf("%d reports kept, want 8", got)
	}
}

// TestReadIndex reads an index cut short by a crash: a torn last line,
// no stop, no track_end.
func TestReadIndex(t *testing.T) {
	rec, err := Create(t.TempDir(), "Hội nghị", "r1", t0)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rec.AddTrack(TrackInfo{ID: "a", Participant: "p", Name: "Điểm cầu Lai Châu", Media: "audio", Codec: "opus"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(960 * i)}, Payload: opusSilence[:]}
		if err := tr.WriteRTP(p, t0.Add(time.Duration(20*i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	events := []struct {
		kind   string
		fields any
	}{
		{"floor", map[string]string{"speaker": "p"}},
		{"content", map[string]any{"on": true, "track": "c1"}},
		{"program", nil},
	}
	for i, e := range events {
		if err := rec.Event(e.kind, t0.Add(time.Duration(i+1)*time.Second), e.fields); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(rec.Dir(), IndexName)
	crashed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(t0.Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(t.TempDir(), "torn.jsonl")
	tornData := append(append([]byte(nil), crashed...), `{"at":"2026-12-04T20:00:04Z","kind":"flo`...)
	if err := os.WriteFile(torn, tornData, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	lines := strings.SplitAfter(string(whole), "\n")
	badData := strings.Join(append(append(append([]string(nil), lines[:2]...), "{not json\n"), lines[2:]...), "")
	if err := os.WriteFile(bad, []byte(badData), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		path      string
		wantErr   bool
		wantStop  bool
		wantEnded bool
	}{
		{"clean", path, false, true, true},
		{"torn", torn, false, false, false},
		{"corrupt middle line", bad, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := ReadIndex(tt.path)
			if tt.wantErr {
				if err == nil {
					t.Fatal("ReadIndex succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ix.Conference != "Hội nghị" || ix.ID != "r1" || !ix.Start.Equal(t0) {
				t.Errorf("recording %q %q %v", ix.Conference, ix.ID, ix.Start)
			}
			if got := !ix.Stop.IsZero(); got != tt.wantStop {
				t.Errorf("stop %v, want set: %v", ix.Stop, tt.wantStop)
			}
			if len(ix.Events) != len(events) {
				t.Fatalf("%d events, want %d", len(ix.Events), len(events))
			}
			for i, e := range events {
				got := ix.Events[i]
				want, _ := json.Marshal(e.fields)
				if e.fields == nil {
					want = nil
				}
				if got.Kind != e.kind || !got.At.Equal(t0.Add(time.Duration(i+1)*time.Second)) || string(got.Fields) != string(want) {
					t.Errorf("event %d: %s %v %s; want %s %s", i, got.Kind, got.At, got.Fields, e.kind, want)
				}
			}
			if len(ix.Tracks) != 1 {
				t.Fatalf("%d tracks, want 1", len(ix.Tracks))
			}
			it := ix.Tracks[0]
			if it.File != tr.File() || it.Name != "Điểm cầu Lai Châu" || !it.Started || !it.Start.Equal(t0) {
				t.Errorf("track %+v", it)
			}
			if got := !it.End.IsZero(); got != tt.wantEnded {
				t.Errorf("track end %v, want set: %v", it.End, tt.wantEnded)
			}
		})
	}
}

// TestLossWaitsForKeyframe: after a packet is given up, video frames are
// dropped until the next keyframe, and the track says it needs one.
func TestLossWaitsForKeyframe(t *testing.T) {
	rec, err := Create(t.TempDir(), "c", "r", t0)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close(t0)
	tr, err := rec.AddTrack(TrackInfo{ID: "v", Participant: "p", Media: "video", Codec: "vp8"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.NeedsKeyframe() {
		t.Error("a new video track does not ask for a keyframe")
	}
	seq := uint16(0)
	send := func(frame int, key bool) {
		t.Helper()
		p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(3000 * frame), Marker: true}, Payload: vp8Payload(key)}
		seq++
		if err := tr.WriteRTP(p, t0.Add(time.Duration(frame)*33*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	for f := range 10 {
		send(f, f == 0)
	}
	if tr.NeedsKeyframe() {
		t.Error("asks for a keyframe after one came")
	}
	seq++ // frame 10 is lost
	for f := 11; f < 30; f++ {
		send(f, false)
	}
	if !tr.NeedsKeyframe() {
		t.Error("does not ask for a keyframe after a loss")
	}
	send(30, true)
	if tr.NeedsKeyframe() {
		t.Error("asks for a keyframe after one came")
	}
	for f := 31; f < 35; f++ {
		send(f, false)
	}
	tr.mu.Lock()
	frames, lost, dropped := tr.frames, tr.lost, tr.dropped
	tr.mu.Unlock()
	if frames != 10+5 || lost != 1 || dropped != 19 {
		t.Errorf("frames %d, lost %d, dropped %d; want 15, 1, 19", frames, lost, dropped)
	}
}

// TestClosed: a closed track refuses packets, and a recording closes its
// tracks, including ones without any frame (their files get a header but
// no media: ffprobe says "End of file", the index says not Started).
func TestClosed(t *testing.T) {
	rec, err := Create(t.TempDir(), "c", "r", t0)
	if err != nil {
		t.Fatal(err)
	}
	var tracks []*Track
	for _, codec := range []string{"opus", "vp8", "h264"} {
		tr, err := rec.AddTrack(TrackInfo{ID: codec, Participant: "p", Media: "video", Codec: codec}, t0)
		if err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	if err := rec.Close(t0); err != nil {
		t.Fatal(err)
	}
	for _, tr := range tracks {
		p := &rtp.Packet{Payload: opusSilence[:]}
		if err := tr.WriteRTP(p, t0); !errors.Is(err, ErrClosed) {
			t.Errorf("WriteRTP after Close: %v, want ErrClosed", err)
		}
		if tr.Bytes() == 0 {
			t.Errorf("%s: empty file", tr.File())
		}
	}
	if _, err := rec.AddTrack(TrackInfo{ID: "late", Media: "audio", Codec: "opus"}, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("AddTrack after Close: %v, want ErrClosed", err)
	}
	if err := rec.Event("floor", t0, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Event after Close: %v, want ErrClosed", err)
	}
	if err := rec.Close(t0); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestConcurrentClose writes packets and sender reports from their own
// goroutines while the recording closes: no race, and WriteRTP ends with
// ErrClosed.
func TestConcurrentClose(t *testing.T) {
	rec, err := Create(t.TempDir(), "c", "r", t0)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rec.AddTrack(TrackInfo{ID: "a", Participant: "p", Media: "audio", Codec: "opus"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() {
		for i := 0; ; i++ {
			p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(960 * i)}, Payload: opusSilence[:]}
			if err := tr.WriteRTP(p, t0.Add(time.Duration(20*i)*time.Millisecond)); err != nil {
				done <- err
				return
			}
		}
	}()
	go func() {
		for i := 0; ; i++ {
			at := t0.Add(time.Duration(i) * time.Minute)
			if err := tr.SenderReport(ntpOf(at), uint32(i), at); err != nil {
				done <- err
				return
			}
			_ = tr.Bytes()
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if err := rec.Close(t0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: %v, want ErrClosed", err)
		}
	}
}

// TestSequenceRestart: sequence numbers that start over far away (a
// source that restarted) are taken after a few packets, not dropped as
// late for ever.
func TestSequenceRestart(t *testing.T) {
	tests := []struct {
		name       string
		jumpTo     uint16
		wantFrames int64
	}{
		{"far behind", 40000, 50 + 100 - 15},  // 15 dropped before the window moves
		{"far ahead", 20000, 50 + 100},        // the window moves at once
		{"just ahead", 50 + 300, 50 + 100},    // past the window
		{"in the window", 50 + 100, 50 + 100}, // a loss of 100 packets
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Create(t.TempDir(), "c", "r", t0)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := rec.AddTrack(TrackInfo{ID: "a", Participant: "p", Media: "audio", Codec: "opus"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 150 {
				seq := uint16(i)
				if i >= 50 {
					seq = tt.jumpTo + uint16(i-50)
				}
				p := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: uint32(960 * i)}, Payload: opusSilence[:]}
				if err := tr.WriteRTP(p, t0.Add(time.Duration(20*i)*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			if err := rec.Close(t0.Add(3 * time.Second)); err != nil {
				t.Fatal(err)
			}
			ix, err := ReadIndex(filepath.Join(rec.Dir(), IndexName))
			if err != nil {
				t.Fatal(err)
			}
			if got := ix.Tracks[0].Frames; got != tt.wantFrames {
				t.Errorf("%d frames written, want %d", got, tt.wantFrames)
			}
			if got := ix.Tracks[0].Duration; got != 3*time.Second {
				t.Errorf("duration %v, want 3s", got)
			}
		})
	}
}

// TestOpusGapFill: a pause is filled with silence as long as the time
// that passed; timestamps that jump ahead of the clock do not make the
// file grow, but stay on the timeline.
func TestOpusGapFill(t *testing.T) {
	tests := []struct {
		name     string
		jump     uint32        // RTP time skipped after packet 10
		passed   time.Duration // server time that passed meanwhile
		maxBytes int64
	}{
		{"pause of 2 s", 2 * 48000, 2 * time.Second, 2000},
		{"jump of an hour in 20 ms", 3600 * 48000, 20 * time.Millisecond, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Create(t.TempDir(), "c", "r", t0)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := rec.AddTrack(TrackInfo{ID: "a", Participant: "p", Media: "audio", Codec: "opus"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			at := t0
			for i := range 20 {
				ts := uint32(960 * i)
				if i >= 10 {
					ts += tt.jump
				}
				if i == 10 {
					at = at.Add(tt.passed)
				} else {
					at = at.Add(20 * time.Millisecond)
				}
				p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: ts}, Payload: opusSilence[:]}
				if err := tr.WriteRTP(p, at); err != nil {
					t.Fatal(err)
				}
			}
			if err := rec.Close(at); err != nil {
				t.Fatal(err)
			}
			if got := tr.Bytes(); got > tt.maxBytes {
				t.Errorf("file of %d bytes, want at most %d", got, tt.maxBytes)
			}
			ix, err := ReadIndex(filepath.Join(rec.Dir(), IndexName))
			if err != nil {
				t.Fatal(err)
			}
			want := time.Duration(20*960+tt.jump) * time.Second / 48000
			if got := ix.Tracks[0].Duration; got != want {
				t.Errorf("duration %v, want %v", got, want)
			}
		})
	}
}
