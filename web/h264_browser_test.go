package web_test

import (
	"context"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/whip"
)

// programCodecJS reads the point page's program picture: the codec of
// its inbound-rtp report (the mimeType of its codec report), the frames
// decoded, the decoder and the picture width.
const programCodecJS = `(async () => {
  const pc = window.hoinghi?.pcs?.subscribe;
  if (!pc) return {};
  const r = pc.getReceivers().find((r) => r.track.kind === 'video' &&
    [...document.querySelectorAll('video')].some((e) => e.srcObject?.id === 'program' && e.srcObject.getTracks().includes(r.track)));
  if (!r) return {};
  const st = await r.getStats();
  let out = {};
  st.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    out = {mime: st.get(s.codecId)?.mimeType || '', frames: s.framesDecoded || 0,
      decoder: s.decoderImplementation || '', width: s.frameWidth || 0};
  });
  return out;
})()`

// programPicture is what programCodecJS reads.
type programPicture struct {
	Mime    string  `json:"mime"`
	Frames  float64 `json:"frames"`
	Decoder string  `json:"decoder"`
	Width   float64 `json:"width"`
}

// waitPicture waits until the point's program picture is of codec mime
// (case as Chromium writes it) and decodes frames beyond what it had
// decoded when it came to it, and returns it.
func waitPicture(t *testing.T, tab context.Context, what, mime string, timeout time.Duration) programPicture {
	t.Helper()
	deadline := time.Now().Add(timeout)
	first := -1.0
	var last programPicture
	for time.Now().Before(deadline) {
		p, err := eval[programPicture](tab, programCodecJS)
		if err == nil {
			last = p
			if p.Mime == mime {
				if first < 0 {
					first = p.Frames
				} else if p.Frames > first+10 {
					return p
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: the program's picture is %+v, want %s decoding", what, last, mime)
	return last
}

// TestBrowserH264Program: a point page decodes the hall program from a
// WHIP source that sends H.264 (as OBS does), in the program slot that
// showed the console's VP8 camera, and the VP8 camera again after the
// source's DELETE.
func TestBrowserH264Program(t *testing.T) {
	const conf = "program-h264"
	st := storetest.Redis(t)
	points := servertest.Seed(t, st, conf, 1)
	stack := servertest.Start(t, st)
	browser := startBrowser(t)

	tech := newTab(t, browser)
	navigate(t, tech, pageURL(stack, "console", stack.Token(conf, conference.RoleTechnician, "", time.Hour)))
	waitFor(t, tech, "technician connected", connected, 15*time.Second)
	point := newTab(t, browser)
	openPoint(t, point, pageURL(stack, "point", stack.Token(conf, conference.RolePoint, points[0], time.Hour)))
	waitFor(t, point, "point connected", connected, 15*time.Second)
	waitPicture(t, point, "the console's camera", "video/VP8", 15*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := whip.Publish(ctx, whip.Options{Endpoint: stack.URL + "/whip/" + conf,
		Token: stack.Token(conf, conference.RoleIngest, "", time.Hour), Sender: "mixer", H264: true})
	if err != nil {
		t.Fatalf("publish H.264: %v", err)
	}
	defer p.Close()
	got := waitPicture(t, point, "the mixer's H.264", "video/H264", 15*time.Second)
	t.Logf("the point decodes the H.264 program: %+v", got)
	if got.Width != 320 {
		t.Errorf("the H.264 program decodes %v pixels wide, want 320", got.Width)
	}
	if err := p.Delete(ctx); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	waitPicture(t, point, "the console's camera after DELETE", "video/VP8", 15*time.Second)
}
