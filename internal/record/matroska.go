package record

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// Matroska element IDs (RFC 9559), with their length marker bits.
const (
	mkvEBML               = 0x1a45dfa3
	mkvEBMLVersion        = 0x4286
	mkvEBMLReadVersion    = 0x42f7
	mkvEBMLMaxIDLength    = 0x42f2
	mkvEBMLMaxSizeLength  = 0x42f3
	mkvDocType            = 0x4282
	mkvDocTypeVersion     = 0x4287
	mkvDocTypeReadVersion = 0x4285
	mkvSegment            = 0x18538067
	mkvInfo               = 0x1549a966
	mkvTimestampScale     = 0x2ad7b1
	mkvDuration           = 0x4489
	mkvDateUTC            = 0x4461
	mkvTitle              = 0x7ba9
	mkvMuxingApp          = 0x4d80
	mkvWritingApp         = 0x5741
	mkvTracks             = 0x1654ae6b
	mkvTrackEntry         = 0xae
	mkvTrackNumber        = 0xd7
	mkvTrackUID           = 0x73c5
	mkvTrackType          = 0x83
	mkvFlagLacing         = 0x9c
	mkvName               = 0x536e
	mkvCodecID            = 0x86
	mkvCodecPrivate       = 0x63a2
	mkvVideo              = 0xe0
	mkvPixelWidth         = 0xb0
	mkvPixelHeight        = 0xba
	mkvCluster            = 0x1f43b675
	mkvTimestamp          = 0xe7
	mkvSimpleBlock        = 0xa3
)

// mkvUnknownSize is the 8-byte size field that says "unknown": the
// element ends where its parent or the file does.
var mkvUnknownSize = [8]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Cluster limits: a cluster starts at each keyframe and at least every
// mkvClusterSpan; a block's timestamp is relative to its cluster's and
// must fit 16 bits.
const (
	mkvClusterSpan = 5000 // ms
	mkvMaxRelative = math.MaxInt16
	mkvMinRelative = math.MinInt16
)

// mkvHeader describes a Matroska file's one video track.
type mkvHeader struct {
	DocType      string // "webm" or "matroska"
	CodecID      string // "V_VP8", "V_MPEG4/ISO/AVC"
	CodecPrivate []byte
	Width        int
	Height       int
	Title        string
	Name         string
	UID          uint64
	Date         time.Time
}

// mkvWriter writes a Matroska file with one video track, in the form a
// live stream has: a Segment and Clusters of unknown size, SimpleBlocks,
// no Cues. Timestamps are in milliseconds. The Segment's Duration is
// rewritten in place (WriteAt) on each flush, so that a file cut short
// by a crash still says how long it is. It is not safe for concurrent
// use.
type mkvWriter struct {
	w  io.Writer   // the buffered file
	at io.WriterAt // the file itself, for the rewrites; nil to skip them

	started    bool
	width      int
	height     int
	durationAt int64 // offset of the Duration's float
	offset     int64 // bytes written so far

	cluster     bool
	clusterTime int64
	last        int64 // timestamp of the last block
	lastDelta   int64 // between the last two blocks
	end         int64 // timestamp where the written blocks end
	wroteEnd    int64 // end as last written into Duration
	buf         []byte
}

func newMkvWriter(w io.Writer, at io.WriterAt) *mkvWriter {
	return &mkvWriter{w: w, at: at, buf: make([]byte, 0, 64), wroteEnd: -1}
}

// start writes the EBML header, the Segment's start, its Info and Tracks.
func (m *mkvWriter) start(h mkvHeader) error {
	var b []byte
	b = ebmlMaster(b, mkvEBML, func(b []byte) []byte {
		b = ebmlUint(b, mkvEBMLVersion, 1)
		b = ebmlUint(b, mkvEBMLReadVersion, 1)
		b = ebmlUint(b, mkvEBMLMaxIDLength, 4)
		b = ebmlUint(b, mkvEBMLMaxSizeLength, 8)
		b = ebmlString(b, mkvDocType, h.DocType)
		b = ebmlUint(b, mkvDocTypeVersion, 4)
		b = ebmlUint(b, mkvDocTypeReadVersion, 2)
		return b
	})
	b = ebmlID(b, mkvSegment)
	b = append(b, mkvUnknownSize[:]...)
	var info []byte
	info = ebmlUint(info, mkvTimestampScale, 1_000_000) // 1 ms
	info = ebmlID(info, mkvDuration)
	info = append(info, 0x88)
	durationRel := len(info)
	info = binary.BigEndian.AppendUint64(info, math.Float64bits(0))
	if !h.Date.IsZero() {
		epoch := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		info = ebmlID(info, mkvDateUTC)
		info = append(info, 0x88)
		info = binary.BigEndian.AppendUint64(info, uint64(h.Date.Sub(epoch).Nanoseconds()))
	}
	if h.Title != "" {
		info = ebmlString(info, mkvTitle, h.Title)
	}
	info = ebmlString(info, mkvMuxingApp, "hoinghi")
	info = ebmlString(info, mkvWritingApp, "hoinghi")
	b = ebmlID(b, mkvInfo)
	b = ebmlSize(b, uint64(len(info)))
	durationAt := int64(len(b) + durationRel)
	b = append(b, info...)
	b = ebmlMaster(b, mkvTracks, func(b []byte) []byte {
		return ebmlMaster(b, mkvTrackEntry, func(b []byte) []byte {
			b = ebmlUint(b, mkvTrackNumber, 1)
			b = ebmlUint(b, mkvTrackUID, h.UID)
			b = ebmlUint(b, mkvTrackType, 1) // video
			b = ebmlUint(b, mkvFlagLacing, 0)
			if h.Name != "" {
				b = ebmlString(b, mkvName, h.Name)
			}
			b = ebmlString(b, mkvCodecID, h.CodecID)
			if len(h.CodecPrivate) > 0 {
				b = ebmlBytes(b, mkvCodecPrivate, h.CodecPrivate)
			}
			return ebmlMaster(b, mkvVideo, func(b []byte) []byte {
				b = ebmlUint(b, mkvPixelWidth, uint64(h.Width))
				return ebmlUint(b, mkvPixelHeight, uint64(h.Height))
			})
		})
	})
	if err := m.write(b); err != nil {
		return fmt.Errorf("matroska: header: %w", err)
	}
	m.started = true
	m.width, m.height = h.Width, h.Height
	m.durationAt = durationAt
	return nil
}

