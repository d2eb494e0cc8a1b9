package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/protocol"
)

// sendTrack is one published track and its counters.
type sendTrack struct {
	track *webrtc.TrackLocalStaticRTP
	mu    sync.Mutex
	stats TrackStats
}

func (s *sendTrack) count(payload int, keyframe bool) {
	s.mu.Lock()
	s.stats.Packets++
	s.stats.Bytes += uint64(payload)
	if keyframe {
		s.stats.Keyframes++
	}
	s.mu.Unlock()
}

// publish creates the publishing PeerConnection with one audio and one video
// track, offers it and applies the server's answer.
func (c *Client) publish(ctx context.Context) error {
	id := c.welcome.ParticipantID
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: AudioClockRate, Channels: 2}, "audio", id)
	if err != nil {
		return fmt.Errorf("publish: audio track: %w", err)
	}
	video, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: VideoClockRate}, "video", id)
	if err != nil {
		return fmt.Errorf("publish: video track: %w", err)
	}
	pc, err := c.pubAPI.NewPeerConnection(c.pcConfig())
	if err != nil {
		return fmt.Errorf("publish: new peer connection: %w", err)
	}
	c.mu.Lock()
	if c.ctx.Err() != nil {
		c.mu.Unlock()
		pc.Close()
		return c.ctx.Err()
	}
	c.pubPC = pc
	c.mu.Unlock()

	var keyframeWanted atomic.Bool
	tracks := [2]*sendTrack{}
	for i, t := range []*webrtc.TrackLocalStaticRTP{audio, video} {
		sender, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("publish: add %s track: %w", t.Kind(), err)
		}
		st := &sendTrack{track: t, stats: TrackStats{Participant: id, Kind: t.Kind().String()}}
		if enc := sender.Sender().GetParameters().Encodings; len(enc) > 0 {
			st.stats.SSRC = uint32(enc[0].SSRC)
		}
		tracks[i] = st
		var onKeyframe func()
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			onKeyframe = func() { keyframeWanted.Store(true) }
		}
		c.wg.Add(1)
		go c.drainSenderRTCP(sender.Sender(), st, onKeyframe)
	}
	c.mu.Lock()
	c.sent = tracks
	c.mu.Unlock()

	var startOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.log.Debug("publish connection", "state", s.String())
		if s == webrtc.PeerConnectionStateConnected {
			startOnce.Do(func() {
				c.wg.Add(1)
				go c.sendMedia(tracks, &keyframeWanted)
			})
		}
	})

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("publish: create offer: %w", err)
	}
	sdp, err := GatherLocal(ctx, pc, offer)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := c.Send(protocol.SDP{Type: protocol.TypePublishOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	var res pubResult
	select {
	case res = <-c.pubAns:
	case <-c.done:
		if cl, ok := c.Closing(); ok {
			return &ServerError{Closing: &cl}
		}
		return errors.New("publish: connection closed before publish_answer")
	case <-ctx.Done():
		return fmt.Errorf("publish: wait for publish_answer: %w", ctx.Err())
	}
	if res.err != nil {
		return fmt.Errorf("publish: %w", &ServerError{Err: res.err})
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: res.sdp}); err != nil {
		return fmt.Errorf("publish: set answer: %w", err)
	}
	return nil
}

// drainSenderRTCP reads RTCP arriving for a sender, which makes NACK and
// receiver reports work, counts the server's feedback into st and calls
// onKeyframe (if not nil) on PLI or FIR.
func (c *Client) drainSenderRTCP(s *webrtc.RTPSender, st *sendTrack, onKeyframe func()) {
	defer c.wg.Done()
	buf := make([]byte, rtpBufferBytes)
	for {
		n, _, err := s.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			c.log.Debug("bad RTCP from server", "err", err)
			continue
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if onKeyframe != nil {
					onKeyframe()
				}
			case *rtcp.TransportLayerNack:
				c.log.Debug("NACK from server", "ssrc", p.MediaSSRC, "ranges", len(p.Nacks))
				st.mu.Lock()
				st.stats.NACKs++
				st.mu.Unlock()
			case *rtcp.TransportLayerCC:
				st.mu.Lock()
				st.stats.CongestionFeedback++
				st.mu.Unlock()
			case *rtcp.ReceiverReport:
				st.mu.Lock()
				for _, r := range p.Reports {
					if r.SSRC == st.stats.SSRC {
						st.stats.ReceiverReports++
					}
				}
				st.mu.Unlock()
			}
		}
	}
}

