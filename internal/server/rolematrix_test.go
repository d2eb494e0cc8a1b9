package server

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/auth"
	"hoinghi/internal/conference"
	"hoinghi/internal/contract"
	"hoinghi/internal/recording"
	"hoinghi/internal/sfu"
	"hoinghi/internal/store/storetest"
	tok "hoinghi/internal/token"
)

// Test users of the login fixture, with their passwords.
var testUsers = []struct {
	name, password string
	role           conference.Role
}{
	{"lan", "mật khẩu kỹ thuật", conference.RoleTechnician},
	{"minh", "mật khẩu chủ tọa", conference.RoleChair},
	{"hoa", "mật khẩu thư ký", conference.RoleSecretariat},
}

// newLoginFixture is newFixture with logins: the users of testUsers, the
// demo conference, and a login limit of limit attempts at once.
func newLoginFixture(t *testing.T, limit int) *fixture {
	t.Helper()
	s, iss, hub := newLoginServer(t, limit)
	srv := httptest.NewServer(contract.CheckedAPI(t, s))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, st: s.d.Store, iss: iss, hub: hub}
}

// newLoginServer is the server of newLoginFixture.
func newLoginServer(t *testing.T, limit int) (*Server, *tok.Issuer, *fakeHub) {
	t.Helper()
	st := storetest.Embedded(t)
	secret := []byte(strings.Repeat("k", 32))
	iss, err := tok.NewIssuer(secret)
	if err != nil {
		t.Fatal(err)
	}
	var users []auth.User
	for _, u := range testUsers {
		h, err := auth.HashPassword(u.password, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, auth.User{Name: u.name, Role: u.role, PasswordHash: h})
	}
	au, err := auth.New(auth.Options{Users: users, Secret: secret, Secure: true, // as main does for an https public URL
		LoginLimit: auth.Limit{Every: time.Minute, Burst: limit}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Demo(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	hub := &fakeHub{}
	s := New(Deps{Store: st, Issuer: iss, Hub: hub, Auth: au, BaseURL: "https://hoinghi.example.vn", LinkTTL: time.Hour,
		Log:        slog.New(slog.DiscardHandler),
		Stats:      func() sfu.Stats { return sfu.Stats{} },
		Recordings: recording.New(recording.Config{Dir: t.TempDir(), Media: noMedia{}, Log: slog.New(slog.DiscardHandler)})})
	return s, iss, hub
}

// noMedia is an SFU that forwards nothing, for a recording manager whose
// recordings stay empty.
type noMedia struct{}

func (noMedia) SetRecorder(string, sfu.Recorder) {}

// login is a logged-in user's cookies and CSRF token.
type login struct {
	cookies []*http.Cookie
	csrf    string
}

// login logs name in through the API.
func (f *fixture) login(t *testing.T, name, password string) login {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	res := f.send(t, req{method: "POST", path: "/api/login", body: string(body), json: true})
	if res.status != http.StatusOK {
		t.Fatalf("login %s: %d %s", name, res.status, res.body)
	}
	var me Me
	if err := json.Unmarshal(res.body, &me); err != nil {
		t.Fatal(err)
	}
	return login{cookies: res.cookies, csrf: me.CSRFToken}
}

// req is one request of these tests.
type req struct {
	method, path, body string
	json               bool // Content-Type application/json
	token              string
	cookies            []*http.Cookie
	csrf               string
	header             http.Header
}

type result struct {
	status  int
	body    []byte
	cookies []*http.Cookie
	header  http.Header
}

func (r result) code() string {
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error
}

func (f *fixture) send(t *testing.T, q req) result {
	t.Helper()
	var rd io.Reader
	if q.body != "" {
		rd = strings.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, f.srv.URL+q.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range q.header {
		r.Header[k] = v
	}
	if q.json {
		r.Header.Set("Content-Type", "application/json")
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	for _, c := range q.cookies {
		r.AddCookie(c)
	}
	if q.csrf != "" {
		r.Header.Set(auth.CSRFHeader, q.csrf)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: res.StatusCode, body: b, cookies: res.Cookies(), header: res.Header}
}

// principal is who sends a request of the matrix.
type principal struct {
	name   string
	role   conference.Role // empty: nobody
	cookie bool            // logged in rather than holding a token
	csrf   bool            // the cookie's request carries the CSRF header
}

var principals = []principal{
	{name: "nobody"},
	{name: "technician token", role: conference.RoleTechnician},
	{name: "chair token", role: conference.RoleChair},
	{name: "secretariat token", role: conference.RoleSecretariat},
	{name: "point token", role: conference.RolePoint},
	{name: "ingest token", role: conference.RoleIngest},
	{name: "viewer token", role: conference.RoleViewer},
	{name: "technician login", role: conference.RoleTechnician, cookie: true, csrf: true},
	{name: "technician login without CSRF", role: conference.RoleTechnician, cookie: true},
	{name: "chair login", role: conference.RoleChair, cookie: true, csrf: true},
	{name: "secretariat login", role: conference.RoleSecretariat, cookie: true, csrf: true},
	{name: "secretariat login without CSRF", role: conference.RoleSecretariat, cookie: true},
}

// matrixRow is one route of the server and who may use it.
type matrixRow struct {
	pattern            string // as registered with the mux
	method, path, body string // a request the pattern serves
	// roles may use the route (in the demo conference); public rows admit
	// everyone and answer ok.
	roles  []conference.Role
	public bool
	ok     int // the status of an admitted request; 0 means 200, admitted any but 401, 403 and 5xx
	// want, when set, replaces the rule above.
	want func(p principal) (status int, code string)
}

// admitted is the ok of a row whose handler may refuse the request for its
// own reasons (a body it does not take, a status that does not allow the
// change) once the role was admitted: any status but 401, 403 and 5xx.
const admitted = -1

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

func (row matrixRow) expect(p principal) (int, string) {
	if row.want != nil {
		return row.want(p)
	}
	ok := cmpOr(row.ok, http.StatusOK)
	switch {
	case row.public:
		return ok, ""
	case p.role == "":
		return http.StatusUnauthorized, CodeTokenMissing
	case p.cookie && unsafeMethod(row.method) && !p.csrf:
		return http.StatusForbidden, CodeCSRF
	case slices.Contains(row.roles, p.role):
		return ok, ""
	}
	return http.StatusForbidden, CodeForbidden
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

var (
	everyRole   = conference.Roles
	hall        = []conference.Role{conference.RoleTechnician, conference.RoleChair, conference.RoleSecretariat}
	techOnly    = []conference.Role{conference.RoleTechnician}
	techAndSecr = []conference.Role{conference.RoleTechnician, conference.RoleSecretariat}
	signaling   = []conference.Role{conference.RoleTechnician, conference.RoleChair, conference.RoleSecretariat, conference.RolePoint}
	ingestOnly  = []conference.Role{conference.RoleIngest}
	viewerOnly  = []conference.Role{conference.RoleViewer}
)

// roleMatrix is every route of the server with the roles it admits. A
// route added to the server needs a row here, or TestRoleMatrix fails.
var roleMatrix = []matrixRow{
	{pattern: "GET /api/session", method: "GET", path: "/api/session?conference=demo", roles: everyRole},
	{pattern: "PUT /api/conferences/{id}", method: "PUT", path: "/api/conferences/demo",
		body: `{"title":"Hội nghị thử nghiệm","technician_phone":"0251 3822 123"}`, roles: techOnly},
	{pattern: "PUT /api/conferences/{id}/points/{pid}", method: "PUT", path: "/api/conferences/demo/points/bien-hoa",
		body: `{"name":"Điểm cầu TP. Biên Hòa"}`, roles: techOnly},
	{pattern: "GET /api/conferences/{id}/links", method: "GET", path: "/api/conferences/demo/links", roles: techOnly},
	{pattern: "GET /api/conferences/{id}/points", method: "GET", path: "/api/conferences/demo/points", roles: hall},
	{pattern: "GET /api/conferences/{id}/report", method: "GET", path: "/api/conferences/demo/report", roles: hall},
	{pattern: "GET /api/conferences/{id}/export", method: "GET", path: "/api/conferences/demo/export?format=csv", roles: techAndSecr},
	{pattern: "GET /api/conferences/{id}/audit", method: "GET", path: "/api/conferences/demo/audit", roles: techOnly},

	// The technician's administration (admin.go, sheet.go). The link
	// reissued is not the point principal's, whose link stays valid.
	{pattern: "GET /api/conferences", method: "GET", path: "/api/conferences", roles: techOnly},
	{pattern: "POST /api/conferences", method: "POST", path: "/api/conferences",
		body: `{"id":"so-ket-q4","title":"Hội nghị sơ kết quý IV"}`, roles: techOnly, ok: admitted},
	{pattern: "GET /api/conferences/{id}/status", method: "GET", path: "/api/conferences/demo/status", roles: hall},
	{pattern: "POST /api/conferences/{id}/status", method: "POST", path: "/api/conferences/demo/status",
		body: `{"status":"testing"}`, roles: techOnly, ok: admitted},
	{pattern: "POST /api/conferences/{id}/invite", method: "POST", path: "/api/conferences/demo/invite",
		body: `{}`, roles: techOnly, ok: admitted},
	{pattern: "GET /api/conferences/{id}/links/sheet", method: "GET", path: "/api/conferences/demo/links/sheet", roles: techOnly},
	{pattern: "GET /api/conferences/{id}/links/{pid}/qr.png", method: "GET", path: "/api/conferences/demo/links/long-thanh/qr.png", roles: techOnly},
	{pattern: "POST /api/conferences/{id}/links/{pid}/reissue", method: "POST", path: "/api/conferences/demo/links/dinh-quan/reissue",
		roles: techOnly, ok: admitted},

	// The point registry (registry.go): no single conference.
	{pattern: "GET /api/registry", method: "GET", path: "/api/registry", roles: techOnly},
	{pattern: "GET /api/registry/{province}/points", method: "GET", path: "/api/registry/dong-nai/points", roles: techOnly, ok: admitted},
	{pattern: "PUT /api/registry/{province}/points/{pid}", method: "PUT", path: "/api/registry/dong-nai/points/xuan-loc",
		body: `{"name":"Điểm cầu huyện Xuân Lộc","district":"Huyện Xuân Lộc"}`, roles: techOnly, ok: admitted},
	{pattern: "DELETE /api/registry/{province}/points/{pid}", method: "DELETE", path: "/api/registry/dong-nai/points/xuan-loc",
		roles: techOnly, ok: admitted},
	{pattern: "POST /api/registry/{province}/import", method: "POST", path: "/api/registry/dong-nai/import",
		body: "id,name\ncam-my,Điểm cầu huyện Cẩm Mỹ\n", roles: techOnly, ok: admitted},
	{pattern: "GET /api/registry/{province}/export", method: "GET", path: "/api/registry/dong-nai/export", roles: techOnly, ok: admitted},

	{pattern: "/api/", method: "GET", path: "/api/no-such-thing", public: true, ok: http.StatusNotFound},
	{pattern: "GET /api/openapi.json", method: "GET", path: "/api/openapi.json", public: true},
	{pattern: "POST /api/login", method: "POST", path: "/api/login", body: `{"name":"lan","password":"mật khẩu kỹ thuật"}`,
		want: func(principal) (int, string) { return http.StatusOK, "" }},
	{pattern: "POST /api/logout", method: "POST", path: "/api/logout",
		want: func(p principal) (int, string) {
			if p.cookie && !p.csrf {
				return http.StatusForbidden, CodeCSRF
			}
			return http.StatusNoContent, ""
		}},
	{pattern: "GET /api/me", method: "GET", path: "/api/me",
		want: func(p principal) (int, string) {
			if p.cookie {
				return http.StatusOK, ""
			}
			return http.StatusUnauthorized, CodeLoginRequired
		}},
	{pattern: "GET /ws", method: "GET", path: "/ws?conference=demo", roles: signaling},

	// WHIP (the ingest) and WHEP (viewers), whip.go. The fixture's hub
	// opens no media: an admitted POST without an SDP body gets 415, a
	// session that is not there 404, a PATCH without a fragment 415.
	{pattern: "POST /whip/{id}", method: "POST", path: "/whip/demo", roles: ingestOnly, ok: admitted},
	{pattern: "PATCH /whip/{id}/{session}", method: "PATCH", path: "/whip/demo/0123", roles: ingestOnly, ok: admitted},
	{pattern: "DELETE /whip/{id}/{session}", method: "DELETE", path: "/whip/demo/0123", roles: ingestOnly, ok: admitted},
	{pattern: "OPTIONS /whip/{id}", method: "OPTIONS", path: "/whip/demo", public: true, ok: http.StatusNoContent},
	{pattern: "OPTIONS /whip/{id}/{session}", method: "OPTIONS", path: "/whip/demo/0123", public: true, ok: http.StatusNoContent},
	{pattern: "POST /whep/{id}", method: "POST", path: "/whep/demo", roles: viewerOnly, ok: admitted},
	{pattern: "PATCH /whep/{id}/{session}", method: "PATCH", path: "/whep/demo/0123", roles: viewerOnly, ok: admitted},
	{pattern: "DELETE /whep/{id}/{session}", method: "DELETE", path: "/whep/demo/0123", roles: viewerOnly, ok: admitted},
	{pattern: "OPTIONS /whep/{id}", method: "OPTIONS", path: "/whep/demo", public: true, ok: http.StatusNoContent},
	{pattern: "OPTIONS /whep/{id}/{session}", method: "OPTIONS", path: "/whep/demo/0123", public: true, ok: http.StatusNoContent},
	// Recordings and the livestream (recordings.go). No recording of that
	// id exists; a livestream target that is neither rtmp nor hls is
	// refused once the role was admitted.
	{pattern: "GET /api/conferences/{id}/recordings", method: "GET", path: "/api/conferences/demo/recordings", roles: techAndSecr},
	{pattern: "POST /api/conferences/{id}/recordings", method: "POST", path: "/api/conferences/demo/recordings", roles: techOnly, ok: admitted},
	{pattern: "GET /api/conferences/{id}/recordings/{rid}", method: "GET", path: "/api/conferences/demo/recordings/20261204T080000Z", roles: techAndSecr, ok: http.StatusNotFound},
	{pattern: "POST /api/conferences/{id}/recordings/{rid}/stop", method: "POST", path: "/api/conferences/demo/recordings/20261204T080000Z/stop", roles: techOnly, ok: admitted},
	{pattern: "DELETE /api/conferences/{id}/recordings/{rid}", method: "DELETE", path: "/api/conferences/demo/recordings/20261204T080000Z", roles: techOnly, ok: admitted},
	{pattern: "POST /api/conferences/{id}/recordings/{rid}/archive", method: "POST", path: "/api/conferences/demo/recordings/20261204T080000Z/archive", roles: techOnly, ok: admitted},
	{pattern: "GET /api/conferences/{id}/recordings/{rid}/files/{name}", method: "GET", path: "/api/conferences/demo/recordings/20261204T080000Z/files/index.jsonl", roles: techAndSecr, ok: http.StatusNotFound},
	{pattern: "GET /api/conferences/{id}/livestream", method: "GET", path: "/api/conferences/demo/livestream", roles: techOnly},
	{pattern: "POST /api/conferences/{id}/livestream", method: "POST", path: "/api/conferences/demo/livestream", body: `{"target":"tv"}`, roles: techOnly, ok: admitted},
	{pattern: "DELETE /api/conferences/{id}/livestream", method: "DELETE", path: "/api/conferences/demo/livestream", roles: techOnly, ok: admitted},
	{pattern: "GET /live/{id}/{file}", method: "GET", path: "/live/demo/index.m3u8", public: true, ok: http.StatusNotFound},
	{pattern: "GET /healthz", method: "GET", path: "/healthz", public: true},
	{pattern: "GET /readyz", method: "GET", path: "/readyz", public: true},
	{pattern: "GET /metrics", method: "GET", path: "/metrics", public: true},
	{pattern: "/", method: "GET", path: "/login/", public: true},
}

// routePatterns returns every pattern the package's non-test files register
// with HandleFunc or Handle, read from the source so that a new route
// cannot be missed.
func routePatterns(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				p, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, p)
			}
			return true
		})
	}
	if len(out) < 10 {
		t.Fatalf("found only %d routes in the source: %v; has the way routes are registered changed?", len(out), out)
	}
	return out
}

// TestRoleMatrix sends every route's request as every principal (nobody,
// a token of each role, a logged-in user with and without the CSRF header)
// and checks that it is admitted or refused as designed.
func TestRoleMatrix(t *testing.T) {
	f := newLoginFixture(t, 100)
	logins := map[conference.Role]login{}
	for _, u := range testUsers {
		logins[u.role] = f.login(t, u.name, u.password)
	}

	rows := map[string]bool{}
	for _, row := range roleMatrix {
		rows[row.pattern] = true
	}
	registered := map[string]bool{}
	for _, p := range routePatterns(t) {
		registered[p] = true
		if !rows[p] {
			t.Errorf("route %q has no row in roleMatrix: say who may use it", p)
		}
	}
	for p := range rows {
		if !registered[p] {
			t.Errorf("roleMatrix has a row for %q, which the server does not register", p)
		}
	}

	for _, row := range roleMatrix {
		for _, p := range principals {
			t.Run(row.pattern+"/"+p.name, func(t *testing.T) {
				q := req{method: row.method, path: row.path, body: row.body, json: row.body != ""}
				switch {
				case p.cookie:
					l := logins[p.role]
					q.cookies = l.cookies
					if p.csrf {
						q.csrf = l.csrf
					}
				case p.role == conference.RolePoint:
					q.token = f.token(t, f.iss, DemoID, p.role, "bien-hoa", time.Hour)
				case p.role != "":
					q.token = f.token(t, f.iss, DemoID, p.role, "", time.Hour)
				}
				res := f.send(t, q)
				status, code := row.expect(p)
				if status == admitted {
					if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status >= 500 {
						t.Errorf("%s %s as %s: %d %s; want it admitted", row.method, row.path, p.name,
							res.status, strings.TrimSpace(string(res.body[:min(len(res.body), 200)])))
					}
					return
				}
				if res.status != status || (code != "" && res.code() != code) {
					t.Errorf("%s %s as %s: %d %s; want %d %s", row.method, row.path, p.name,
						res.status, strings.TrimSpace(string(res.body[:min(len(res.body), 200)])), status, code)
				}
			})
		}
	}
}

// TestLogin follows a user through logging in, acting and logging out, and
// the refusals on the way.
func TestLogin(t *testing.T) {
	f := newLoginFixture(t, 100)
	loginBody := func(name, pw string) string {
		b, _ := json.Marshal(map[string]string{"name": name, "password": pw})
		return string(b)
	}
	refusals := []struct {
		name   string
		q      req
		status int
		code   string
	}{
		{"wrong password", req{method: "POST", path: "/api/login", body: loginBody("lan", "sai"), json: true}, 401, CodeLoginFailed},
		{"unknown user", req{method: "POST", path: "/api/login", body: loginBody("ai", "x"), json: true}, 401, CodeLoginFailed},
		{"form post", req{method: "POST", path: "/api/login", body: "name=lan&password=x",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, 400, CodeBadBody},
		{"another site", req{method: "POST", path: "/api/login", body: loginBody("lan", testUsers[0].password), json: true,
			header: http.Header{"Origin": {"https://evil.example"}}}, 403, CodeBadOrigin},
		{"unknown field", req{method: "POST", path: "/api/login", body: `{"name":"lan","pw":"x"}`, json: true}, 400, CodeBadBody},
		{"no session", req{method: "GET", path: "/api/me"}, 401, CodeLoginRequired},
		{"forged cookie", req{method: "GET", path: "/api/session?conference=demo",
			cookies: []*http.Cookie{{Name: auth.SessionCookie, Value: "eyJ1IjoibGFuIn0.c2lnbmF0dXJl"}}}, 401, CodeLoginRequired},
	}
	for _, tc := range refusals {
		res := f.send(t, tc.q)
		if res.status != tc.status || res.code() != tc.code {
			t.Errorf("%s: %d %s; want %d %s", tc.name, res.status, res.body, tc.status, tc.code)
		}
	}

	// Same origin is fine; the cookies are HttpOnly (session) and readable
	// (CSRF), SameSite=Lax, and Secure as asked.
	l := f.login(t, "lan", testUsers[0].password)
	if len(l.cookies) != 2 {
		t.Fatalf("cookies: %v", l.cookies)
	}
	for _, c := range l.cookies {
		if c.SameSite != http.SameSiteLaxMode || !c.Secure || c.HttpOnly != (c.Name == auth.SessionCookie) {
			t.Errorf("cookie %+v", c)
		}
	}
	as := func(method, path, body string, withCSRF bool) result {
		q := req{method: method, path: path, body: body, json: body != "", cookies: l.cookies}
		if withCSRF {
			q.csrf = l.csrf
		}
		return f.send(t, q)
	}

	// The session admits the pages' API calls in the conference named.
	res := as("GET", "/api/session?conference=demo", "", false)
	var sess Session
	json.Unmarshal(res.body, &sess)
	if res.status != 200 || sess.Role != conference.RoleTechnician || sess.ConferenceID != DemoID || sess.ExpiresAt.IsZero() {
		t.Errorf("session: %d %s", res.status, res.body)
	}
	if res := as("GET", "/api/session", "", false); res.status != 400 || res.code() != CodeConferenceMissing {
		t.Errorf("session without a conference: %d %s", res.status, res.body)
	}
	if res := as("GET", "/api/session?conference=khong-co", "", false); res.status != 401 || res.code() != CodeConferenceNotFound {
		t.Errorf("session of an unknown conference: %d %s", res.status, res.body)
	}
	// A logged-in technician creates a conference, with the CSRF header.
	newConf := `{"title":"Hội nghị sơ kết quý IV"}`
	if res := as("PUT", "/api/conferences/so-ket-q4", newConf, false); res.status != 403 || res.code() != CodeCSRF {
		t.Errorf("create without CSRF: %d %s", res.status, res.body)
	}
	if res := as("PUT", "/api/conferences/so-ket-q4", newConf, true); res.status != 201 {
		t.Errorf("create: %d %s", res.status, res.body)
	}
	// A token wins over the cookie: a logged-in technician opening a
	// point's link acts as that point.
	pointTok := f.token(t, f.iss, DemoID, conference.RolePoint, "long-thanh", time.Hour)
	res = f.send(t, req{method: "GET", path: "/api/session?t=" + pointTok, cookies: l.cookies})
	json.Unmarshal(res.body, &sess)
	if res.status != 200 || sess.Role != conference.RolePoint || sess.PointID != "long-thanh" {
		t.Errorf("token and cookie: %d %s", res.status, res.body)
	}
	if res := f.send(t, req{method: "GET", path: "/api/conferences/demo/links", token: pointTok, cookies: l.cookies}); res.status != 403 {
		t.Errorf("point token with a technician cookie reads links: %d", res.status)
	}

	// /api/me tells who is logged in; logout needs the CSRF header, then
	// deletes both cookies.
	res = as("GET", "/api/me", "", false)
	var me Me
	json.Unmarshal(res.body, &me)
	if res.status != 200 || me.Name != "lan" || me.Role != conference.RoleTechnician || me.CSRFToken != l.csrf {
		t.Errorf("me: %d %s", res.status, res.body)
	}
	if res := as("POST", "/api/logout", "", false); res.status != 403 {
		t.Errorf("logout without CSRF: %d %s", res.status, res.body)
	}
	res = as("POST", "/api/logout", "", true)
	if res.status != 204 || len(res.cookies) != 2 {
		t.Fatalf("logout: %d %v", res.status, res.cookies)
	}
	for _, c := range res.cookies {
		if c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("logout cookie %+v does not delete", c)
		}
	}
}

// TestLoginRateLimit refuses the attempts beyond the limit of one address,
// with Retry-After, even with the right password.
func TestLoginRateLimit(t *testing.T) {
	f := newLoginFixture(t, 3)
	body := `{"name":"lan","password":"sai"}`
	for i := range 3 {
		if res := f.send(t, req{method: "POST", path: "/api/login", body: body, json: true}); res.status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, res.status, res.body)
		}
	}
	good, _ := json.Marshal(map[string]string{"name": "lan", "password": testUsers[0].password})
	res := f.send(t, req{method: "POST", path: "/api/login", body: string(good), json: true})
	if res.status != http.StatusTooManyRequests || res.code() != CodeTooManyAttempts || res.header.Get("Retry-After") == "" {
		t.Errorf("fourth attempt: %d %s, Retry-After %q", res.status, res.body, res.header.Get("Retry-After"))
	}
}