// writeFrame writes one frame at timestamp ts (ms from the file's start).
func (m *mkvWriter) writeFrame(ts int64, frame []byte, key bool) error {
	if !m.cluster || key && m.last != ts || ts-m.clusterTime > mkvClusterSpan ||
		ts-m.clusterTime > mkvMaxRelative || ts-m.clusterTime < mkvMinRelative {
		b := ebmlID(m.buf[:0], mkvCluster)
		b = append(b, mkvUnknownSize[:]...)
		b = ebmlUint(b, mkvTimestamp, uint64(max(ts, 0)))
		m.buf = b
		if err := m.write(b); err != nil {
			return fmt.Errorf("matroska: cluster: %w", err)
		}
		m.cluster = true
		m.clusterTime = max(ts, 0)
	}
	b := ebmlID(m.buf[:0], mkvSimpleBlock)
	b = ebmlSize(b, uint64(4+len(frame)))
	b = append(b, 0x81) // track 1
	b = binary.BigEndian.AppendUint16(b, uint16(int16(ts-m.clusterTime)))
	var flags byte
	if key {
		flags |= 0x80
	}
	b = append(b, flags)
	m.buf = b
	if err := m.write(b); err != nil {
		return fmt.Errorf("matroska: block: %w", err)
	}
	if err := m.write(frame); err != nil {
		return fmt.Errorf("matroska: block: %w", err)
	}
	if d := ts - m.last; d > 0 && d <= 1000 {
		m.lastDelta = d
	}
	m.last = ts
	delta := m.lastDelta
	if delta == 0 {
		delta = 33
	}
	m.end = max(m.end, ts+delta)
	return nil
}

// flushed is called once what was written is in the file: it rewrites
// the Duration.
func (m *mkvWriter) flushed() error {
	if !m.started || m.at == nil || m.end == m.wroteEnd {
		return nil
	}
	var f [8]byte
	binary.BigEndian.PutUint64(f[:], math.Float64bits(float64(m.end)))
	if _, err := m.at.WriteAt(f[:], m.durationAt); err != nil {
		return fmt.Errorf("matroska: duration: %w", err)
	}
	m.wroteEnd = m.end
	return nil
}

// closed is called after the last flush. The Segment keeps its unknown
// size: its Clusters have unknown sizes too, which a Segment of known
// size may not hold.
func (m *mkvWriter) closed() error {
	return m.flushed()
}

func (m *mkvWriter) write(b []byte) error {
	n, err := m.w.Write(b)
	m.offset += int64(n)
	return err
}

// ebmlID appends an element ID (its bytes as written).
func ebmlID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// ebmlSize appends n as the shortest vint that holds it (all ones is
// reserved for "unknown", hence the -1).
func ebmlSize(b []byte, n uint64) []byte {
	l := 1
	for n >= 1<<(7*l)-1 && l < 8 {
		l++
	}
	n |= 1 << (7 * l)
	for i := l - 1; i >= 0; i-- {
		b = append(b, byte(n>>(8*i)))
	}
	return b
}

func ebmlUint(b []byte, id uint32, v uint64) []byte {
	n := 1
	for n < 8 && v>>(8*n) != 0 {
		n++
	}
	b = ebmlID(b, id)
	b = ebmlSize(b, uint64(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func ebmlString(b []byte, id uint32, s string) []byte {
	b = ebmlID(b, id)
	b = ebmlSize(b, uint64(len(s)))
	return append(b, s...)
}

func ebmlBytes(b []byte, id uint32, p []byte) []byte {
	b = ebmlID(b, id)
	b = ebmlSize(b, uint64(len(p)))
	return append(b, p...)
}

// ebmlMaster appends a master element whose children body appends.
func ebmlMaster(b []byte, id uint32, body func([]byte) []byte) []byte {
	inner := body(nil)
	b = ebmlID(b, id)
	b = ebmlSize(b, uint64(len(inner)))
	return append(b, inner...)
}
