package compose

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
)

// longGap is the longest gap in an audio recording that ffmpeg fills with
// silence by itself. aresample holds a gap's silence in memory at once
// (about 0.7 GB an hour), so a recording is cut into pieces at longer
// gaps, and the silence between the pieces is made a chunk at a time.
const longGap = time.Minute

// maxPage bounds the audio one Ogg page holds: 255 Opus packets of 120 ms.
const maxPage = 255 * 120 * time.Millisecond

// oggPieces reads the Ogg Opus file and returns where its pieces start, in
// the file's time: the first at 0 and the next after each gap longer than
// longGap, a little before the gap's end. (ffmpeg places the first page's
// audio at the file's start whatever its granule position says, so a gap
// before the first page is none.) It returns nil for a file that is not Ogg
// Opus; a damaged page ends the reading without an error, with the pieces
// found until there (a recording cut short by a crash is still composed).
func oggPieces(file string) ([]time.Duration, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	defer f.Close()
	return scanOgg(bufio.NewReaderSize(f, 64<<10), longGap), nil
}

// scanOgg is oggPieces on r with gaps longer than gap.
func scanOgg(r *bufio.Reader, gap time.Duration) []time.Duration {
	var (
		hdr     [27]byte
		lacing  [255]byte
		head    [19]byte
		serial  uint32
		preSkip int64
		pages   int
		data    bool               // a page of audio was seen
		prevEnd = time.Duration(0) // end of the previous page's audio
		starts  []time.Duration
	)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break // the end, or a damaged last page
		}
		if string(hdr[:4]) != "OggS" {
			break
		}
		n := int(hdr[26])
		if _, err := io.ReadFull(r, lacing[:n]); err != nil {
			break
		}
		size := 0
		for _, l := range lacing[:n] {
			size += int(l)
		}
		pages++
		if pages == 1 {
			// The first page holds the OpusHead packet.
			if size < len(head) {
				return nil
			}
			if _, err := io.ReadFull(r, head[:]); err != nil || string(head[:8]) != "OpusHead" {
				return nil
			}
			serial = binary.LittleEndian.Uint32(hdr[14:18])
			preSkip = int64(binary.LittleEndian.Uint16(head[10:12]))
			size -= len(head)
			starts = []time.Duration{0}
		}
		if _, err := r.Discard(size); err != nil {
			break
		}
		granule := binary.LittleEndian.Uint64(hdr[6:14])
		if pages <= 2 || binary.LittleEndian.Uint32(hdr[14:18]) != serial || granule == ^uint64(0) {
			continue // the headers, another stream, or no packet ends here
		}
		end := time.Duration((int64(granule) - preSkip) * int64(time.Second) / sampleRate)
		if data && end-prevEnd > gap {
			// The page's audio starts at most maxPage before its end.
			starts = append(starts, max(prevEnd, end-maxPage-time.Second))
		}
		prevEnd = max(prevEnd, end)
		data = true
	}
	return starts
}
