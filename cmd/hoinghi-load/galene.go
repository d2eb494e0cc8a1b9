package main

// Galene mode (-galene): the 1 → N fan-out of -fanout against a Galene
// server, to measure it beside hoinghi on the same media. The client speaks
// Galene's protocol as its documentation (galene-protocol.md) describes it:
// JSON messages over one WebSocket, a handshake, a join, then one peer
// connection per stream; a stream goes one way, and the side that sends it
// offers it. The publisher offers one stream (Opus and VP8, the synthetic
// media of internal/client); each subscriber asks for every stream and
// answers the server's offer.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/client"
)

const (
	// galeneVersion is the protocol version the client speaks.
	galeneVersion = "2"
	// galeneHall is the publisher's client id and username; its payloads
	// carry client.SenderHash(galeneHall).
	galeneHall = "hall"
	// galeneLabel is the label of the published stream.
	galeneLabel = "camera"
	// galeneWriteTimeout bounds one WebSocket write.
	galeneWriteTimeout = 10 * time.Second
	// rtpBuffer is the size of the buffers RTP and RTCP are read into.
	rtpBuffer = 1500
)

// galeneMessage is one message of Galene's protocol: a JSON object whose
// type says what it is; every other field is optional. Only the fields
// this client reads or writes are here.
type galeneMessage struct {
	Type        string                   `json:"type"`
	Kind        string                   `json:"kind,omitempty"`
	Version     []string                 `json:"version,omitempty"`
	Error       string                   `json:"error,omitempty"`
	ID          string                   `json:"id,omitempty"`
	Source      string                   `json:"source,omitempty"`
	Dest        string                   `json:"dest,omitempty"`
	Username    string                   `json:"username,omitempty"`
	Password    string                   `json:"password,omitempty"`
	Group       string                   `json:"group,omitempty"`
	Permissions []string                 `json:"permissions,omitempty"`
	Label       string                   `json:"label,omitempty"`
	SDP         string                   `json:"sdp,omitempty"`
	Candidate   *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	// Request is, in a request message, a map from stream label ("" for
	// any) to the wanted kinds ("audio", "video", "video-low").
	Request map[string][]string `json:"request,omitempty"`
	// Value is a message's free value: a string in errors and warnings.
	Value json.RawMessage `json:"value,omitempty"`
}

// text returns the value of m as text: the string it holds, or its JSON.
func (m galeneMessage) text() string {
	var s string
	if json.Unmarshal(m.Value, &s) == nil {
		return s
	}
	return string(m.Value)
}

// GaleneError is a refusal or error the Galene server sent.
type GaleneError struct {
	Type, Kind string // the message that carried it, e.g. joined/fail
	Code       string // its error field, if any
	Message    string // its value
}

