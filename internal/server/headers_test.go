package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/signal"
	"hoinghi/web"
)

// wantSecurityHeaders are the headers every answer carries.
var wantSecurityHeaders = map[string]string{
	"Content-Security-Policy": ContentSecurityPolicy,
	"X-Frame-Options":         "DENY",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
}

// TestSecurityHeadersEveryRoute checks the security headers on an answer
// of every kind of route: pages, scripts, styles, the API (answers and
// refusals), the link sheet and its QR codes, errors (404, 405), the
// refused WebSocket, health, readiness and metrics.
func TestSecurityHeadersEveryRoute(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	point := f.token(t, f.iss, "demo", conference.RolePoint, "bien-hoa", time.Hour)
	tests := []struct {
		name, method, path, token string
		status                    int
	}{
		{"landing page", "GET", "/", "", 200},
		{"point page", "GET", "/point/?t=" + point, "", 200},
		{"console page", "GET", "/console/", "", 200},
		{"login page", "GET", "/login/", "", 200},
		{"admin page", "GET", "/admin/", "", 200},
		{"script", "GET", "/js/point.js", "", 200},
		{"style", "GET", "/css/style.css", "", 200},
		{"page redirect", "GET", "/point?t=x", "", 301},
		{"page not found", "GET", "/nothing.html", "", 404},
		{"page method not allowed", "POST", "/point/", "", 405},
		{"directory listing refused", "GET", "/js/", "", 404},
		{"api answer", "GET", "/api/session", point, 200},
		{"api refusal", "GET", "/api/session", "", 401},
		{"api forbidden", "GET", "/api/conferences/demo/links", point, 403},
		{"api not found", "GET", "/api/nothing", tech, 404},
		{"api unknown method", "DELETE", "/api/session", tech, 404},
		{"link sheet", "GET", "/api/conferences/demo/links/sheet?t=" + tech, "", 200},
		{"qr code", "GET", "/api/conferences/demo/links/bien-hoa/qr.png", tech, 200},
		{"login off", "POST", "/api/login", "", 404},
		{"websocket refused", "GET", "/ws", "", 401},
		{"healthz", "GET", "/healthz", "", 200},
		{"readyz", "GET", "/readyz", "", 200},
		{"metrics", "GET", "/metrics", "", 200},
	}
	client := *f.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, f.srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.status)
			}
			for k, want := range wantSecurityHeaders {
				if got := res.Header.Values(k); len(got) != 1 || got[0] != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// upgradeHub upgrades the connection and says hello, as the real hub does.
type upgradeHub struct{}

func (upgradeHub) RefuseIfLinkFull(http.ResponseWriter, signal.Admission) bool { return false }
func (upgradeHub) VideoLayers() []protocol.VideoLayer                          { return nil }

func (upgradeHub) Serve(w http.ResponseWriter, r *http.Request, _ signal.Admission) {
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("hello"))
}

// TestSecurityHeadersKeepWebSocket upgrades through the security headers.
func TestSecurityHeadersKeepWebSocket(t *testing.T) {
	f := newFixture(t)
	s := New(Deps{Store: f.st, Issuer: f.iss, Hub: upgradeHub{}, Log: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(s)
	defer srv.Close()
	tok := f.token(t, f.iss, "demo", conference.RolePoint, "bien-hoa", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, res, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?t="+tok, nil)
	if err != nil {
		t.Fatalf("dial: %v (response %+v)", err, res)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "hello" {
		t.Errorf("read %q, %v", msg, err)
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b[^>]*>`)
	inlineStyle = regexp.MustCompile(`(?is)<style\b|\sstyle\s*=`)
	// An event-handler attribute (onclick=...) or a javascript: URL.
	inlineHandler = regexp.MustCompile(`(?is)<[^>]*\son[a-z]+\s*=|javascript:`)
	// What a script could do that the policy blocks: evaluate strings, or
	// set handler and style attributes.
	blockedScript = regexp.MustCompile(`\beval\(|new Function\(|setTimeout\(\s*['"]|setInterval\(\s*['"]|setAttribute\(\s*['"](on[a-z]+|style)['"]|[{,]\s*(style|onclick|onload|onerror|onchange|oninput|onsubmit)\s*:`)
)

// TestPagesNeedNoInlineCode checks that every page, the generated link
// sheet included, runs under ContentSecurityPolicy: scripts only from
// files, no inline style, no event-handler attributes, and no script that
// evaluates strings or sets such attributes.
func TestPagesNeedNoInlineCode(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	sheet := f.do(t, "GET", "/api/conferences/demo/links/sheet?t="+tech, "", "")
	if sheet.status != 200 || !strings.Contains(string(sheet.body), `id="print"`) {
		t.Fatalf("sheet: %d %.300s", sheet.status, sheet.body)
	}
	pages := map[string]string{"link sheet (sheet.go)": string(sheet.body)}
	scripts := map[string]string{}
	err := fs.WalkDir(web.Files, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Files, name)
		switch path.Ext(name) {
		case ".html":
			pages[name] = string(b)
		case ".js":
			scripts[name] = string(b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 6 || len(scripts) < 5 {
		t.Fatalf("found %d pages and %d scripts", len(pages), len(scripts))
	}
	for name, text := range pages {
		for _, tag := range scriptTag.FindAllString(text, -1) {
			if !strings.Contains(tag, " src=") {
				t.Errorf("%s: inline script %s", name, tag)
			}
		}
		if m := inlineStyle.FindString(text); m != "" {
			t.Errorf("%s: inline style %q", name, m)
		}
		if m := inlineHandler.FindString(text); m != "" {
			t.Errorf("%s: inline handler %q", name, m)
		}
	}
	for name, text := range scripts {
		if m := blockedScript.FindString(text); m != "" {
			t.Errorf("%s: %q is blocked by the policy", name, m)
		}
	}
}
