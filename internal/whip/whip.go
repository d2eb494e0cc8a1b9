// Package whip is a client of the WHIP (RFC 9725) and WHEP endpoints of
// hoinghi, over pion: Publish sends the synthetic VP8 and Opus media of
// package client as a production mixer would send the hall program, and
// Watch receives the hall program as a viewer and counts it with the
// counters of package client. Tests and the load tool use them.
package whip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/client"
)

// StatusError is an endpoint's refusal: its HTTP status and the code of
// its JSON body ("" when it had none).
type StatusError struct {
	Status int
	Code   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("whip: HTTP %d %s", e.Status, e.Code)
}

// Options say where and how to publish or watch.
type Options struct {
	// Endpoint is the endpoint's URL, e.g.
	// http://127.0.0.1:8080/whip/demo.
	Endpoint string
	// Token goes in the Authorization: Bearer header of every request.
	Token string
	// Sender names the publisher in the synthetic payloads
	// (client.SenderHash of it); Publish only.
	Sender string
	// VideoBitrate and AudioBitrate are the bits/s of synthetic RTP
	// payload Publish sends; zero means 500 kbit/s and 32 kbit/s.
	VideoBitrate, AudioBitrate int
	// H264 makes Publish offer and send synthetic H.264 alone
	// (client.H264Generator, constrained baseline in packetization mode
	// 1, as OBS does) in place of VP8, and Watch offer H.264 after VP8.
	H264 bool
	// Trickle sends the offer before the candidates are gathered and
	// then each candidate in a PATCH (application/trickle-ice-sdpfrag);
	// otherwise the offer carries them all.
	Trickle bool
	// HTTP is the HTTP client; nil means http.DefaultClient.
	HTTP *http.Client
}

// session is what a publisher and a viewer share: the PeerConnection and
// the session's resource on the server.
type session struct {
	opts     Options
	pc       *webrtc.PeerConnection
	resource string // the session's URL (Location)
	etag     string
	start    time.Time
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	pending []string // candidates gathered before the resource was known
	ended   bool
}

// newAPI returns a pion API that sends and receives Opus and, for video,
// VP8 with vp8 and H.264 of client.H264FmtpLine with h264, with the
// default interceptors, loopback candidates included and mDNS off.
func newAPI(vp8, h264 bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	if vp8 {
		if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB}, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("whip: register VP8: %w", err)
		}
	}
	if h264 {
		if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: client.H264FmtpLine, RTCPFeedback: videoFB}, PayloadType: 102}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("whip: register H.264: %w", err)
		}
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("whip: register Opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, fmt.Errorf("whip: register interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// newSession starts a session of o; with vp8 its video may be VP8 (and
// H.264 with o.H264).
func newSession(ctx context.Context, o Options, vp8 bool) (*session, error) {
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
	api, err := newAPI(vp8, o.H264)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("whip: new PeerConnection: %w", err)
	}
	s := &session{opts: o, pc: pc, start: time.Now()}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return s, nil
}

