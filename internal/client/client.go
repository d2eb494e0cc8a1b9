// Package client is a Go client of the hoinghi signaling protocol
// (docs/protocol.md) with pion/webrtc on the client side. It joins a
// conference with a token, optionally publishes synthetic audio and video
// that receivers can verify end to end, and counts what it receives.
//
// Integration tests, the load generator cmd/hoinghi-load and bots use it.
package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/protocol"
)

// Defaults applied by Dial to zero Options fields.
const (
	DefaultVideoBitrate = 500_000
	DefaultAudioBitrate = 32_000
)

const (
	writeTimeout   = 10 * time.Second
	errorsBuffer   = 64
	offersBuffer   = 16
	rtpBufferBytes = 1500
)

// Options configure a Client.
type Options struct {
	ServerURL string // base URL of the server, http(s)://host:port
	Token     string // join token, sent as the t query parameter
	// Publish makes the client send synthetic audio (Opus, PT 111, 48 kHz,
	// 20 ms packets) and VP8 video (90 kHz, VideoFrameRate) once connected,
	// or the clips of AudioClip and VideoClip.
	Publish      bool
	VideoBitrate int // bits/s of RTP payload; default DefaultVideoBitrate
	// Simulcast publishes the video as three encodings (RIDs q, h and f,
	// of a tenth, a third and all of VideoBitrate), as a browser sends a
	// camera in simulcast; it is ignored with VideoClip.
	Simulcast    bool
	AudioBitrate int  // bits/s of RTP payload; default DefaultAudioBitrate
	InsecureTLS  bool // accept any server certificate (self-signed test servers)
	// SkipICEServers ignores the STUN and TURN servers named in welcome and
	// uses host candidates only (enough on loopback and a LAN).
	SkipICEServers bool
	// VideoClip, when set, is an IVF file of VP8 whose frames the client
	// publishes in a loop in place of the synthetic video, for receivers
	// that decode pictures (browsers); a keyframe request skips to its
	// next keyframe. Receiving Go clients count its packets as corrupt.
	VideoClip []byte
	// AudioClip, when set, is an Ogg Opus file whose packets the client
	// publishes in a loop in place of the synthetic audio, each advancing
	// the RTP timestamp by its duration (its TOC byte says it: 960 for
	// 20 ms), for receivers that decode sound (recorders, browsers);
	// AudioBitrate does not apply to it. Receiving Go clients count its
	// packets as corrupt, as those of VideoClip.
	AudioClip []byte
	// VideoLossPercent drops that share of the video packets the client
	// receives, on its socket, as a lossy link does: the server's
	// retransmissions repair what they can. The client's media then uses
	// one socket on loopback (the option is for tests on one machine).
	VideoLossPercent float64
	// VideoSendLossPercent drops that share of the video packets the
	// client publishes, on its socket, as a lossy uplink does: the
	// server's NACKs get them sent again. Like VideoLossPercent, it puts
	// the client's media on one loopback socket.
	VideoSendLossPercent float64
	// KeyframeOnLoss makes the client ask for a keyframe (PLI) of a
	// received video track whenever packets of it went missing in the
	// last 100 ms, as a browser whose decoder cannot wait for the
	// retransmission does.
	KeyframeOnLoss bool
	// TCPOnly makes the client's media use ICE-TCP alone, as a point whose
	// network blocks UDP.
	TCPOnly bool
	// BlockMedia makes the client gather no ICE candidates, so that its
	// media never connects: a point behind a firewall that lets only the
	// web page through.
	BlockMedia bool
	// SignalingOnly keeps the client to the WebSocket: it answers no
	// subscribe offer and makes no PeerConnection, as a page that has not
	// opened its media yet. It cannot be combined with Publish.
	SignalingOnly bool
	// Instance names this client among the connections of its hall link
	// (the instance parameter of /ws): every connection with the same
	// link and instance is the same participant, with the same id, and a
	// new one replaces the old. Empty: a fresh participant each time.
	// A point's link ignores it.
	Instance string
	// Content publishes, with Publish, a second synthetic VP8 video track
	// (one encoding, a tenth of VideoBitrate) on a transceiver of its own,
	// as a page that shares a screen: ContentMid names it for the content
	// message, which the client does not send by itself.
	Content bool
	// ContentClip, when set with Content, is an IVF file of VP8 that the
	// content track plays in a loop in place of its synthetic video, as
	// VideoClip does for the camera.
	ContentClip []byte
	Logger      *slog.Logger // nil discards logs
}

