package turn

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// peekTimeout bounds the wait for a connection's first bytes. A client
// that sends nothing by then (a browser's preconnect) goes to the web side,
// whose own timeouts apply.
const peekTimeout = 5 * time.Second

// stunCookie is the magic cookie at bytes 4 to 7 of every STUN message.
var stunCookie = []byte{0x21, 0x12, 0xA4, 0x42}

// WebMux shares one TCP listener between the web server and TURN over TCP,
// so that a point whose firewall lets through only the web port still
// reaches the TURN server. It reads the first 8 bytes of each connection:
// a STUN message (first two bits zero, magic cookie at bytes 4 to 7) goes to
// TURN, anything else (a TLS ClientHello, an HTTP request line) to the web
// server, with the bytes read handed back unchanged.
type WebMux struct {
	base net.Listener
	log  *slog.Logger
	web  *muxListener
	turn *muxListener

	mu     sync.Mutex
	closed int // children closed
	once   sync.Once
}

// NewWebMux starts splitting the connections of l. Serve the web on Web()
// and give TURN() to the TURN server; closing both closes l.
func NewWebMux(l net.Listener, log *slog.Logger) *WebMux {
	if log == nil {
		log = slog.Default()
	}
	m := &WebMux{base: l, log: log}
	m.web = newMuxListener(m)
	m.turn = newMuxListener(m)
	go m.acceptLoop()
	return m
}

// Web is the listener of the web server's connections.
func (m *WebMux) Web() net.Listener { return m.web }

// TURN is the listener of the TURN connections.
func (m *WebMux) TURN() net.Listener { return m.turn }

// Close closes the shared listener and both sides.
func (m *WebMux) Close() error {
	m.web.close()
	m.turn.close()
	return m.closeBase()
}

func (m *WebMux) closeBase() error {
	var err error
	m.once.Do(func() { err = m.base.Close() })
	return err
}

// childClosed closes the shared listener once both sides are closed.
func (m *WebMux) childClosed() error {
	m.mu.Lock()
	m.closed++
	both := m.closed == 2
	m.mu.Unlock()
	if both {
		return m.closeBase()
	}
	return nil
}

func (m *WebMux) acceptLoop() {
	var delay time.Duration
	for {
		c, err := m.base.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: back off as
				// net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				m.log.Warn("web mux: accept", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			m.web.fail(err)
			m.turn.fail(err)
			return
		}
		delay = 0
		go m.route(c)
	}
}

// route hands c to TURN or to the web by its first bytes.
func (m *WebMux) route(c net.Conn) {
	head := make([]byte, 8)
	_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
	n, err := io.ReadFull(c, head)
	_ = c.SetReadDeadline(time.Time{})
	pc := &prefixConn{Conn: c, prefix: head[:n]}
	if err == nil && isSTUN(head) {
		m.turn.deliver(pc)
		return
	}
	m.web.deliver(pc)
}

// isSTUN reports whether b starts a STUN message.
func isSTUN(b []byte) bool {
	return len(b) >= 8 && b[0]&0xC0 == 0 && bytes.Equal(b[4:8], stunCookie)
}

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

// Read returns the bytes read ahead first.
func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// muxListener is one side of a WebMux.
type muxListener struct {
	m     *WebMux
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu  sync.Mutex
	err error // why Accept fails
}

func newMuxListener(m *WebMux) *muxListener {
	return &muxListener{m: m, conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for the next connection of this side.
func (l *muxListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.err
	}
}

// Close stops this side; the shared listener closes when both have.
func (l *muxListener) Close() error {
	if l.close() {
		return l.m.childClosed()
	}
	return nil
}

// Addr is the shared listener's address.
func (l *muxListener) Addr() net.Addr { return l.m.base.Addr() }

func (l *muxListener) close() bool { return l.fail(net.ErrClosed) }

// fail ends Accept with err and reports whether this call did it.
func (l *muxListener) fail(err error) bool {
	first := false
	l.once.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.done)
		first = true
	})
	return first
}

// deliver passes c to Accept, or closes it when this side is closed.
func (l *muxListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}
