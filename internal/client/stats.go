package client

import (
	"cmp"
	"slices"
	"time"
)

// TrackStats counts the packets of one received or published track.
type TrackStats struct {
	Participant string // stream id, which is the publishing participant's id
	Kind        string // "audio" or "video"
	// Codec is the MIME type of the last packet's codec (received), e.g.
	// "video/VP8" or "video/H264"; "" before the first.
	Codec     string
	SSRC      uint32
	Packets   uint64 // RTP packets
	Bytes     uint64 // RTP payload bytes (header and padding excluded)
	Lost      uint64 // received: packets missing from the sequence number range seen so far
	SeqJumps  uint64 // received: packets whose sequence number did not follow the previous one
	Corrupt   uint64 // received: payloads that failed the synthetic media check
	Keyframes uint64 // video keyframes received, or sent when publishing
	// FirstPacket is the time from the start of Dial to the first packet of
	// this track (received), or zero for a published track.
	FirstPacket time.Duration
	// Sender is the SenderHash of the publisher of the last packet, and
	// SenderSince when its first packet arrived; Switches counts the
	// senders heard in turn: more than one only on a speaker slot (stream
	// SpeakerStreamID), whose video must switch on a keyframe.
	Sender      uint32
	SenderSince time.Time
	Switches    uint64
	// NACKs, CongestionFeedback and ReceiverReports count, for a
	// published track, the server's NACKs of it, the transport-wide
	// congestion control feedback packets it came with, and the reports
	// of it.
	NACKs, CongestionFeedback, ReceiverReports uint64
	// SenderReports counts the RTCP sender reports of the track received;
	// ReportLag is, at the last one, how far its RTP time was ahead of
	// the newest packet's timestamp, in RTP clock ticks (negative: behind).
	SenderReports uint64
	ReportLag     int64
	// RID is the encoding of a published simulcast video track ("" for
	// audio and for video sent as one encoding).
	RID string
	// Layer is, for received video, the simulcast encoding of the last
	// packet (0 the lowest, and 0 without simulcast); LayerSwitches
	// counts the changes of encoding; Width and Height are the picture
	// size of the last keyframe.
	Layer         int
	LayerSwitches uint64
	Width, Height int
	// Frames counts the video frames begun (their first packet came);
	// LongestFreeze is the longest time between two of them since the
	// first, or since Client.ResetFreezes.
	Frames        uint64
	LongestFreeze time.Duration
	// PictureGaps counts the video pictures whose VP8 picture id did not
	// follow the newest picture's before it: a whole picture missing (or
	// late), or a numbering broken at a switch or a dropped temporal
	// layer. UpperPictures counts the pictures of temporal layers above
	// the base.
	PictureGaps, UpperPictures uint64
	// From is the participant whose media the track carries now: the
	// stream id of a plain track; for a slot (a speaker or wall slot), the
	// participant of the roster whose SenderHash the last packet carried,
	// "" when none matches.
	From string
}

// SpeakerStreamID is the stream id of the speaker slots: the media of
// whoever holds the floor.
const SpeakerStreamID = "speaker"

// WallStreamID is the stream id of a hall console's wall slots, each
// showing the camera of one point (see SetWall).
const WallStreamID = "wall"

// ProbeStreamID is the stream id of the track on which the server probes
// the client's link: padding only, which the client drains and does not
// count.
const ProbeStreamID = "probe"

// ProgramStreamID is the stream id of the hall program a point receives:
// one picture and one sound of the hall, whichever console they come from.
const ProgramStreamID = "program"

// ContentStreamID is the stream id of the content slot: the screen or
// slides one participant shares, whoever it is.
const ContentStreamID = "content"

// isSlot reports whether a stream is of slots, whose source changes.
func isSlot(streamID string) bool {
	return streamID == SpeakerStreamID || streamID == WallStreamID || streamID == ProgramStreamID || streamID == ContentStreamID
}

// seqTracker follows the sequence numbers of one RTP stream.
type seqTracker struct {
	started bool
	last    uint16 // sequence number of the previous packet
	base    uint64 // extended sequence number of the first packet
	highest uint64 // highest extended sequence number seen
	packets uint64
	jumps   uint64
}

// add records a packet with sequence number seq.
func (s *seqTracker) add(seq uint16) {
	s.packets++
	if !s.started {
		s.started = true
		// Start far from zero so that packets older than the first one
		// still have a positive extended sequence number.
		s.base = 1<<32 + uint64(seq)
		s.highest = s.base
		s.last = seq
		return
	}
	if seq != s.last+1 {
		s.jumps++
	}
	s.last = seq
	ext := uint64(int64(s.highest) + int64(int16(seq-uint16(s.highest))))
	if ext > s.highest {
		s.highest = ext
	}
}

// lost reports how many packets of the range seen so far have not arrived;
// duplicates can only hide losses, never make the count negative.
func (s *seqTracker) lost() uint64 {
	if !s.started {
		return 0
	}
	expected := s.highest - s.base + 1
	if s.packets >= expected {
		return 0
	}
	return expected - s.packets
}

// sortStats orders stats by participant, then kind, then SSRC.
func sortStats(st []TrackStats) {
	slices.SortFunc(st, func(a, b TrackStats) int {
		return cmp.Or(cmp.Compare(a.Participant, b.Participant), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.SSRC, b.SSRC))
	})
}
