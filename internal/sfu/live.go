package sfu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
)

// LiveOutput is where the live program of a conference goes: plain RTP
// over UDP to a local encoder (the livestream's ffmpeg). Video carries
// VP8 with payload type VideoPT; HallAudio and SpeakerAudio carry Opus
// with AudioPT. Both sounds are kept fed with Opus silence while nobody
// speaks, so that the encoder's mix never waits.
type LiveOutput struct {
	Video, HallAudio, SpeakerAudio *net.UDPAddr
	VideoPT, AudioPT               uint8
	// Speaker, when set, is told who speaks (the first floor holder; a
	// zero ProgramParticipant for none) when the live program starts and
	// at each change, for a caption. It is called under the room's
	// program lock and must not block.
	Speaker func(ProgramParticipant)
}

// Live is the live program of one conference as it is sent to a
// LiveOutput: the content while one is shared, else the speaker's camera,
// else the hall program's picture; the hall program's sound and the
// speaker's. The SFU switches its sources as the floor and the content
// change, each switch on a keyframe.
type Live struct {
	r       *room
	sink    *Participant
	video   *downTrack
	hall    *downTrack
	speaker *downTrack
	writers []*liveWriter
	// tell is told the first floor holder; told is the last it was
	// told, under r.applyMu.
	tell func(ProgramParticipant)
	told *ProgramParticipant
	stop chan struct{}
	done chan struct{}
}

// ErrLiveRunning refuses a second live program of a conference.
var ErrLiveRunning = errors.New("sfu: the conference's live program already runs")

// StartLive starts sending conference conf's live program to out.
func (s *SFU) StartLive(conf string, out LiveOutput) (*Live, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	r := s.roomLocked(conf)
	s.mu.Unlock()
	sink := &Participant{sfu: s, room: r, info: Info{ID: "livestream", Role: conference.RoleViewer, Name: "livestream"}, log: s.log.With("conference", conf, "participant", "livestream")}
	l := &Live{r: r, sink: sink, tell: out.Speaker, stop: make(chan struct{}), done: make(chan struct{})}
	stats := &s.stats
	l.video = newSpeakerSlot(sink, stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, ProgramStreamID, "live-video", needHigh)
	l.hall = newSpeakerSlot(sink, stats, speakerCodec(webrtc.RTPCodecTypeAudio), webrtc.RTPCodecTypeAudio, ProgramStreamID, "live-hall-audio", needHigh)
	l.speaker = newSpeakerSlot(sink, stats, speakerCodec(webrtc.RTPCodecTypeAudio), webrtc.RTPCodecTypeAudio, SpeakerStreamID, "live-speaker-audio", needHigh)
	for _, x := range []struct {
		d    *downTrack
		addr *net.UDPAddr
		pt   uint8
	}{{l.video, out.Video, out.VideoPT}, {l.hall, out.HallAudio, out.AudioPT}, {l.speaker, out.SpeakerAudio, out.AudioPT}} {
		w, err := newLiveWriter(x.addr, x.pt, x.d.kind == webrtc.RTPCodecTypeAudio)
		if err != nil {
			l.closeWriters()
			return nil, err
		}
		l.writers = append(l.writers, w)
		x.d.bound.Store(x.d.newBinding(w.ssrc, x.pt, w))
	}
	r.mu.Lock()
	if r.live != nil {
		r.mu.Unlock()
		l.closeWriters()
		return nil, ErrLiveRunning
	}
	r.live = l
	r.mu.Unlock()
	go l.fillSilence()
	r.applyFloor()
	return l, nil
}

// Stop ends the live program: its sources are let go and its sockets
// closed.
func (l *Live) Stop() {
	// Under applyMu, so that no applyFloor under way fills l after.
	l.r.applyMu.Lock()
	l.r.mu.Lock()
	if l.r.live == l {
		l.r.live = nil
	}
	l.r.mu.Unlock()
	l.r.applyMu.Unlock()
	select {
	case <-l.stop:
		return
	default:
		close(l.stop)
	}
	<-l.done
	for _, d := range []*downTrack{l.video, l.hall, l.speaker} {
		d.close()
	}
	l.closeWriters()
	l.r.sfu.dropIfEmpty(l.r)
}

func (l *Live) closeWriters() {
	for _, w := range l.writers {
		w.conn.Close()
	}
}

// fill points the live program at its sources; applyFloor calls it
// under r.applyMu.
func (l *Live) fill(holders []string, byID map[string]*Participant, vp8, audio, content *upTrack) {
	var camera, voice *upTrack
	var speaker ProgramParticipant
	for _, id := range holders {
		h := byID[id]
		if h == nil {
			continue
		}
		speaker = ProgramParticipant{ID: h.info.ID, Name: h.info.Name, Role: h.info.Role}
		for _, up := range h.publishedTracks() {
			switch {
			case up.kind == webrtc.RTPCodecTypeVideo && camera == nil && up.codec.MimeType == webrtc.MimeTypeVP8:
				camera = up
			case up.kind == webrtc.RTPCodecTypeAudio && voice == nil && up != audio:
				voice = up
			}
		}
		break
	}
	video := content
	if video == nil {
		video = camera
	}
	if video == nil {
		video = vp8
	}
	l.video.switchSource(video)
	l.hall.switchSource(audio)
	l.speaker.switchSource(voice)
	if l.tell != nil && (l.told == nil || *l.told != speaker) {
		l.told = &speaker
		l.tell(speaker)
	}
}

