package sfu

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// checkPublishOffer refuses (ErrBadSDP) a publish offer with an audio or
// video m-line that names no codec of cs (what the SFU takes from the
// publisher: codecs, or ingestCodecs for the WHIP source), saying which
// m-lines and codecs, and those the SFU takes. Such an m-line is not
// answered rejected (port 0): pion's answer would then carry the
// candidates in the rejected m-line, where a client does not look for
// them, and no a=mid. M-lines without a port (stopped transceivers) are
// not checked; an SDP that does not parse is left to pion.
func checkPublishOffer(offer string, cs []webrtc.RTPCodecParameters) error {
	var sd sdp.SessionDescription
	if sd.Unmarshal([]byte(offer)) != nil {
		return nil
	}
	var bad []string
	for i, md := range sd.MediaDescriptions {
		kind := md.MediaName.Media
		if kind != "audio" && kind != "video" || md.MediaName.Port.Value == 0 {
			continue
		}
		var offered []string
		takes := false
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			name, clock, ok := parseRTPMap(a.Value)
			if !ok {
				continue
			}
			offered = append(offered, name+"/"+strconv.FormatUint(uint64(clock), 10))
			takes = takes || takesCodec(cs, kind, name, clock)
		}
		if !takes {
			if len(offered) == 0 { // static payload types alone
				offered = []string{"payload types " + strings.Join(md.MediaName.Formats, " ")}
			}
			mid, _ := md.Attribute(sdp.AttrKeyMID)
			bad = append(bad, fmt.Sprintf("m-line %d (%s, mid %q) offers %s", i, kind, mid, strings.Join(offered, ", ")))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: publish offer: no codec the server takes (%s): %s", ErrBadSDP, takenCodecs(cs), strings.Join(bad, "; "))
	}
	return nil
}

// takenCodecs names the codecs of cs, each once: "audio opus/48000/2,
// video VP8/90000".
func takenCodecs(cs []webrtc.RTPCodecParameters) string {
	var names []string
	for _, c := range cs {
		kind, name, _ := strings.Cut(c.MimeType, "/")
		n := kind + " " + name + "/" + strconv.FormatUint(uint64(c.ClockRate), 10)
		if c.Channels > 0 {
			n += "/" + strconv.Itoa(int(c.Channels))
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// parseRTPMap reads "96 VP8/90000" or "111 opus/48000/2" into the codec's
// name and clock rate.
func parseRTPMap(v string) (name string, clock uint32, ok bool) {
	_, enc, found := strings.Cut(v, " ")
	if !found {
		return "", 0, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 {
		return "", 0, false
	}
	c, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return "", 0, false
	}
	return parts[0], uint32(c), true
}

// takesCodec reports whether the codec name at clock, for an m-line of
// kind, is one of cs, by name and clock rate, as pion matches them.
func takesCodec(cs []webrtc.RTPCodecParameters, kind, name string, clock uint32) bool {
	for _, c := range cs {
		cKind, cName, _ := strings.Cut(c.MimeType, "/")
		if cKind == kind && strings.EqualFold(cName, name) && c.ClockRate == clock {
			return true
		}
	}
	return false
}
