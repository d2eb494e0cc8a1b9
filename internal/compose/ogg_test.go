package compose

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
	"time"
)

// oggPage returns an Ogg page of serial with granule and payload (its
// checksum is not set: the scanner does not check it).
func oggPage(serial uint32, granule uint64, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("OggS")
	b.Write([]byte{0, 0})
	binary.Write(&b, binary.LittleEndian, granule)
	binary.Write(&b, binary.LittleEndian, serial)
	b.Write(make([]byte, 8)) // sequence number, checksum
	var lacing []byte
	n := len(payload)
	for ; n >= 255; n -= 255 {
		lacing = append(lacing, 255)
	}
	lacing = append(lacing, byte(n))
	b.WriteByte(byte(len(lacing)))
	b.Write(lacing)
	b.Write(payload)
	return b.Bytes()
}

// opusFile returns an Ogg Opus stream with a pre-skip of 312 samples and
// one page of audio ending at each of ends.
func opusFile(ends ...time.Duration) []byte {
	head := []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	f := oggPage(7, 0, head)
	f = append(f, oggPage(7, 0, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"))...)
	for _, e := range ends {
		f = append(f, oggPage(7, uint64(312+int64(e)*sampleRate/int64(time.Second)), bytes.Repeat([]byte{0xfc}, 300))...)
	}
	return f
}

func TestScanOgg(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	every := func(from, to, step time.Duration) []time.Duration {
		var ends []time.Duration
		for e := from; e <= to; e += step {
			ends = append(ends, e)
		}
		return ends
	}
	cat := func(parts ...[]time.Duration) []time.Duration {
		var all []time.Duration
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name string
		file []byte
		want []time.Duration
	}{
		{"not Ogg", []byte("RIFF....WAVEfmt "), nil},
		{"Ogg but not Opus", oggPage(1, 0, []byte("\x01vorbis\x00\x00\x00\x00\x02\x44\xac\x00\x00")), nil},
		{"no gap", opusFile(every(20*ms, 10*s, 20*ms)...), []time.Duration{0}},
		{"a short gap", opusFile(cat(every(20*ms, 5*s, 20*ms), every(50*s, 55*s, 20*ms))...), []time.Duration{0}},
		{"a long gap", opusFile(cat(every(20*ms, 5*s, 20*ms), every(100*s, 105*s, 20*ms))...),
			[]time.Duration{0, 100*s - maxPage - s}},
		{"a gap just over the bound", opusFile(5*s, 5*s+longGap+ms), []time.Duration{0, 5*s + longGap + ms - maxPage - s}},
		{"a gap of the bound", opusFile(5*s, 5*s+longGap), []time.Duration{0}},
		{"two long gaps, a late first page", opusFile(cat([]time.Duration{300 * s}, every(301*s, 302*s, 20*ms), every(3600*s, 3601*s, time.Second),
			every(7200*s, 7201*s, 20*ms))...),
			[]time.Duration{0, 3600*s - maxPage - s, 7200*s - maxPage - s}},
		{"a damaged last page", opusFile(1*s, 2*s, 100*s)[:len(opusFile(1*s, 2*s, 100*s))-100], []time.Duration{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanOgg(bufio.NewReader(bytes.NewReader(tt.file)), longGap)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAudioPieces(t *testing.T) {
	s := time.Second
	tests := []struct {
		name       string
		offset     time.Duration
		starts     []time.Duration
		seek       time.Duration
		wantBounds []time.Duration
	}{
		{"one piece", 0, []time.Duration{0}, 0, nil},
		{"not Ogg", 5 * s, nil, 0, nil},
		{"two pieces", 5 * s, []time.Duration{0, 100 * s}, 0, []time.Duration{100 * s}},
		{"cut before the program", -200 * s, []time.Duration{0, 100 * s, 300 * s}, 200 * s, []time.Duration{100 * s}},
		{"a piece starts in the cut", -100 * s, []time.Duration{0, 100 * s, 300 * s}, 100 * s, []time.Duration{200 * s}},
		{"a piece after the program's end", 0, []time.Duration{0, 100 * s, 700 * s}, 0, []time.Duration{100 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seek, bounds := audioPieces(Input{Offset: tt.offset, Audio: true}, tt.starts, 600*s)
			if seek != tt.seek || !reflect.DeepEqual(bounds, tt.wantBounds) {
				t.Errorf("audioPieces = %v, %v; want %v, %v", seek, bounds, tt.seek, tt.wantBounds)
			}
		})
	}
}

// BenchmarkScanOgg reads an hour of Opus in pages of one 20 ms packet, as
// pion's Ogg writer makes them.
func BenchmarkScanOgg(b *testing.B) {
	var ends []time.Duration
	for e := 20 * time.Millisecond; e <= time.Hour; e += 20 * time.Millisecond {
		ends = append(ends, e)
	}
	file := opusFile(ends...)
	r := bufio.NewReaderSize(nil, 64<<10)
	br := bytes.NewReader(file)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(file)
		r.Reset(br)
		if got := scanOgg(r, longGap); len(got) != 1 {
			b.Fatalf("pieces %v", got)
		}
	}
}
