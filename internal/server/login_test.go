package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLoginLimitByAddressAndName logs in over HTTP from several client
// addresses: others' failures behind the same address (one NAT, or one
// IPv6 /64) do not refuse a correct password, while guessing one name from
// many addresses is refused by the name's limit, with Retry-After.
func TestLoginLimitByAddressAndName(t *testing.T) {
	s, _, _ := newLoginServer(t, 3)
	login := func(from, name, password string) *httptest.ResponseRecorder {
		body, _ := json.Marshal(map[string]string{"name": name, "password": password})
		r := httptest.NewRequest("POST", "https://hoinghi.example.vn/api/login", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.RemoteAddr = from
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	lan, minh := testUsers[0], testUsers[1]
	steps := []struct {
		what, from, name, password string
		status                     int
	}{
		{"minh mistypes behind the hall's NAT", "203.0.113.5:40000", minh.name, "sai", 401},
		{"again", "203.0.113.5:40001", minh.name, "sai 2", 401},
		{"and again: the NAT's address is spent", "203.0.113.5:40002", minh.name, "sai 3", 401},
		{"lan behind the same NAT, right password", "203.0.113.5:40003", lan.name, lan.password, 200},
		{"minh is now limited everywhere", "198.51.100.9:1000", minh.name, minh.password, 429},
		{"someone guesses lan from one IPv6 address", "[2001:db8:5:6::1]:1000", lan.name, "x", 401},
		{"from another in the same /64", "[2001:db8:5:6::2]:1000", lan.name, "y", 401},
		{"and a third: lan's own limit", "[2001:db8:5:6::3]:1000", lan.name, "z", 401},
		{"the guesser's next address", "[2001:db8:7::1]:1000", lan.name, lan.password, 429},
		{"hoa, another user, from the guessing /64", "[2001:db8:5:6::4]:1000", testUsers[2].name, testUsers[2].password, 200},
	}
	for i, st := range steps {
		w := login(st.from, st.name, st.password)
		if w.Code != st.status {
			t.Fatalf("step %d (%s): %d %s, want %d", i+1, st.what, w.Code, w.Body, st.status)
		}
		if st.status == 429 {
			var e apiError
			json.Unmarshal(w.Body.Bytes(), &e)
			if e.Code != CodeTooManyAttempts || w.Header().Get("Retry-After") == "" {
				t.Errorf("step %d (%s): %s, Retry-After %q", i+1, st.what, w.Body, w.Header().Get("Retry-After"))
			}
		}
		if st.status == 200 && len(w.Result().Cookies()) != 2 {
			t.Errorf("step %d (%s): cookies %v", i+1, st.what, w.Result().Cookies())
		}
	}
}
