// Package record writes the tracks a conference forwards into files that
// play as they are: Opus into Ogg, VP8 into WebM, H.264 into Matroska,
// one file per track, without decoding. Next to the files an index
// (index.jsonl, one JSON event a line) keeps what is needed to put every
// file on one timeline later: when each file's time zero was on the
// server's clock, the RTCP sender reports of each source, and the
// conference's own events (floor, content, program) with their times.
//
// Files and index are written so that a server killed while recording
// leaves them readable up to about the kill: file writes are flushed at
// least every half second, index lines one by one.
package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// IndexName is the name of a recording's index file in its directory.
const IndexName = "index.jsonl"

// ErrClosed is returned by the methods of a Recording or Track that has
// been closed.
var ErrClosed = errors.New("record: closed")

// Kinds of the events the package itself writes into the index; Event
// refuses them.
const (
	KindStart        = "start"
	KindTrack        = "track"
	KindTrackStart   = "track_start"
	KindSenderReport = "sr"
	KindTrackEnd     = "track_end"
	KindStop         = "stop"
)

// Recording is one recording of one conference: a directory holding one
// file per track and index.jsonl. Its methods are safe for concurrent
// use.
type Recording struct {
	dir        string
	conference string
	id         string

	// noSync skips the fsyncs of Close (the fuzz test, thousands of
	// recordings, sets it): a killed process loses nothing without them,
	// a machine that loses power may.
	noSync bool

	mu     sync.Mutex
	index  *os.File
	closed bool
	tracks map[string]*Track // by TrackInfo.ID, open or not
	order  []*Track
}

// TrackInfo describes a track of a recording.
type TrackInfo struct {
	ID          string `json:"id"`                 // the SFU's track id, unique in the recording
	Participant string `json:"participant"`        // participant id
	PointID     string `json:"point_id,omitempty"` // the point id, "" for the hall
	Name        string `json:"name,omitempty"`     // display name (Vietnamese, UTF-8) for captions
	Role        string `json:"role,omitempty"`     // "hall", "point", "chair", "whip" ...
	Media       string `json:"media"`              // "audio", "video" or "content"
	Codec       string `json:"codec"`              // "opus", "vp8" or "h264"
	ClockRate   uint32 `json:"clock_rate"`         // RTP clock rate; 0 means the codec's usual one
	Channels    uint8  `json:"channels,omitempty"` // Opus only: channels the decoder outputs; 0 means 2
}

// Create makes dir/<conference>/<id>/ (the id is given by the caller, e.g.
// "20261204T200000Z"), opens index.jsonl and writes the start event. The
// conference's name is reduced to [A-Za-z0-9-] for the directory; the id
// must already be such a name. A recording directory that exists already
// is an error: nothing is overwritten.
func Create(dir, conference, id string, now time.Time) (*Recording, error) {
	if id == "" || sanitize(id) != id {
		return nil, fmt.Errorf("record: recording id %q is not made of [A-Za-z0-9-]", id)
	}
	conf := sanitize(conference)
	parent := filepath.Join(dir, conf)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("record: create %s: %w", parent, err)
	}
	rdir := filepath.Join(parent, id)
	if err := os.Mkdir(rdir, 0o755); err != nil {
		return nil, fmt.Errorf("record: create recording: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(rdir, IndexName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record: create index: %w", err)
	}
	r := &Recording{dir: rdir, conference: conference, id: id, index: f, tracks: make(map[string]*Track)}
	if err := r.write(KindStart, now, startFields{Conference: conference, ID: id}); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// Dir returns the recording's directory.
func (r *Recording) Dir() string { return r.dir }

// startFields are the fields of the start event.
type startFields struct {
	Conference string `json:"conference"`
	ID         string `json:"id"`
}

// trackFields are the fields of a track event.
type trackFields struct {
	TrackInfo
	File string `json:"file"`
}