// RefusedError is returned by Dial when the server refuses the WebSocket
// with an HTTP error, such as 401 for a missing, forged or expired token.
type RefusedError struct {
	Status          int    // HTTP status code
	Code            string // the error field of the JSON body, e.g. "token_expired"
	Message         string // Vietnamese message, or the raw body when it is not JSON
	MessageEN       string // English message
	TechnicianPhone string // present when the conference is known
	// RetryAfter is the server's Retry-After: when to try again, for a
	// refusal such as "server_busy" (HTTP 503); zero when not given.
	RetryAfter time.Duration
}

// Error implements error.
func (e *RefusedError) Error() string {
	msg := e.MessageEN
	if msg == "" {
		msg = e.Message
	}
	return fmt.Sprintf("server refused the connection: HTTP %d %s: %s", e.Status, e.Code, msg)
}

// ServerError is returned by Dial when the server sends a closing or error
// message instead of welcome or publish_answer (for example error
// "forbidden" to a secretariat that publishes).
type ServerError struct {
	Closing *protocol.Closing // the closing message, if one came
	Err     *protocol.Error   // the error message, if one came
}

// Error implements error.
func (e *ServerError) Error() string {
	switch {
	case e.Closing != nil:
		return fmt.Sprintf("server closed the connection: %s: %s", e.Closing.Reason, e.Closing.Message)
	case e.Err != nil:
		return fmt.Sprintf("server error: %s: %s", e.Err.Code, e.Err.Message)
	}
	return "server error"
}

// Client is one participant connected to a conference. Its methods are safe
// for concurrent use.
type Client struct {
	opts  Options
	log   *slog.Logger
	start time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{} // closed when the WebSocket reader stops
	once   sync.Once

	ws  *websocket.Conn
	wmu sync.Mutex // serializes WebSocket writes

	// pubAPI and subAPI make the publishing and subscribing
	// PeerConnections (the same API but for a lossy client); muxes are
	// the media sockets of a lossy client, one per PeerConnection.
	pubAPI, subAPI *webrtc.API
	muxes          []ice.UDPMux
	clip           *clip      // published in place of the synthetic video, when set
	audioClip      *audioClip // published in place of the synthetic audio, when set
	welcome        protocol.Welcome
	errs           chan protocol.Error
	offers         chan string
	pubAns         chan pubResult

	mu            sync.Mutex
	roster        map[string]protocol.Participant // participant id -> entry
	rosterVersion uint64
	rosterGaps    int // updates that did not follow the roster's version
	floor         protocol.FloorState
	alerts        int
	quality       protocol.LinkQuality
	muted         bool
	wall          []string         // the point each wall slot shows, from wall_state
	program       protocol.Program // where the hall program comes from, from program (hall roles)
	content       protocol.ContentState
	contentMid    string // the transceiver of the content track, with Options.Content
	mediaState    protocol.MediaState
	// cameraRestarts counts restart_camera requests; a synthetic camera
	// has nothing to restart.
	cameraRestarts int
	closing        *protocol.Closing
	readErr        error
	pubPC          *webrtc.PeerConnection
	subPC          *webrtc.PeerConnection
	recv           []*TrackCounter
	sent           []*sendTrack // audio, then each video encoding; nil until publishing
	// video are the encodings of the published video, on the transceiver
	// videoTransceiver; layerRequests counts the server's publish_layers.
	video            []*videoEncoding
	videoTransceiver *webrtc.RTPTransceiver
	layerRequests    int
	downlink         string // the server's last downlink state
	plisSent         int    // with Options.KeyframeOnLoss
	closeErr         error
	att              attendanceView // see attendance.go
	qual             qualityView    // see quality.go
}

