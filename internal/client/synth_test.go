package client

import (
	"errors"
	"slices"
	"testing"

	"hoinghi/internal/media/vp8"
)

func TestAudioGenerator(t *testing.T) {
	tests := []struct {
		bitrate  int
		wantSize int
	}{
		{32_000, 80},
		{64_000, 160},
		{1_000, 1 + regionMin}, // raised to the smallest verifiable payload
	}
	for _, tt := range tests {
		g := NewAudioGenerator(SenderHash("bien-hoa"), tt.bitrate)
		for i := range 3 {
			p := g.Next()
			if len(p) != tt.wantSize {
				t.Fatalf("bitrate %d: payload of %d bytes, want %d", tt.bitrate, len(p), tt.wantSize)
			}
			info, err := CheckAudio(p)
			if err != nil {
				t.Fatalf("bitrate %d packet %d: %v", tt.bitrate, i, err)
			}
			if info.Sender != SenderHash("bien-hoa") || info.Counter != uint32(i) {
				t.Errorf("bitrate %d packet %d: info %+v", tt.bitrate, i, info)
			}
		}
	}
}

func TestVideoGenerator(t *testing.T) {
	tests := []struct {
		bitrate  int
		wantPkts int
	}{
		{500_000, 3},   // 2500 bytes a frame
		{1_500_000, 7}, // 7500 bytes a frame
		{100_000, 1},
		{1_000, 1}, // raised to the smallest verifiable frame
	}
	for _, tt := range tests {
		g := NewVideoGenerator(SenderHash("hall"), tt.bitrate)
		var counter uint32
		for frame := range 4 {
			key := frame%2 == 0
			pkts := g.NextFrame(key)
			if len(pkts) != tt.wantPkts {
				t.Fatalf("bitrate %d: %d packets a frame, want %d", tt.bitrate, len(pkts), tt.wantPkts)
			}
			total := 0
			for i, p := range pkts {
				total += len(p)
				if len(p) > MaxVideoPayload {
					t.Errorf("bitrate %d: packet of %d bytes", tt.bitrate, len(p))
				}
				info, err := CheckVideo(p)
				if err != nil {
					t.Fatalf("bitrate %d frame %d packet %d: %v", tt.bitrate, frame, i, err)
				}
				want := PayloadInfo{Sender: SenderHash("hall"), Counter: counter, Frame: uint32(frame), FrameStart: i == 0, Keyframe: key && i == 0, KeyPicture: key,
					PictureID: uint16(frame), HasPictureID: true}
				if want.Keyframe {
					want.Width, want.Height = VideoWidth, VideoHeight
				}
				if info != want {
					t.Errorf("bitrate %d frame %d packet %d: got %+v, want %+v", tt.bitrate, frame, i, info, want)
				}
				counter++
			}
			if total != g.FrameSize() {
				t.Errorf("bitrate %d: frame of %d bytes, want %d", tt.bitrate, total, g.FrameSize())
			}
			if want := tt.bitrate / 8 / VideoFrameRate; total < want {
				t.Errorf("bitrate %d: frame of %d bytes, less than %d", tt.bitrate, total, want)
			}
		}
	}
}

func TestVideoGeneratorVP8Headers(t *testing.T) {
	g := NewVideoGenerator(1, 500_000)
	key := clone(g.NextFrame(true))
	if key[0][0] != 0x90 { // X and S, partition 0
		t.Errorf("first descriptor byte %#x, want 0x90", key[0][0])
	}
	if key[1][0] != 0x80 { // X only
		t.Errorf("second descriptor byte %#x, want 0x80", key[1][0])
	}
	tag := key[0][vp8DescLen:]
	if tag[0]&1 != 0 || tag[3] != 0x9d || tag[4] != 0x01 || tag[5] != 0x2a {
		t.Errorf("keyframe header % x", tag[:10])
	}
	if w, h := int(tag[6])|int(tag[7])<<8, int(tag[8])|int(tag[9])<<8; w != VideoWidth || h != VideoHeight {
		t.Errorf("keyframe size %dx%d", w, h)
	}
	inter := g.NextFrame(false)
	if inter[0][vp8DescLen]&1 != 1 {
		t.Errorf("interframe P bit not set: % x", inter[0][:8])
	}
	// Picture ids advance per frame.
	if pid0, pid1 := int(key[0][2]&0x7f)<<8|int(key[0][3]), int(inter[0][2]&0x7f)<<8|int(inter[0][3]); pid1 != pid0+1 {
		t.Errorf("picture ids %d then %d", pid0, pid1)
	}
}

