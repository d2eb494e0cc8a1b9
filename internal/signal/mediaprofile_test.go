package signal_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/sfu"
	"hoinghi/internal/store/storetest"
)

// profileCodec is a row of the codec table of docs/protocol.md's "Media
// profile".
type profileCodec struct {
	kind, rtpmap string
	// where are the places the row is limited to ("WHIP source", a
	// subscribe m-line's track id such as "program-video"); none: every
	// m-line of its kind.
	where    []string
	pt       uint8
	fmtp     string // "" for none
	feedback []string
}

// mediaProfile is what the tables of the "Media profile" section say:
// the codecs, and by side ("publish", "subscribe") and kind the header
// extensions negotiated.
type mediaProfile struct {
	codecs     []profileCodec
	extensions map[string][]string // "publish audio" -> URIs
}

// readMediaProfile parses the two tables of the "Media profile" section
// of docs/protocol.md, so that the document cannot drift from the server.
func readMediaProfile(t *testing.T) mediaProfile {
	t.Helper()
	raw, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "\n## Media profile\n")
	if start < 0 {
		t.Fatal(`protocol.md has no section "## Media profile"`)
	}
	section := doc[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	cells := func(line string) []string {
		var out []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			out = append(out, strings.TrimSpace(c))
		}
		return out
	}
	unquote := func(s string) string { return strings.Trim(s, "`") }
	// rows returns the body rows of the table whose header starts with head.
	rows := func(head string) [][]string {
		var out [][]string
		in := false
		for _, line := range strings.Split(section, "\n") {
			switch {
			case strings.HasPrefix(line, head):
				in = true
			case in && strings.HasPrefix(line, "| ---"):
			case in && strings.HasPrefix(line, "|"):
				out = append(out, cells(line))
			case in:
				return out
			}
		}
		if len(out) == 0 {
			t.Fatalf("protocol.md, Media profile: no table with header %q", head)
		}
		return out
	}

	var p mediaProfile
	for _, r := range rows("| kind | codec") {
		if len(r) != 5 {
			t.Fatalf("codec table row %q: want 5 cells", r)
		}
		pt, err := strconv.ParseUint(r[2], 10, 8)
		if err != nil {
			t.Fatalf("codec table row %q: payload type: %v", r, err)
		}
		c := profileCodec{kind: r[0], rtpmap: unquote(r[1]), pt: uint8(pt)}
		if kind, places, ok := strings.Cut(r[0], " of the "); ok {
			c.kind = kind
			for _, w := range strings.Split(places, " and ") {
				c.where = append(c.where, unquote(w))
			}
		}
		if r[3] != "none" {
			c.fmtp = unquote(r[3])
		}
		for _, f := range strings.Split(r[4], ",") {
			c.feedback = append(c.feedback, unquote(strings.TrimSpace(f)))
		}
		p.codecs = append(p.codecs, c)
	}
	p.extensions = map[string][]string{}
	columns := []string{"publish audio", "publish video", "subscribe audio", "subscribe video"}
	for _, r := range rows("| header extension URI |") {
		if len(r) != 5 {
			t.Fatalf("header extension table row %q: want 5 cells", r)
		}
		for i, col := range columns {
			switch r[i+1] {
			case "yes":
				p.extensions[col] = append(p.extensions[col], unquote(r[0]))
			case "no":
			default:
				t.Fatalf("header extension table row %q: %q is neither yes nor no", r, r[i+1])
			}
		}
	}
	return p
}

// ofKind returns the profile's codecs of kind for every m-line.
func (p mediaProfile) ofKind(kind string) []profileCodec {
	return p.ofKindAt(kind, "")
}

// ofKindAt returns the profile's codecs of kind at place (see
// profileCodec.where; "": none): those of every m-line, then those of
// place.
func (p mediaProfile) ofKindAt(kind, place string) []profileCodec {
	var out []profileCodec
	for _, c := range p.codecs {
		if c.kind == kind && (len(c.where) == 0 || place != "" && slices.Contains(c.where, place)) {
			out = append(out, c)
		}
	}
	return out
}