type pubResult struct {
	sdp string
	err *protocol.Error
}

// Dial connects to the server, waits for welcome and, with opts.Publish,
// negotiates the publishing PeerConnection; it returns once the server has
// answered. ctx bounds Dial only; the client lives until Close. A refusal
// over HTTP returns a *RefusedError; a closing or error message instead of
// welcome or publish_answer returns a *ServerError.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	start := time.Now()
	if opts.SignalingOnly && opts.Publish {
		return nil, errors.New("dial: a signaling-only client cannot publish")
	}
	var vclip *clip
	if len(opts.VideoClip) > 0 {
		var err error
		if vclip, err = newClip(opts.VideoClip); err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
	}
	var aclip *audioClip
	if len(opts.AudioClip) > 0 {
		var err error
		if aclip, err = newAudioClip(opts.AudioClip); err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
	}
	if opts.VideoBitrate <= 0 {
		opts.VideoBitrate = DefaultVideoBitrate
	}
	if opts.AudioBitrate <= 0 {
		opts.AudioBitrate = DefaultAudioBitrate
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wsURL, err := wsURL(opts.ServerURL, opts.Token, opts.Instance)
	if err != nil {
		return nil, err
	}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	if opts.InsecureTLS {
		dialer.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // requested for self-signed test servers
	}
	ws, resp, err := dialer.DialContext(ctx, wsURL, nil)
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			return nil, refused(ctx, resp, opts)
		}
		return nil, fmt.Errorf("dial %s: %w", redact(wsURL), err)
	}
	ws.SetReadLimit(4 << 20)

	c := &Client{
		opts:      opts,
		log:       log,
		start:     start,
		done:      make(chan struct{}),
		ws:        ws,
		errs:      make(chan protocol.Error, errorsBuffer),
		offers:    make(chan string, offersBuffer),
		pubAns:    make(chan pubResult, 1),
		clip:      vclip,
		audioClip: aclip,
	}
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))

	if err := c.readWelcome(ctx); err != nil {
		c.cancel()
		ws.Close()
		return nil, err
	}
	c.log = log.With("participant", c.welcome.ParticipantID)
	if c.pubAPI, c.subAPI, c.muxes, err = newAPIs(opts); err != nil {
		c.cancel()
		ws.Close()
		return nil, err
	}

	c.wg.Add(2)
	go c.readLoop()
	go c.negotiateSubscribe()

	if opts.Publish {
		if err := c.publish(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// wsURL turns the base URL into the signaling WebSocket URL with the
// token, the protocol version this client speaks and its instance, if any.
func wsURL(base, tok, instance string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("server url %q: %w", base, err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server url %q: scheme must be http or https", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server url %q: no host", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ws"
	q := url.Values{"t": {tok}, "v": {strconv.Itoa(protocol.Version)}}
	if instance != "" {
		q.Set("instance", instance)
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

// redact hides the token in a URL written to errors and logs.
func redact(s string) string {
	if i := strings.Index(s, "?"); i >= 0 {
		return s[:i] + "?t=REDACTED"
	}
	return s
}

// refusalBody is the JSON body of an HTTP refusal.
type refusalBody struct {
	Error           string `json:"error"`
	Message         string `json:"message"`
	MessageEN       string `json:"message_en"`
	TechnicianPhone string `json:"technician_phone"`
}

// refused builds a *RefusedError from a failed WebSocket handshake. The
// WebSocket library keeps only the first KiB of the body; when that is not
// whole JSON, the same URL is fetched again as a plain GET, which the server
// refuses the same way, to read the whole body.
func refused(ctx context.Context, resp *http.Response, opts Options) error {
	body, _ := io.ReadAll(resp.Body)
	var rb refusalBody
	if json.Unmarshal(body, &rb) != nil && len(body) >= 1024 {
		if full, err := refetch(ctx, resp.Request.URL, opts); err == nil {
			body = full
		}
	}
	e := &RefusedError{Status: resp.StatusCode}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	if err := json.Unmarshal(body, &rb); err != nil {
		e.Message = strings.TrimSpace(string(body))
		return e
	}
	e.Code, e.Message, e.MessageEN, e.TechnicianPhone = rb.Error, rb.Message, rb.MessageEN, rb.TechnicianPhone
	return e
}

func refetch(ctx context.Context, u *url.URL, opts Options) ([]byte, error) {
	v := *u
	v.Scheme = strings.Replace(strings.Replace(v.Scheme, "wss", "https", 1), "ws", "http", 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.String(), nil)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	if opts.InsecureTLS {
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // as requested
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 64<<10))
}

// readWelcome reads messages until welcome arrives.
func (c *Client) readWelcome(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		c.ws.SetReadDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.ws.SetReadDeadline(time.Now()) })
	defer stop()
	defer c.ws.SetReadDeadline(time.Time{})
	for {
		_, raw, err := c.ws.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("wait for welcome: %w", ctx.Err())
			}
			return fmt.Errorf("wait for welcome: %w", err)
		}
		var env protocol.Envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			return fmt.Errorf("wait for welcome: malformed message: %w", err)
		}
		switch env.Type {
		case protocol.TypeWelcome:
			if err := json.Unmarshal(raw, &c.welcome); err != nil {
				return fmt.Errorf("decode welcome: %w", err)
			}
			return nil
		case protocol.TypeClosing:
			var m protocol.Closing
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("decode closing: %w", err)
			}
			return &ServerError{Closing: &m}
		case protocol.TypeError:
			var m protocol.Error
			if err := json.Unmarshal(raw, &m); err != nil {
				return fmt.Errorf("decode error message: %w", err)
			}
			return &ServerError{Err: &m}
		default:
			c.log.Debug("message before welcome ignored", "type", env.Type)
		}
	}
}