func (e *GaleneError) Error() string {
	s := "galene " + e.Type + "/" + e.Kind
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// galeneOptions configure one galeneConn.
type galeneOptions struct {
	url          string // WebSocket endpoint, ws://host:port/ws
	group        string
	id           string // client id, also the username
	password     string
	publish      bool
	videoBitrate int
	audioBitrate int
	log          *slog.Logger
}

// galeneConn is one client of a Galene server: the publisher or a
// subscriber.
type galeneConn struct {
	opts   galeneOptions
	ws     *websocket.Conn
	api    *webrtc.API
	start  time.Time // when the dial began, for the time to first packet
	ctx    context.Context
	cancel context.CancelFunc
	wmu    sync.Mutex // serializes writes to ws

	joined   chan error    // the join's outcome, once
	answered chan error    // the publisher: the answer applied, or a refusal
	done     chan struct{} // closed when the read loop ends
	wg       sync.WaitGroup

	mu      sync.Mutex
	pcs     map[string]*webrtc.PeerConnection    // by stream id
	pending map[string][]webrtc.ICECandidateInit // candidates that came before the remote description
	recv    []*client.TrackCounter               // received tracks
	sent    []*galeneSent                        // published tracks: audio, video
	endErr  error                                // why the read loop ended
	closing bool                                 // Close was called
	once    sync.Once
}

// dialGalene connects to the server, joins the group and then publishes
// (opts.publish) or asks for every stream. ctx bounds the dial only.
func dialGalene(ctx context.Context, opts galeneOptions) (*galeneConn, error) {
	api, err := galeneAPI()
	if err != nil {
		return nil, err
	}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	c := &galeneConn{
		opts: opts, api: api, start: time.Now(),
		joined: make(chan error, 1), answered: make(chan error, 1), done: make(chan struct{}),
		pcs: make(map[string]*webrtc.PeerConnection), pending: make(map[string][]webrtc.ICECandidateInit),
	}
	ws, resp, err := dialer.DialContext(ctx, opts.url, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("galene websocket %s: HTTP %s: %w", opts.url, resp.Status, err)
		}
		return nil, fmt.Errorf("galene websocket %s: %w", opts.url, err)
	}
	c.ws = ws
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.readLoop()
	if err := c.setUp(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// setUp does the handshake and the join, then publishes or requests.
func (c *galeneConn) setUp(ctx context.Context) error {
	if err := c.send(galeneMessage{Type: "handshake", Version: []string{galeneVersion}, ID: c.opts.id}); err != nil {
		return err
	}
	join := galeneMessage{Type: "join", Kind: "join", Group: c.opts.group, Username: c.opts.id, Password: c.opts.password}
	if err := c.send(join); err != nil {
		return err
	}
	if err := c.wait(ctx, c.joined, "joined"); err != nil {
		return err
	}
	if c.opts.publish {
		return c.publish(ctx)
	}
	return c.send(galeneMessage{Type: "request", Request: map[string][]string{"": {"audio", "video"}}})
}

// wait waits for the outcome on ch, the end of the connection or ctx.
func (c *galeneConn) wait(ctx context.Context, ch <-chan error, what string) error {
	select {
	case err := <-ch:
		return err
	case <-c.done:
		return fmt.Errorf("galene: connection ended before %s: %w", what, c.ended())
	case <-ctx.Done():
		return fmt.Errorf("galene: wait for %s: %w", what, ctx.Err())
	}
}

// galeneAPI builds the pion API of one client as internal/client does:
// default codecs and interceptors (NACK, RTCP reports, TWCC), loopback
// candidates included and mDNS off.
func galeneAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// send writes m to the server.
func (c *galeneConn) send(m galeneMessage) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("galene: encode %s: %w", m.Type, err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(galeneWriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, raw); err != nil {
		return fmt.Errorf("galene: send %s: %w", m.Type, err)
	}
	return nil
}

// readLoop reads and handles the server's messages until the connection
// ends.
func (c *galeneConn) readLoop() {
	defer close(c.done)
	for {
		_, raw, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.endErr = err
			c.mu.Unlock()
			c.cancel()
			return
		}
		var m galeneMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			c.opts.log.Warn("galene: bad message", "client", c.opts.id, "err", err)
			continue
		}
		c.opts.log.Debug("galene: message", "client", c.opts.id, "type", m.Type, "kind", m.Kind, "id", m.ID)
		if err := c.handle(m); err != nil && c.ctx.Err() == nil {
			c.opts.log.Warn("galene: message failed", "client", c.opts.id, "type", m.Type, "err", err)
		}
	}
}

// ended returns why the read loop ended.
func (c *galeneConn) ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endErr == nil {
		return errors.New("connection open")
	}
	return c.endErr
}

