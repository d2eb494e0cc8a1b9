package sfu

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
	"hoinghi/internal/media/packetcache"
)

// Recorder takes what a conference's recording keeps: the packets of the
// tracks the SFU forwards, as they are forwarded, and each change of what
// the program shows. The SFU calls it from its own goroutines; neither
// method may block for long.
type Recorder interface {
	// RecordTrack opens the recording of one track, called from that
	// track's recording goroutine at its first packet; an error leaves
	// the track unrecorded (and is logged).
	RecordTrack(t RecordedTrack, now time.Time) (TrackRecorder, error)
	// ProgramChanged says what the program shows from now on. It is
	// called once when the recorder is set and then at each change, in
	// order.
	ProgramChanged(s ProgramState, now time.Time)
}

// TrackRecorder writes one recorded track. Its methods are called from
// one goroutine. One that also has a method Flush() error is flushed
// every second.
type TrackRecorder interface {
	// WriteRTP takes the track's packets in arrival order; it must not
	// keep p after it returns.
	WriteRTP(p *rtp.Packet, arrival time.Time) error
	// SenderReport takes a sender report of the track's publisher.
	SenderReport(ntp uint64, rtpTime uint32, arrival time.Time) error
	// Close ends the track's recording.
	Close(now time.Time) error
}

// Recorded media kinds (RecordedTrack.Media).
const (
	MediaAudio   = "audio"
	MediaVideo   = "video"
	MediaContent = "content"
)

// RecordedTrack names a recorded track: whose it is and what it carries.
type RecordedTrack struct {
	// ID is unique among the tracks of the SFU's conference.
	ID          string
	Participant string
	Name        string
	Role        conference.Role
	// Media is MediaAudio, MediaVideo (a camera, or the hall program
	// from a mixer) or MediaContent.
	Media string
	// Codec is "opus", "vp8" or "h264".
	Codec     string
	ClockRate uint32
}

// ProgramState is what the program shows at a moment: the floor holders,
// the shared content, the hall program's picture and sound.
type ProgramState struct {
	// Holders are the floor holders, first the speaker.
	Holders []ProgramParticipant
	// Content is the participant whose content everyone sees, "" for
	// none.
	Content string
	// Video and Audio are the participants whose picture and sound are
	// the hall program, "" for none.
	Video, Audio string
}

// ProgramParticipant is a participant as a program shows it.
type ProgramParticipant struct {
	ID   string
	Name string
	Role conference.Role
}

// recordQueue is how many packets a track's recording goroutine may be
// behind its forwarding before packets are lost to the recording: the
// packet cache holds at least as many of them. recordEvery is how often
// the goroutine takes what was forwarded: at 128 video packets a second,
// a few each time, well within the cache.
const (
	recordQueue = cachedAudioPackets
	recordEvery = 20 * time.Millisecond
)

// recordJob is one forwarded packet for a recording goroutine to read
// from its track's cache.
type recordJob struct {
	seq     uint16
	arrival int64
}

// recordReport is one sender report for a recording goroutine.
type recordReport struct {
	ntp     uint64
	rtp     uint32
	arrival int64
}

// recordTap is the recording of one up-track while it is recorded: the
// run loop notes each forwarded packet's sequence number and arrival in
// a ring, and the tap's goroutine takes them every recordEvery, reads
// the packets from the track's cache and writes them. The run loop pays
// two stores a packet and wakes nobody.
type recordTap struct {
	up   *upTrack
	rec  Recorder
	info RecordedTrack
	// ring holds the packets forwarded and not yet taken: the run loop
	// writes ring[head%len] and then moves head; the goroutine reads up
	// to head and then moves tail.
	ring       [recordQueue]recordJob
	head, tail atomic.Uint64
	reports    chan recordReport
	stop       chan struct{}
	stopped    atomic.Bool
	lost       atomic.Uint64 // packets the recording missed
}

func newRecordTap(u *upTrack, rec Recorder, info RecordedTrack) *recordTap {
	return &recordTap{up: u, rec: rec, info: info, reports: make(chan recordReport, 4), stop: make(chan struct{})}
}

// offer notes one forwarded packet for the tap, dropping it when the
// tap's goroutine is too far behind. Only the run loop calls it.
func (t *recordTap) offer(seq uint16, now int64) {
	h := t.head.Load()
	if h-t.tail.Load() >= recordQueue {
		t.lost.Add(1)
		return
	}
	t.ring[h%recordQueue] = recordJob{seq: seq, arrival: now}
	t.head.Store(h + 1)
}

// pending calls write with each packet noted and not yet taken, and
// takes them.
func (t *recordTap) pending(write func(recordJob)) {
	tail, head := t.tail.Load(), t.head.Load()
	for ; tail < head; tail++ {
		write(t.ring[tail%recordQueue])
	}
	t.tail.Store(tail)
}

// senderReport hands the tap one sender report of its track.
func (t *recordTap) senderReport(ntp uint64, rtpTime uint32, now int64) {
	select {
	case t.reports <- recordReport{ntp: ntp, rtp: rtpTime, arrival: now}:
	default:
	}
}

