package sfu

import (
	"net"
	"testing"

	"golang.org/x/net/ipv4"
)

// udpFanOut opens one sending socket and n receiving ones on loopback, each
// drained by a goroutine, as the SFU's media socket and its subscribers.
func udpFanOut(b *testing.B, n int) (*net.UDPConn, []*net.UDPAddr) {
	b.Helper()
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { src.Close() })
	_ = src.SetWriteBuffer(4 << 20)
	addrs := make([]*net.UDPAddr, n)
	for i := range addrs {
		dst, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { dst.Close() })
		_ = dst.SetReadBuffer(4 << 20)
		addrs[i] = dst.LocalAddr().(*net.UDPAddr)
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := dst.ReadFromUDP(buf); err != nil {
					return
				}
			}
		}()
	}
	return src, addrs
}

// BenchmarkUDPFanOut compares, per packet, one sendto a packet with one
// sendmmsg for the packets of 50 subscribers: the question of whether the
// writers should batch their writes to the shared media socket. On this
// project's 2-core machine both cost about 4.2 to 4.5 µs a packet on
// loopback (docs/benchmarks.md): the kernel's work per packet, not the
// system call, is the cost, so the SFU writes through pion one by one.
func BenchmarkUDPFanOut(b *testing.B) {
	const subscribers = 50
	pkt := make([]byte, 1200)
	b.Run("sendto", func(b *testing.B) {
		src, addrs := udpFanOut(b, subscribers)
		b.SetBytes(int64(len(pkt)))
		for i := 0; b.Loop(); i++ {
			if _, err := src.WriteToUDP(pkt, addrs[i%subscribers]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sendmmsg", func(b *testing.B) {
		src, addrs := udpFanOut(b, subscribers)
		pc := ipv4.NewPacketConn(src)
		msgs := make([]ipv4.Message, subscribers)
		for i := range msgs {
			msgs[i] = ipv4.Message{Buffers: [][]byte{pkt}, Addr: addrs[i]}
		}
		b.SetBytes(int64(len(pkt)))
		for i := 0; b.Loop(); i++ {
			if i%subscribers != 0 {
				continue // one batch carries the next subscribers packets
			}
			if _, err := pc.WriteBatch(msgs, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
