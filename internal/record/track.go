package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"hoinghi/internal/media/opus"
)

// FlushInterval is the longest a written frame waits in memory before it
// goes to the file: WriteRTP flushes when a packet arrives this long
// after the last flush.
const FlushInterval = 500 * time.Millisecond

// Reorder window: a missing packet is waited for until reorderMaxPackets
// later ones or reorderMaxDelay have passed, whichever comes first.
const (
	reorderSlots      = 256 // power of two, > reorderMaxPackets
	reorderMaxPackets = 128
	reorderMaxDelay   = 400 * time.Millisecond
)

// Sender reports kept in the index: the first srKeepFirst of a track,
// then one every srKeepEvery.
const (
	srKeepFirst = 5
	srKeepEvery = 30 * time.Second
)

// maxSilenceFill is the longest gap of an Opus track filled with silence
// packets; the rest of a longer one is left as a jump of the granule
// position.
const maxSilenceFill = 48000 * 3600

// defaultWidth and defaultHeight are the picture size written for a video
// track whose size its keyframe did not tell.
const (
	defaultWidth  = 320
	defaultHeight = 180
)

// Track is one track of a Recording being written to its file. WriteRTP
// is meant to be called from one goroutine; SenderReport, Bytes,
// NeedsKeyframe and Close may be called from others.
type Track struct {
	rec   *Recording
	info  TrackInfo
	codec codecSpec
	file  string
	uid   uint64

	f       *os.File
	bw      *bufio.Writer
	sink    countingWriter
	bytes   atomic.Int64
	needKey atomic.Bool

	mu        sync.Mutex
	closed    bool
	err       error // the first write error; the track writes no more
	lastFlush time.Time

	ogg *oggWriter
	mkv *mkvWriter
	rb  reorder

	// Frame assembly (video).
	frame        []byte
	frameTS      uint32
	frameArrival int64
	frameOpen    bool
	frameBad     bool
	frameKey     bool
	fuStart      int // offset of the open FU-A's length field, -1 if none
	waitKey      bool
	sps, pps     []byte

	// Timeline: RTP timestamps extended to 64 bits.
	started bool
	ext0    int64 // the file's time zero
	lastExt int64
	opusEnd int64 // where the last Opus packet ends
	// opusArrival is the arrival of the last Opus packet written.
	opusArrival int64

	packets, frames, late, lost, dropped int64

	srMu    sync.Mutex
	srCount int
	srLast  time.Time
}