// offerCodec is a codec a test's publish offer names.
type offerCodec struct {
	kind     webrtc.RTPCodecType
	mime     string
	pt       webrtc.PayloadType
	clock    uint32
	channels uint16
	fmtp     string
}

var (
	offerVP9  = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP9, 98, 90000, 0, "profile-id=0"}
	offerAV1  = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeAV1, 45, 90000, 0, ""}
	offerVP8  = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeVP8, 100, 90000, 0, ""}
	offerRTX  = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeRTX, 101, 90000, 0, "apt=100"}
	offerH264 = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeH264, 127, 90000, 0, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	// offerH264Base is H.264 of the baseline profile; offerH264Mode0 of
	// packetization mode 0, offerH264High of the high profile: neither
	// is taken.
	offerH264Base  = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeH264, 125, 90000, 0, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"}
	offerH264Mode0 = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeH264, 126, 90000, 0, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"}
	offerH264High  = offerCodec{webrtc.RTPCodecTypeVideo, webrtc.MimeTypeH264, 112, 90000, 0, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f"}
	offerOpus      = offerCodec{webrtc.RTPCodecTypeAudio, webrtc.MimeTypeOpus, 109, 48000, 2, "minptime=10;useinbandfec=1"}
	offerG722      = offerCodec{webrtc.RTPCodecTypeAudio, webrtc.MimeTypeG722, 9, 8000, 0, ""}
	offerPCMU      = offerCodec{webrtc.RTPCodecTypeAudio, webrtc.MimeTypePCMU, 0, 8000, 0, ""}
	offeredExt     = []string{ // what a browser offers, and more than the server takes
		sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI, sdp.TransportCCURI, sdp.ABSSendTimeURI,
		sdp.AudioLevelURI, "urn:ietf:params:rtp-hdrext:toffset", "urn:3gpp:video-orientation",
		"http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
	}
)

// publishOfferSDP is a publisher's offer, as a browser makes it: one
// sendonly video m-line (three simulcast encodings q, h, f with
// simulcast) and one sendonly audio m-line, with codecs, every feedback
// a browser names for video, and the header extensions of offeredExt.
func publishOfferSDP(t *testing.T, codecs []offerCodec, simulcast bool) string {
	t.Helper()
	me := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "transport-cc"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	for _, c := range codecs {
		var fb []webrtc.RTCPFeedback
		switch {
		case c.kind == webrtc.RTPCodecTypeVideo && c.mime != webrtc.MimeTypeRTX:
			fb = videoFB
		case c.kind == webrtc.RTPCodecTypeAudio:
			fb = []webrtc.RTCPFeedback{{Type: "transport-cc"}}
		}
		err := me.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: c.pt, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: c.mime, ClockRate: c.clock, Channels: c.channels, SDPFmtpLine: c.fmtp, RTCPFeedback: fb}}, c.kind)
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, uri := range offeredExt {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
			if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				t.Fatal(err)
			}
		}
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sendonly := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}
	var videoMime string
	for _, c := range codecs {
		if c.kind == webrtc.RTPCodecTypeVideo && videoMime == "" {
			videoMime = c.mime
		}
	}
	if videoMime != "" {
		if simulcast {
			track := func(rid string) *webrtc.TrackLocalStaticRTP {
				tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: videoMime, ClockRate: 90000}, "video", "camera", webrtc.WithRTPStreamID(rid))
				if err != nil {
					t.Fatal(err)
				}
				return tr
			}
			tr, err := pc.AddTransceiverFromTrack(track("q"), sendonly)
			if err != nil {
				t.Fatal(err)
			}
			for _, rid := range []string{"h", "f"} {
				if err := tr.Sender().AddEncoding(track(rid)); err != nil {
					t.Fatal(err)
				}
			}
		} else if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, sendonly); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, sendonly); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

// rawPeer is a participant on a bare WebSocket, as another vendor's client
// would be.
type rawPeer struct {
	t        *testing.T
	ws       *websocket.Conn
	subOffer string // the first subscribe_offer, once read
}

