package server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
)

// QR code sizes, in pixels a side.
const (
	DefaultQRSize = 320
	MinQRSize     = 128
	MaxQRSize     = 1024
	sheetQRSize   = 240
)

// qrPNG encodes text as a QR code PNG of size pixels a side, with medium
// error correction (a printed code survives a fold or a smudge).
func qrPNG(text string, size int) ([]byte, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return png, nil
}

func (s *Server) linkQR(w http.ResponseWriter, r *http.Request) {
	id, pid := r.PathValue("id"), r.PathValue("pid")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly})
	if !ok {
		return
	}
	size := DefaultQRSize
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinQRSize || n > MaxQRSize {
			s.fail(w, r, errBadBody(fmt.Sprintf("size %q: use %d to %d pixels", v, MinQRSize, MaxQRSize)), nil)
			return
		}
		size = n
	}
	ctx := r.Context()
	p, err := s.d.Store.Point(ctx, id, pid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, errNotFound(), nil)
		return
	case err != nil:
		s.fail(w, r, errInternal(), fmt.Errorf("qr of %s/%s: %w", id, pid, err))
		return
	}
	now := s.d.Now()
	recs, err := s.d.Store.PointLinks(ctx, id, []string{pid}, now, now.Add(s.d.LinkTTL))
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	rec, ok := recs[pid]
	if !ok {
		s.fail(w, r, errNotFound(), nil)
		return
	}
	l, err := pointLink(s.d.Issuer, s.d.BaseURL, a.Conference.ID, p, rec)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	png, err := qrPNG(l.URL, size)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(png)
}

// sheetPoint is one point on the printed sheet of links.
type sheetPoint struct {
	Point conference.Point
	URL   string
	QR    template.URL // data: URL of the QR code PNG
}

type sheetData struct {
	Conference conference.Conference
	Points     []sheetPoint
	Expires    string
	Printed    string
}

func (s *Server) linkSheet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, ok := s.admitOrFail(w, r, rule{conf: id, roles: technicianOnly})
	if !ok {
		return
	}
	ctx := r.Context()
	links, err := ConferenceLinks(ctx, s.d.Store, s.d.Issuer, s.d.BaseURL, a.Conference, s.d.Now(), s.d.LinkTTL)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	points, err := s.d.Store.Points(ctx, id)
	if err != nil {
		s.fail(w, r, errInternal(), err)
		return
	}
	byID := make(map[string]conference.Point, len(points))
	for _, p := range points {
		byID[p.ID] = p
	}
	loc, err := time.LoadLocation(a.Conference.TimeZone)
	if err != nil || a.Conference.TimeZone == "" {
		loc, _ = time.LoadLocation(conference.DefaultTimeZone)
	}
	if loc == nil {
		loc = time.UTC
	}
	data := sheetData{Conference: a.Conference, Printed: s.d.Now().In(loc).Format("02/01/2006 15:04")}
	var latest time.Time
	for _, l := range links {
		if l.Role != conference.RolePoint {
			continue
		}
		png, err := qrPNG(l.URL, sheetQRSize)
		if err != nil {
			s.fail(w, r, errInternal(), err)
			return
		}
		// The PNG is ours, so the data URL is safe to place in src.
		qr := template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		data.Points = append(data.Points, sheetPoint{Point: byID[l.PointID], URL: l.URL, QR: qr})
		if l.ExpiresAt.After(latest) {
			latest = l.ExpiresAt
		}
	}
	if !latest.IsZero() {
		data.Expires = latest.In(loc).Format("02/01/2006 15:04 -07")
	}
	var buf bytes.Buffer
	if err := sheetTemplate.Execute(&buf, data); err != nil {
		s.fail(w, r, errInternal(), fmt.Errorf("link sheet of %s: %w", id, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// sheetTemplate is the printable sheet of a conference's point links: one
// card per point with its name, contact, QR code and link, two cards a row,
// never split across pages. Its style and its print button's script are
// files (css/sheet.css, js/sheet.js), as the Content-Security-Policy wants.
var sheetTemplate = template.Must(template.New("sheet").Parse(`<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Đường dẫn điểm cầu – {{.Conference.Title}}</title>
<link rel="stylesheet" href="/css/sheet.css">
<script src="/js/sheet.js" defer></script>
</head>
<body>
<header>
  <h1>{{.Conference.Title}}</h1>
  <p>Đường dẫn tham gia của các điểm cầu <span class="en">(join links of the connection points)</span></p>
  {{with .Expires}}<p>Hiệu lực đến <span class="en">(valid until)</span>: {{.}}</p>{{end}}
  {{with .Conference.TechnicianPhone}}<p>Kỹ thuật viên hội trường <span class="en">(hall technician)</span>: {{.}}</p>{{end}}
  <p class="en">In lúc (printed) {{.Printed}}</p>
</header>
<div class="actions"><button id="print" type="button">In / Print</button></div>
<main class="cards">
{{range .Points}}<section class="card" data-point="{{.Point.ID}}">
  <h2>{{.Point.Name}}</h2>
  {{with .Point.District}}<p>{{.}}</p>{{end}}
  {{with .Point.Representative}}<p>Đại diện <span class="en">(representative)</span>: {{.}}</p>{{end}}
  {{with .Point.Phone}}<p>Điện thoại <span class="en">(phone)</span>: {{.}}</p>{{end}}
  <img src="{{.QR}}" alt="QR">
  <p class="url">{{.URL}}</p>
</section>
{{else}}<p>Hội nghị chưa mời điểm cầu nào. <span class="en">(No points are invited yet.)</span></p>
{{end}}</main>
</body>
</html>
`))