// newAPIs returns the APIs of the client's publishing and subscribing
// PeerConnections, and the media sockets made for them. A lossy client
// gets one API and one socket per PeerConnection: on one socket, two
// PeerConnections that talk to the same server address cannot be told
// apart. Others share one API.
func newAPIs(opts Options) (pub, sub *webrtc.API, muxes []ice.UDPMux, err error) {
	pub, mux, err := newAPI(opts.BlockMedia, opts.TCPOnly, opts.VideoLossPercent, opts.VideoSendLossPercent)
	if err != nil {
		return nil, nil, nil, err
	}
	if mux == nil {
		return pub, pub, nil, nil
	}
	sub, subMux, err := newAPI(opts.BlockMedia, opts.TCPOnly, opts.VideoLossPercent, opts.VideoSendLossPercent)
	if err != nil {
		mux.Close()
		return nil, nil, nil, err
	}
	return pub, sub, []ice.UDPMux{mux, subMux}, nil
}

// newAPI builds the pion API every PeerConnection of a client uses: default
// codecs and interceptors (NACK, RTCP reports, TWCC) and transport-wide
// sequence numbers on what it sends, loopback candidates included and mDNS
// off.
func newAPI(blockMedia, tcpOnly bool, videoLoss, videoSendLoss float64) (*webrtc.API, ice.UDPMux, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, nil, fmt.Errorf("register codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, nil, fmt.Errorf("register interceptors: %w", err)
	}
	// As a browser does: the encodings of a simulcast track carry their
	// media id and RID.
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return nil, nil, fmt.Errorf("register simulcast header extensions: %w", err)
	}
	// As a browser does: every packet sent carries a transport-wide
	// sequence number, for the server's congestion control feedback.
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
		return nil, nil, fmt.Errorf("register transport-wide sequence numbers: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(!blockMedia)
	if blockMedia {
		se.SetInterfaceFilter(func(string) bool { return false })
	}
	if tcpOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	}
	var mux ice.UDPMux
	if videoLoss > 0 || videoSendLoss > 0 {
		var err error
		if mux, err = lossyMux(videoLoss, videoSendLoss); err != nil {
			return nil, nil, err
		}
		se.SetICEUDPMux(mux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), mux, nil
}

