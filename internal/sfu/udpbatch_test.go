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

// BenchmarkUDPReceive compares, per packet, one recvfrom a packet with one
// recvmmsg of up to 32, draining a socket that holds 2 000 packets already
// queued: the question of whether the media socket's reader should batch
// its reads. Only the reads are timed. On this project's machine: about
// 0.66 µs against 0.58 µs a packet at best, against 4 to 9 µs of sending
// each packet to each subscriber (docs/benchmarks.md): not worth a reader
// of our own beside pion's UDP mux.
func BenchmarkUDPReceive(b *testing.B) {
	const queued = 2000
	for _, batch := range []int{1, 32} {
		b.Run(map[int]string{1: "recvfrom", 32: "recvmmsg"}[batch], func(b *testing.B) {
			dst, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer dst.Close()
			if err := dst.SetReadBuffer(16 << 20); err != nil {
				b.Fatal(err)
			}
			src, err := net.DialUDP("udp4", nil, dst.LocalAddr().(*net.UDPAddr))
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			pkt := make([]byte, 1200)
			pc := ipv4.NewPacketConn(dst)
			msgs := make([]ipv4.Message, batch)
			for i := range msgs {
				msgs[i].Buffers = [][]byte{make([]byte, 1500)}
			}
			buf := make([]byte, 1500)
			b.SetBytes(int64(len(pkt)))
			b.StopTimer()
			for done := 0; done < b.N; {
				round := min(queued, b.N-done)
				for range round {
					if _, err := src.Write(pkt); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				for n := 0; n < round; {
					if batch == 1 {
						if _, _, err := dst.ReadFromUDP(buf); err != nil {
							b.Fatal(err)
						}
						n++
						continue
					}
					got, err := pc.ReadBatch(msgs[:min(batch, round-n)], 0)
					if err != nil {
						b.Fatal(err)
					}
					n += got
				}
				b.StopTimer()
				done += round
			}
		})
	}
}