// handle acts on one message of the server.
func (c *galeneConn) handle(m galeneMessage) error {
	switch m.Type {
	case "ping":
		return c.send(galeneMessage{Type: "pong"})
	case "joined":
		switch m.Kind {
		case "join":
			notify(c.joined, nil)
		case "fail":
			notify(c.joined, &GaleneError{Type: m.Type, Kind: m.Kind, Code: m.Error, Message: m.text()})
		case "leave":
			notify(c.joined, &GaleneError{Type: m.Type, Kind: m.Kind, Message: "left the group"})
		}
	case "usermessage":
		if m.Kind == "error" || m.Kind == "warning" || m.Kind == "kicked" {
			c.opts.log.Warn("galene: server says", "client", c.opts.id, "kind", m.Kind, "error", m.Error, "value", m.text())
		}
	case "offer":
		return c.answerOffer(m)
	case "answer":
		return c.applyAnswer(m)
	case "ice":
		return c.addCandidate(m)
	case "abort":
		// The server refuses a stream we offered.
		notify(c.answered, &GaleneError{Type: m.Type, Message: "stream " + m.ID + " aborted"})
		c.closeStream(m.ID)
		return c.send(galeneMessage{Type: "close", ID: m.ID})
	case "close":
		c.closeStream(m.ID)
	}
	return nil
}

// notify sends err on ch unless an outcome is already there.
func notify(ch chan error, err error) {
	select {
	case ch <- err:
	default:
	}
}

// pc returns the peer connection of stream id, or nil.
func (c *galeneConn) pc(id string) *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pcs[id]
}

// closeStream closes and forgets the peer connection of stream id.
func (c *galeneConn) closeStream(id string) {
	c.mu.Lock()
	pc := c.pcs[id]
	delete(c.pcs, id)
	delete(c.pending, id)
	c.mu.Unlock()
	if pc != nil {
		pc.Close()
	}
}

// answerOffer answers the server's offer of a stream, a new one or a
// renegotiation of one it already sends. The answer carries every local
// candidate, so none is trickled.
func (c *galeneConn) answerOffer(m galeneMessage) error {
	if m.ID == "" {
		return errors.New("offer without a stream id")
	}
	pc := c.pc(m.ID)
	if pc == nil {
		var err error
		if pc, err = c.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
			return fmt.Errorf("stream %s: new peer connection: %w", m.ID, err)
		}
		from := m.Username
		if from == "" {
			from = m.Source
		}
		pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) { c.onTrack(from, t, r) })
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			pc.Close()
			return nil
		}
		c.pcs[m.ID] = pc
		c.mu.Unlock()
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
		return fmt.Errorf("stream %s: set offer: %w", m.ID, err)
	}
	c.flushCandidates(m.ID, pc)
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("stream %s: create answer: %w", m.ID, err)
	}
	sdp, err := client.GatherLocal(c.ctx, pc, answer)
	if err != nil {
		return fmt.Errorf("stream %s: %w", m.ID, err)
	}
	return c.send(galeneMessage{Type: "answer", ID: m.ID, SDP: sdp})
}

// applyAnswer applies the server's answer to the stream we offered.
func (c *galeneConn) applyAnswer(m galeneMessage) error {
	pc := c.pc(m.ID)
	if pc == nil {
		return fmt.Errorf("answer for unknown stream %q", m.ID)
	}
	err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	if err != nil {
		err = fmt.Errorf("stream %s: set answer: %w", m.ID, err)
	} else {
		c.flushCandidates(m.ID, pc)
	}
	notify(c.answered, err)
	return err
}