// negotiate sends the offer of s.pc to the endpoint and applies its answer.
func (s *session) negotiate(ctx context.Context) error {
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("whip: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if s.opts.Trickle {
		s.pc.OnICECandidate(s.trickle)
	}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("whip: set offer: %w", err)
	}
	if !s.opts.Trickle {
		select {
		case <-gathered:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	res, body, err := s.do(ctx, http.MethodPost, s.opts.Endpoint, "application/sdp", s.pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusCreated {
		return statusError(res, body)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.Header.Get("Location") == "" {
		return fmt.Errorf("whip: answer without a valid Location: %q", res.Header.Get("Location"))
	}
	base, err := url.Parse(s.opts.Endpoint)
	if err != nil {
		return fmt.Errorf("whip: endpoint: %w", err)
	}
	s.mu.Lock()
	s.resource = base.ResolveReference(loc).String()
	s.etag = res.Header.Get("ETag")
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return fmt.Errorf("whip: set answer: %w", err)
	}
	if len(pending) > 0 {
		go s.patch(pending)
	}
	return nil
}

// trickle sends a gathered candidate in a PATCH, or keeps it until the
// session's resource is known.
func (s *session) trickle(c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	line := "a=" + c.ToJSON().Candidate
	s.mu.Lock()
	if s.resource == "" {
		s.pending = append(s.pending, line)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	go s.patch([]string{line})
}

// patch sends candidate lines as an SDP fragment (RFC 8840).
func (s *session) patch(lines []string) {
	local := s.pc.LocalDescription()
	if local == nil {
		return
	}
	var ufrag, pwd string
	for line := range strings.Lines(local.SDP) {
		line = strings.TrimRight(line, "\r\n")
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && ufrag == "" {
			ufrag = v
		}
		if v, ok := strings.CutPrefix(line, "a=ice-pwd:"); ok && pwd == "" {
			pwd = v
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n", ufrag, pwd)
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	s.mu.Lock()
	resource, etag := s.resource, s.etag
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, resource, strings.NewReader(b.String()))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
	req.Header.Set("Authorization", "Bearer "+s.opts.Token)
	if etag != "" {
		req.Header.Set("If-Match", etag)
	}
	if res, err := s.opts.HTTP.Do(req); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// do sends one request with the token and returns the answer and its body.
func (s *session) do(ctx context.Context, method, u, contentType, body string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("whip: %s %s: %w", method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.opts.Token)
	}
	res, err := s.opts.HTTP.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("whip: %s %s: %w", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("whip: read the answer of %s %s: %w", method, u, err)
	}
	return res, b, nil
}

// statusError reads a refusal.
func statusError(res *http.Response, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e) // a body that is not JSON leaves the code empty
	return &StatusError{Status: res.StatusCode, Code: e.Error}
}

// Resource is the URL of the session's resource on the server (from the
// answer's Location).
func (s *session) Resource() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resource
}

// Delete ends the session on the server (DELETE of its resource) and
// closes the PeerConnection. It may be called more than once; only the
// first sends the DELETE.
func (s *session) Delete(ctx context.Context) error {
	s.mu.Lock()
	ended, resource := s.ended, s.resource
	s.ended = true
	s.mu.Unlock()
	if ended {
		return nil
	}
	s.cancel()
	var err error
	if resource != "" {
		var res *http.Response
		var body []byte
		res, body, err = s.do(ctx, http.MethodDelete, resource, "", "")
		if err == nil && res.StatusCode != http.StatusOK {
			err = statusError(res, body)
		}
	}
	err = errors.Join(err, s.pc.Close())
	s.wg.Wait()
	return err
}

// Close closes the PeerConnection without telling the server, as a mixer
// that crashed: the server notices when ICE fails.
func (s *session) Close() error {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.cancel()
	err := s.pc.Close()
	s.wg.Wait()
	return err
}

// Publisher sends synthetic VP8 (or H.264, Options.H264) and Opus to a
// WHIP endpoint.
type Publisher struct {
	*session
	video, audio *webrtc.TrackLocalStaticRTP
	keyframe     chan struct{}
	h264         *client.H264Generator // with Options.H264
}

// Publish opens a WHIP session at o.Endpoint and sends synthetic media
// (client.VideoGenerator, client.AudioGenerator, carrying
// client.SenderHash(o.Sender)) until Delete or Close. It returns once the
// server answered; the media flows once ICE connects.
func Publish(ctx context.Context, o Options) (*Publisher, error) {
	s, err := newSession(ctx, o, !o.H264) // H.264 alone, as OBS offers it

	if err != nil {
		return nil, err
	}
	p := &Publisher{session: s, keyframe: make(chan struct{}, 1)}
	fail := func(err error) (*Publisher, error) {
		s.cancel()
		s.pc.Close()
		return nil, err
	}
	video := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if o.H264 {
		video = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: client.H264FmtpLine}
		if p.h264, err = client.NewH264Generator(client.SenderHash(o.Sender)); err != nil {
			return fail(fmt.Errorf("whip: %w", err))
		}
	}
	if p.video, err = webrtc.NewTrackLocalStaticRTP(video, "video", "mixer"); err != nil {
		return fail(fmt.Errorf("whip: video track: %w", err))
	}
	if p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "mixer"); err != nil {
		return fail(fmt.Errorf("whip: audio track: %w", err))
	}
	for _, t := range []*webrtc.TrackLocalStaticRTP{p.video, p.audio} {
		tr, err := s.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fail(fmt.Errorf("whip: add %s: %w", t.Kind(), err))
		}
		s.wg.Add(1)
		go p.readRTCP(tr.Sender())
	}
	if err := s.negotiate(ctx); err != nil {
		return fail(err)
	}
	s.wg.Add(1)
	go p.send()
	return p, nil
}