// fillSilence writes Opus silence on each sound of l that had nothing to
// send for a while, every 20 ms, until l stops.
func (l *Live) fillSilence() {
	defer close(l.done)
	t := time.NewTicker(opusFrame)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			for _, w := range l.writers {
				if w.audio {
					w.silence(now.UnixNano())
				}
			}
		}
	}
}

// opusFrame is the duration of one Opus frame of silence, and
// opusSilence one such frame (CELT, full band, 20 ms, mono, silent).
const opusFrame = 20 * time.Millisecond

var opusSilence = [...]byte{0xf8, 0xff, 0xfe}

// silenceAfter is how long a sound may send nothing before silence fills
// it.
const silenceAfter = 3 * opusFrame

// liveWriter sends one stream of a live program to its UDP address: it
// is the binding's webrtc.TrackLocalWriter. A sound's writer numbers its
// packets itself, so that the silence it inserts and what the SFU
// forwards make one stream without gaps or overlaps.
type liveWriter struct {
	conn  *net.UDPConn
	pt    uint8
	ssrc  uint32
	audio bool

	mu      sync.Mutex
	buf     [1500]byte
	started bool
	seq     uint16
	ts      uint32 // of the last packet sent
	inTS    uint32 // the forwarded timestamp of the last packet sent, when real
	real    bool   // the last packet sent was forwarded, not silence
	last    int64  // when the last packet was sent (unix nanoseconds)
}

func newLiveWriter(addr *net.UDPAddr, pt uint8, audio bool) (*liveWriter, error) {
	if addr == nil {
		return nil, errors.New("sfu: live output without an address")
	}
	conn, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		return nil, fmt.Errorf("sfu: live output to %s: %w", addr, err)
	}
	return &liveWriter{conn: conn, pt: pt, ssrc: rand.Uint32(), audio: audio, seq: uint16(rand.Uint32())}, nil
}

// WriteRTP sends one packet the SFU forwards.
func (w *liveWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := *h
	out.SSRC, out.PayloadType = w.ssrc, w.pt
	out.Extension, out.Extensions = false, nil
	out.Padding, out.PaddingSize = false, 0
	if w.audio {
		now := time.Now().UnixNano()
		w.advance(now, h.Timestamp, true)
		out.SequenceNumber, out.Timestamp = w.seq, w.ts
		out.Marker = false
	}
	return w.send(&out, payload)
}

// Write sends a whole packet; the SFU writes through WriteRTP only.
func (w *liveWriter) Write(b []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return 0, err
	}
	return w.WriteRTP(&p.Header, p.Payload)
}

// advance moves a sound's numbering to its next packet at now: a
// forwarded packet that follows one keeps the publisher's spacing; after
// silence, or a pause, the timestamp moves on by the time that passed.
// w.mu must be held.
func (w *liveWriter) advance(now int64, inTS uint32, real bool) {
	const rate = 48000
	switch {
	case !w.started:
		w.started = true
		w.ts = rand.Uint32()
	case real && w.real && inTS-w.inTS < rate:
		w.ts += inTS - w.inTS
	default:
		step := uint32(time.Duration(now-w.last).Seconds() * rate)
		w.ts += max(step, rate/50)
	}
	w.seq++
	w.real, w.inTS, w.last = real, inTS, now
}

// silence sends one frame of silence when the sound sent nothing for
// silenceAfter.
func (w *liveWriter) silence(now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !w.started:
	case w.real && now-w.last < int64(silenceAfter):
		return
	case !w.real && now-w.last < int64(opusFrame*3/4):
		return
	}
	if w.started && !w.real {
		// Silence follows silence frame by frame.
		w.ts += 48000 / 50
		w.seq++
		w.last = now
	} else {
		w.advance(now, 0, false)
	}
	h := rtp.Header{Version: 2, PayloadType: w.pt, SequenceNumber: w.seq, Timestamp: w.ts, SSRC: w.ssrc}
	w.send(&h, opusSilence[:])
}

// send marshals h and payload into w's buffer and writes them; a refused
// write (the encoder is not listening yet) is not an error. w.mu must be
// held.
func (w *liveWriter) send(h *rtp.Header, payload []byte) (int, error) {
	n, err := h.MarshalTo(w.buf[:])
	if err != nil {
		return 0, err
	}
	if n+len(payload) > len(w.buf) {
		return 0, errors.New("sfu: live packet too large")
	}
	n += copy(w.buf[n:], payload)
	w.conn.Write(w.buf[:n])
	return n, nil
}

// RequestKeyframe asks the source of the live picture for a keyframe, for
// an encoder that started after the last one.
func (l *Live) RequestKeyframe() {
	if t := l.video.target(); t != nil {
		t.requestKeyframe()
	}
}