// addCandidate adds a candidate the server trickled, or keeps it until
// the stream's remote description is set.
func (c *galeneConn) addCandidate(m galeneMessage) error {
	if m.Candidate == nil {
		return nil
	}
	c.mu.Lock()
	pc := c.pcs[m.ID]
	if pc == nil || pc.RemoteDescription() == nil {
		c.pending[m.ID] = append(c.pending[m.ID], *m.Candidate)
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if err := pc.AddICECandidate(*m.Candidate); err != nil {
		return fmt.Errorf("stream %s: add candidate: %w", m.ID, err)
	}
	return nil
}

// flushCandidates adds the candidates kept for stream id.
func (c *galeneConn) flushCandidates(id string, pc *webrtc.PeerConnection) {
	c.mu.Lock()
	cands := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	for _, cand := range cands {
		if err := pc.AddICECandidate(cand); err != nil {
			c.opts.log.Warn("galene: add candidate", "client", c.opts.id, "stream", id, "err", err)
		}
	}
}

// galeneSent is one published track and its counters.
type galeneSent struct {
	track *webrtc.TrackLocalStaticRTP
	mu    sync.Mutex
	stats client.TrackStats
}

func (s *galeneSent) count(payload int, keyframe bool) {
	s.mu.Lock()
	s.stats.Packets++
	s.stats.Bytes += uint64(payload)
	if keyframe {
		s.stats.Keyframes++
	}
	s.mu.Unlock()
}

// publish offers one stream of synthetic Opus and VP8 and starts sending
// once it connects.
func (c *galeneConn) publish(ctx context.Context) error {
	id := c.opts.id
	streamID := "up-" + id
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: client.AudioClockRate, Channels: 2}, "audio", id)
	if err != nil {
		return fmt.Errorf("publish: audio track: %w", err)
	}
	video, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: client.VideoClockRate}, "video", id)
	if err != nil {
		return fmt.Errorf("publish: video track: %w", err)
	}
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("publish: new peer connection: %w", err)
	}
	c.mu.Lock()
	c.pcs[streamID] = pc
	c.mu.Unlock()
	var keyframeWanted atomic.Bool
	var tracks []*galeneSent
	for _, t := range []*webrtc.TrackLocalStaticRTP{audio, video} {
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("publish: add %s track: %w", t.Kind(), err)
		}
		st := &galeneSent{track: t, stats: client.TrackStats{Participant: id, Kind: t.Kind().String()}}
		if enc := tr.Sender().GetParameters().Encodings; len(enc) > 0 {
			st.stats.SSRC = uint32(enc[0].SSRC)
		}
		tracks = append(tracks, st)
		var onKeyframe func()
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			onKeyframe = func() { keyframeWanted.Store(true) }
		}
		c.wg.Go(func() { drainRTCP(tr.Sender(), onKeyframe) })
	}
	c.mu.Lock()
	c.sent = tracks
	c.mu.Unlock()
	var startOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.opts.log.Debug("galene: publish connection", "state", s.String())
		if s == webrtc.PeerConnectionStateConnected {
			startOnce.Do(func() { c.wg.Go(func() { c.sendMedia(tracks[0], tracks[1], &keyframeWanted) }) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("publish: create offer: %w", err)
	}
	sdp, err := client.GatherLocal(ctx, pc, offer)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := c.send(galeneMessage{Type: "offer", ID: streamID, Label: galeneLabel, Username: id, SDP: sdp}); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := c.wait(ctx, c.answered, "the answer"); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// drainRTCP reads the RTCP arriving for a sender, which makes NACK and
// receiver reports work, and calls onKeyframe (if not nil) on PLI or FIR.
func drainRTCP(s *webrtc.RTPSender, onKeyframe func()) {
	buf := make([]byte, rtpBuffer)
	for {
		n, _, err := s.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if onKeyframe != nil {
					onKeyframe()
				}
			}
		}
	}
}