func TestCheckRejects(t *testing.T) {
	audio := append([]byte(nil), NewAudioGenerator(7, 32_000).Next()...)
	vg := NewVideoGenerator(7, 500_000)
	video := append([]byte(nil), vg.NextFrame(true)[0]...)
	flip := func(p []byte, i int) []byte {
		q := append([]byte(nil), p...)
		q[i] ^= 0x01
		return q
	}
	tests := []struct {
		name    string
		video   bool
		payload []byte
		want    error
	}{
		{"audio empty", false, nil, ErrShortPayload},
		{"audio short", false, audio[:10], ErrShortPayload},
		{"audio flipped filler", false, flip(audio, 40), ErrBadCRC},
		{"audio flipped crc", false, flip(audio, len(audio)-1), ErrBadCRC},
		{"audio bad magic", false, flip(audio, 1), ErrBadMagic},
		{"audio given video", false, video[vp8DescLen+vp8KeyHdrLen-1:], ErrBadKind},
		{"video empty", true, nil, ErrShortPayload},
		{"video flipped filler", true, flip(video, 100), ErrBadCRC},
		{"video keyframe without start code", true, flip(video, vp8DescLen+3), ErrBadVP8},
		{"video keyframe tag cleared", true, flip(video, vp8DescLen), ErrBadMagic},
		{"video descriptor cut", true, []byte{0x90, 0x80}, ErrBadVP8},
		{"video given audio", true, append([]byte{0x10, 0x01, 0, 0}, audio[1:]...), ErrBadKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.video {
				_, err = CheckVideo(tt.payload)
			} else {
				_, err = CheckAudio(tt.payload)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckVideoDescriptorVariants(t *testing.T) {
	g := NewVideoGenerator(3, 100_000)
	p := g.NextFrame(true)[0]
	body := p[vp8DescLen:] // frame header and region
	tests := []struct {
		name string
		desc []byte
	}{
		{"minimal", []byte{0x10}},
		{"7-bit picture id", []byte{0x90, 0x80, 0x05}},
		{"15-bit picture id, tl0picidx, tid", []byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x40}},
		{"keyidx only", []byte{0x90, 0x10, 0x03}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := CheckVideo(append(append([]byte(nil), tt.desc...), body...))
			if err != nil {
				t.Fatal(err)
			}
			if !info.FrameStart || !info.Keyframe || info.Sender != 3 {
				t.Errorf("info %+v", info)
			}
		})
	}
}

func TestGeneratorsAllocateNothing(t *testing.T) {
	ag := NewAudioGenerator(1, 32_000)
	vg := NewVideoGenerator(1, 500_000)
	allocs := testing.AllocsPerRun(100, func() {
		p := ag.Next()
		if _, err := CheckAudio(p); err != nil {
			t.Fatal(err)
		}
		for _, p := range vg.NextFrame(false) {
			if _, err := CheckVideo(p); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet set, want 0", allocs)
	}
}

// clone copies the payloads of a frame, which the generator reuses.
func clone(pkts [][]byte) [][]byte {
	out := make([][]byte, len(pkts))
	for i, p := range pkts {
		out[i] = append([]byte(nil), p...)
	}
	return out
}

// TestLayerGenerator: the frames of a simulcast encoding carry its layer
// and its keyframes its picture size.
func TestLayerGenerator(t *testing.T) {
	g := NewLayerGenerator(SenderHash("hall"), 150_000, 2, 1280, 720, false)
	for frame := range 3 {
		for i, p := range g.NextFrame(frame == 0) {
			info, err := CheckVideo(p)
			if err != nil {
				t.Fatal(err)
			}
			if info.Layer != 2 {
				t.Errorf("frame %d packet %d: layer %d, want 2", frame, i, info.Layer)
			}
			if info.Keyframe && (info.Width != 1280 || info.Height != 720) {
				t.Errorf("keyframe of %dx%d, want 1280x720", info.Width, info.Height)
			}
		}
	}
}

// TestLayerGeneratorTemporal: an encoding with temporal layers numbers its
// pictures in the pattern 0, 2, 1, 2, counts its base pictures, marks the
// layer sync pictures, and starts the pattern again at a keyframe.
func TestLayerGeneratorTemporal(t *testing.T) {
	g := NewLayerGenerator(SenderHash("hall"), 300_000, 1, 640, 360, true)
	var tids []int
	var tl0s []uint8
	for frame := range 7 {
		pkts := g.NextFrame(frame == 0 || frame == 5)
		for i, p := range pkts {
			info, err := CheckVideo(p)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := vp8.Parse(p)
			if i == 0 {
				tids = append(tids, info.TID)
				tl0s = append(tl0s, d.TL0PicIdx)
				if wantSync := frame == 1 || frame == 2 || frame == 6; d.Sync != wantSync {
					t.Errorf("picture %d: sync %v, want %v", frame, d.Sync, wantSync)
				}
				if info.Keyframe != (frame == 0 || frame == 5) {
					t.Errorf("picture %d: keyframe %v", frame, info.Keyframe)
				}
			}
		}
	}
	if want := []int{0, 2, 1, 2, 0, 0, 2}; !slices.Equal(tids, want) {
		t.Errorf("temporal layers %v, want %v", tids, want)
	}
	if want := []uint8{0, 0, 0, 0, 1, 2, 2}; !slices.Equal(tl0s, want) {
		t.Errorf("TL0PICIDX %v, want %v", tl0s, want)
	}
}