// sendMedia writes synthetic audio every 20 ms and a video frame every 40 ms
// until the client closes. It keeps to the wall clock: after a stall it sends
// the packets that fell due at once, so that the bitrate holds.
func (c *Client) sendMedia(tracks [2]*sendTrack, keyframeWanted *atomic.Bool) {
	defer c.wg.Done()
	sender := SenderHash(c.welcome.ParticipantID)
	ag := NewAudioGenerator(sender, c.opts.AudioBitrate)
	var vg videoSource = NewVideoGenerator(sender, c.opts.VideoBitrate)
	if c.clip != nil {
		vg = c.clip
	}
	ap := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	vp := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	videoEvery := int(time.Second / VideoFrameRate / AudioPacketDuration) // ticks per video frame
	ticker := time.NewTicker(AudioPacketDuration)
	defer ticker.Stop()
	start := time.Now()
	tick, frame := 0, 0
	for {
		due := int(time.Since(start)/AudioPacketDuration) + 1
		for ; tick < due; tick++ {
			ap.Payload = ag.Next()
			if err := tracks[0].track.WriteRTP(&ap); err != nil {
				c.log.Debug("write audio", "err", err)
			} else {
				tracks[0].count(len(ap.Payload), false)
			}
			ap.SequenceNumber++
			ap.Timestamp += AudioTimestampStep
			if tick%videoEvery != 0 {
				continue
			}
			key := frame%VideoKeyframeEvery == 0 || keyframeWanted.Swap(false)
			if key {
				frame = 0
			}
			pkts := vg.NextFrame(key)
			for i, p := range pkts {
				vp.Payload = p
				vp.Marker = i == len(pkts)-1
				if err := tracks[1].track.WriteRTP(&vp); err != nil {
					c.log.Debug("write video", "err", err)
				} else {
					tracks[1].count(len(p), key && i == 0)
				}
				vp.SequenceNumber++
			}
			vp.Timestamp += VideoTimestampStep
			frame++
		}
		select {
		case <-c.ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// onTrack starts counting a track the server sends.
func (c *Client) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	var sender uint32
	from := ""
	if !isSlot(t.StreamID()) {
		sender, from = SenderHash(t.StreamID()), t.StreamID()
	}
	rt := NewTrackCounter(t, from, sender)
	c.mu.Lock()
	c.recv = append(c.recv, rt)
	c.mu.Unlock()
	c.log.Debug("track received", "from", t.StreamID(), "kind", t.Kind().String(), "ssrc", uint32(t.SSRC()))
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		if err := rt.ReadTrack(t, c.start); !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
			c.log.Debug("track read ended", "from", t.StreamID(), "kind", t.Kind().String(), "err", err)
		}
	}()
	go func() {
		defer c.wg.Done()
		rt.ReadReports(r)
	}()
}

// Received returns the counters of every track received so far, including
// tracks that have ended, ordered by participant and kind.
func (c *Client) Received() []TrackStats {
	c.mu.Lock()
	recv := append([]*TrackCounter(nil), c.recv...)
	senders := make(map[uint32]string, len(c.roster))
	for id := range c.roster {
		senders[SenderHash(id)] = id
	}
	c.mu.Unlock()
	out := make([]TrackStats, 0, len(recv))
	for _, rt := range recv {
		st := rt.Stats()
		if isSlot(st.Participant) {
			st.From = senders[st.Sender]
		}
		out = append(out, st)
	}
	sortStats(out)
	return out
}

// Sent returns the counters of the published tracks (audio, then video), or
// nil when the client does not publish.
func (c *Client) Sent() []TrackStats {
	c.mu.Lock()
	sent := c.sent
	c.mu.Unlock()
	var out []TrackStats
	for _, st := range sent {
		if st == nil {
			continue
		}
		st.mu.Lock()
		out = append(out, st.stats)
		st.mu.Unlock()
	}
	return out
}

// WaitMedia polls Received every 20 ms until pred holds for it, ctx ends or
// the signaling connection ends.
func (c *Client) WaitMedia(ctx context.Context, pred func([]TrackStats) bool) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		st := c.Received()
		if pred(st) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for media (received %s): %w", summarize(st), ctx.Err())
		case <-c.done:
			return fmt.Errorf("wait for media (received %s): connection closed", summarize(st))
		case <-t.C:
		}
	}
}

// summarize describes stats in one line for error messages.
func summarize(st []TrackStats) string {
	if len(st) == 0 {
		return "no tracks"
	}
	s := ""
	for i, t := range st {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s/%s %d pkts", t.Participant, t.Kind, t.Packets)
	}
	return s
}