// sendMedia writes synthetic audio every 20 ms and a video frame every
// 40 ms, as a hoinghi publisher does, until the connection closes. It keeps
// to the wall clock: after a stall it sends what fell due at once.
func (c *galeneConn) sendMedia(audio, video *galeneSent, keyframeWanted *atomic.Bool) {
	sender := client.SenderHash(c.opts.id)
	ag := client.NewAudioGenerator(sender, c.opts.audioBitrate)
	vg := client.NewVideoGenerator(sender, c.opts.videoBitrate)
	ap := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	vp := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	videoEvery := int(time.Second / client.VideoFrameRate / client.AudioPacketDuration) // ticks per video frame
	ticker := time.NewTicker(client.AudioPacketDuration)
	defer ticker.Stop()
	start := time.Now()
	tick, frame := 0, 0
	for {
		due := int(time.Since(start)/client.AudioPacketDuration) + 1
		for ; tick < due; tick++ {
			ap.Payload = ag.Next()
			if err := audio.track.WriteRTP(&ap); err == nil {
				audio.count(len(ap.Payload), false)
			}
			ap.SequenceNumber++
			ap.Timestamp += client.AudioTimestampStep
			if tick%videoEvery != 0 {
				continue
			}
			key := frame%client.VideoKeyframeEvery == 0 || keyframeWanted.Swap(false)
			if key {
				frame = 0
			}
			pkts := vg.NextFrame(key)
			for i, p := range pkts {
				vp.Payload = p
				vp.Marker = i == len(pkts)-1
				if err := video.track.WriteRTP(&vp); err == nil {
					video.count(len(p), key && i == 0)
				}
				vp.SequenceNumber++
			}
			vp.Timestamp += client.VideoTimestampStep
			frame++
		}
		select {
		case <-c.ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// onTrack starts counting a track of a stream published by from.
func (c *galeneConn) onTrack(from string, t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	rt := client.NewTrackCounter(t, from, client.SenderHash(from))
	c.mu.Lock()
	c.recv = append(c.recv, rt)
	c.mu.Unlock()
	c.wg.Go(func() {
		if err := rt.ReadTrack(t, c.start); !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
			c.opts.log.Debug("galene: track read ended", "client", c.opts.id, "kind", t.Kind().String(), "err", err)
		}
	})
	c.wg.Go(func() { rt.ReadReports(r) })
}

// Received returns the counters of every track received so far.
func (c *galeneConn) Received() []client.TrackStats {
	c.mu.Lock()
	recv := append([]*client.TrackCounter(nil), c.recv...)
	c.mu.Unlock()
	out := make([]client.TrackStats, 0, len(recv))
	for _, rt := range recv {
		out = append(out, rt.Stats())
	}
	return out
}

// Sent returns the counters of the published tracks, or nil.
func (c *galeneConn) Sent() []client.TrackStats {
	c.mu.Lock()
	sent := append([]*galeneSent(nil), c.sent...)
	c.mu.Unlock()
	var out []client.TrackStats
	for _, st := range sent {
		st.mu.Lock()
		out = append(out, st.stats)
		st.mu.Unlock()
	}
	return out
}

// Done is closed when the signaling connection ends.
func (c *galeneConn) Done() <-chan struct{} { return c.done }

// Close leaves, closes the WebSocket and every peer connection, and waits
// for the client's goroutines.
func (c *galeneConn) Close() error {
	var errs []error
	c.once.Do(func() {
		c.mu.Lock()
		c.closing = true
		pcs := make([]*webrtc.PeerConnection, 0, len(c.pcs))
		for _, pc := range c.pcs {
			pcs = append(pcs, pc)
		}
		c.pcs = map[string]*webrtc.PeerConnection{}
		c.mu.Unlock()
		c.wmu.Lock()
		c.ws.SetWriteDeadline(time.Now().Add(time.Second))
		err := c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		c.wmu.Unlock()
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			errs = append(errs, fmt.Errorf("galene: send close: %w", err))
		}
		c.cancel()
		for _, pc := range pcs {
			if err := pc.Close(); err != nil {
				errs = append(errs, fmt.Errorf("galene: close peer connection: %w", err))
			}
		}
		c.ws.Close()
		<-c.done
		c.wg.Wait()
	})
	return errors.Join(errs...)
}

// galeneOptions returns the settings of the Galene client with id id.
func (e *env) galeneOptions(id string, publish bool) galeneOptions {
	return galeneOptions{
		url: e.cfg.galene, group: e.cfg.group, id: id, password: "load", publish: publish,
		videoBitrate: e.cfg.videoBitrate, audioBitrate: e.cfg.audioBitrate, log: e.log,
	}
}

// runGalene runs the fan-out against a Galene server: the publisher (the
// hall) and -points subscribers, then the window, recorded in r as the
// hoinghi fan-out is.
func runGalene(ctx context.Context, e *env, r *result) error {
	cfg := e.cfg
	t0 := time.Now()
	hctx, cancel := context.WithTimeout(ctx, cfg.joinTimeout)
	hall, err := dialGalene(hctx, e.galeneOptions(galeneHall, true))
	cancel()
	if err != nil {
		return fmt.Errorf("connect the publisher: %w", err)
	}
	defer hall.Close()
	// Galene offers a new stream to the group's clients 200 ms after its
	// last track arrived, to the clients present when the timer started: a
	// subscriber that joins in that gap is told the stream has no tracks
	// and never gets it. So the subscribers join once it has been offered.
	if err := hall.waitSending(ctx, cfg.joinTimeout); err != nil {
		return fmt.Errorf("the publisher: %w", err)
	}
	if err := sleep(ctx, galeneSettle); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "galene group %s: publisher connected; %d subscribers joining %s (ramp %s)\n", cfg.group, cfg.points, cfg.galene, cfg.ramp)
	r.proc.sample(&r.proc.base)
	rs := joinAll(ctx, cfg.points, e.plan, func(ctx context.Context, i int) (*galeneConn, error) {
		id := fmt.Sprintf("diem-%03d", i+1)
		c, err := dialGalene(ctx, e.galeneOptions(id, false))
		if err != nil {
			return nil, fmt.Errorf("connect subscriber %s: %w", id, err)
		}
		return c, nil
	})
	var subs []*galeneConn
	for _, j := range rs {
		r.retries += j.retries
		if j.err == nil {
			subs = append(subs, j.conn)
			r.dialTimes = append(r.dialTimes, j.dialTime)
		}
	}
	r.joined, r.failed = len(subs), groupFailures(rs)
	defer func() {
		var wg sync.WaitGroup
		for _, s := range subs {
			wg.Go(func() { s.Close() })
		}
		wg.Wait()
	}()
	fmt.Fprintf(e.stdout, "%d joined, %d failed; waiting up to %s for media to reach everyone\n", r.joined, total(r.failed), cfg.warmup)
	waitGalene(ctx, subs, cfg.warmup)
	r.joinPhase = time.Since(t0)

	before := galeneSnapshot(hall, subs)
	r.proc.sample(&r.proc.start)
	cpu0 := cpuTime()
	fmt.Fprintf(e.stdout, "measuring for %s\n", cfg.duration)
	r.window = hold(ctx, cfg.duration)
	r.proc.sample(&r.proc.end)
	r.ownCPU = cpuTime() - cpu0
	after := galeneSnapshot(hall, subs)

	var t tally
	b, a := []peerStats{before[0]}, []peerStats{after[0]}
	for i, s := range subs {
		select {
		case <-s.Done():
			t.add("connection lost", "")
			continue
		default:
		}
		b, a = append(b, before[1+i]), append(a, after[1+i])
	}
	r.dropped, r.connected = t.sorted(), len(a)-1
	select {
	case <-hall.Done():
		r.hallLost = "connection lost"
	default:
	}
	r.addMedia(b, a)
	r.hallExpect = 0
	return nil
}

// galeneSettle is how long the publisher sends before the subscribers join,
// beyond Galene's 200 ms delay before it offers a new stream.
const galeneSettle = time.Second

// waitSending waits until the publisher has sent video, or for limit.
func (c *galeneConn) waitSending(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, t := range c.Sent() {
			if t.Kind == "video" && t.Packets > 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no media sent: %w", ctx.Err())
		case <-c.done:
			return fmt.Errorf("no media sent: %w", c.ended())
		case <-tick.C:
		}
	}
}

// waitGalene waits until every subscriber receives video, or until limit.
func waitGalene(ctx context.Context, subs []*galeneConn, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		waiting := 0
		for _, s := range subs {
			if len(videoSenders(s.Received(), nil)) == 0 {
				waiting++
			}
		}
		if waiting == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// galeneSnapshot reads the counters of the publisher and the subscribers.
func galeneSnapshot(hall *galeneConn, subs []*galeneConn) []peerStats {
	out := make([]peerStats, 0, 1+len(subs))
	for _, c := range append([]*galeneConn{hall}, subs...) {
		out = append(out, peerStats{name: c.opts.id, sent: c.Sent(), recv: c.Received()})
	}
	return out
}
