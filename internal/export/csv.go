package export

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"hoinghi/internal/conference"
)

// bom is the UTF-8 byte order mark, by which Excel knows a CSV file is
// UTF-8 and shows Vietnamese correctly.
const bom = "\ufeff"

// CSV writes r to w as a zip of four CSV files, one per table (FilePoints,
// FileStays, FileTurns, FileSummary), each UTF-8 with a byte order mark and
// CRLF line ends, its fields separated by sep (';' for the zero Separator),
// with the same columns as the XLSX sheets. Times are dd/mm/yyyy HH:MM:SS
// and durations H:MM:SS, which Excel with Vietnamese settings reads as a
// date and a time.
func CSV(w io.Writer, r conference.Report, sep Separator) error {
	zw := zip.NewWriter(w)
	modified := r.GeneratedAt
	for _, t := range tables(r) {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: t.file, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return fmt.Errorf("csv: %s: %w", t.file, err)
		}
		if err := writeCSV(fw, t, sep.Rune()); err != nil {
			return fmt.Errorf("csv: %s: %w", t.file, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("csv: close zip: %w", err)
	}
	return nil
}

func writeCSV(w io.Writer, t table, comma rune) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = comma
	cw.UseCRLF = true
	if err := cw.Write(t.header); err != nil {
		return err
	}
	rec := make([]string, 0, len(t.header))
	for _, row := range t.rows {
		rec = rec[:0]
		for _, v := range row {
			rec = append(rec, csvText(v))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvText returns a cell as CSV text. Text that a spreadsheet would take
// for a formula (starting with =, +, -, @, tab or CR; a subject is typed by
// a point) gets a leading apostrophe, so that opening the file runs nothing.
func csvText(v any) string {
	s, ok := v.(string)
	if !ok {
		return text(v)
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
