package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/contract"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/token"
)

// fakeHub records the admission it was handed instead of upgrading.
type fakeHub struct{ got []signal.Admission }

func (h *fakeHub) RefuseIfLinkFull(http.ResponseWriter, signal.Admission) bool { return false }
func (h *fakeHub) VideoLayers() []protocol.VideoLayer                          { return nil }

func (h *fakeHub) Serve(w http.ResponseWriter, _ *http.Request, a signal.Admission) {
	h.got = append(h.got, a)
	w.Write([]byte("hub"))
}

type fixture struct {
	srv    *httptest.Server
	st     *store.Store
	iss    *token.Issuer
	forger *token.Issuer
	hub    *fakeHub
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := storetest.Embedded(t)
	iss, err := token.NewIssuer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	forger, err := token.NewIssuer([]byte(strings.Repeat("f", 32)))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Demo(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	hub := &fakeHub{}
	s := New(Deps{
		Store:   st,
		Issuer:  iss,
		Hub:     hub,
		Stats:   func() sfu.Stats { return sfu.Stats{Participants: 3, PacketsForwarded: 1234} },
		BaseURL: "https://hoinghi.example.vn/",
		LinkTTL: 48 * time.Hour,
		ICEServers: func(string) []protocol.ICEServer {
			return []protocol.ICEServer{{URLs: []string{"stun:stun.example.vn:3478"}}}
		},
	})
	srv := httptest.NewServer(contract.CheckedAPI(t, s))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, st: st, iss: iss, forger: forger, hub: hub}
}

func (f *fixture) token(t *testing.T, iss *token.Issuer, conf string, role conference.Role, point string, ttl time.Duration) string {
	t.Helper()
	tok, err := iss.Issue(conf, role, point, time.Now().Add(ttl))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) apiError(t *testing.T) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e
}

