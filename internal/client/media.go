package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
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

// simulcastEncoding is one encoding a Client publishes its video in with
// Options.Simulcast: its RID, the share of Options.VideoBitrate it
// carries (1/div) and the picture size its keyframes say.
type simulcastEncoding struct {
	rid           string
	div           int
	width, height int
}

// simulcastEncodings are those encodings, lowest first, as the pages send
// a 1280×720 camera.
func simulcastEncodings() []simulcastEncoding {
	return []simulcastEncoding{{"q", 10, 320, 180}, {"h", 3, 640, 360}, {"f", 1, 1280, 720}}
}

// videoEncoding is one encoding of the published video: its track and
// counters, what it writes, and whether the server wants it (active) and
// a keyframe of it.
type videoEncoding struct {
	st             *sendTrack
	rid            string
	gen            videoSource
	pkt            rtp.Packet
	active         atomic.Bool
	keyframeWanted atomic.Bool
}

// publish creates the publishing PeerConnection with one audio and one
// video track (as three encodings with Options.Simulcast), offers it and
// applies the server's answer.
func (c *Client) publish(ctx context.Context) error {
	id := c.welcome.ParticipantID
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: AudioClockRate, Channels: 2}, "audio", id)
	if err != nil {
		return fmt.Errorf("publish: audio track: %w", err)
	}
	sender := SenderHash(id)
	var encs []*videoEncoding
	if c.opts.Simulcast && c.clip == nil {
		for i, e := range simulcastEncodings() {
			t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: VideoClockRate}, "video", id, webrtc.WithRTPStreamID(e.rid))
			if err != nil {
				return fmt.Errorf("publish: video track %s: %w", e.rid, err)
			}
			encs = append(encs, &videoEncoding{st: &sendTrack{track: t}, rid: e.rid,
				gen: NewLayerGenerator(sender, c.opts.VideoBitrate/e.div, i, e.width, e.height, true)})
		}
	} else {
		t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: VideoClockRate}, "video", id)
		if err != nil {
			return fmt.Errorf("publish: video track: %w", err)
		}
		var gen videoSource = NewVideoGenerator(sender, c.opts.VideoBitrate)
		if c.clip != nil {
			gen = c.clip
		}
		encs = append(encs, &videoEncoding{st: &sendTrack{track: t}, gen: gen})
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

	at, err := pc.AddTransceiverFromTrack(audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("publish: add audio track: %w", err)
	}
	sound := &sendTrack{track: audio, stats: TrackStats{Participant: id, Kind: "audio"}}
	if enc := at.Sender().GetParameters().Encodings; len(enc) > 0 {
		sound.stats.SSRC = uint32(enc[0].SSRC)
	}
	c.wg.Add(1)
	go c.drainSenderRTCP(at.Sender(), "", sound, nil)

	vt, err := pc.AddTransceiverFromTrack(encs[0].st.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("publish: add video track: %w", err)
	}
	for _, e := range encs[1:] {
		if err := vt.Sender().AddEncoding(e.st.track); err != nil {
			return fmt.Errorf("publish: add video encoding %s: %w", e.rid, err)
		}
	}
	params := vt.Sender().GetParameters().Encodings
	for i, e := range encs {
		e.active.Store(true)
		e.st.stats = TrackStats{Participant: id, Kind: "video", RID: e.rid}
		if i < len(params) {
			e.st.stats.SSRC = uint32(params[i].SSRC)
		}
		c.wg.Add(1)
		go c.drainSenderRTCP(vt.Sender(), e.rid, e.st, func() { e.keyframeWanted.Store(true) })
	}
	c.mu.Lock()
	c.sent = []*sendTrack{sound}
	for _, e := range encs {
		c.sent = append(c.sent, e.st)
	}
	c.video, c.videoTransceiver = encs, vt
	c.mu.Unlock()

	written := encs
	var content *webrtc.RTPTransceiver
	if c.opts.Content {
		t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: VideoClockRate}, "content", id)
		if err != nil {
			return fmt.Errorf("publish: content track: %w", err)
		}
		if content, err = pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			return fmt.Errorf("publish: add content track: %w", err)
		}
		var gen videoSource = NewVideoGenerator(sender, max(c.opts.VideoBitrate/10, 20_000))
		if len(c.opts.ContentClip) > 0 {
			cl, err := newClip(c.opts.ContentClip)
			if err != nil {
				return fmt.Errorf("publish: content %w", err)
			}
			gen = cl
		}
		e := &videoEncoding{st: &sendTrack{track: t, stats: TrackStats{Participant: id, Kind: "video"}}, gen: gen}
		e.active.Store(true)
		if params := content.Sender().GetParameters().Encodings; len(params) > 0 {
			e.st.stats.SSRC = uint32(params[0].SSRC)
		}
		c.wg.Add(1)
		go c.drainSenderRTCP(content.Sender(), "", e.st, func() { e.keyframeWanted.Store(true) })
		written = append(slices.Clone(encs), e)
		c.mu.Lock()
		c.sent = append(c.sent, e.st)
		c.mu.Unlock()
	}

	var startOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.log.Debug("publish connection", "state", s.String())
		if s == webrtc.PeerConnectionStateConnected {
			startOnce.Do(func() {
				c.wg.Add(1)
				go c.sendMedia(sound, written, vt)
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
	if content != nil {
		c.mu.Lock()
		c.contentMid = content.Mid()
		c.mu.Unlock()
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

// applyLayers carries out the server's publish_layers: of the video
// track on transceiver mid, the encodings whose RID is in active are
// sent, those in paused are not, the others stay as they are; one that
// starts again starts with a keyframe, as a browser's encoder does.
func (c *Client) applyLayers(m protocol.PublishLayers) {
	c.mu.Lock()
	encs, vt := c.video, c.videoTransceiver
	c.layerRequests++
	c.mu.Unlock()
	if vt == nil || vt.Mid() != m.Mid {
		c.log.Debug("publish_layers for an unknown transceiver", "mid", m.Mid)
		return
	}
	for _, e := range encs {
		switch {
		case slices.Contains(m.Active, e.rid):
			if !e.active.Swap(true) {
				e.keyframeWanted.Store(true)
			}
		case slices.Contains(m.Paused, e.rid):
			e.active.Store(false)
		}
	}
}

// LayerRequests counts the publish_layers messages the server sent.
func (c *Client) LayerRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.layerRequests
}

// drainSenderRTCP reads RTCP arriving for the encoding rid of a sender
// ("" for its one encoding), which makes NACK and receiver reports work,
// counts the server's feedback into st and calls onKeyframe (if not nil)
// on PLI or FIR.
func (c *Client) drainSenderRTCP(s *webrtc.RTPSender, rid string, st *sendTrack, onKeyframe func()) {
	defer c.wg.Done()
	buf := make([]byte, rtpBufferBytes)
	for {
		var n int
		var err error
		if rid == "" {
			n, _, err = s.Read(buf)
		} else {
			n, _, err = s.ReadSimulcast(buf, rid)
		}
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

// sendMedia writes synthetic audio every 20 ms (or the audio clip's
// packets as their durations fall due) and a video frame of each active
// encoding every 40 ms until the client closes. It keeps to the
// wall clock: after a stall it sends the packets that fell due at once,
// so that the bitrate holds. The encodings of a simulcast track carry
// the media id and RID header extensions, by which the server tells them
// apart.
func (c *Client) sendMedia(sound *sendTrack, encs []*videoEncoding, vt *webrtc.RTPTransceiver) {
	defer c.wg.Done()
	var as audioSource = synthAudio{NewAudioGenerator(SenderHash(c.welcome.ParticipantID), c.opts.AudioBitrate)}
	if c.audioClip != nil {
		as = c.audioClip
	}
	ap := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	var midExt, ridExt uint8
	for _, x := range vt.Sender().GetParameters().HeaderExtensions {
		switch x.URI {
		case sdp.SDESMidURI:
			midExt = uint8(x.ID)
		case sdp.SDESRTPStreamIDURI:
			ridExt = uint8(x.ID)
		}
	}
	ts := rand.Uint32()
	for _, e := range encs {
		e.pkt = rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: ts}}
		if e.rid != "" && midExt != 0 && ridExt != 0 {
			if err := e.pkt.SetExtension(midExt, []byte(vt.Mid())); err != nil {
				c.log.Debug("mid header extension", "err", err)
			}
			if err := e.pkt.SetExtension(ridExt, []byte(e.rid)); err != nil {
				c.log.Debug("rid header extension", "err", err)
			}
		}
	}
	videoEvery := int(time.Second / VideoFrameRate / AudioPacketDuration) // ticks per video frame
	ticker := time.NewTicker(AudioPacketDuration)
	defer ticker.Stop()
	start := time.Now()
	tick, frame := 0, 0
	var audioSent uint64 // samples of the audio written so far
	for {
		due := int(time.Since(start)/AudioPacketDuration) + 1
		for ; tick < due; tick++ {
			// The audio due by the end of this tick: one packet of the
			// synthetic audio; of a clip, as many as its packets' lengths
			// make (none in some ticks of 40 or 60 ms packets).
			for audioSent < uint64(tick+1)*AudioTimestampStep {
				payload, samples := as.NextPacket()
				ap.Payload = payload
				if err := sound.track.WriteRTP(&ap); err != nil {
					c.log.Debug("write audio", "err", err)
				} else {
					sound.count(len(ap.Payload), false)
				}
				ap.SequenceNumber++
				ap.Timestamp += samples
				audioSent += uint64(samples)
			}
			if tick%videoEvery != 0 {
				continue
			}
			periodic := frame%VideoKeyframeEvery == 0
			if periodic {
				frame = 0
			}
			for _, e := range encs {
				key := e.keyframeWanted.Swap(false) || periodic
				if e.active.Load() {
					c.writeFrame(e, key)
				} else if key {
					e.keyframeWanted.Store(true) // its first frame when it starts again
				}
				e.pkt.Timestamp += VideoTimestampStep
			}
			frame++
		}
		select {
		case <-c.ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// writeFrame writes one frame of e, a keyframe if key.
func (c *Client) writeFrame(e *videoEncoding, key bool) {
	pkts := e.gen.NextFrame(key)
	for i, p := range pkts {
		e.pkt.Payload = p
		e.pkt.Marker = i == len(pkts)-1
		if err := e.st.track.WriteRTP(&e.pkt); err != nil {
			c.log.Debug("write video", "err", err, "rid", e.rid)
		} else {
			e.st.count(len(p), key && i == 0)
		}
		e.pkt.SequenceNumber++
	}
}

// onTrack starts counting a track the server sends.
func (c *Client) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	if t.StreamID() == ProbeStreamID {
		// Padding that probes the link: drained, not counted.
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			buf := make([]byte, rtpBufferBytes)
			for {
				if _, _, err := t.Read(buf); err != nil {
					return
				}
			}
		}()
		return
	}
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
	ended := make(chan struct{})
	go func() {
		defer c.wg.Done()
		defer close(ended)
		if err := rt.ReadTrack(t, c.start); !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
			c.log.Debug("track read ended", "from", t.StreamID(), "kind", t.Kind().String(), "err", err)
		}
	}()
	if c.opts.KeyframeOnLoss && t.Kind() == webrtc.RTPCodecTypeVideo {
		c.wg.Add(1)
		go c.keyframeOnLoss(rt, uint32(t.SSRC()), ended)
	}
	go func() {
		defer c.wg.Done()
		rt.ReadReports(r)
	}()
}

// keyframeOnLoss asks for a keyframe of the track rt counts, of SSRC
// ssrc, whenever it lost packets in the last 100 ms, until ended closes.
func (c *Client) keyframeOnLoss(rt *TrackCounter, ssrc uint32, ended <-chan struct{}) {
	defer c.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	last := uint64(0)
	for {
		select {
		case <-ended:
			return
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		lost := rt.Stats().Lost
		if lost <= last {
			last = lost
			continue
		}
		last = lost
		c.mu.Lock()
		pc := c.subPC
		c.mu.Unlock()
		if pc == nil {
			continue
		}
		if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			c.log.Debug("send PLI", "err", err)
			continue
		}
		c.mu.Lock()
		c.plisSent++
		c.mu.Unlock()
	}
}

// PLIsSent counts the keyframe requests sent with Options.KeyframeOnLoss.
func (c *Client) PLIsSent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.plisSent
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

// ResetFreezes starts the longest freeze of every received track
// (TrackStats.LongestFreeze) anew from now.
func (c *Client) ResetFreezes() {
	c.mu.Lock()
	recv := slices.Clone(c.recv)
	c.mu.Unlock()
	for _, rt := range recv {
		rt.resetFreeze()
	}
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
