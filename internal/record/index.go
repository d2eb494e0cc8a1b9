package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Index is a recording's index.jsonl folded: the recording, its tracks
// placed on the server's clock, and the conference's events.
type Index struct {
	Conference, ID string
	// Start is when the recording started; Stop when it stopped, zero if
	// it did not end cleanly (then the last event's time, LastAt, and the
	// files themselves say how far it got).
	Start, Stop time.Time
	// LastAt is the time of the index's last event.
	LastAt time.Time
	Tracks []IndexTrack
	// Events are the events written with Recording.Event, in file order.
	Events []IndexEvent
}

// IndexTrack is one track of a recording as its index tells it.
type IndexTrack struct {
	TrackInfo
	// File is the track's file, relative to the recording's directory.
	File string
	// Added is when the track was added to the recording.
	Added time.Time
	// Started reports whether any frame was written; if not, the file
	// holds no media and Start is zero.
	Started bool
	// Start is the server's wallclock time of the file's time zero: from
	// the source's sender reports mapped to their arrival (StartFrom
	// "sr"), or, without usable reports, the arrival of the first
	// packet written (StartFrom "arrival").
	Start     time.Time
	StartFrom string
	// FirstRTP is the RTP timestamp of the file's time zero and
	// FirstArrival the arrival of its packet.
	FirstRTP     uint32
	FirstArrival time.Time
	// Width and Height are the picture size in a video file's header.
	Width, Height int
	// End is Start plus Duration; zero, like Duration, if the track was
	// not closed cleanly (then the file itself says how long it is).
	End      time.Time
	Duration time.Duration
	// Closed is when the track was closed, zero if it was not.
	Closed time.Time
	// Reports are the source's sender reports that the index kept.
	Reports []SenderReport
	// Stats from the track_end event.
	Bytes, Packets, Frames, Late, Lost, Dropped int64
}

// SenderReport is an RTCP sender report of a track's source: the
// source's NTP time and RTP time of one instant, and when the report
// arrived on the server.
type SenderReport struct {
	NTP     uint64
	RTP     uint32
	Arrival time.Time
}

// IndexEvent is one event of Recording.Event.
type IndexEvent struct {
	Kind   string
	At     time.Time
	Fields json.RawMessage
}

// rawLine is a line of the index as read.
type rawLine struct {
	At     time.Time       `json:"at"`
	Kind   string          `json:"kind"`
	Fields json.RawMessage `json:"fields"`
}

// ReadIndex reads an index.jsonl (tolerating a torn last line after a
// crash) and folds it. A line that does not parse anywhere else is an
// error.
func ReadIndex(path string) (*Index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("record: read index: %w", err)
	}
	ix := &Index{}
	byID := make(map[string]int)
	for n := 1; len(data) > 0; n++ {
		raw, rest, complete := bytes.Cut(data, []byte{'\n'})
		data = rest
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var l rawLine
		if err := json.Unmarshal(raw, &l); err != nil || l.Kind == "" {
			if !complete || len(bytes.TrimSpace(data)) == 0 {
				break // the torn last line of a crash
			}
			return nil, fmt.Errorf("record: index %s line %d: not an event: %v", path, n, err)
		}
		if err := ix.fold(l, byID); err != nil {
			return nil, fmt.Errorf("record: index %s line %d: %w", path, n, err)
		}
		if l.At.After(ix.LastAt) {
			ix.LastAt = l.At
		}
	}
	ix.place()
	return ix, nil
}