// do sends a request; tok goes in the Authorization header unless the path
// already carries it.
func (f *fixture) do(t *testing.T, method, path, tok, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	const day = 24 * time.Hour
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", day)
	chair := f.token(t, f.iss, "demo", conference.RoleChair, "", day)
	point := f.token(t, f.iss, "demo", conference.RolePoint, "bien-hoa", day)
	expired := f.token(t, f.iss, "demo", conference.RolePoint, "bien-hoa", -time.Hour)
	forged := f.token(t, f.forger, "demo", conference.RoleTechnician, "", day)
	noConf := f.token(t, f.iss, "nowhere", conference.RoleChair, "", day)
	noPoint := f.token(t, f.iss, "demo", conference.RolePoint, "vung-tau", day)
	otherTech := f.token(t, f.iss, "other", conference.RoleTechnician, "", day)
	bigBody := `{"id":"demo","title":"` + strings.Repeat("x", MaxBodyBytes) + `"}`

	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		body       string
		wantStatus int
		wantCode   string
		wantPhone  bool
	}{
		{"session missing", "GET", "/api/session", "", "", 401, CodeTokenMissing, false},
		{"session forged", "GET", "/api/session", forged, "", 401, CodeTokenInvalid, false},
		{"session garbage", "GET", "/api/session?t=abc.def.ghi", "", "", 401, CodeTokenInvalid, false},
		{"session expired", "GET", "/api/session", expired, "", 401, CodeTokenExpired, true},
		{"session expired in query", "GET", "/api/session?t=" + expired, "", "", 401, CodeTokenExpired, true},
		{"session unknown conference", "GET", "/api/session", noConf, "", 401, CodeConferenceNotFound, false},
		{"session unknown point", "GET", "/api/session", noPoint, "", 401, CodePointNotFound, true},
		{"ws missing", "GET", "/ws", "", "", 401, CodeTokenMissing, false},
		{"ws expired", "GET", "/ws?t=" + expired, "", "", 401, CodeTokenExpired, true},
		{"ws unknown point", "GET", "/ws?t=" + noPoint, "", "", 401, CodePointNotFound, true},
		{"put conference by chair", "PUT", "/api/conferences/demo", chair, `{"title":"x"}`, 403, CodeForbidden, true},
		{"put conference by point", "PUT", "/api/conferences/demo", point, `{"title":"x"}`, 403, CodeForbidden, true},
		{"put other conference", "PUT", "/api/conferences/other", tech, `{"title":"x"}`, 403, CodeWrongConference, true},
		{"put conference forged", "PUT", "/api/conferences/demo", forged, `{"title":"x"}`, 401, CodeTokenInvalid, false},
		{"put conference unknown field", "PUT", "/api/conferences/demo", tech, `{"title":"x","color":"red"}`, 400, CodeBadBody, false},
		{"put conference not json", "PUT", "/api/conferences/demo", tech, `title=x`, 400, CodeBadBody, false},
		{"put conference empty", "PUT", "/api/conferences/demo", tech, ``, 400, CodeBadBody, false},
		{"put conference trailing", "PUT", "/api/conferences/demo", tech, `{"title":"x"} {}`, 400, CodeBadBody, false},
		{"put conference id mismatch", "PUT", "/api/conferences/demo", tech, `{"id":"other","title":"x"}`, 400, CodeBadBody, false},
		{"put conference no title", "PUT", "/api/conferences/demo", tech, `{"title":""}`, 400, CodeBadBody, false},
		{"put conference bad zone", "PUT", "/api/conferences/demo", tech, `{"title":"x","time_zone":"Mars/Base"}`, 400, CodeBadBody, false},
		{"put conference long organizer", "PUT", "/api/conferences/demo", tech, `{"title":"x","organizer":"` + strings.Repeat("Văn phòng ", 21) + `"}`, 400, CodeBadBody, false},
		{"put conference oversized", "PUT", "/api/conferences/demo", tech, bigBody, 413, CodeBodyTooLarge, false},
		{"put new conference of another", "PUT", "/api/conferences/new", otherTech, `{"title":"x"}`, 403, CodeWrongConference, false},
		{"put point by chair", "PUT", "/api/conferences/demo/points/p1", chair, `{"name":"x"}`, 403, CodeForbidden, true},
		{"put point wrong conference", "PUT", "/api/conferences/other/points/p1", tech, `{"name":"x"}`, 403, CodeWrongConference, true},
		{"put point of unknown conference", "PUT", "/api/conferences/other/points/p1", otherTech, `{"name":"x"}`, 401, CodeConferenceNotFound, false},
		{"put point bad id", "PUT", "/api/conferences/demo/points/Bad_Id", tech, `{"name":"x"}`, 400, CodeBadBody, false},
		{"put point no name", "PUT", "/api/conferences/demo/points/p1", tech, `{}`, 400, CodeBadBody, false},
		{"put point negative delegates", "PUT", "/api/conferences/demo/points/p1", tech, `{"name":"x","expected_delegates":-1}`, 400, CodeBadBody, false},
		{"put point unknown field", "PUT", "/api/conferences/demo/points/p1", tech, `{"name":"x","nick":"y"}`, 400, CodeBadBody, false},
		{"links by point", "GET", "/api/conferences/demo/links", point, "", 403, CodeForbidden, true},
		{"links by chair", "GET", "/api/conferences/demo/links", chair, "", 403, CodeForbidden, true},
		{"points by point", "GET", "/api/conferences/demo/points", point, "", 403, CodeForbidden, true},
		{"points of another", "GET", "/api/conferences/other/points", chair, "", 403, CodeWrongConference, true},
		{"links expired", "GET", "/api/conferences/demo/links", expired, "", 401, CodeTokenExpired, true},
		{"links of another", "GET", "/api/conferences/other/links", tech, "", 403, CodeWrongConference, true},
		{"unknown api", "GET", "/api/nothing", tech, "", 404, CodeNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, tt.method, tt.path, tt.token, tt.body)
			if res.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			e := res.apiError(t)
			if e.Code != tt.wantCode {
				t.Errorf("error = %q, want %q", e.Code, tt.wantCode)
			}
			if e.Message == "" || e.MessageEN == "" {
				t.Errorf("messages missing: %s", res.body)
			}
			if got := e.TechnicianPhone != ""; got != tt.wantPhone {
				t.Errorf("technician_phone = %q, want present: %v", e.TechnicianPhone, tt.wantPhone)
			}
		})
	}
	if len(f.hub.got) != 0 {
		t.Errorf("hub served %d refused connections", len(f.hub.got))
	}
}

func TestExpiredMessage(t *testing.T) {
	f := newFixture(t)
	expired := f.token(t, f.iss, "demo", conference.RolePoint, "bien-hoa", -time.Minute)
	e := f.do(t, "GET", "/api/session?t="+expired, "", "").apiError(t)
	want := "Đường dẫn tham gia đã hết hạn. Vui lòng liên hệ kỹ thuật viên hội trường để được cấp đường dẫn mới."
	if e.Message != want {
		t.Errorf("message = %q, want %q", e.Message, want)
	}
}