// countingWriter passes writes to the buffered file and counts them.
type countingWriter struct {
	w *bufio.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func newTrack(r *Recording, info TrackInfo, codec codecSpec, name string, f *os.File, uid uint64, now time.Time) (*Track, error) {
	t := &Track{rec: r, info: info, codec: codec, file: name, uid: uid, f: f, lastFlush: now, fuStart: -1, waitKey: true}
	t.bw = bufio.NewWriterSize(f, 32<<10)
	t.sink = countingWriter{w: t.bw, n: &t.bytes}
	switch codec.kind {
	case codecOpus:
		t.ogg = newOggWriter(t.sink, uint32(uid))
		channels := info.Channels
		if channels == 0 {
			channels = 2
		}
		var comments []string
		if info.Name != "" {
			comments = append(comments, "TITLE="+info.Name)
		}
		if err := t.ogg.writeHeaders(channels, comments); err != nil {
			return nil, err
		}
		if err := t.flushLocked(); err != nil {
			return nil, err
		}
	default:
		t.mkv = newMkvWriter(t.sink, f)
		t.frame = make([]byte, 0, 64<<10)
		t.needKey.Store(true)
	}
	return t, nil
}

// File returns the name of the track's file in the recording's directory.
func (t *Track) File() string { return t.file }

// Info returns the track's description, with Codec and ClockRate as the
// recording uses them.
func (t *Track) Info() TrackInfo { return t.info }

// Bytes returns the number of bytes written to the track's file so far
// (some of them may still wait in the buffer for the next flush).
func (t *Track) Bytes() int64 { return t.bytes.Load() }

// NeedsKeyframe reports whether a video track drops what it receives until
// a keyframe comes (at the start, and after a packet was lost for good): a
// caller may then ask the source for one.
func (t *Track) NeedsKeyframe() bool { return t.needKey.Load() }

// WriteRTP takes the packets of one track in arrival order (reordered and
// duplicated packets happen: retransmissions arrive late), depacketizes
// them into frames and writes them. Video starts at the first keyframe;
// after a packet is given up as lost, video waits for the next keyframe.
// A gap in RTP timestamps (the track was gated by floor control, or the
// publisher paused) is kept as a gap in the file's timeline, never closed
// up (an Opus file gets silence there). The packet is not retained after
// the call. Called from one goroutine per track.
//
// An error from the file ends the track: WriteRTP returns it from then
// on. After Close it returns ErrClosed.
func (t *Track) WriteRTP(p *rtp.Packet, arrival time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if t.err != nil {
		return t.err
	}
	t.packets++
	at := arrival.UnixNano()
	rb := &t.rb
	if !rb.started {
		rb.started = true
		rb.next = int64(p.SequenceNumber)
		rb.highest = rb.next
	}
	ext := rb.highest + int64(int16(p.SequenceNumber-uint16(rb.highest)))
	switch {
	case ext < rb.next:
		t.late++
		if ext < rb.next-reorderSlots {
			// Far behind: either very late or the sequence numbers
			// started over. Many in a row mean the latter.
			rb.behind++
			if rb.behind >= 16 {
				t.drainAll()
				rb.next, rb.highest, rb.behind = ext, ext, 0
				t.packetLost()
				t.takeDirect(p, at)
			}
		}
	case ext == rb.next && rb.count == 0:
		rb.behind = 0
		t.takeDirect(p, at)
	default:
		rb.behind = 0
		if ext >= rb.next+reorderSlots {
			t.advanceTo(ext - reorderSlots + 1)
			if rb.count == 0 {
				// Nothing waits: a jump, not a hole to wait for.
				t.lost += ext - rb.next
				rb.next = ext
			}
		}
		s := &rb.slots[ext&(reorderSlots-1)]
		if s.present {
			t.late++ // a duplicate
			break
		}
		s.present = true
		s.ts = p.Timestamp
		s.marker = p.Marker
		s.arrival = at
		s.payload = append(rb.buffer(), p.Payload...)
		rb.count++
		rb.highest = max(rb.highest, ext)
		t.drain(at)
	}
	if arrival.Sub(t.lastFlush) >= FlushInterval {
		t.lastFlush = arrival
		if err := t.flushLocked(); err != nil {
			t.fail(err)
		}
	}
	return t.err
}

// takeDirect handles the packet the window waits for when nothing is
// buffered: no copy.
func (t *Track) takeDirect(p *rtp.Packet, at int64) {
	rb := &t.rb
	rb.next++
	rb.highest = max(rb.highest, rb.next-1)
	t.packet(p.Timestamp, p.Marker, p.Payload, at)
}

// drain hands out the buffered packets that are next in order, giving up
// on a missing one when too many packets or too much time wait behind it.
func (t *Track) drain(at int64) {
	rb := &t.rb
	for rb.count > 0 {
		s := &rb.slots[rb.next&(reorderSlots-1)]
		if s.present {
			t.takeSlot(s)
			continue
		}
		if rb.highest-rb.next < reorderMaxPackets && at-rb.firstWaiting() < int64(reorderMaxDelay) {
			return
		}
		rb.next++
		t.lost++
		t.packetLost()
	}
}

// advanceTo moves the window's start to next, handing out or giving up
// the packets before it.
func (t *Track) advanceTo(next int64) {
	rb := &t.rb
	for rb.next < next {
		if rb.count == 0 {
			t.lost += next - rb.next
			rb.next = next
			t.packetLost()
			return
		}
		s := &rb.slots[rb.next&(reorderSlots-1)]
		if s.present {
			t.takeSlot(s)
			continue
		}
		rb.next++
		t.lost++
		t.packetLost()
	}
}

// drainAll hands out every buffered packet, giving up the missing ones.
func (t *Track) drainAll() {
	if t.rb.count > 0 {
		t.advanceTo(t.rb.highest + 1)
	}
}

func (t *Track) takeSlot(s *reorderSlot) {
	rb := &t.rb
	s.present = false
	rb.count--
	rb.next++
	t.packet(s.ts, s.marker, s.payload, s.arrival)
	rb.free = append(rb.free, s.payload[:0])
	s.payload = nil
}

// reorder is the window that puts packets back in sequence order.
type reorder struct {
	slots   [reorderSlots]reorderSlot
	started bool
	next    int64 // extended sequence number of the next packet to hand out
	highest int64 // highest extended sequence number seen
	count   int   // packets buffered
	behind  int   // packets far behind the window in a row
	free    [][]byte
}

type reorderSlot struct {
	present bool
	marker  bool
	ts      uint32
	arrival int64
	payload []byte
}

// buffer returns an empty buffer for a packet's payload.
func (rb *reorder) buffer() []byte {
	if n := len(rb.free); n > 0 {
		b := rb.free[n-1]
		rb.free = rb.free[:n-1]
		return b
	}
	return make([]byte, 0, 1500)
}

// firstWaiting returns the arrival time of the first buffered packet after
// the missing one at next.
func (rb *reorder) firstWaiting() int64 {
	for e := rb.next + 1; e <= rb.highest; e++ {
		if s := &rb.slots[e&(reorderSlots-1)]; s.present {
			return s.arrival
		}
	}
	return 0
}

// packetLost is told that a packet will never come.
func (t *Track) packetLost() {
	if t.codec.kind == codecOpus {
		return // the gap in timestamps becomes silence
	}
	t.frameBad = t.frameBad || t.frameOpen
	t.waitKey = true
	t.needKey.Store(true)
}

// packet takes the packets in sequence order.
func (t *Track) packet(ts uint32, marker bool, payload []byte, at int64) {
	if t.codec.kind == codecOpus {
		t.writeOpus(ts, payload, at)
		return
	}
	if t.frameOpen && ts != t.frameTS {
		t.finishFrame() // the source did not mark the frame's end
	}
	first := !t.frameOpen
	if first {
		t.frameOpen = true
		t.frameTS = ts
		t.frameArrival = at
		t.frame = t.frame[:0]
		t.frameBad = false
		t.frameKey = false
		t.fuStart = -1
	}
	if t.codec.kind == codecVP8 {
		t.appendVP8(payload, first)
	} else {
		t.appendH264(payload)
	}
	if marker {
		t.finishFrame()
	}
}

// appendVP8 strips the VP8 payload descriptor (RFC 7741, section 4.2).
func (t *Track) appendVP8(d []byte, first bool) {
	if len(d) < 1 {
		t.frameBad = true
		return
	}
	start := d[0]&0x10 != 0 && d[0]&0x07 == 0
	i := 1
	if d[0]&0x80 != 0 {
		if len(d) < 2 {
			t.frameBad = true
			return
		}
		x := d[1]
		i = 2
		if x&0x80 != 0 { // PictureID
			if i < len(d) && d[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // TID, KEYIDX
			i++
		}
	}
	if i >= len(d) {
		t.frameBad = true
		return
	}
	if first {
		if !start {
			t.frameBad = true
			return
		}
		t.frameKey = d[i]&0x01 == 0
	}
	t.frame = append(t.frame, d[i:]...)
}

// appendH264 turns the NAL units of one packet (RFC 6184: single NAL unit,
// STAP-A, FU-A) into length-prefixed ones.
func (t *Track) appendH264(p []byte) {
	if len(p) < 1 {
		t.frameBad = true
		return
	}
	switch typ := p[0] & 0x1f; {
	case typ >= 1 && typ <= 23:
		if t.fuStart >= 0 {
			t.frameBad = true
		}
		t.appendNAL(p)
	case typ == h264STAPA:
		p = p[1:]
		for len(p) > 0 {
			if len(p) < 2 {
				t.frameBad = true
				return
			}
			n := int(binary.BigEndian.Uint16(p))
			p = p[2:]
			if n == 0 || n > len(p) {
				t.frameBad = true
				return
			}
			t.appendNAL(p[:n])
			p = p[n:]
		}
	case typ == h264FUA:
		if len(p) < 2 {
			t.frameBad = true
			return
		}
		ind, hdr := p[0], p[1]
		if hdr&0x80 != 0 { // start
			if t.fuStart >= 0 {
				t.frameBad = true
			}
			t.fuStart = len(t.frame)
			t.frame = append(t.frame, 0, 0, 0, 0, ind&0xe0|hdr&0x1f)
			if hdr&0x1f == h264IDR {
				t.frameKey = true
			}
		} else if t.fuStart < 0 {
			t.frameBad = true
			return
		}
		t.frame = append(t.frame, p[2:]...)
		if hdr&0x40 != 0 { // end
			nal := t.frame[t.fuStart+4:]
			binary.BigEndian.PutUint32(t.frame[t.fuStart:], uint32(len(nal)))
			t.noteParameterSet(nal)
			t.fuStart = -1
		}
	default:
		t.frameBad = true
	}
}

func (t *Track) appendNAL(nal []byte) {
	if nal[0]&0x1f == h264IDR {
		t.frameKey = true
	}
	t.noteParameterSet(nal)
	t.frame = binary.BigEndian.AppendUint32(t.frame, uint32(len(nal)))
	t.frame = append(t.frame, nal...)
}

// noteParameterSet keeps the latest SPS and PPS, for the file's header.
func (t *Track) noteParameterSet(nal []byte) {
	switch nal[0] & 0x1f {
	case h264SPS:
		if len(nal) >= 4 && string(nal) != string(t.sps) {
			t.sps = append(t.sps[:0], nal...)
		}
	case h264PPS:
		if string(nal) != string(t.pps) {
			t.pps = append(t.pps[:0], nal...)
		}
	}
}

// finishFrame writes the assembled frame if it is whole and decodable.
func (t *Track) finishFrame() {
	t.frameOpen = false
	if t.frameBad || t.fuStart >= 0 || len(t.frame) == 0 {
		t.fuStart = -1
		t.dropped++
		return
	}
	if t.waitKey && !t.frameKey {
		t.dropped++
		return
	}
	if t.mkv != nil && !t.mkv.started {
		if err := t.startVideo(); err != nil {
			if !errors.Is(err, errNoParameterSets) {
				t.fail(err)
			}
			t.dropped++
			return
		}
	}
	if t.frameKey {
		t.waitKey = false
		t.needKey.Store(false)
	}
	ext := t.extend(t.frameTS, t.frameArrival)
	ms := (ext - t.ext0) * 1000 / int64(t.info.ClockRate)
	if err := t.mkv.writeFrame(ms, t.frame, t.frameKey); err != nil {
		t.fail(err)
		return
	}
	t.frames++
}

var errNoParameterSets = errors.New("h264: keyframe before SPS and PPS")

// startVideo writes the Matroska header, from the first keyframe.
func (t *Track) startVideo() error {
	h := mkvHeader{
		DocType: "webm", CodecID: "V_VP8",
		Width: defaultWidth, Height: defaultHeight,
		Title: t.rec.conference, Name: t.info.Name, UID: t.uid,
		Date: time.Unix(0, t.frameArrival),
	}
	if t.frameArrival == 0 {
		h.Date = time.Time{}
	}
	switch t.codec.kind {
	case codecVP8:
		// Keyframe header: 3-byte frame tag, start code 9d 01 2a, then
		// 14-bit width and height (RFC 6386, section 9.1).
		if f := t.frame; len(f) >= 10 && f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a {
			h.Width = int(binary.LittleEndian.Uint16(f[6:]) & 0x3fff)
			h.Height = int(binary.LittleEndian.Uint16(f[8:]) & 0x3fff)
		}
	case codecH264:
		if t.sps == nil || t.pps == nil {
			return errNoParameterSets
		}
		h.DocType, h.CodecID = "matroska", "V_MPEG4/ISO/AVC"
		h.CodecPrivate = avcC(t.sps, t.pps)
		if w, ht, err := spsSize(t.sps); err == nil {
			h.Width, h.Height = w, ht
		}
	}
	if err := t.mkv.start(h); err != nil {
		return err
	}
	return nil
}

// writeOpus writes one Opus packet, filling a gap before it with silence.
func (t *Track) writeOpus(ts uint32, payload []byte, at int64) {
	samples, err := opus.Samples(payload)
	if err != nil {
		t.dropped++
		return
	}
	n := int64(samples)
	ext := t.extend(ts, at)
	if gap := ext - t.opusEnd; gap >= opusSilenceSamples {
		// Silence as long as the gap, but no longer than the time that
		// passed on the server (plus a second) and than maxSilenceFill:
		// a source's timestamps that jump ahead of the clock do not
		// make the file grow; the granule position jumps instead.
		gap = min(gap, maxSilenceFill, (at-t.opusArrival)*48000/int64(time.Second)+48000)
		for end := t.opusEnd + opusSilenceSamples; end <= t.opusEnd+gap; end += opusSilenceSamples {
			if err := t.ogg.writePacket(opusSilence[:], end-t.ext0); err != nil {
				t.fail(err)
				return
			}
		}
	}
	if err := t.ogg.writePacket(payload, ext+n-t.ext0); err != nil {
		t.fail(err)
		return
	}
	t.opusEnd = max(t.opusEnd, ext+n)
	t.opusArrival = at
	t.frames++
}

// extend returns ts extended to 64 bits; the first call makes it the
// file's time zero and writes the track_start event.
func (t *Track) extend(ts uint32, at int64) int64 {
	if !t.started {
		t.started = true
		t.ext0 = int64(ts)
		t.lastExt = t.ext0
		t.opusEnd = t.ext0
		f := trackStartFields{Track: t.info.ID, RTP: ts}
		if t.mkv != nil {
			f.Width, f.Height = t.mkv.width, t.mkv.height
		}
		if err := t.rec.write(KindTrackStart, time.Unix(0, at), f); err != nil && !errors.Is(err, ErrClosed) {
			t.fail(err)
		}
		return t.ext0
	}
	ext := t.lastExt + int64(int32(ts-uint32(t.lastExt)))
	t.lastExt = ext
	return ext
}

// trackStartFields are the fields of a track_start event: the RTP
// timestamp of the file's time zero; the event's time is the arrival of
// its first packet.
type trackStartFields struct {
	Track  string `json:"track"`
	RTP    uint32 `json:"rtp"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// trackEndFields are the fields of a track_end event.
type trackEndFields struct {
	Track string `json:"track"`
	// Duration is the length of the file's timeline in RTP clock units:
	// where the last frame ends.
	Duration int64 `json:"duration"`
	Bytes    int64 `json:"bytes"`
	Packets  int64 `json:"packets"`
	Frames   int64 `json:"frames"`
	Late     int64 `json:"late"`    // duplicates and packets past the window
	Lost     int64 `json:"lost"`    // packets given up
	Dropped  int64 `json:"dropped"` // frames not written
}

// srFields are the fields of a sender report event.
type srFields struct {
	Track string `json:"track"`
	NTP   uint64 `json:"ntp"`
	RTP   uint32 `json:"rtp"`
}

// SenderReport records an RTCP sender report of the track's source (NTP
// time, RTP time) as received at arrival, into the index. The index keeps
// the first few reports of a track and then one every 30 seconds: enough
// to place the track on the server's clock and to follow the drift of the
// source's clock.
func (t *Track) SenderReport(ntp uint64, rtpTime uint32, arrival time.Time) error {
	t.srMu.Lock()
	keep := t.srCount < srKeepFirst || arrival.Sub(t.srLast) >= srKeepEvery
	if keep {
		t.srCount++
		t.srLast = arrival
	}
	t.srMu.Unlock()
	if !keep {
		return nil
	}
	return t.rec.write(KindSenderReport, arrival, srFields{Track: t.info.ID, NTP: ntp, RTP: rtpTime})
}

// Flush writes what the track has buffered to its file: for a caller that
// wants the file current while no packets come.
func (t *Track) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if t.err != nil {
		return t.err
	}
	if err := t.flushLocked(); err != nil {
		t.fail(err)
	}
	return t.err
}

func (t *Track) flushLocked() error {
	if t.ogg != nil {
		if err := t.ogg.flush(); err != nil {
			return err
		}
	}
	if err := t.bw.Flush(); err != nil {
		return fmt.Errorf("record: flush %s: %w", t.file, err)
	}
	if t.mkv != nil {
		if err := t.mkv.flushed(); err != nil {
			return err
		}
	}
	return nil
}

func (t *Track) fail(err error) {
	if t.err == nil {
		t.err = fmt.Errorf("record: track %q: %w", t.info.ID, err)
	}
}

// Close writes what is still buffered or waiting in the reorder window,
// finishes the file and writes the track_end event. Closing again does
// nothing.
func (t *Track) Close(now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.err == nil {
		t.drainAll()
		if t.frameOpen {
			t.frameBad = true // its end never came
			t.finishFrame()
		}
	}
	var errs []error
	if t.err == nil && t.mkv != nil && !t.mkv.started {
		// No frame came: the file still gets its header.
		t.frameArrival = 0
		t.frame = t.frame[:0]
		if t.codec.kind == codecH264 && (t.sps == nil || t.pps == nil) {
			// No parameter sets either: a constrained baseline
			// placeholder, so that the header is complete.
			t.sps, t.pps = []byte{0x67, 0x42, 0xc0, 0x1e}, []byte{0x68, 0xce, 0x38, 0x80}
		}
		if err := t.startVideo(); err != nil {
			t.fail(err)
		}
	}
	if t.err == nil && t.ogg != nil {
		if err := t.ogg.close(); err != nil {
			t.fail(err)
		}
	}
	if t.err == nil {
		if err := t.flushLocked(); err != nil {
			t.fail(err)
		}
	}
	if t.err == nil && t.mkv != nil {
		if err := t.mkv.closed(); err != nil {
			t.fail(err)
		}
	}
	if t.err != nil {
		errs = append(errs, t.err)
	}
	if !t.rec.noSync {
		if err := t.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("record: sync %s: %w", t.file, err))
		}
	}
	if err := t.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("record: close %s: %w", t.file, err))
	}
	var dur int64
	if t.started {
		if t.ogg != nil {
			dur = t.opusEnd - t.ext0
		} else {
			dur = t.mkv.end * int64(t.info.ClockRate) / 1000
		}
	}
	err := t.rec.write(KindTrackEnd, now, trackEndFields{
		Track: t.info.ID, Duration: dur, Bytes: t.bytes.Load(),
		Packets: t.packets, Frames: t.frames, Late: t.late, Lost: t.lost, Dropped: t.dropped,
	})
	if err != nil && !errors.Is(err, ErrClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