// pcConfig returns the PeerConnection configuration from welcome.
func (c *Client) pcConfig() webrtc.Configuration {
	var cfg webrtc.Configuration
	if c.opts.SkipICEServers {
		return cfg
	}
	for _, s := range c.welcome.ICEServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return cfg
}

// Welcome returns the server's welcome message.
func (c *Client) Welcome() protocol.Welcome { return c.welcome }

// Roster returns the participants connected now, as the roster and its
// updates say, ordered by id.
func (c *Client) Roster() []protocol.Participant {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]protocol.Participant, 0, len(c.roster))
	for _, p := range c.roster {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b protocol.Participant) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// RosterVersion returns the version of the roster the client holds, and
// how many updates came that did not follow on from the version it held
// (a server fault: every update follows the roster or the update before).
func (c *Client) RosterVersion() (version uint64, gaps int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rosterVersion, c.rosterGaps
}

// applyRoster replaces the roster with m.
func (c *Client) applyRoster(m protocol.Roster) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roster = make(map[string]protocol.Participant, len(m.Participants))
	for _, p := range m.Participants {
		c.roster[p.ID] = p
	}
	c.rosterVersion = m.Version
}

// applyRosterUpdate applies m unless the client has it already.
func (c *Client) applyRosterUpdate(m protocol.RosterUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Version <= c.rosterVersion {
		return
	}
	if c.roster == nil || m.Version != c.rosterVersion+1 {
		c.rosterGaps++
	}
	if c.roster == nil {
		c.roster = make(map[string]protocol.Participant)
	}
	for _, p := range m.Set {
		c.roster[p.ID] = p
	}
	for _, id := range m.Removed {
		delete(c.roster, id)
	}
	c.rosterVersion = m.Version
}

// FloorState returns the latest floor_state the server sent.
func (c *Client) FloorState() protocol.FloorState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.floor
}

// SetWall asks the server to show on this hall client's wall the cameras
// of the points in ids, first first (as many as the wall has slots), as
// a console does for the tiles on its screen. The server tells which
// slot shows which point in wall_state (Wall); a refusal arrives on
// Errors.
func (c *Client) SetWall(ids []string) error {
	if ids == nil {
		ids = []string{}
	}
	return c.Send(protocol.Wall{Type: protocol.TypeWall, Participants: ids})
}

// MediaState returns the server's last media_state: whether this
// client's media connected or failed to.
func (c *Client) MediaState() protocol.MediaState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mediaState
}

// Wall returns which point each slot of this hall client's wall shows, as
// the server last said ("" for an empty slot).
func (c *Client) Wall() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.wall)
}

// ContentState returns who shares content, as the server last told
// (zero before the first content_state).
func (c *Client) ContentState() protocol.ContentState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.content
}

// ContentMid returns the mid of the transceiver of the content track
// (Options.Content), "" before the publish offer or without one.
func (c *Client) ContentMid() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.contentMid
}

// Program returns where the hall program comes from, as the server last
// told this hall client (zero before the first program message).
func (c *Client) Program() protocol.Program {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.program
}

// Muted reports whether the hall muted this participant, as the server
// last said.
func (c *Client) Muted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.muted
}

// CameraRestarts counts the server's requests to restart the camera.
func (c *Client) CameraRestarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cameraRestarts
}

// Downlink returns the last downlink state the server told
// (protocol.DownlinkGood, DownlinkReduced or DownlinkAudioOnly), "" before
// any.
func (c *Client) Downlink() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.downlink
}

// LinkQuality returns the latest link_quality the server sent (to the
// hall only).
func (c *Client) LinkQuality() protocol.LinkQuality {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.quality
}

// Alerts returns how many floor_alert messages the server sent.
func (c *Client) Alerts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alerts
}