func TestSession(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		role  conference.Role
		point string
		name  string
	}{
		{conference.RolePoint, "long-thanh", "Điểm cầu huyện Long Thành"},
		{conference.RoleTechnician, "", conference.DisplayName(conference.RoleTechnician, "")},
		{conference.RoleSecretariat, "", conference.DisplayName(conference.RoleSecretariat, "")},
	}
	for _, tt := range tests {
		tok := f.token(t, f.iss, "demo", tt.role, tt.point, time.Hour)
		res := f.do(t, "GET", "/api/session?t="+tok, "", "")
		if res.status != 200 {
			t.Fatalf("%s: status %d: %s", tt.role, res.status, res.body)
		}
		var s Session
		if err := json.Unmarshal(res.body, &s); err != nil {
			t.Fatal(err)
		}
		if s.ConferenceID != "demo" || s.ConferenceTitle != "Hội nghị thử nghiệm" || s.Role != tt.role ||
			s.PointID != tt.point || s.Name != tt.name || s.TechnicianPhone == "" ||
			len(s.ICEServers) != 1 || s.ExpiresAt.IsZero() {
			t.Errorf("%s: session = %+v", tt.role, s)
		}
	}
}

func TestPutConferenceAndPoint(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tech := f.token(t, f.iss, "so-ket-2025", conference.RoleTechnician, "", time.Hour)

	res := f.do(t, "PUT", "/api/conferences/so-ket-2025", tech,
		`{"title":"Hội nghị sơ kết 2 năm thực hiện Kết luận 01-KL/TW","technician_phone":"0251 3822 999"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", res.status, res.body)
	}
	c, err := f.st.Conference(ctx, "so-ket-2025")
	if err != nil {
		t.Fatal(err)
	}
	if c.TimeZone != conference.DefaultTimeZone || c.CreatedAt.IsZero() || c.TechnicianPhone != "0251 3822 999" {
		t.Errorf("stored conference = %+v", c)
	}

	res = f.do(t, "PUT", "/api/conferences/so-ket-2025", tech, `{"id":"so-ket-2025","title":"Đổi tên"}`)
	if res.status != http.StatusOK {
		t.Fatalf("update: status %d: %s", res.status, res.body)
	}
	c2, err := f.st.Conference(ctx, "so-ket-2025")
	if err != nil {
		t.Fatal(err)
	}
	if c2.Title != "Đổi tên" || !c2.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("updated conference = %+v; want new title and the first CreatedAt %v", c2, c.CreatedAt)
	}

	res = f.do(t, "PUT", "/api/conferences/so-ket-2025/points/xuan-loc", tech,
		`{"name":"Điểm cầu huyện Xuân Lộc","representative":"Phạm Văn An","phone":"0915 000 111","expected_delegates":30}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create point: status %d: %s", res.status, res.body)
	}
	res = f.do(t, "PUT", "/api/conferences/so-ket-2025/points/xuan-loc", tech,
		`{"id":"xuan-loc","name":"Điểm cầu huyện Xuân Lộc","expected_delegates":35}`)
	if res.status != http.StatusOK {
		t.Fatalf("update point: status %d: %s", res.status, res.body)
	}
	p, err := f.st.Point(ctx, "so-ket-2025", "xuan-loc")
	if err != nil {
		t.Fatal(err)
	}
	if p.ExpectedDelegates != 35 {
		t.Errorf("stored point = %+v", p)
	}

	// The point's own link now admits it.
	pt := f.token(t, f.iss, "so-ket-2025", conference.RolePoint, "xuan-loc", time.Hour)
	if res := f.do(t, "GET", "/api/session", pt, ""); res.status != 200 {
		t.Errorf("point session: status %d: %s", res.status, res.body)
	}
}

func TestPointsForTheHall(t *testing.T) {
	f := newFixture(t)
	for _, role := range []conference.Role{conference.RoleTechnician, conference.RoleChair, conference.RoleSecretariat} {
		tok := f.token(t, f.iss, "demo", role, "", time.Hour)
		res := f.do(t, "GET", "/api/conferences/demo/points", tok, "")
		if res.status != 200 {
			t.Fatalf("%s: status %d: %s", role, res.status, res.body)
		}
		var points []conference.Point
		if err := json.Unmarshal(res.body, &points); err != nil {
			t.Fatal(err)
		}
		if len(points) != 3 || points[0].ID != "bien-hoa" {
			t.Errorf("%s: points = %+v, want the three demo points in order", role, points)
		}
	}
}