// close ends the tap: its goroutine writes what is queued and closes the
// track's recording.
func (t *recordTap) close() {
	if t.stopped.CompareAndSwap(false, true) {
		close(t.stop)
	}
}

// tapWriter is the writing side of a tap: it reads each packet noted
// from the track's cache and writes it to the track's recording, opened
// at the first packet, so that a track that never sends makes no file.
// One goroutine uses it.
type tapWriter struct {
	t      *recordTap
	log    *slog.Logger
	buf    []byte
	pkt    rtp.Packet
	w      TrackRecorder
	failed bool // the recording of the track failed: it takes nothing more
}

func newTapWriter(t *recordTap, log *slog.Logger) *tapWriter {
	return &tapWriter{t: t, log: log, buf: make([]byte, packetcache.SlotSize)}
}

// write writes the packet of j.
func (tw *tapWriter) write(j recordJob) {
	t := tw.t
	if tw.failed {
		return
	}
	c := t.up.cache.Load()
	if c == nil {
		t.lost.Add(1)
		return
	}
	n, ok := c.Get(j.seq, tw.buf)
	if !ok {
		t.lost.Add(1)
		return
	}
	if err := tw.pkt.Unmarshal(tw.buf[:n]); err != nil {
		t.lost.Add(1)
		return
	}
	arrival := time.Unix(0, j.arrival)
	if tw.w == nil {
		var err error
		if tw.w, err = t.rec.RecordTrack(t.info, arrival); err != nil {
			tw.failed = true
			tw.log.Warn("recording: track not recorded", "track", t.info.ID, "err", err)
			return
		}
	}
	if err := tw.w.WriteRTP(&tw.pkt, arrival); err != nil {
		tw.failed = true
		tw.log.Warn("recording: track stopped", "track", t.info.ID, "err", err)
	}
}

// report writes one sender report.
func (tw *tapWriter) report(r recordReport) {
	if tw.w != nil && !tw.failed {
		if err := tw.w.SenderReport(r.ntp, r.rtp, time.Unix(0, r.arrival)); err != nil {
			tw.log.Warn("recording: sender report not recorded", "track", tw.t.info.ID, "err", err)
		}
	}
}

// flush pushes what the recording buffers to the disk, if it can.
func (tw *tapWriter) flush() {
	if f, ok := tw.w.(interface{ Flush() error }); ok && !tw.failed {
		if err := f.Flush(); err != nil {
			tw.log.Warn("recording: track not flushed", "track", tw.t.info.ID, "err", err)
		}
	}
}

// close ends the track's recording.
func (tw *tapWriter) close() {
	if tw.w != nil {
		if err := tw.w.Close(time.Now()); err != nil {
			tw.log.Warn("recording: track not closed cleanly", "track", tw.t.info.ID, "err", err)
		}
	}
	if n := tw.t.lost.Load(); n > 0 {
		tw.log.Info("recording: track ended with packets missed", "track", tw.t.info.ID, "lost", n)
	}
}

// run writes the tap's packets every recordEvery until it is closed,
// and flushes them every second: a quiet track (a point's sound after
// its turn) still reaches the disk within a second, in case the server
// is killed.
func (t *recordTap) run(log *slog.Logger) {
	tw := newTapWriter(t, log)
	write := tw.write
	tick := time.NewTicker(recordEvery)
	defer tick.Stop()
	var ticks int
	for {
		select {
		case <-tick.C:
			t.pending(write)
			if ticks++; ticks%int(time.Second/recordEvery) == 0 {
				tw.flush()
			}
		case r := <-t.reports:
			t.pending(write) // the packets before it first
			tw.report(r)
		case <-t.stop:
			t.pending(write)
			tw.close()
			return
		}
	}
}

// SetRecorder starts recording conference conf into rec, or stops its
// recording with nil: the tracks recorded end, each closed once what was
// queued for it is written. A recorder already set is replaced.
func (s *SFU) SetRecorder(conf string, rec Recorder) {
	s.mu.Lock()
	r := s.roomLocked(conf)
	r.mu.Lock()
	s.mu.Unlock()
	r.recorder = rec
	r.recordedState = nil
	r.mu.Unlock()
	r.applyFloor()
	if rec == nil {
		s.dropIfEmpty(r)
	}
}

