package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/client"
	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/server"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// TestRedisRevokeDisconnectsWithin2s is the test: revoking a
// connected point's link disconnects it within 2 s, and its new link
// works. It runs the whole server on a real Redis, with a point that
// publishes media, and the hall watching.
func TestRedisRevokeDisconnectsWithin2s(t *testing.T) {
	st := storetest.Redis(t)
	s := servertest.Start(t, st)
	servertest.Seed(t, st, "thu-hoi", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tech := s.Token("thu-hoi", conference.RoleTechnician, "", time.Hour)
	links := getLinks(t, s.URL, "thu-hoi", tech)
	oldURL := links["diem-1"]
	if oldURL == "" {
		t.Fatalf("no link for diem-1 in %v", links)
	}
	hall, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: tech})
	if err != nil {
		t.Fatal(err)
	}
	defer hall.Close()
	point, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: linkToken(t, oldURL), Publish: true, VideoBitrate: 200_000})
	if err != nil {
		t.Fatal(err)
	}
	defer point.Close()
	other, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: linkToken(t, links["diem-2"])})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	start := time.Now()
	var re server.Reissued
	postJSON(t, s.URL+"/api/conferences/thu-hoi/links/diem-1/reissue", tech, &re)
	select {
	case <-point.Done():
	case <-time.After(2 * time.Second):
		t.Fatalf("the point with the revoked link is still connected %v after the reissue", time.Since(start))
	}
	if c, ok := point.Closing(); !ok || c.Reason != protocol.ReasonRevoked {
		t.Errorf("closing = %+v, %v; want reason %q", c, ok, protocol.ReasonRevoked)
	}
	t.Logf("disconnected %v after the reissue", time.Since(start))
	if re.Version != 1 || re.Closed != 1 || re.PointID != "diem-1" || re.URL == oldURL {
		t.Errorf("reissue answer = %+v; want version 1, 1 closed, a new URL", re)
	}
	select {
	case <-other.Done():
		t.Error("another point was disconnected too")
	default:
	}

	// The old link is refused at once, by the WebSocket and the API.
	_, err = client.Dial(ctx, client.Options{ServerURL: s.URL, Token: linkToken(t, oldURL)})
	var refused *client.RefusedError
	if !errors.As(err, &refused) || refused.Code != server.CodeLinkRevoked || refused.TechnicianPhone == "" {
		t.Errorf("dial with the old link: %v; want refused %s with the technician's phone", err, server.CodeLinkRevoked)
	}

	// The new link works, also for media, and is what the links list gives.
	again, err := client.Dial(ctx, client.Options{ServerURL: s.URL, Token: linkToken(t, re.URL), Publish: true, VideoBitrate: 200_000})
	if err != nil {
		t.Fatalf("dial with the new link: %v", err)
	}
	defer again.Close()
	if w := again.Welcome(); w.PointID != "diem-1" {
		t.Errorf("welcome of the new link = %+v", w)
	}
	if got := getLinks(t, s.URL, "thu-hoi", tech)["diem-1"]; got != re.URL {
		t.Errorf("links list gives %q; want the reissued %q", got, re.URL)
	}
	// It stays connected past the second look for late connections.
	time.Sleep(1500 * time.Millisecond)
	select {
	case <-again.Done():
		c, _ := again.Closing()
		t.Fatalf("the new link's connection was closed: %+v", c)
	default:
	}
}

// getLinks returns the links of conf by point id.
func getLinks(t *testing.T, base, conf, tech string) map[string]string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/conferences/"+conf+"/links", nil)
	req.Header.Set("Authorization", "Bearer "+tech)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var links []server.Link
	if err := json.NewDecoder(res.Body).Decode(&links); err != nil {
		t.Fatalf("links: status %d: %v", res.StatusCode, err)
	}
	out := map[string]string{}
	for _, l := range links {
		if l.PointID != "" {
			out[l.PointID] = l.URL
		}
	}
	return out
}

// postJSON posts an empty body to u with token tok and decodes the answer.
func postJSON(t *testing.T, u, tok string, v any) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", u, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// linkToken returns the token of a join link.
func linkToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.Contains(link, "?t=") {
		t.Fatalf("link %q: %v", link, err)
	}
	return u.Query().Get("t")
}