// readRTCP turns the server's keyframe requests into keyframes.
func (p *Publisher) readRTCP(sender *webrtc.RTPSender) {
	defer p.wg.Done()
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				select {
				case p.keyframe <- struct{}{}:
				default:
				}
			}
		}
	}
}

// send writes audio every 20 ms and a video frame every 40 ms, a keyframe
// every 2 s and when the server asks, until the session ends.
func (p *Publisher) send() {
	defer p.wg.Done()
	sender := client.SenderHash(p.opts.Sender)
	vb, ab := p.opts.VideoBitrate, p.opts.AudioBitrate
	if vb <= 0 {
		vb = 500_000
	}
	if ab <= 0 {
		ab = 32_000
	}
	var vg interface{ NextFrame(key bool) [][]byte } = client.NewVideoGenerator(sender, vb)
	if p.h264 != nil {
		vg = p.h264
	}
	ag := client.NewAudioGenerator(sender, ab)
	ap := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	vp := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	videoEvery := int(time.Second / client.VideoFrameRate / client.AudioPacketDuration)
	t := time.NewTicker(client.AudioPacketDuration)
	defer t.Stop()
	for tick, frame := 0, 0; ; tick++ {
		ap.Payload = ag.Next()
		_ = p.audio.WriteRTP(&ap) // before ICE connects, pion drops it
		ap.SequenceNumber++
		ap.Timestamp += client.AudioTimestampStep
		if tick%videoEvery == 0 {
			key := frame%client.VideoKeyframeEvery == 0
			select {
			case <-p.keyframe:
				key = true
			default:
			}
			if key {
				frame = 0
			}
			pkts := vg.NextFrame(key)
			for i, pl := range pkts {
				vp.Payload, vp.Marker = pl, i == len(pkts)-1
				_ = p.video.WriteRTP(&vp)
				vp.SequenceNumber++
			}
			vp.Timestamp += client.VideoTimestampStep
			frame++
		}
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Viewer receives the hall program from a WHEP endpoint and counts it.
type Viewer struct {
	*session
	mu       sync.Mutex
	counters []*client.TrackCounter
}

// Watch opens a WHEP session at o.Endpoint, receiving audio and video,
// and counts what arrives (client.TrackCounter) until Delete or Close.
func Watch(ctx context.Context, o Options) (*Viewer, error) {
	s, err := newSession(ctx, o, true)
	if err != nil {
		return nil, err
	}
	v := &Viewer{session: s}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := s.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			s.cancel()
			s.pc.Close()
			return nil, fmt.Errorf("whip: add %s: %w", kind, err)
		}
	}
	s.pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		rt := client.NewTrackCounter(t, "", 0)
		v.mu.Lock()
		v.counters = append(v.counters, rt)
		v.mu.Unlock()
		go rt.ReadReports(r)
		rt.ReadTrack(t, v.start) // until the track ends
	})
	if err := s.negotiate(ctx); err != nil {
		s.cancel()
		s.pc.Close()
		return nil, err
	}
	return v, nil
}

// Received returns the counts of the tracks received so far (their
// Participant is the stream id, "program").
func (v *Viewer) Received() []client.TrackStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]client.TrackStats, 0, len(v.counters))
	for _, c := range v.counters {
		out = append(out, c.Stats())
	}
	return out
}

// WaitMedia polls Received every 20 ms until pred holds for it or ctx
// ends.
func (v *Viewer) WaitMedia(ctx context.Context, pred func([]client.TrackStats) bool) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if pred(v.Received()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("whip: waiting for media: %w (have %+v)", ctx.Err(), v.Received())
		case <-t.C:
		}
	}
}