// recordedTracks returns, of the tracks published in r, those a recording
// keeps: every sound (forwarded only while hearable: the gate leaves gaps
// in it), the best encoding of each camera, and the content while it is
// the conference's content.
func recordedTracks(parts []*Participant, content *upTrack) []*upTrack {
	var out []*upTrack
	for _, p := range parts {
		p.mu.Lock()
		// The camera is the video of the first transceiver that is not
		// the content, as the speaker slots and walls take it
		// (publishedTracks); another video (a content track before it
		// is shared) is not recorded.
		var camera *layerSet
		for _, u := range p.published {
			if u.kind == webrtc.RTPCodecTypeVideo && u.layers != nil && !p.isContentLocked(u) &&
				(camera == nil || compareMids(u.layers.mid, camera.mid) < 0) {
				camera = u.layers
			}
		}
		for _, u := range p.published {
			switch {
			case u.kind == webrtc.RTPCodecTypeAudio:
				out = append(out, u)
			case u.layers == nil:
			case p.isContentLocked(u):
				if content != nil && u.head() == content.head() && u == topEncoding(u.layers) {
					out = append(out, u)
				}
			case u.layers == camera && u == topEncoding(u.layers):
				out = append(out, u)
			}
		}
		p.mu.Unlock()
	}
	return out
}

// topEncoding returns the best encoding that arrived of ls.
func topEncoding(ls *layerSet) *upTrack {
	list := ls.encodings()
	if len(list) == 0 {
		return nil
	}
	best := list[0]
	for _, u := range list[1:] {
		if u.rank > best.rank {
			best = u
		}
	}
	return best
}

// applyRecording brings the recording of r in line with what is
// published: taps on the tracks it keeps, none on the others, and the
// program's state told to the recorder when it changed. applyFloor calls
// it, under r.applyMu.
func (r *room) applyRecording(parts []*Participant, holders []string, content *upTrack, told Program) {
	r.mu.Lock()
	rec := r.recorder
	r.mu.Unlock()
	want := map[*upTrack]bool{}
	if rec != nil {
		for _, u := range recordedTracks(parts, content) {
			want[u] = true
		}
	}
	for _, p := range parts {
		p.mu.Lock()
		published := slices.Clone(p.published)
		p.mu.Unlock()
		for _, u := range published {
			t := u.tap.Load()
			isContent := content != nil && u.head() == content.head()
			switch {
			case want[u] && (t == nil || t.rec != rec || (t.info.Media == MediaContent) != isContent):
				// A new recording, or a track that became the content
				// (or stopped being it): a file of its own.
				u.startRecording(rec, isContent)
				if t != nil {
					t.close()
				}
			case !want[u] && t != nil:
				if u.tap.CompareAndSwap(t, nil) {
					t.close()
				}
			}
		}
	}
	if rec == nil {
		return
	}
	byID := make(map[string]*Participant, len(parts))
	for _, p := range parts {
		byID[p.info.ID] = p
	}
	var s ProgramState
	for _, id := range holders {
		pp := ProgramParticipant{ID: id}
		if p := byID[id]; p != nil {
			pp.Name, pp.Role = p.info.Name, p.info.Role
		}
		s.Holders = append(s.Holders, pp)
	}
	if content != nil {
		s.Content = content.streamID
	}
	s.Video, s.Audio = told.Video, told.Audio
	r.mu.Lock()
	changed := r.recordedState == nil || !sameProgramState(*r.recordedState, s)
	if changed {
		r.recordedState = &s
	}
	r.mu.Unlock()
	if changed {
		rec.ProgramChanged(s, time.Now())
	}
}

func sameProgramState(a, b ProgramState) bool {
	return slices.Equal(a.Holders, b.Holders) && a.Content == b.Content && a.Video == b.Video && a.Audio == b.Audio
}

// startRecording puts a tap of rec on u, making sure u keeps its packets
// in its cache, where the tap reads them; a video track is asked for a
// keyframe, where its recording starts.
func (u *upTrack) startRecording(rec Recorder, content bool) {
	media := MediaAudio
	switch {
	case u.kind == webrtc.RTPCodecTypeVideo && content:
		media = MediaContent
	case u.kind == webrtc.RTPCodecTypeVideo:
		media = MediaVideo
	}
	codec := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(u.codec.MimeType, "audio/"), "video/"))
	info := RecordedTrack{
		ID:          fmt.Sprintf("%s-%s-%s-%d", u.streamID, media, u.trackID, u.ssrc),
		Participant: u.owner.info.ID,
		Name:        u.owner.info.Name,
		Role:        u.owner.info.Role,
		Media:       media,
		Codec:       codec,
		ClockRate:   u.codec.ClockRate,
	}
	if u.rid != "" {
		info.ID = fmt.Sprintf("%s-%s-%s-%s-%d", u.streamID, media, u.trackID, u.rid, u.ssrc)
	}
	t := newRecordTap(u, rec, info)
	u.mu.Lock()
	if u.ended {
		u.mu.Unlock()
		return
	}
	if u.cache.Load() == nil {
		size := cachedAudioPackets
		if u.kind == webrtc.RTPCodecTypeVideo {
			size = cachedPackets
		}
		u.cache.Store(packetcache.New(size))
	}
	u.tap.Store(t)
	u.mu.Unlock()
	go t.run(u.owner.log)
	if u.kind == webrtc.RTPCodecTypeVideo {
		u.requestKeyframe()
	}
}

// stopRecording ends u's tap, if any.
func (u *upTrack) stopRecording() {
	if t := u.tap.Swap(nil); t != nil {
		t.close()
	}
}
