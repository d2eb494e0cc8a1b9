package client

import (
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TrackCounter counts and checks the packets of one received track, as
// Client.Received reports them; ReadTrack and ReadReports feed it. Other
// clients of the load tool (of another server's protocol) count with it
// too, so that their figures compare.
type TrackCounter struct {
	mu     sync.Mutex
	stats  TrackStats
	seq    seqTracker
	video  bool
	sender uint32 // SenderHash the payloads must carry; 0 for a slot, which carries anyone
	lastTS uint32 // timestamp of the newest packet
	// lastFrame is when the newest frame began; zero before the first.
	lastFrame time.Time
	// lastPicture is the newest VP8 picture id, once pictureSeen.
	lastPicture uint16
	pictureSeen bool
	// needKey is set from a slot's switch of source until the first
	// picture of the new source starts.
	needKey bool
}

// checkSwitch counts a keyframe, and, after a slot's switch, a picture
// that starts before any packet of a keyframe of the new source arrived
// as corrupt: the new source must start with a keyframe. A packet of that
// keyframe other than its first is enough, for its first may be lost on
// the way and come again (a NACK's answer) after the next picture's
// first. rt.mu must be held.
func (rt *TrackCounter) checkSwitch(info PayloadInfo) {
	if info.Keyframe {
		rt.stats.Keyframes++
	}
	if !rt.needKey {
		return
	}
	switch {
	case info.KeyPicture:
		rt.needKey = false
	case info.FrameStart:
		rt.needKey = false
		rt.stats.Corrupt++
	}
}

// resetFreeze forgets the longest freeze so far.
func (rt *TrackCounter) resetFreeze() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.stats.LongestFreeze = 0
}

// NewTrackCounter returns the counter of the received track t, the media of
// participant from (its stream id for a plain track, "" for a slot), whose
// payloads carry SenderHash sender (0: whoever the slot shows).
func NewTrackCounter(t *webrtc.TrackRemote, from string, sender uint32) *TrackCounter {
	return &TrackCounter{
		video:  t.Kind() == webrtc.RTPCodecTypeVideo,
		sender: sender,
		stats:  TrackStats{Participant: t.StreamID(), From: from, Kind: t.Kind().String(), SSRC: uint32(t.SSRC())},
	}
}

// Stats returns the counts so far.
func (rt *TrackCounter) Stats() TrackStats {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.stats
}

// ReadTrack counts and checks the packets of t until it ends, and returns
// the error that ended it; start is what FirstPacket is measured from. It
// reads into one reused buffer so that it allocates nothing per packet.
func (rt *TrackCounter) ReadTrack(t *webrtc.TrackRemote, start time.Time) error {
	buf := make([]byte, rtpBufferBytes)
	var h rtp.Header
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return err
		}
		hl, err := h.Unmarshal(buf[:n])
		if err != nil {
			rt.mu.Lock()
			rt.stats.Corrupt++
			rt.mu.Unlock()
			continue
		}
		end := n
		if h.Padding && end > hl {
			end -= int(buf[n-1])
		}
		// A slot may carry H.264 beside VP8: the payload type says which,
		// and pion's track follows it.
		h264 := rt.video && strings.EqualFold(t.Codec().MimeType, webrtc.MimeTypeH264)
		rt.add(start, &h, buf[hl:max(end, hl)], h264)
	}
}

// ReadReports counts the sender reports of the track that r receives,
// until it ends.
func (rt *TrackCounter) ReadReports(r *webrtc.RTPReceiver) {
	buf := make([]byte, rtpBufferBytes)
	for {
		n, _, err := r.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			sr, ok := pkt.(*rtcp.SenderReport)
			if !ok || sr.SSRC != rt.stats.SSRC {
				continue
			}
			rt.mu.Lock()
			rt.stats.SenderReports++
			rt.stats.ReportLag = int64(int32(sr.RTPTime - rt.lastTS))
			rt.mu.Unlock()
		}
	}
}

// add records one received packet, of H.264 video when h264 is set.
func (rt *TrackCounter) add(start time.Time, h *rtp.Header, payload []byte, h264 bool) {
	var (
		info   PayloadInfo
		err    error
		marked = true
	)
	if len(payload) > 0 {
		switch {
		case h264:
			info, marked, err = CheckH264(payload)
		case rt.video:
			info, err = CheckVideo(payload)
		default:
			info, err = CheckAudio(payload)
		}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.stats.Codec = webrtc.MimeTypeVP8
	switch {
	case h264:
		rt.stats.Codec = webrtc.MimeTypeH264
	case !rt.video:
		rt.stats.Codec = webrtc.MimeTypeOpus
	}
	if !marked {
		// An H.264 packet other than the SEI message that names the
		// sender: it belongs to the access unit of the last one.
		info.Sender = rt.stats.Sender
		if rt.sender != 0 {
			info.Sender = rt.sender
		}
	}
	if rt.stats.Packets == 0 {
		rt.stats.FirstPacket = time.Since(start)
	}
	rt.stats.Packets++
	rt.stats.Bytes += uint64(len(payload))
	if rt.stats.Packets == 1 || int32(h.Timestamp-rt.lastTS) > 0 {
		rt.lastTS = h.Timestamp
	}
	rt.seq.add(h.SequenceNumber)
	rt.stats.Lost = rt.seq.lost()
	rt.stats.SeqJumps = rt.seq.jumps
	if rt.video && err == nil && len(payload) > 0 {
		rt.frame(info)
	}
	switch {
	case len(payload) == 0: // padding only, e.g. bandwidth probing
	case err != nil, rt.sender != 0 && info.Sender != rt.sender:
		rt.stats.Corrupt++
	case info.Sender != rt.stats.Sender:
		// A slot switched to another source: the first picture of the
		// new one must be a keyframe. (Its first packet may be lost on
		// the way: the first picture that starts is what counts.)
		rt.stats.Sender, rt.stats.SenderSince = info.Sender, time.Now()
		rt.stats.Switches++
		rt.needKey = rt.video && rt.sender == 0
		rt.checkSwitch(info)
	default:
		rt.checkSwitch(info)
	}
}

// latePictures is how far behind the newest picture id a picture may
// come and count as late; one further back is a jump in the numbering.
const latePictures = 64

// frame records the encoding, picture size and frame timing of one valid
// video packet. rt.mu must be held.
func (rt *TrackCounter) frame(info PayloadInfo) {
	if info.Layer != rt.stats.Layer && rt.stats.Frames > 0 {
		rt.stats.LayerSwitches++
	}
	rt.stats.Layer = info.Layer
	if info.Keyframe {
		rt.stats.Width, rt.stats.Height = info.Width, info.Height
	}
	if !info.FrameStart {
		return
	}
	if info.HasPictureID {
		switch ahead := (info.PictureID - rt.lastPicture) & 0x7fff; {
		case !rt.pictureSeen:
		case ahead == 0 || ahead >= 0x8000-latePictures:
			return // a repeat or a late picture
		case ahead > 1:
			rt.stats.PictureGaps++
		}
		rt.lastPicture, rt.pictureSeen = info.PictureID, true
	}
	if info.TID > 0 {
		rt.stats.UpperPictures++
	}
	now := time.Now()
	if !rt.lastFrame.IsZero() {
		rt.stats.LongestFreeze = max(rt.stats.LongestFreeze, now.Sub(rt.lastFrame))
	}
	rt.lastFrame = now
	rt.stats.Frames++
}