func (ix *Index) fold(l rawLine, byID map[string]int) error {
	track := func() (*IndexTrack, error) {
		var f struct {
			Track string `json:"track"`
		}
		if err := json.Unmarshal(l.Fields, &f); err != nil {
			return nil, fmt.Errorf("%s event: %w", l.Kind, err)
		}
		i, ok := byID[f.Track]
		if !ok {
			return nil, fmt.Errorf("%s event of unknown track %q", l.Kind, f.Track)
		}
		return &ix.Tracks[i], nil
	}
	switch l.Kind {
	case KindStart:
		var f startFields
		if err := json.Unmarshal(l.Fields, &f); err != nil {
			return fmt.Errorf("start event: %w", err)
		}
		ix.Conference, ix.ID, ix.Start = f.Conference, f.ID, l.At
	case KindTrack:
		var f trackFields
		if err := json.Unmarshal(l.Fields, &f); err != nil {
			return fmt.Errorf("track event: %w", err)
		}
		byID[f.ID] = len(ix.Tracks)
		ix.Tracks = append(ix.Tracks, IndexTrack{TrackInfo: f.TrackInfo, File: f.File, Added: l.At})
	case KindTrackStart:
		t, err := track()
		if err != nil {
			return err
		}
		var f trackStartFields
		if err := json.Unmarshal(l.Fields, &f); err != nil {
			return fmt.Errorf("track_start event: %w", err)
		}
		t.Started, t.FirstRTP, t.FirstArrival = true, f.RTP, l.At
		t.Width, t.Height = f.Width, f.Height
	case KindSenderReport:
		t, err := track()
		if err != nil {
			return err
		}
		var f srFields
		if err := json.Unmarshal(l.Fields, &f); err != nil {
			return fmt.Errorf("sr event: %w", err)
		}
		t.Reports = append(t.Reports, SenderReport{NTP: f.NTP, RTP: f.RTP, Arrival: l.At})
	case KindTrackEnd:
		t, err := track()
		if err != nil {
			return err
		}
		var f trackEndFields
		if err := json.Unmarshal(l.Fields, &f); err != nil {
			return fmt.Errorf("track_end event: %w", err)
		}
		t.Closed = l.At
		if t.ClockRate > 0 {
			t.Duration = time.Duration(f.Duration) * time.Second / time.Duration(t.ClockRate)
		}
		t.Bytes, t.Packets, t.Frames = f.Bytes, f.Packets, f.Frames
		t.Late, t.Lost, t.Dropped = f.Late, f.Lost, f.Dropped
	case KindStop:
		ix.Stop = l.At
	default:
		ix.Events = append(ix.Events, IndexEvent{Kind: l.Kind, At: l.At, Fields: l.Fields})
	}
	return nil
}

// srWindow is how long after a clock's first sender report the reports
// that estimate its offset to the server's clock are taken: long enough
// for a few reports, short enough that the clocks' drift does not count.
const srWindow = time.Minute

// srSanity is how far a start computed from sender reports may lie from
// the first packet's arrival before it is not believed.
const srSanity = 5 * time.Second

// place computes each track's Start and End. The tracks of one
// participant share the source's clock (one peer connection), so their
// reports give one offset between that clock and the server's: the
// smallest arrival-minus-NTP seen, the report that met the least delay.
// Each track's own first report then ties its RTP timestamps to that
// clock, which keeps a participant's audio and video in step.
func (ix *Index) place() {
	type clock struct {
		first  time.Time
		offset time.Duration
		ok     bool
	}
	clocks := make(map[string]*clock)
	key := func(t *IndexTrack) string {
		if t.Participant == "" {
			return "track:" + t.ID
		}
		return "participant:" + t.Participant
	}
	for i := range ix.Tracks {
		t := &ix.Tracks[i]
		c := clocks[key(t)]
		if c == nil {
			c = &clock{}
			clocks[key(t)] = c
		}
		for _, r := range t.Reports {
			if c.first.IsZero() || r.Arrival.Before(c.first) {
				c.first = r.Arrival
			}
		}
	}
	for i := range ix.Tracks {
		t := &ix.Tracks[i]
		c := clocks[key(t)]
		for _, r := range t.Reports {
			if r.Arrival.Sub(c.first) > srWindow {
				continue
			}
			off := r.Arrival.Sub(ntpTime(r.NTP))
			if !c.ok || off < c.offset {
				c.offset, c.ok = off, true
			}
		}
	}
	for i := range ix.Tracks {
		t := &ix.Tracks[i]
		if !t.Started {
			continue
		}
		t.Start, t.StartFrom = t.FirstArrival, "arrival"
		if c := clocks[key(t)]; c.ok && len(t.Reports) > 0 && t.ClockRate > 0 {
			r := t.Reports[0]
			since := time.Duration(int32(t.FirstRTP-r.RTP)) * time.Second / time.Duration(t.ClockRate)
			start := ntpTime(r.NTP).Add(c.offset + since)
			if d := start.Sub(t.FirstArrival); d < srSanity && d > -srSanity {
				t.Start, t.StartFrom = start, "sr"
			}
		}
		if !t.Closed.IsZero() {
			t.End = t.Start.Add(t.Duration)
		}
	}
}

// ntpTime converts a 64-bit NTP timestamp (seconds since 1900 in the high
// 32 bits, the fraction in the low ones) to a time.
func ntpTime(ntp uint64) time.Time {
	const unixFrom1900 = 2208988800
	sec := int64(ntp>>32) - unixFrom1900
	frac := (ntp & 0xffffffff) * 1e9 >> 32
	return time.Unix(sec, int64(frac))
}