// AddTrack creates the track's file, named
// <conference>_<participant>_<media>_<YYYYMMDDTHHMMSSZ>.<ogg|webm|mkv>
// (names reduced to [A-Za-z0-9-]; -2, -3 ... added when the name is
// taken), and writes a track event. The ID must be new to the recording;
// Codec may be given as "opus" or "audio/opus", in any case.
func (r *Recording) AddTrack(info TrackInfo, now time.Time) (*Track, error) {
	codec, err := parseCodec(info.Codec)
	if err != nil {
		return nil, fmt.Errorf("record: track %q: %w", info.ID, err)
	}
	info.Codec = codec.name
	if info.ClockRate == 0 {
		info.ClockRate = codec.clockRate
	}
	if codec.kind == codecOpus && info.ClockRate != 48000 {
		return nil, fmt.Errorf("record: track %q: Opus at %d Hz; RTP carries Opus at 48000 Hz", info.ID, info.ClockRate)
	}
	if info.ID == "" {
		return nil, errors.New("record: track without an id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if _, ok := r.tracks[info.ID]; ok {
		return nil, fmt.Errorf("record: track %q added twice", info.ID)
	}
	base := strings.Join([]string{
		sanitize(r.conference), sanitize(info.Participant), sanitize(info.Media),
		now.UTC().Format("20060102T150405Z"),
	}, "_")
	var f *os.File
	var name string
	for n := 1; ; n++ {
		name = base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		name += codec.ext
		f, err = os.OpenFile(filepath.Join(r.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || n >= 1000 {
			return nil, fmt.Errorf("record: track %q: %w", info.ID, err)
		}
	}
	h := fnv.New64a()
	h.Write([]byte(r.id + "/" + info.ID))
	t, err := newTrack(r, info, codec, name, f, h.Sum64()|1, now)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record: track %q: %w", info.ID, err)
	}
	if err := r.writeLocked(KindTrack, now, trackFields{TrackInfo: info, File: name}); err != nil {
		f.Close()
		return nil, err
	}
	r.tracks[info.ID] = t
	r.order = append(r.order, t)
	return t, nil
}

// Event appends one event (floor, content, program ...) to the index:
// kind plus fields (anything encoding/json takes, or nil), with the time.
// The kinds the package writes itself (KindStart ...) are refused.
func (r *Recording) Event(kind string, now time.Time, fields any) error {
	switch kind {
	case "", KindStart, KindTrack, KindTrackStart, KindSenderReport, KindTrackEnd, KindStop:
		return fmt.Errorf("record: event kind %q is reserved", kind)
	}
	return r.write(kind, now, fields)
}

// Close closes every open track, writes stop, closes the index. Closing
// again does nothing.
func (r *Recording) Close(now time.Time) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	tracks := slices.Clone(r.order)
	r.mu.Unlock()
	var errs []error
	for _, t := range tracks {
		if err := t.Close(now); err != nil {
			errs = append(errs, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writeLocked(KindStop, now, nil); err != nil {
		errs = append(errs, err)
	}
	r.closed = true
	if !r.noSync {
		if err := r.index.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("record: sync index: %w", err))
		}
	}
	if err := r.index.Close(); err != nil {
		errs = append(errs, fmt.Errorf("record: close index: %w", err))
	}
	return errors.Join(errs...)
}

// line is one line of the index.
type line struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Fields any       `json:"fields,omitempty"`
}

func (r *Recording) write(kind string, at time.Time, fields any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeLocked(kind, at, fields)
}

// writeLocked writes one index line with a single write, so that a crash
// leaves at most the last line torn.
func (r *Recording) writeLocked(kind string, at time.Time, fields any) error {
	if r.closed {
		return ErrClosed
	}
	b, err := json.Marshal(line{At: at.UTC(), Kind: kind, Fields: fields})
	if err != nil {
		return fmt.Errorf("record: event %q: %w", kind, err)
	}
	b = append(b, '\n')
	if _, err := r.index.Write(b); err != nil {
		return fmt.Errorf("record: write index: %w", err)
	}
	return nil
}

// sanitize reduces s to [A-Za-z0-9-] for a file name: Vietnamese letters
// lose their marks (Đ to D), every other run of characters becomes one
// '-'. An empty result is "x".
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, c):
			continue
		case c == 'đ':
			c = 'd'
		case c == 'Đ':
			c = 'D'
		}
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		return "x"
	}
	return out
}

// codecKind says how a track is depacketized and written.
type codecKind int

const (
	codecOpus codecKind = iota
	codecVP8
	codecH264
)

type codecSpec struct {
	kind      codecKind
	name      string
	ext       string
	clockRate uint32
}

func parseCodec(s string) (codecSpec, error) {
	s = strings.ToLower(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "audio/"), "video/")
	switch s {
	case "opus":
		return codecSpec{codecOpus, "opus", ".ogg", 48000}, nil
	case "vp8":
		return codecSpec{codecVP8, "vp8", ".webm", 90000}, nil
	case "h264":
		return codecSpec{codecH264, "h264", ".mkv", 90000}, nil
	}
	return codecSpec{}, fmt.Errorf("codec %q is not recorded (opus, vp8, h264)", s)
}
