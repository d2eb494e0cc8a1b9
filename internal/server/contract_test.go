package server

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hoinghi/docs"
	"hoinghi/internal/conference"
	"hoinghi/internal/contract"
)

// TestContractRoutes checks that docs/openapi.json documents exactly the
// routes the server registers (the router is the truth), apart from the
// catch-alls: "/api/" (any other API path answers the NotFound response)
// and "/" (the pages).
func TestContractRoutes(t *testing.T) {
	api, err := contract.LoadAPI(docs.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, p := range routePatterns(t) {
		if p != "/api/" && p != "/" {
			routes = append(routes, p)
		}
	}
	slices.Sort(routes)
	documented := api.Operations()
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not in docs/openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("docs/openapi.json documents %q, which the server does not register", d)
		}
	}
}

// walkedElsewhere reports whether the success of route pattern needs
// what this fixture has not (a recording, ffmpeg, media): the recordings
// of one recording and the livestream's start and stop succeed in
// internal/recording's tests, on a server whose every answer is checked
// against docs/openapi.json (servertest).
func walkedElsewhere(pattern string) bool {
	return strings.Contains(pattern, "/recordings/{rid}") ||
		pattern == "POST /api/conferences/{id}/livestream" || pattern == "DELETE /api/conferences/{id}/livestream"
}

// TestContractWalk sends every API route of the role matrix once, as a
// role it admits, and checks that it succeeds and that its answer is the
// one docs/openapi.json documents (the fixture checks every response as
// well; this test makes sure that each route's success is among them).
func TestContractWalk(t *testing.T) {
	f := newLoginFixture(t, 100)
	api, err := contract.LoadAPI(docs.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	tech := f.login(t, testUsers[0].name, testUsers[0].password)
	// The matrix's invitation is refused once admitted; this one invites
	// a point of a registry made for it.
	techToken := f.token(t, f.iss, DemoID, conference.RoleTechnician, "", time.Hour)
	if res := f.send(t, req{method: "PUT", path: "/api/registry/ba-ria/points/long-dien", body: `{"name":"Điểm cầu huyện Long Điền"}`,
		json: true, token: techToken}); res.status != http.StatusCreated {
		t.Fatalf("registry point: %d %s", res.status, res.body)
	}
	bodies := map[string]string{"POST /api/conferences/{id}/invite": `{"province":"ba-ria"}`}
	seen := map[string]bool{}
	for _, row := range roleMatrix {
		path, _, _ := strings.Cut(row.path, "?")
		if !strings.HasPrefix(path, "/api/") || seen[row.pattern] || walkedElsewhere(row.pattern) {
			continue
		}
		seen[row.pattern] = true
		t.Run(row.pattern, func(t *testing.T) {
			q := req{method: row.method, path: row.path, body: row.body, json: row.body != ""}
			if b, ok := bodies[row.pattern]; ok {
				q.body = b
			}
			switch {
			case row.pattern == "POST /api/logout" || row.pattern == "GET /api/me":
				q.cookies, q.csrf = tech.cookies, tech.csrf
			case len(row.roles) > 0 || row.want == nil && !row.public:
				role := conference.RoleTechnician
				if len(row.roles) > 0 {
					role = row.roles[0]
				}
				q.token = f.token(t, f.iss, DemoID, role, "", time.Hour)
			}
			if strings.HasSuffix(row.pattern, "/import") {
				q.json, q.header = false, http.Header{"Content-Type": {"text/csv"}}
			}
			res := f.send(t, q)
			if res.status >= 300 && row.pattern != "/api/" {
				t.Errorf("%s %s: %d %s; want a success", row.method, row.path, res.status, res.body[:min(len(res.body), 200)])
			}
			err := api.Check(contract.Response{Method: row.method, Path: path, Status: res.status,
				ContentType: res.header.Get("Content-Type"), Body: res.body})
			if err != nil {
				t.Error(err)
			}
		})
	}
	for _, want := range []string{"GET /api/conferences/{id}/report", "POST /api/registry/{province}/import", "GET /api/openapi.json"} {
		if !seen[want] {
			t.Errorf("%s was not walked", want)
		}
	}
}