func dialRaw(t *testing.T, s *servertest.Stack, conf string, role conference.Role, point string) *rawPeer {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme, u.Path = "ws", "/ws"
	u.RawQuery = url.Values{"t": {s.Token(conf, role, point, time.Hour)}}.Encode()
	ws, _, err := websocket.DefaultDialer.Dial(u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &rawPeer{t: t, ws: ws}
}

// publish sends offer and returns the server's publish_answer, or its
// error.
func (r *rawPeer) publish(offer string) (answer string, refusal *protocol.Error) {
	r.t.Helper()
	if err := r.ws.WriteJSON(protocol.SDP{Type: protocol.TypePublishOffer, SDP: offer}); err != nil {
		r.t.Fatal(err)
	}
	for {
		raw := r.read()
		var env protocol.Envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			r.t.Fatal(err)
		}
		switch env.Type {
		case protocol.TypePublishAnswer:
			var m protocol.SDP
			if err := json.Unmarshal(raw, &m); err != nil {
				r.t.Fatal(err)
			}
			return m.SDP, nil
		case protocol.TypeError:
			var m protocol.Error
			if err := json.Unmarshal(raw, &m); err != nil {
				r.t.Fatal(err)
			}
			if m.Request == protocol.TypePublishOffer {
				return "", &m
			}
			r.t.Fatalf("unexpected error %s", raw)
		}
	}
}

// subscribeOffer returns the server's first subscribe_offer.
func (r *rawPeer) subscribeOffer() string {
	r.t.Helper()
	for r.subOffer == "" {
		r.read()
	}
	return r.subOffer
}

// read reads the next message, keeping the first subscribe offer.
func (r *rawPeer) read() []byte {
	r.t.Helper()
	if err := r.ws.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		r.t.Fatal(err)
	}
	_, raw, err := r.ws.ReadMessage()
	if err != nil {
		r.t.Fatal(err)
	}
	var m protocol.SDP
	if json.Unmarshal(raw, &m) == nil && m.Type == protocol.TypeSubscribeOffer && r.subOffer == "" {
		r.subOffer = m.SDP
	}
	return raw
}

func parseSDP(t *testing.T, s string) *sdp.SessionDescription {
	t.Helper()
	var sd sdp.SessionDescription
	if err := sd.Unmarshal([]byte(s)); err != nil {
		t.Fatalf("SDP does not parse: %v\n%s", err, s)
	}
	return &sd
}

// attrs returns the values of md's attributes key.
func attrs(md *sdp.MediaDescription, key string) []string {
	var out []string
	for _, a := range md.Attributes {
		if a.Key == key {
			out = append(out, a.Value)
		}
	}
	return out
}

// byPT returns the values of md's attribute key (rtpmap, fmtp, rtcp-fb)
// of payload type pt, without the payload type.
func byPT(md *sdp.MediaDescription, key string, pt string) []string {
	var out []string
	for _, v := range attrs(md, key) {
		if p, rest, _ := strings.Cut(v, " "); p == pt {
			out = append(out, rest)
		}
	}
	return out
}