// TestLoginDisabled: without Auth, nothing is admitted by a cookie and the
// login answers not_found.
func TestLoginDisabled(t *testing.T) {
	f := newFixture(t)
	res := f.send(t, req{method: "POST", path: "/api/login", body: `{"name":"lan","password":"x"}`, json: true})
	if res.status != 404 {
		t.Errorf("login: %d %s", res.status, res.body)
	}
	res = f.send(t, req{method: "GET", path: "/api/session?conference=demo",
		cookies: []*http.Cookie{{Name: auth.SessionCookie, Value: "x.y"}}})
	if res.status != 401 || res.code() != CodeTokenMissing {
		t.Errorf("cookie without auth: %d %s", res.status, res.body)
	}
}

// TestAdmitStaff checks the admission of routes that concern no single
// conference: a logged-in user of the roles (with CSRF on unsafe methods),
// or a token of the roles for an existing conference.
func TestAdmitStaff(t *testing.T) {
	s, iss, _ := newLoginServer(t, 100)
	cookieOf := func(role conference.Role) (*http.Cookie, string) {
		for _, u := range testUsers {
			if u.role == role {
				sess, err := s.d.Auth.Login(u.name, u.password)
				if err != nil {
					t.Fatal(err)
				}
				return &http.Cookie{Name: auth.SessionCookie, Value: s.d.Auth.Encode(sess)}, s.d.Auth.CSRFToken(sess)
			}
		}
		t.Fatalf("no user of role %s", role)
		return nil, ""
	}
	issue := func(conf string, role conference.Role, point string) string {
		v, err := iss.Issue(conf, role, point, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	techCookie, techCSRF := cookieOf(conference.RoleTechnician)
	secrCookie, _ := cookieOf(conference.RoleSecretariat)
	for _, tc := range []struct {
		name, method string
		cookie       *http.Cookie
		csrf, token  string
		status       int
		code, user   string
	}{
		{name: "technician login", method: "GET", cookie: techCookie, status: 200, user: "lan"},
		{name: "technician login, POST with CSRF", method: "POST", cookie: techCookie, csrf: techCSRF, status: 200, user: "lan"},
		{name: "technician login, POST without CSRF", method: "POST", cookie: techCookie, status: 403, code: CodeCSRF},
		{name: "secretariat login", method: "GET", cookie: secrCookie, status: 403, code: CodeForbidden},
		{name: "bad cookie", method: "GET", cookie: &http.Cookie{Name: auth.SessionCookie, Value: "x.y"}, status: 401, code: CodeLoginRequired},
		{name: "technician token", method: "POST", token: issue(DemoID, conference.RoleTechnician, ""), status: 200},
		{name: "technician token of no conference", method: "GET", token: issue("khong-co", conference.RoleTechnician, ""), status: 401, code: CodeConferenceNotFound},
		{name: "point token", method: "GET", token: issue(DemoID, conference.RolePoint, "bien-hoa"), status: 403, code: CodeForbidden},
		{name: "nobody", method: "GET", status: 401, code: CodeTokenMissing},
	} {
		r := httptest.NewRequest(tc.method, "/api/registry", nil)
		if tc.cookie != nil {
			r.AddCookie(tc.cookie)
		}
		if tc.csrf != "" {
			r.Header.Set(auth.CSRFHeader, tc.csrf)
		}
		if tc.token != "" {
			r.Header.Set("Authorization", "Bearer "+tc.token)
		}
		w := httptest.NewRecorder()
		a, ok := s.admitStaff(w, r, techOnly)
		if ok {
			w.WriteHeader(200)
		}
		res := result{status: w.Code, body: w.Body.Bytes()}
		if res.status != tc.status || res.code() != tc.code {
			t.Errorf("%s: %d %s; want %d %s", tc.name, res.status, res.body, tc.status, tc.code)
		}
		if ok && (a.Claims.Role != conference.RoleTechnician || a.Claims.Subject != tc.user) {
			t.Errorf("%s: admitted %+v", tc.name, a.Claims)
		}
	}
}
