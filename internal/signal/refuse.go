package signal

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"hoinghi/internal/protocol"
)

// Codes of the HTTP refusals of the signaling WebSocket that the hub makes
// itself; the server's admission makes the others (docs/protocol.md).
const (
	// CodeTooManyConnections: a hall link already holds as many
	// connections as it may (HTTP 409).
	CodeTooManyConnections = "too_many_connections"
	// CodeServerBusy: too many participants are joining at this moment;
	// the client tries again after Retry-After seconds (HTTP 503).
	CodeServerBusy = "server_busy"
	// CodeTooManyReconnects: a link connected more often than a page ever
	// does (connectsPerMinute, with a burst); try again after Retry-After
	// (HTTP 429).
	CodeTooManyReconnects = "too_many_reconnects"
)

// busyRetry is the least Retry-After of a server_busy refusal; a random
// second is added so that refused clients do not come back together.
const busyRetry = time.Second

// refusal is the JSON body of an HTTP refusal, in the shape of the
// server's other refusals.
type refusal struct {
	status     int
	retryAfter time.Duration
	Error      string `json:"error"`
	Message    string `json:"message"`
	MessageEN  string `json:"message_en"`
}

func errTooManyConnections(limit int) refusal {
	return refusal{status: http.StatusConflict, Error: CodeTooManyConnections,
		Message:   fmt.Sprintf("Đường dẫn này đang mở ở %d nơi, là số nơi tối đa. Hãy đóng một cửa sổ đang mở đường dẫn này rồi thử lại.", limit),
		MessageEN: fmt.Sprintf("This link is open in %d places, the most it may be. Close a window that has it open and try again.", limit)}
}

func errServerBusy() refusal {
	return refusal{status: http.StatusServiceUnavailable, retryAfter: busyRetry + rand.N(time.Second),
		Error:     CodeServerBusy,
		Message:   "Máy chủ đang nhận nhiều điểm cầu cùng lúc; trang sẽ tự thử lại sau giây lát.",
		MessageEN: "The server is admitting many points at once; the page tries again in a moment."}
}

func errTooManyReconnects(l *rate.Limiter) refusal {
	wait := time.Minute / connectsPerMinute
	if r := l.Reserve(); r.OK() {
		wait = max(r.Delay(), time.Second)
		r.Cancel()
	}
	return refusal{status: http.StatusTooManyRequests, retryAfter: wait, Error: CodeTooManyReconnects,
		Message:   "Đường dẫn này kết nối lại quá nhiều lần; trang sẽ tự thử lại sau ít giây.",
		MessageEN: "This link reconnected too many times; the page tries again in a few seconds."}
}

// refuse sends e as the answer to a WebSocket request.
func refuse(w http.ResponseWriter, e refusal) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(e.status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e) // the client went away; nothing to do
}

// Codes of the refusals of a WebSocket request's own parameters (HTTP 400).
const (
	// CodeUnsupportedVersion: the protocol version v the client asks for
	// is not one this server serves (protocol.MinVersion to
	// protocol.Version).
	CodeUnsupportedVersion = "unsupported_version"
	// CodeBadInstance: the instance parameter is not 1 to
	// maxInstanceLen letters, digits, '-' or '_'.
	CodeBadInstance = "bad_instance"
)

// maxInstanceLen bounds the instance parameter of /ws.
const maxInstanceLen = 64

// params are the parameters of a WebSocket request beside its credential.
type params struct {
	version  int    // the protocol version the client speaks: v, else protocol.Version
	instance string // which page of a hall link this is: instance, else ""
}

// connectParams reads v and instance from the request, or returns the
// refusal of a bad one.
func connectParams(r *http.Request) (params, *refusal) {
	q := r.URL.Query()
	p := params{version: protocol.Version, instance: q.Get("instance")}
	if v := q.Get("v"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < protocol.MinVersion || n > protocol.Version {
			return p, &refusal{status: http.StatusBadRequest, Error: CodeUnsupportedVersion,
				Message: fmt.Sprintf("Trang hoặc thiết bị này dùng giao thức phiên bản %q; máy chủ hỗ trợ phiên bản %d đến %d. Hãy tải lại trang hoặc cập nhật thiết bị.",
					v, protocol.MinVersion, protocol.Version),
				MessageEN: fmt.Sprintf("This page or device speaks protocol version %q; the server serves versions %d to %d. Reload the page or update the device.",
					v, protocol.MinVersion, protocol.Version)}
		}
		p.version = n
	}
	if q.Has("instance") && !validInstance(p.instance) {
		return p, &refusal{status: http.StatusBadRequest, Error: CodeBadInstance,
			Message:   fmt.Sprintf("Tham số instance phải gồm 1 đến %d chữ cái, chữ số, '-' hoặc '_'.", maxInstanceLen),
			MessageEN: fmt.Sprintf("The instance parameter must be 1 to %d letters, digits, '-' or '_'.", maxInstanceLen)}
	}
	return p, nil
}

func validInstance(s string) bool {
	if s == "" || len(s) > maxInstanceLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