func TestLinks(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	res := f.do(t, "GET", "/api/conferences/demo/links?t="+tech, "", "")
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var links []Link
	if err := json.Unmarshal(res.body, &links); err != nil {
		t.Fatal(err)
	}
	if len(links) != 8 {
		t.Fatalf("got %d links, want 3 hall roles, 3 points, the ingest and a viewer: %+v", len(links), links)
	}
	roles := map[conference.Role]int{}
	for _, l := range links {
		roles[l.Role]++
		if l.Role == conference.RoleIngest || l.Role == conference.RoleViewer {
			endpoint := map[conference.Role]string{conference.RoleIngest: WHIPPath, conference.RoleViewer: WHEPPath}[l.Role]
			if l.URL != "https://hoinghi.example.vn"+endpoint+"demo" || l.Token == "" {
				t.Errorf("%s: url %q, token %q", l.Role, l.URL, l.Token)
			}
			continue
		}
		page := ConsolePage
		switch l.Role {
		case conference.RolePoint:
			page = PointPage
		case conference.RoleSecretariat:
			page = SecretariatPage
		}
		if !strings.HasPrefix(l.URL, "https://hoinghi.example.vn"+page+"?t=") {
			t.Errorf("%s %s: url %q", l.Role, l.PointID, l.URL)
		}
		if d := time.Until(l.ExpiresAt); d < 47*time.Hour || d > 49*time.Hour {
			t.Errorf("%s: expires in %v, want about 48h", l.Role, d)
		}
		tok := l.URL[strings.Index(l.URL, "?t=")+3:]
		claims, err := f.iss.Verify(tok)
		if err != nil {
			t.Fatalf("%s: link token: %v", l.Role, err)
		}
		if claims.Role != l.Role || claims.Point != l.PointID || claims.Conference != "demo" {
			t.Errorf("link %+v carries claims %+v", l, claims)
		}
	}
	if roles[conference.RoleTechnician] != 1 || roles[conference.RoleChair] != 1 ||
		roles[conference.RoleSecretariat] != 1 || roles[conference.RolePoint] != 3 {
		t.Errorf("roles = %v", roles)
	}
}

func TestWebSocketAdmitted(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, f.iss, "demo", conference.RolePoint, "dinh-quan", time.Hour)
	res := f.do(t, "GET", "/ws?t="+tok, "", "")
	if res.status != 200 || string(res.body) != "hub" {
		t.Fatalf("status %d body %q", res.status, res.body)
	}
	if len(f.hub.got) != 1 {
		t.Fatalf("hub got %d admissions", len(f.hub.got))
	}
	a := f.hub.got[0]
	if a.Claims.Point != "dinh-quan" || a.Point.Name != "Điểm cầu huyện Định Quán" || a.Conference.ID != "demo" {
		t.Errorf("admission = %+v", a)
	}
}

func TestStaticAndOps(t *testing.T) {
	f := newFixture(t)
	res := f.do(t, "GET", "/point/?t=x", "", "")
	if res.status != 200 || !strings.Contains(res.header.Get("Content-Type"), "text/html") {
		t.Errorf("/point/: status %d, type %q", res.status, res.header.Get("Content-Type"))
	}
	if res.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", res.header.Get("Referrer-Policy"))
	}
	if res := f.do(t, "GET", "/js/", "", ""); res.status != 404 {
		t.Errorf("/js/ listing: status %d, want 404", res.status)
	}
	if res := f.do(t, "GET", "/nothing.html", "", ""); res.status != 404 {
		t.Errorf("/nothing.html: status %d, want 404", res.status)
	}
	if res := f.do(t, "GET", "/favicon.ico", "", ""); res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "image/") {
		t.Errorf("/favicon.ico: status %d, type %q", res.status, res.header.Get("Content-Type"))
	}

	client := *f.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r, err := client.Get(f.srv.URL + "/point?t=abc")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "point/?t=abc" {
		t.Errorf("/point redirect: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}

	if res := f.do(t, "GET", "/healthz", "", ""); res.status != 200 {
		t.Errorf("/healthz: status %d", res.status)
	}
	res = f.do(t, "GET", "/metrics", "", "")
	if res.status != 200 {
		t.Fatalf("/metrics: status %d", res.status)
	}
	for _, want := range []string{
		"hoinghi_participants 3", "hoinghi_packets_forwarded_total 1234", "hoinghi_up_tracks 0",
		"hoinghi_down_tracks 0", "hoinghi_packets_in_total 0", "hoinghi_packets_dropped_total 0",
		"hoinghi_bytes_forwarded_total 0", "hoinghi_nacks_total 0", "hoinghi_plis_total 0",
		"hoinghi_keyframe_requests_total 0", "go_goroutines", "process_",
	} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestDemoIdempotent(t *testing.T) {
	st := storetest.Embedded(t)
	ctx := context.Background()
	c, points, err := Demo(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != DemoID || len(points) != 3 {
		t.Fatalf("demo = %+v with %d points", c, len(points))
	}
	c.Title = "Đã sửa"
	if err := st.PutConference(ctx, c); err != nil {
		t.Fatal(err)
	}
	c2, points2, err := Demo(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Title != "Đã sửa" || len(points2) != 3 {
		t.Errorf("second Demo = %+v with %d points; want the edit kept", c2, len(points2))
	}
	for _, p := range points2 {
		if p.Representative == "" || p.Phone == "" || !strings.HasPrefix(p.Name, "Điểm cầu ") {
			t.Errorf("demo point %+v", p)
		}
	}
}
