package client

import (
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/pion/ice/v4"
)

// lossyConn is the client's media socket of Options.VideoLossPercent and
// VideoSendLossPercent: it drops those shares of the RTP packets of
// payload type videoPT it receives (before decryption, so that the
// server's retransmissions are new packets to SRTP and fill the gaps) and
// sends, as a lossy link does.
type lossyConn struct {
	*net.UDPConn
	percent     float64
	sendPercent float64
}

// videoPT is the payload type of VP8 in the server's offers.
const videoPT = 96

func (c *lossyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.UDPConn.ReadFrom(b)
		if err == nil && isVideo(b[:n]) && rand.Float64()*100 < c.percent {
			continue
		}
		return n, addr, err
	}
}

func (c *lossyConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if isVideo(b) && rand.Float64()*100 < c.sendPercent {
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, addr)
}

// isVideo reports whether b is an RTP packet of payload type videoPT: RTP
// has version 2 in the first byte and the payload type after the marker
// bit (RTCP types 200 to 204 never match 96).
func isVideo(b []byte) bool {
	return len(b) > 12 && b[0]>>6 == 2 && b[1]&0x7f == videoPT
}

// lossyMux opens the media socket of a lossy client on loopback (the
// option is for tests on one machine) and returns the ICE mux over it.
func lossyMux(percent, sendPercent float64) (ice.UDPMux, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("lossy media socket: %w", err)
	}
	return ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: &lossyConn{UDPConn: conn, percent: percent, sendPercent: sendPercent}}), nil
}