// extensionURIs returns the URIs of md's a=extmap lines, sorted.
func extensionURIs(md *sdp.MediaDescription) []string {
	var out []string
	for _, v := range attrs(md, "extmap") {
		f := strings.Fields(v)
		if len(f) >= 2 {
			out = append(out, f[1])
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// checkMLine checks an m-line the server sent against the profile: its
// codecs are the profile's of its kind at place (by rtpmap, payload type
// when wantPT, fmtp and feedback) and its header extensions those of the
// profile's column side+" "+kind.
func checkMLine(t *testing.T, p mediaProfile, md *sdp.MediaDescription, side, place string, wantPT bool) {
	t.Helper()
	kind := md.MediaName.Media
	where := side + " " + kind
	want := p.ofKindAt(kind, place)
	if md.MediaName.Port.Value == 0 {
		t.Errorf("%s: m-line rejected (port 0), want %d codecs", where, len(want))
		return
	}
	if len(md.MediaName.Formats) != len(want) {
		t.Errorf("%s: payload types %v, want the profile's %d codecs", where, md.MediaName.Formats, len(want))
		return
	}
	for i, pt := range md.MediaName.Formats {
		c := want[i]
		if got := byPT(md, "rtpmap", pt); len(got) != 1 || !strings.EqualFold(got[0], c.rtpmap) {
			t.Errorf("%s: rtpmap of %s is %q, want %q", where, pt, got, c.rtpmap)
		}
		if wantPT && pt != strconv.Itoa(int(c.pt)) {
			t.Errorf("%s: %s has payload type %s, want %d", where, c.rtpmap, pt, c.pt)
		}
		var wantFmtp []string
		if c.fmtp != "" {
			wantFmtp = []string{c.fmtp}
		}
		if got := byPT(md, "fmtp", pt); !slices.Equal(got, wantFmtp) {
			t.Errorf("%s: fmtp of %s is %q, want %q", where, c.rtpmap, got, wantFmtp)
		}
		if got := sorted(byPT(md, "rtcp-fb", pt)); !slices.Equal(got, sorted(c.feedback)) {
			t.Errorf("%s: rtcp-fb of %s is %q, want %q", where, c.rtpmap, got, sorted(c.feedback))
		}
	}
	if got, want := extensionURIs(md), sorted(p.extensions[where]); !slices.Equal(got, want) {
		t.Errorf("%s: header extensions %q, want %q", where, got, want)
	}
}

// TestMediaProfile checks the server's publish answers and subscribe
// offers against the tables of the "Media profile" section of
// docs/protocol.md (codecs, fmtp, feedback, header extensions), and the
// rest of that section by hand: what is refused, simulcast, directions,
// DTLS roles, candidates and the subscribe offer's slots.
func TestMediaProfile(t *testing.T) {
	profile := readMediaProfile(t)
	if len(profile.ofKind("audio")) == 0 || len(profile.ofKind("video")) == 0 {
		t.Fatalf("the profile names no audio or no video codec: %+v", profile.codecs)
	}
	st := storetest.Embedded(t)
	s := servertest.Start(t, st)
	const conf = "media-profile"

	tests := []struct {
		name      string
		codecs    []offerCodec
		simulcast bool
		// refused are what the bad_sdp refusing the offer must say,
		// besides the codecs the server takes; none: it is answered.
		refused []string
	}{
		{name: "VP9, AV1, VP8 and H.264; Opus, G.722 and PCMU; simulcast",
			codecs:    []offerCodec{offerVP9, offerAV1, offerVP8, offerRTX, offerH264, offerOpus, offerG722, offerPCMU},
			simulcast: true},
		{name: "VP8 alone, one encoding", codecs: []offerCodec{offerVP8, offerOpus}},
		{name: "no video codec taken", codecs: []offerCodec{offerVP9, offerH264, offerOpus},
			refused: []string{`m-line 0 (video, mid "0") offers VP9/90000, H264/90000`}},
		{name: "no audio codec taken", codecs: []offerCodec{offerVP8, offerG722},
			refused: []string{`m-line 1 (audio, mid "1") offers G722/8000`}},
		{name: "no codec taken at all", codecs: []offerCodec{offerVP9, offerAV1, offerG722},
			refused: []string{`m-line 0 (video, mid "0") offers VP9/90000, AV1/90000; m-line 1 (audio, mid "1") offers G722/8000`}},
	}
	points := servertest.Seed(t, st, conf, len(tests)+1)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := dialRaw(t, s, conf, conference.RolePoint, points[i])
			answer, refusal := peer.publish(publishOfferSDP(t, tt.codecs, tt.simulcast))
			if len(tt.refused) > 0 {
				if refusal == nil {
					t.Fatalf("offer answered, want bad_sdp:\n%s", answer)
				}
				if refusal.Code != protocol.CodeBadSDP {
					t.Errorf("error %q, want %q", refusal.Code, protocol.CodeBadSDP)
				}
				// The message names what the server takes and what was offered.
				for _, c := range profile.codecs {
					if len(c.where) > 0 {
						continue // not a camera's
					}
					if !strings.Contains(refusal.Message, c.kind+" "+c.rtpmap) {
						t.Errorf("message %q does not name %s %s", refusal.Message, c.kind, c.rtpmap)
					}
				}
				for _, want := range tt.refused {
					if !strings.Contains(refusal.Message, want) {
						t.Errorf("message %q does not say %q", refusal.Message, want)
					}
				}
				// Nothing is left of the refused offer: the same
				// connection publishes a good one after it.
				if _, refusal := peer.publish(publishOfferSDP(t, []offerCodec{offerVP8, offerOpus}, false)); refusal != nil {
					t.Fatalf("a good offer after a refused one: %+v", refusal)
				}
				return
			}
			if refusal != nil {
				t.Fatalf("offer refused: %+v", refusal)
			}
			ans := parseSDP(t, answer)
			var kinds []string
			for _, md := range ans.MediaDescriptions {
				kind := md.MediaName.Media
				kinds = append(kinds, kind)
				checkMLine(t, profile, md, "publish", "", false)
				// Directions and DTLS role: the Transport table.
				if _, ok := md.Attribute("recvonly"); !ok {
					t.Errorf("publish %s: answer is not recvonly", kind)
				}
				if v, _ := md.Attribute("setup"); v != "active" {
					t.Errorf("publish %s: a=setup:%s, want active", kind, v)
				}
				if _, ok := md.Attribute("rtcp-mux"); !ok {
					t.Errorf("publish %s: no rtcp-mux", kind)
				}
				rids := attrs(md, "rid")
				sim, _ := md.Attribute("simulcast")
				switch {
				case kind == "video" && tt.simulcast:
					if !slices.Equal(rids, []string{"q recv", "h recv", "f recv"}) || sim != "recv q;h;f" {
						t.Errorf("publish video: rid %q, simulcast %q; want q, h, f recv", rids, sim)
					}
				case len(rids) > 0 || sim != "":
					t.Errorf("publish %s: rid %q, simulcast %q; want none", kind, rids, sim)
				}
			}
			if !slices.Equal(kinds, []string{"video", "audio"}) {
				t.Errorf("answered m-lines %q, want the offer's video and audio", kinds)
			}
			checkTransport(t, "publish", ans)
		})
	}

	// The WHIP source's offer: H.264 of the rows of the WHIP source is
	// answered beside VP8 (packetization mode 0 and the high profile are
	// left out); one without VP8 or those is refused, naming H.264 too.
	whipPost := func(t *testing.T, offer string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.URL+"/whip/"+conf, strings.NewReader(offer))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+s.Token(conf, conference.RoleIngest, "", time.Hour))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if loc := res.Header.Get("Location"); loc != "" {
			t.Cleanup(func() {
				req, _ := http.NewRequest(http.MethodDelete, s.URL+loc, nil)
				req.Header.Set("Authorization", "Bearer "+s.Token(conf, conference.RoleIngest, "", time.Hour))
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
			})
		}
		return res.StatusCode, string(body)
	}
	t.Run("publish offer of the WHIP source", func(t *testing.T) {
		status, answer := whipPost(t, publishOfferSDP(t, []offerCodec{offerVP8, offerH264Mode0, offerH264, offerH264High, offerH264Base, offerOpus}, false))
		if status != http.StatusCreated {
			t.Fatalf("POST /whip: %d %s", status, answer)
		}
		for _, md := range parseSDP(t, answer).MediaDescriptions {
			checkMLine(t, profile, md, "publish", "WHIP source", false)
		}
		status, body := whipPost(t, publishOfferSDP(t, []offerCodec{offerVP9, offerOpus}, false))
		if status != http.StatusBadRequest || !strings.Contains(body, protocol.CodeBadSDP) || !strings.Contains(body, "video H264/90000") {
			t.Errorf("a VP9-only WHIP offer: %d %s, want 400 bad_sdp naming H.264", status, body)
		}
	})

	// The subscribe offers of a point and of the technician: one m-line
	// per slot, in the documented order, each with the profile's codecs
	// and extensions.
	speakers := []string{"speaker speaker-video", "speaker speaker-audio-0", "speaker speaker-audio-1", "speaker speaker-audio-2"}
	wall := make([]string, sfu.DefaultWallSlots)
	for i := range wall {
		wall[i] = fmt.Sprintf("wall wall-%d", i)
	}
	for _, sub := range []struct {
		role  conference.Role
		point string
		slots []string
	}{
		{conference.RolePoint, points[len(tests)], slices.Concat(speakers, []string{"program program-video", "program program-audio", "content content-video", "probe probe"})},
		{conference.RoleTechnician, "", slices.Concat(speakers, []string{"content content-video", "probe probe"}, wall)},
	} {
		t.Run("subscribe offer of a "+string(sub.role), func(t *testing.T) {
			peer := dialRaw(t, s, conf, sub.role, sub.point)
			offer := parseSDP(t, peer.subscribeOffer())
			var slots []string
			for _, md := range offer.MediaDescriptions {
				msid, _ := md.Attribute("msid")
				_, track, _ := strings.Cut(msid, " ")
				checkMLine(t, profile, md, "subscribe", track, true)
				slots = append(slots, msid)
				if _, ok := md.Attribute("sendonly"); !ok {
					t.Errorf("subscribe %s: offer is not sendonly", msid)
				}
				if v, _ := md.Attribute("setup"); v != "actpass" {
					t.Errorf("subscribe %s: a=setup:%s, want actpass", msid, v)
				}
				if n := len(attrs(md, "ssrc")); n == 0 {
					t.Errorf("subscribe %s: no a=ssrc", msid)
				}
			}
			if !slices.Equal(slots, sub.slots) {
				t.Errorf("subscribe m-lines %q, want %q", slots, sub.slots)
			}
			checkTransport(t, "subscribe", offer)
		})
	}
}

