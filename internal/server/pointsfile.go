package server

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"hoinghi/internal/conference"
)

// Point files: a registry is imported from and exported to CSV (UTF-8, with
// or without a byte order mark, separated by commas, semicolons or tabs)
// or XLSX (the first sheet). The first row names the columns, in
// Vietnamese or English, in any order; columns it does not know (a row
// number "STT", notes) are ignored. Only the name is required: a row
// without an id gets one made from its name.

// pointField is a column of a point file.
type pointField int

const (
	fieldID pointField = iota
	fieldName
	fieldDistrict
	fieldRepresentative
	fieldPhone
	fieldDelegates
	numFields
)

// exportHeader is the header row of exported files, in the order of
// pointField.
var exportHeader = []string{"Mã", "Tên điểm cầu", "Quận/huyện", "Người đại diện", "Số điện thoại", "Số đại biểu dự kiến"}

// headerNames maps folded column names (see foldHeader) to fields.
var headerNames = map[string]pointField{
	"id": fieldID, "ma": fieldID, "ma diem cau": fieldID, "ma diem": fieldID,
	"name": fieldName, "ten": fieldName, "ten diem cau": fieldName, "diem cau": fieldName, "point": fieldName,
	"district": fieldDistrict, "quan huyen": fieldDistrict, "huyen": fieldDistrict, "dia ban": fieldDistrict,
	"don vi": fieldDistrict, "dia phuong": fieldDistrict,
	"representative": fieldRepresentative, "nguoi dai dien": fieldRepresentative, "dai dien": fieldRepresentative,
	"phone": fieldPhone, "dien thoai": fieldPhone, "so dien thoai": fieldPhone, "sdt": fieldPhone, "so dt": fieldPhone,
	"expected delegates": fieldDelegates, "delegates": fieldDelegates, "so dai bieu": fieldDelegates,
	"so dai bieu du kien": fieldDelegates, "dai bieu du kien": fieldDelegates, "dai bieu": fieldDelegates,
}

// maxFileRows is the most data rows a point file may have.
const maxFileRows = 5000

// xlsxUnzipLimit bounds the unzipped size of an XLSX point file, all its
// parts together.
const xlsxUnzipLimit = 16 << 20

// maxCell is the most characters a cell of a point file may have.
const maxCell = 200

// fileError is a point file refused for its content, with the reason in
// Vietnamese and English.
type fileError struct{ vi, en string }

func (e *fileError) Error() string { return e.en }

func badFile(vi, en string, args ...any) *fileError {
	return &fileError{vi: fmt.Sprintf(vi, args...), en: fmt.Sprintf(en, args...)}
}

// readPointsCSV reads the points of a CSV file.
func readPointsCSV(data []byte) ([]conference.Point, error) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return nil, badFile("tệp là bảng tính XLSX, không phải CSV", "the file is an XLSX workbook, not CSV")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return nil, badFile("tệp CSV mã hóa UTF-16; hãy lưu lại dạng \"CSV UTF-8\"",
			"the CSV file is UTF-16; save it as \"CSV UTF-8\"")
	}
	if !utf8.Valid(data) {
		return nil, badFile("tệp CSV không phải UTF-8; hãy lưu lại dạng \"CSV UTF-8\"",
			"the CSV file is not UTF-8; save it as \"CSV UTF-8\"")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = csvDelimiter(data)
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, badFile("dòng %d: lỗi định dạng CSV (%v)", "line %d: malformed CSV (%v)", pe.Line, pe.Err)
			}
			return nil, badFile("không đọc được tệp CSV (%v)", "cannot read the CSV file (%v)", err)
		}
		rows = append(rows, rec)
		if len(rows) > maxFileRows+1 {
			return nil, badFile("tệp có quá %d dòng", "the file has more than %d rows", maxFileRows)
		}
	}
	return pointsFromRows(rows)
}

