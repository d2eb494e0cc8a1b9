package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The append-only log of the embedded store is a file that starts with
// aofMagic and continues with records. A record is
//
//	uint32 big-endian payload length | uint32 big-endian CRC-32C of payload | payload
//
// and its payload is a uvarint count of commands, then for each command a
// uvarint count of arguments, then each argument as a uvarint length and its
// bytes. A record is one atomic unit: a single command, or the write commands
// of one MULTI/EXEC transaction, replayed whole or not at all.
const aofMagic = "HNAOF1\n"

// maxRecordBytes bounds one record so that a corrupt length cannot make the
// loader allocate without limit.
const maxRecordBytes = 256 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errTorn reports that the log ends with an incomplete or damaged record, as
// a crash in the middle of an append leaves it.
var errTorn = errors.New("torn final record")

// command is one Redis command as its arguments, the name first.
type command []string

// encodeRecord appends the record holding cmds to dst.
func encodeRecord(dst []byte, cmds []command) []byte {
	var payload []byte
	payload = binary.AppendUvarint(payload, uint64(len(cmds)))
	for _, c := range cmds {
		payload = binary.AppendUvarint(payload, uint64(len(c)))
		for _, a := range c {
			payload = binary.AppendUvarint(payload, uint64(len(a)))
			payload = append(payload, a...)
		}
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(payload, crcTable))
	return append(dst, payload...)
}

// decodePayload parses the payload of one record.
func decodePayload(p []byte) ([]command, error) {
	next := func() (uint64, error) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, errors.New("bad varint")
		}
		p = p[n:]
		return v, nil
	}
	n, err := next()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(p)) {
		return nil, errors.New("bad command count")
	}
	cmds := make([]command, 0, n)
	for range n {
		nargs, err := next()
		if err != nil {
			return nil, err
		}
		if nargs == 0 || nargs > uint64(len(p)) {
			return nil, errors.New("bad argument count")
		}
		c := make(command, 0, nargs)
		for range nargs {
			l, err := next()
			if err != nil {
				return nil, err
			}
			if l > uint64(len(p)) {
				return nil, errors.New("argument overruns record")
			}
			c = append(c, string(p[:l]))
			p = p[l:]
		}
		cmds = append(cmds, c)
	}
	if len(p) != 0 {
		return nil, errors.New("trailing bytes in record")
	}
	return cmds, nil
}

// readLog calls fn for each record of the log in r, in order. It returns the
// offset just past the last good record. A damaged record at the very end of
// the log is reported as errTorn (wrapped) together with that offset; damage
// followed by more data is corruption and reported as another error.
func readLog(r io.Reader, size int64, fn func([]command) error) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(aofMagic))
	if n, err := io.ReadFull(br, magic); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return 0, nil // empty file: a log that was never written
		}
		if string(magic[:n]) == aofMagic[:n] {
			return 0, fmt.Errorf("%w: header cut short", errTorn)
		}
		return 0, fmt.Errorf("not a store log: %w", err)
	}
	if string(magic) != aofMagic {
		return 0, errors.New("not a store log: bad header")
	}
	off := int64(len(aofMagic))
	var hdr [8]byte
	for {
		n, err := io.ReadFull(br, hdr[:])
		if err != nil {
			if n == 0 && errors.Is(err, io.EOF) {
				return off, nil
			}
			return off, fmt.Errorf("%w: record header at offset %d cut short", errTorn, off)
		}
		length := binary.BigEndian.Uint32(hdr[:4])
		sum := binary.BigEndian.Uint32(hdr[4:])
		end := off + 8 + int64(length)
		if end > size {
			return off, fmt.Errorf("%w: record at offset %d cut short", errTorn, off)
		}
		if length > maxRecordBytes {
			return off, fmt.Errorf("record at offset %d: length %d is too large", off, length)
		}
		payload := make([]byte, length)
		if _, err := io.ReadFull(br, payload); err != nil {
			return off, fmt.Errorf("%w: record at offset %d cut short", errTorn, off)
		}
		if crc32.Checksum(payload, crcTable) != sum {
			if end == size {
				return off, fmt.Errorf("%w: record at offset %d has a bad checksum", errTorn, off)
			}
			return off, fmt.Errorf("record at offset %d has a bad checksum and is followed by more data", off)
		}
		cmds, err := decodePayload(payload)
		if err != nil {
			return off, fmt.Errorf("record at offset %d: %w", off, err)
		}
		if err := fn(cmds); err != nil {
			return off, fmt.Errorf("record at offset %d: %w", off, err)
		}
		off = end
	}
}

// aofWriter appends records to the log file and makes each durable before
// returning. It is not safe for concurrent use; the hook serialises calls.
type aofWriter struct {
	f    *os.File
	size int64
	buf  []byte
}

// openAOFWriter opens path for appending at offset size, truncating anything
// past it (a torn record), and writes the header into a new file.
func openAOFWriter(path string, size int64) (*aofWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	w := &aofWriter{f: f}
	if err := w.reset(size); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *aofWriter) reset(size int64) error {
	if err := w.f.Truncate(size); err != nil {
		return fmt.Errorf("truncate log: %w", err)
	}
	if _, err := w.f.Seek(size, io.SeekStart); err != nil {
		return fmt.Errorf("seek log: %w", err)
	}
	w.size = size
	if size == 0 {
		if _, err := w.f.Write([]byte(aofMagic)); err != nil {
			return fmt.Errorf("write log header: %w", err)
		}
		w.size = int64(len(aofMagic))
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync log: %w", err)
	}
	return nil
}

// append writes one record per element of recs and syncs the file.
func (w *aofWriter) append(recs ...[]command) error {
	w.buf = w.buf[:0]
	for _, r := range recs {
		w.buf = encodeRecord(w.buf, r)
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("append to log: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync log: %w", err)
	}
	return nil
}

func (w *aofWriter) close() error {
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return fmt.Errorf("sync log: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}

// writeLogFile writes a complete log holding recs to path atomically: to a
// temporary file that is synced and then renamed over path.
func writeLogFile(path string, recs [][]command) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	bw := bufio.NewWriterSize(tmp, 64<<10)
	bw.WriteString(aofMagic)
	var buf []byte
	for _, r := range recs {
		buf = encodeRecord(buf[:0], r)
		bw.Write(buf)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("install snapshot: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename or create in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open data dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync data dir: %w", err)
	}
	return nil
}
