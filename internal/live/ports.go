package live

import (
	"errors"
	"fmt"
	"net"
)

// FreePorts returns n even loopback UDP ports, each free together with
// the odd port after it, which ffmpeg opens for the stream's RTCP. The
// ports are free when FreePorts returns; another process may still take
// one before ffmpeg binds it.
func FreePorts(n int) ([]int, error) {
	if n < 0 {
		return nil, fmt.Errorf("live: free ports: count %d", n)
	}
	var held []net.PacketConn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n+100 {
			return nil, errors.New("live: free ports: no free pair of ports found")
		}
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("live: free ports: %w", err)
		}
		held = append(held, c)
		p := c.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 || p+1 > 65535 {
			continue
		}
		rtcp, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p+1))
		if err != nil {
			continue
		}
		held = append(held, rtcp)
		ports = append(ports, p)
	}
	return ports, nil
}
