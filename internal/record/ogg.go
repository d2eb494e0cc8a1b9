package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Ogg page header flags (RFC 3533, section 6).
const (
	oggContinued = 0x01
	oggBOS       = 0x02
	oggEOS       = 0x04
)

// oggMaxSegments is the largest lacing table of one page.
const oggMaxSegments = 255

// oggHeaderSize is the size of a page header without its lacing table.
const oggHeaderSize = 27

// opusSilence is an Opus packet (CELT-only, fullband, 20 ms, mono) that
// decodes to silence; gaps in the RTP timestamps of an Opus track are
// filled with it so that every player keeps the gap in the timeline.
var opusSilence = [3]byte{0xf8, 0xff, 0xfe}

// opusSilenceSamples is the length of opusSilence at 48 kHz.
const opusSilenceSamples = 960

// oggWriter writes one Ogg Opus logical stream (RFC 7845). Packets are
// gathered into a page that goes out when it is full or on flush; a
// packet is never split across pages. It is not safe for concurrent use.
type oggWriter struct {
	w      io.Writer
	serial uint32
	seq    uint32
	crc    [256]uint32

	lacing  [oggMaxSegments]byte
	nseg    int
	data    []byte
	granule int64 // of the last packet put on the pending page
	page    []byte
}

// newOggWriter returns a writer whose stream has the given serial number;
// it writes nothing until writeHeaders.
func newOggWriter(w io.Writer, serial uint32) *oggWriter {
	o := &oggWriter{w: w, serial: serial, data: make([]byte, 0, 8192), page: make([]byte, 0, 8192)}
	for i := range o.crc {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		o.crc[i] = r
	}
	return o
}

// writeHeaders writes the identification header (OpusHead, pre-skip 0,
// so that granule 0 is the first packet's first sample) and the comment
// header (OpusTags), each on a page of its own, as RFC 7845 requires.
func (o *oggWriter) writeHeaders(channels uint8, comments []string) error {
	head := make([]byte, 19)
	copy(head, "OpusHead")
	head[8] = 1 // version
	head[9] = channels
	binary.LittleEndian.PutUint16(head[10:], 0)     // pre-skip
	binary.LittleEndian.PutUint32(head[12:], 48000) // input sample rate
	binary.LittleEndian.PutUint16(head[16:], 0)     // output gain
	head[18] = 0                                    // mapping family: mono or stereo
	if err := o.writeSinglePacketPage(head, oggBOS); err != nil {
		return fmt.Errorf("ogg: OpusHead: %w", err)
	}
	const vendor = "hoinghi"
	tags := append([]byte("OpusTags"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(tags[8:], uint32(len(vendor)))
	tags = append(tags, vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len(comments)))
	for _, c := range comments {
		tags = binary.LittleEndian.AppendUint32(tags, uint32(len(c)))
		tags = append(tags, c...)
	}
	if len(tags) >= oggMaxSegments*255 {
		return errors.New("ogg: OpusTags too long")
	}
	if err := o.writeSinglePacketPage(tags, 0); err != nil {
		return fmt.Errorf("ogg: OpusTags: %w", err)
	}
	return nil
}

func (o *oggWriter) writeSinglePacketPage(p []byte, flags byte) error {
	if err := o.addPacket(p, 0); err != nil {
		return err
	}
	return o.writePage(flags)
}

// writePacket puts one packet, ending at granule (48 kHz samples from
// the start), on the pending page; a full page goes out first.
func (o *oggWriter) writePacket(p []byte, granule int64) error {
	if o.nseg+len(p)/255+1 > oggMaxSegments {
		if err := o.writePage(0); err != nil {
			return err
		}
	}
	return o.addPacket(p, granule)
}

func (o *oggWriter) addPacket(p []byte, granule int64) error {
	if len(p)/255+1 > oggMaxSegments {
		return fmt.Errorf("ogg: packet of %d bytes is too large", len(p))
	}
	n := len(p)
	for n >= 255 {
		o.lacing[o.nseg] = 255
		o.nseg++
		n -= 255
	}
	o.lacing[o.nseg] = byte(n)
	o.nseg++
	o.data = append(o.data, p...)
	if granule < o.granule {
		granule = o.granule // granule positions never go back
	}
	o.granule = granule
	return nil
}

// flush writes the pending page, if any.
func (o *oggWriter) flush() error {
	if o.nseg == 0 {
		return nil
	}
	return o.writePage(0)
}

// close writes the pending page, or an empty one, marked as the end of
// the stream.
func (o *oggWriter) close() error {
	return o.writePage(oggEOS)
}

func (o *oggWriter) writePage(flags byte) error {
	pg := o.page[:0]
	pg = append(pg, 'O', 'g', 'g', 'S', 0, flags)
	pg = binary.LittleEndian.AppendUint64(pg, uint64(o.granule))
	pg = binary.LittleEndian.AppendUint32(pg, o.serial)
	pg = binary.LittleEndian.AppendUint32(pg, o.seq)
	pg = append(pg, 0, 0, 0, 0, byte(o.nseg))
	pg = append(pg, o.lacing[:o.nseg]...)
	pg = append(pg, o.data...)
	var crc uint32
	for _, b := range pg {
		crc = crc<<8 ^ o.crc[byte(crc>>24)^b]
	}
	binary.LittleEndian.PutUint32(pg[22:], crc)
	o.page = pg
	o.seq++
	o.nseg = 0
	o.data = o.data[:0]
	if _, err := o.w.Write(pg); err != nil {
		return fmt.Errorf("ogg: write page: %w", err)
	}
	return nil
}
