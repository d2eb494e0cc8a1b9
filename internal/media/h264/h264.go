// Package h264 reads what the server needs of H.264 NAL units without
// decoding them (ITU-T H.264).
package h264

// Unescape appends to dst the bytes of NAL unit payload nal without its
// emulation prevention bytes (the 03 of each 00 00 03, section 7.4.1),
// and returns the result: the raw byte sequence that an SPS or an SEI is
// read from.
func Unescape(dst, nal []byte) []byte {
	zeros := 0
	for _, c := range nal {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		dst = append(dst, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return dst
}
