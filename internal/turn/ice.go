package turn

import (
	"net"
	"strconv"
	"time"

	"hoinghi/internal/protocol"
)

// Endpoints are where clients reach the TURN server; a zero port is left
// out.
type Endpoints struct {
	// Host is the name or IP address clients reach the server at.
	Host string
	// UDPPort and TCPPort are the TURN port's; WebPort is the web port when
	// a WebMux carries TURN there; TLSPort is that of TURN over TLS.
	UDPPort, TCPPort, WebPort, TLSPort int
}

// URLs returns the TURN URLs of e, the most direct first: UDP, then TCP on
// the TURN port, then TCP on the web port, then TLS.
func (e Endpoints) URLs() []string {
	var out []string
	add := func(scheme string, port int, transport string) {
		if port > 0 {
			out = append(out, scheme+":"+net.JoinHostPort(e.Host, strconv.Itoa(port))+"?transport="+transport)
		}
	}
	add("turn", e.UDPPort, "udp")
	add("turn", e.TCPPort, "tcp")
	if e.WebPort != e.TCPPort {
		add("turn", e.WebPort, "tcp")
	}
	add("turns", e.TLSPort, "tcp")
	return out
}

// ICEServers returns the function that gives each joining participant its
// ICE servers: the static ones, then, when urls is not empty, the embedded
// TURN server with credentials of its own. creds may be nil when urls is
// empty; now nil means time.Now.
func ICEServers(static []protocol.ICEServer, creds *Credentials, urls []string, now func() time.Time) func(user string) []protocol.ICEServer {
	if now == nil {
		now = time.Now
	}
	return func(user string) []protocol.ICEServer {
		out := make([]protocol.ICEServer, 0, len(static)+1)
		out = append(out, static...)
		if len(urls) > 0 && creds != nil {
			username, password := creds.Issue(user, now())
			out = append(out, protocol.ICEServer{URLs: urls, Username: username, Credential: password})
		}
		return out
	}
}