// WaitFloor polls until pred holds for the latest floor state, or ctx ends.
func (c *Client) WaitFloor(ctx context.Context, pred func(protocol.FloorState) bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !pred(c.FloorState()) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for floor state: %w", ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Floor sends a floor action; a refusal arrives on Errors.
func (c *Client) Floor(m protocol.Floor) error {
	m.Type = protocol.TypeFloor
	return c.Send(m)
}

// Errors returns the error messages the server sent. The channel buffers a
// few; when it is full, newer errors are dropped.
func (c *Client) Errors() <-chan protocol.Error { return c.errs }

// Done is closed when the signaling connection has ended, by Close or by the
// server.
func (c *Client) Done() <-chan struct{} { return c.done }

// Closing returns the server's closing message, if it sent one.
func (c *Client) Closing() (protocol.Closing, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing == nil {
		return protocol.Closing{}, false
	}
	return *c.closing, true
}

// Send marshals v as JSON and sends it as one text message.
func (c *Client) Send(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("send: marshal: %w", err)
	}
	return c.SendRaw(raw)
}

// SendRaw sends raw as one text message, unchecked.
func (c *Client) SendRaw(raw []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, raw); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// readLoop reads and dispatches server messages until the WebSocket ends.
func (c *Client) readLoop() {
	defer c.wg.Done()
	defer close(c.done)
	for {
		_, raw, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			if c.ctx.Err() == nil {
				c.log.Info("signaling connection ended", "err", err)
			}
			return
		}
		if err := c.dispatch(raw); err != nil {
			c.log.Warn("bad server message", "err", err)
		}
	}
}

func (c *Client) dispatch(raw []byte) error {
	var env protocol.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	switch env.Type {
	case protocol.TypeRoster:
		var m protocol.Roster
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode roster: %w", err)
		}
		c.applyRoster(m)
	case protocol.TypeRosterUpdate:
		var m protocol.RosterUpdate
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode roster_update: %w", err)
		}
		c.applyRosterUpdate(m)
	case protocol.TypePublishAnswer:
		var m protocol.SDP
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode publish_answer: %w", err)
		}
		select {
		case c.pubAns <- pubResult{sdp: m.SDP}:
		default:
			return errors.New("unexpected publish_answer")
		}
	case protocol.TypeSubscribeOffer:
		var m protocol.SDP
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode subscribe_offer: %w", err)
		}
		select {
		case c.offers <- m.SDP:
		case <-c.ctx.Done():
		}
	case protocol.TypeError:
		var m protocol.Error
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode error: %w", err)
		}
		c.log.Debug("server error", "code", m.Code, "request", m.Request, "message", m.Message)
		if m.Request == protocol.TypePublishOffer {
			select {
			case c.pubAns <- pubResult{err: &m}:
			default:
			}
		}
		select {
		case c.errs <- m:
		default:
		}
	case protocol.TypeClosing:
		var m protocol.Closing
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode closing: %w", err)
		}
		c.log.Info("server closing", "reason", m.Reason, "message", m.Message)
		c.mu.Lock()
		c.closing = &m
		c.mu.Unlock()
	case protocol.TypeFloorState:
		var m protocol.FloorState
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode floor_state: %w", err)
		}
		c.mu.Lock()
		if m.Version >= c.floor.Version {
			c.floor = m
		}
		c.mu.Unlock()
	case protocol.TypeLinkQuality:
		var m protocol.LinkQuality
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode link_quality: %w", err)
		}
		c.mu.Lock()
		c.quality = m
		c.mu.Unlock()
	case protocol.TypeMediaState:
		var m protocol.MediaState
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode media_state: %w", err)
		}
		c.mu.Lock()
		c.mediaState = m
		c.mu.Unlock()
	case protocol.TypeContentState:
		var m protocol.ContentState
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode content_state: %w", err)
		}
		c.mu.Lock()
		c.content = m
		c.mu.Unlock()
	case protocol.TypeProgram:
		var m protocol.Program
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode program: %w", err)
		}
		c.mu.Lock()
		c.program = m
		c.mu.Unlock()
	case protocol.TypeWallState:
		var m protocol.WallState
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode wall_state: %w", err)
		}
		c.mu.Lock()
		c.wall = m.Slots
		c.mu.Unlock()
	case protocol.TypeMuted:
		var m protocol.Muted
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode muted: %w", err)
		}
		c.mu.Lock()
		c.muted = m.Muted
		c.mu.Unlock()
	case protocol.TypeDownlink:
		var m protocol.Downlink
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode downlink: %w", err)
		}
		c.mu.Lock()
		c.downlink = m.State
		c.mu.Unlock()
	case protocol.TypePublishLayers:
		var m protocol.PublishLayers
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decode publish_layers: %w", err)
		}
		c.applyLayers(m)
	case protocol.TypeRestartCamera:
		c.mu.Lock()
		c.cameraRestarts++
		c.mu.Unlock()
	case protocol.TypeFloorAlert:
		c.mu.Lock()
		c.alerts++
		c.mu.Unlock()
	case protocol.TypeWelcome:
		c.log.Debug("repeated welcome ignored")
	default:
		if ok, err := c.dispatchAttendance(env.Type, raw); ok {
			return err
		}
		if ok, err := c.dispatchQuality(env.Type, raw); ok {
			return err
		}
		c.log.Debug("unknown message type ignored", "type", env.Type)
	}
	return nil
}

