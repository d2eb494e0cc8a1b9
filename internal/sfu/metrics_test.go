package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
)

func TestHistogram(t *testing.T) {
	bounds := []float64{0.1, 1, 10}
	tests := []struct {
		name    string
		observe []time.Duration
		counts  []uint64
		cum     map[float64]uint64
		sum     float64
	}{
		{"empty", nil, []uint64{0, 0, 0, 0}, map[float64]uint64{0.1: 0, 1: 0, 10: 0}, 0},
		{"on the bounds", []time.Duration{100 * time.Millisecond, time.Second, 10 * time.Second},
			[]uint64{1, 1, 1, 0}, map[float64]uint64{0.1: 1, 1: 2, 10: 3}, 11.1},
		{"beyond the last", []time.Duration{time.Minute, 50 * time.Millisecond},
			[]uint64{1, 0, 0, 1}, map[float64]uint64{0.1: 1, 1: 1, 10: 1}, 60.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistogram(bounds)
			for _, d := range tt.observe {
				h.observe(d)
			}
			s := h.snapshot()
			for i, want := range tt.counts {
				if s.Counts[i] != want {
					t.Errorf("bucket %d = %d, want %d (%v)", i, s.Counts[i], want, s.Counts)
				}
			}
			if s.Count != uint64(len(tt.observe)) {
				t.Errorf("count = %d, want %d", s.Count, len(tt.observe))
			}
			if d := s.Sum - tt.sum; d > 1e-9 || d < -1e-9 {
				t.Errorf("sum = %v, want %v", s.Sum, tt.sum)
			}
			for b, want := range tt.cum {
				if got := s.Cumulative()[b]; got != want {
					t.Errorf("cumulative[%v] = %d, want %d", b, got, want)
				}
			}
		})
	}
}

// testSFU is an SFU without media ports, enough for floor and counters.
func testSFU() *SFU {
	s := &SFU{rooms: make(map[string]*room)}
	s.stats.joinTime = newHistogram(joinTimeBounds)
	s.stats.floorSwitchTime = newHistogram(floorSwitchBounds)
	return s
}

func TestSetFloorCountsSwitches(t *testing.T) {
	steps := []struct {
		holders  []string
		switches uint64
		pending  bool // a switch waits for a speaker slot's keyframe
	}{
		{nil, 0, false},
		{[]string{"a"}, 1, true},
		{[]string{"a"}, 1, true},      // the same floor applied again
		{[]string{"a", "b"}, 1, true}, // b joins a discussion: the picture stays a's
		{[]string{"b"}, 2, true},
		{nil, 2, false}, // taken back
		{[]string{"b"}, 3, true},
	}
	s := testSFU()
	defer func() {
		// An older version changes nothing.
		s.SetFloor("c", 0, []string{"x"})
		if got := s.Floor("c"); len(got) != 1 || got[0] != "b" {
			t.Errorf("after an older version the holders are %v, want [b]", got)
		}
	}()
	for i, st := range steps {
		s.SetFloor("c", int64(i), st.holders)
		if got := s.Stats().FloorSwitches; got != st.switches {
			t.Errorf("step %d %v: %d switches, want %d", i, st.holders, got, st.switches)
		}
		if got := s.rooms["c"].switchAt.Load() != 0; got != st.pending {
			t.Errorf("step %d %v: switch pending = %v, want %v", i, st.holders, got, st.pending)
		}
	}
}

func TestFirstMediaObservesJoinTimeOnce(t *testing.T) {
	s := testSFU()
	p := &Participant{sfu: s, connected: time.Now().Add(-1500 * time.Millisecond)}
	audio := testUpTrack(webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus)
	video := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	for _, u := range []*upTrack{audio, video} {
		u.owner, u.stats = p, &s.stats
		s.traffic.open(&u.traffic)
	}
	var h rtp.Header
	for i := range 5 {
		audio.forward(&h, opusPacket(uint16(i), uint32(i*960)))
		video.forward(&h, vp8Packet(uint16(i), uint32(i*3000), i == 0, true))
	}
	st := s.Stats()
	if st.JoinTime.Count != 1 {
		t.Fatalf("join time observed %d times, want once per participant", st.JoinTime.Count)
	}
	if st.JoinTime.Sum < 1.5 || st.JoinTime.Sum > 10 {
		t.Errorf("join time = %v s, want about 1.5", st.JoinTime.Sum)
	}
	if st.PacketsIn != 10 || st.BytesIn == 0 {
		t.Errorf("packets in = %d, bytes in = %d", st.PacketsIn, st.BytesIn)
	}
}

func TestSpeakerSlotObservesSwitchTimeOnce(t *testing.T) {
	s := testSFU()
	r := &room{sfu: s, id: "c", participants: map[string]*Participant{}}
	sub := &Participant{sfu: s, room: r}
	up := testUpTrack(webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8)
	up.stats = &s.stats
	slot := newSpeakerSlot(sub, &s.stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, SpeakerStreamID, "speaker-video", needHigh)
	slot.bound.Store(&binding{ssrc: 1, payloadType: 96, stream: discardWriter{}})

	r.switchAt.Store(time.Now().Add(-200 * time.Millisecond).UnixNano())
	slot.switchSource(up)
	var h rtp.Header
	up.forward(&h, vp8Packet(1, 0, false, true)) // waits for a keyframe
	if n := s.Stats().FloorSwitchTime.Count; n != 0 {
		t.Fatalf("switch observed before a keyframe was written")
	}
	up.forward(&h, vp8Packet(2, 3000, true, true))
	up.forward(&h, vp8Packet(3, 6000, true, true))
	st := s.Stats().FloorSwitchTime
	if st.Count != 1 {
		t.Fatalf("switch time observed %d times, want once", st.Count)
	}
	if st.Sum < 0.2 || st.Sum > 5 {
		t.Errorf("switch time = %v s, want about 0.2", st.Sum)
	}
}

func TestStatsByRole(t *testing.T) {
	s := testSFU()
	s.stats.countRole(conference.RolePoint, 1)
	s.stats.countRole(conference.RolePoint, 1)
	s.stats.countRole(conference.RoleChair, 1)
	s.stats.countRole(conference.RoleChair, -1)
	s.stats.countRole("visitor", 1) // not a role: not counted
	got := s.Stats().ByRole
	want := map[conference.Role]int64{conference.RoleTechnician: 0, conference.RoleChair: 0, conference.RolePoint: 2, conference.RoleSecretariat: 0,
		conference.RoleIngest: 0, conference.RoleViewer: 0}
	if len(got) != len(want) {
		t.Errorf("by role = %v, want %v", got, want)
	}
	for r, n := range want {
		if got[r] != n {
			t.Errorf("%s: %d, want %d", r, got[r], n)
		}
	}
}