// csvDelimiter guesses the separator from the first line: the most
// frequent of comma, semicolon (Excel where the comma is the decimal
// mark, as in Vietnamese) and tab.
func csvDelimiter(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	best, n := ',', bytes.Count(line, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(line, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

// readPointsXLSX reads the points of the first sheet of an XLSX file.
func readPointsXLSX(data []byte) ([]conference.Point, error) {
	// The sizes in a zip's headers are the sender's to choose, and the
	// library allocates what they say up to its limit (16 GB by default)
	// and spills large sheets to temporary files: a 16 KB upload could make
	// the server allocate gigabytes. A point file of maxFileRows rows is
	// far below xlsxUnzipLimit, and nothing goes to disk.
	f, err := excelize.OpenReader(bytes.NewReader(data),
		excelize.Options{UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxUnzipLimit})
	if err != nil {
		return nil, badFile("không mở được tệp XLSX (%v)", "cannot open the XLSX file (%v)", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, badFile("tệp XLSX không có trang tính nào", "the XLSX file has no sheet")
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, badFile("không đọc được trang tính %q (%v)", "cannot read sheet %q (%v)", sheets[0], err)
	}
	if len(rows) > maxFileRows+1 {
		return nil, badFile("tệp có quá %d dòng", "the file has more than %d rows", maxFileRows)
	}
	return pointsFromRows(rows)
}

// pointsFromRows reads points from rows whose first non-empty row is the
// header. Empty rows are skipped; every other row must make a valid point,
// or nothing is read.
func pointsFromRows(rows [][]string) ([]conference.Point, error) {
	first := 0
	for first < len(rows) && emptyRow(rows[first]) {
		first++
	}
	if first == len(rows) {
		return nil, badFile("tệp trống", "the file is empty")
	}
	cols := make([]int, numFields)
	for i := range cols {
		cols[i] = -1
	}
	for i, h := range rows[first] {
		f, ok := headerNames[foldHeader(h)]
		if !ok {
			continue
		}
		if cols[f] >= 0 {
			return nil, badFile("dòng tiêu đề có hai cột %q", "the header row has two %q columns", strings.TrimSpace(h))
		}
		cols[f] = i
	}
	if cols[fieldName] < 0 {
		return nil, badFile("dòng tiêu đề (dòng %d) không có cột \"Tên điểm cầu\"",
			"the header row (row %d) has no \"name\" (Tên điểm cầu) column", first+1)
	}
	var points []conference.Point
	ids := make(map[string]int) // id -> row
	for i := first + 1; i < len(rows); i++ {
		row, line := rows[i], i+1
		if emptyRow(row) {
			continue
		}
		cell := func(f pointField) string {
			if c := cols[f]; c >= 0 && c < len(row) {
				return strings.TrimSpace(row[c])
			}
			return ""
		}
		for f := range numFields {
			if utf8.RuneCountInString(cell(f)) > maxCell {
				return nil, badFile("dòng %d: ô quá dài (tối đa %d ký tự)", "row %d: a cell is too long (at most %d characters)", line, maxCell)
			}
		}
		p := conference.Point{ID: strings.ToLower(cell(fieldID)), Name: cell(fieldName), District: cell(fieldDistrict),
			Representative: cell(fieldRepresentative), Phone: cell(fieldPhone)}
		if p.Name == "" {
			return nil, badFile("dòng %d: thiếu tên điểm cầu", "row %d: the point has no name", line)
		}
		if p.ID == "" {
			p.ID = slugID(p.Name)
		}
		if err := conference.ValidateID(p.ID); err != nil {
			return nil, badFile("dòng %d: mã %q không hợp lệ (chỉ chữ thường không dấu, số và dấu gạch ngang)",
				"row %d: id %q is not valid (use lower-case letters, digits and dashes)", line, p.ID)
		}
		if prev, dup := ids[p.ID]; dup {
			return nil, badFile("dòng %d: mã %q trùng với dòng %d", "row %d: id %q repeats row %d", line, p.ID, prev)
		}
		ids[p.ID] = line
		if d := cell(fieldDelegates); d != "" {
			n, err := strconv.Atoi(strings.TrimSuffix(d, ".0"))
			if err != nil || n < 0 || n > 100000 {
				return nil, badFile("dòng %d: số đại biểu %q không phải số nguyên không âm",
					"row %d: expected delegates %q is not a whole number of at least 0", line, d)
			}
			p.ExpectedDelegates = n
		}
		if err := p.Validate(); err != nil {
			return nil, badFile("dòng %d: %v", "row %d: %v", line, err)
		}
		points = append(points, p)
	}
	if len(points) == 0 {
		return nil, badFile("tệp không có điểm cầu nào dưới dòng tiêu đề", "the file has no points below the header row")
	}
	return points, nil
}

func emptyRow(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// foldHeader lower-cases s, drops Vietnamese diacritics and turns
// punctuation and runs of spaces into one space: "Quận/Huyện" and
// "quan huyen" fold alike.
func foldHeader(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		r = foldRune(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// slugID makes a point id from a name: Vietnamese letters without
// diacritics, lower case, words joined by dashes, at most 63 bytes.
func slugID(name string) string {
	id := strings.ReplaceAll(foldHeader(name), " ", "-")
	if len(id) > 63 {
		id = strings.TrimRight(id[:63], "-")
	}
	return id
}

// vietnameseBase maps each lower-case Vietnamese letter with a diacritic
// to its base letter.
var vietnameseBase = func() map[rune]rune {
	groups := map[rune]string{
		'a': "àáảãạăằắẳẵặâầấẩẫậ",
		'e': "èéẻẽẹêềếểễệ",
		'i': "ìíỉĩị",
		'o': "òóỏõọôồốổỗộơờớởỡợ",
		'u': "ùúủũụưừứửữự",
		'y': "ỳýỷỹỵ",
		'd': "đ",
	}
	m := make(map[rune]rune)
	for base, letters := range groups {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()

func foldRune(r rune) rune {
	if b, ok := vietnameseBase[r]; ok {
		return b
	}
	return r
}

// writePointsCSV writes points as CSV in UTF-8 with a byte order mark, so
// that spreadsheet programs read the Vietnamese letters right.
func writePointsCSV(w io.Writer, points []conference.Point) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write points csv: %w", err)
	}
	cw := csv.NewWriter(w)
	rows := append([][]string{exportHeader}, pointRows(points)...)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write points csv: %w", err)
	}
	return nil
}

// writePointsXLSX writes points as an XLSX workbook with one sheet.
func writePointsXLSX(w io.Writer, points []conference.Point) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Điểm cầu"
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return fmt.Errorf("write points xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("write points xlsx: %w", err)
	}
	rows := append([][]string{exportHeader}, pointRows(points)...)
	for i, row := range rows {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v // text, so that a phone keeps its leading zero
		}
		if i > 0 && points[i-1].ExpectedDelegates > 0 {
			cells[fieldDelegates] = points[i-1].ExpectedDelegates
		}
		axis, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return fmt.Errorf("write points xlsx: %w", err)
		}
		if err := f.SetSheetRow(sheet, axis, &cells); err != nil {
			return fmt.Errorf("write points xlsx: row %d: %w", i+1, err)
		}
	}
	if err := f.SetRowStyle(sheet, 1, 1, bold); err != nil {
		return fmt.Errorf("write points xlsx: %w", err)
	}
	for i, width := range []float64{18, 34, 24, 24, 16, 12} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, col, col, width); err != nil {
			return fmt.Errorf("write points xlsx: %w", err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write points xlsx: %w", err)
	}
	return nil
}

// pointRows returns the cells of points in the order of exportHeader.
func pointRows(points []conference.Point) [][]string {
	rows := make([][]string, len(points))
	for i, p := range points {
		d := ""
		if p.ExpectedDelegates > 0 {
			d = strconv.Itoa(p.ExpectedDelegates)
		}
		rows[i] = []string{p.ID, p.Name, p.District, p.Representative, p.Phone, d}
	}
	return rows
}