// Abort drops the client as a lost network does: the WebSocket's socket
// closes with no close frame, and the PeerConnections with it. Close
// still releases what remains.
func (c *Client) Abort() {
	c.ws.NetConn().Close()
	c.mu.Lock()
	pcs := []*webrtc.PeerConnection{c.pubPC, c.subPC}
	c.mu.Unlock()
	for _, pc := range pcs {
		if pc != nil {
			pc.Close()
		}
	}
}

// Close ends the signaling connection and both PeerConnections and waits for
// the client's goroutines. It is safe to call more than once.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.cancel()
		c.wmu.Lock()
		c.ws.SetWriteDeadline(time.Now().Add(time.Second))
		err := c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		c.wmu.Unlock()
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			c.log.Debug("close message not sent", "err", err)
		}
		errs := []error{}
		if err := c.ws.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close websocket: %w", err))
		}
		c.mu.Lock()
		pcs := []*webrtc.PeerConnection{c.pubPC, c.subPC}
		c.mu.Unlock()
		for _, pc := range pcs {
			if pc == nil {
				continue
			}
			if err := pc.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close peer connection: %w", err))
			}
		}
		c.wg.Wait()
		for _, mux := range c.muxes {
			if err := mux.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close media socket: %w", err))
			}
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// GatherLocal sets desc as pc's local description, waits until pc has
// gathered its ICE candidates and returns the SDP, which carries them all
// (the client does not trickle).
func GatherLocal(ctx context.Context, pc *webrtc.PeerConnection, desc webrtc.SessionDescription) (string, error) {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gather ICE candidates: %w", ctx.Err())
	}
	return pc.LocalDescription().SDP, nil
}

// negotiateSubscribe answers subscribe offers one at a time, in order.
func (c *Client) negotiateSubscribe() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case offer := <-c.offers:
			if c.opts.SignalingOnly {
				continue
			}
			if err := c.answerSubscribe(offer); err != nil {
				if c.ctx.Err() != nil {
					return
				}
				c.log.Error("subscribe negotiation failed", "err", err)
			}
		}
	}
}

func (c *Client) answerSubscribe(offer string) error {
	c.mu.Lock()
	pc := c.subPC
	c.mu.Unlock()
	if pc == nil {
		var err error
		pc, err = c.subAPI.NewPeerConnection(c.pcConfig())
		if err != nil {
			return fmt.Errorf("new subscribe peer connection: %w", err)
		}
		pc.OnTrack(c.onTrack)
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			c.log.Debug("subscribe connection", "state", s.String())
		})
		c.mu.Lock()
		if c.ctx.Err() != nil {
			c.mu.Unlock()
			pc.Close()
			return c.ctx.Err()
		}
		c.subPC = pc
		c.mu.Unlock()
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("set subscribe offer: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create subscribe answer: %w", err)
	}
	sdp, err := GatherLocal(c.ctx, pc, answer)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return c.Send(protocol.SDP{Type: protocol.TypeSubscribeAnswer, SDP: sdp})
}