// checkTransport checks what the Transport part of the profile says of a
// server's SDP: every m-line in one BUNDLE group, full ICE, host
// candidates alone (UDP and passive TCP), all of them in the SDP.
func checkTransport(t *testing.T, side string, sd *sdp.SessionDescription) {
	t.Helper()
	var mids []string
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Port.Value == 0 {
			continue
		}
		mid, _ := md.Attribute("mid")
		mids = append(mids, mid)
	}
	if g, _ := sd.Attribute("group"); g != "BUNDLE "+strings.Join(mids, " ") {
		t.Errorf("%s: a=group:%s, want BUNDLE of %q", side, g, mids)
	}
	if _, ok := sd.Attribute("ice-lite"); ok {
		t.Errorf("%s: a=ice-lite, want full ICE", side)
	}
	first := sd.MediaDescriptions[slices.IndexFunc(sd.MediaDescriptions, func(md *sdp.MediaDescription) bool { return md.MediaName.Port.Value != 0 })]
	if _, ok := first.Attribute("end-of-candidates"); !ok {
		t.Errorf("%s: no a=end-of-candidates: the server gathers all before it sends", side)
	}
	var udp, tcp int
	for _, c := range attrs(first, "candidate") {
		f := strings.Fields(c)
		if len(f) < 8 || f[6] != "typ" || f[7] != "host" {
			t.Errorf("%s: candidate %q is not a host candidate", side, c)
			continue
		}
		switch strings.ToLower(f[2]) {
		case "udp":
			udp++
		case "tcp":
			tcp++
			if !strings.Contains(c, "tcptype passive") {
				t.Errorf("%s: TCP candidate %q is not passive", side, c)
			}
		}
	}
	if udp == 0 || tcp == 0 {
		t.Errorf("%s: %d UDP and %d TCP candidates, want both", side, udp, tcp)
	}
}
