package server

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"hoinghi/internal/conference"
)

// pointsCSVSeeds are point files as provinces send them, and a few broken
// ones.
var pointsCSVSeeds = []string{
	registryCSV,
	"\ufeff" + registryCSV,
	strings.ReplaceAll(registryCSV, "\n", "\r\n"),
	"STT;Tên điểm cầu;Quận/Huyện;Người đại diện;Số điện thoại;Số đại biểu dự kiến\n" +
		"1;Điểm cầu TP. Biên Hòa;Thành phố Biên Hòa;Nguyễn Văn Hùng;0912 345 601;40\n" +
		"2;\"Điểm cầu huyện Long Thành; khu A\";Huyện Long Thành;;;25.0\n",
	"Mã\tTên điểm cầu\tĐịa bàn\tSĐT\n" + "xa-dak-lua\tĐiểm cầu xã Đắk Lua\tTân Phú\t0251 3822 123\n",
	"\ufeffMã,Tên điểm cầu,Quận/huyện,Người đại diện,Số điện thoại,Số đại biểu dự kiến\n" +
		"bien-hoa,Điểm cầu TP. Biên Hòa,TP. Biên Hòa,\"Bà Nguyễn Thị Hoa, \"\"Chủ tịch\"\"\",0912 345 601,30\n",
	"id,name,district,representative,phone,expected delegates\nlong-thanh,Long Thanh,Long Thanh,,,-3\n",
	"Ghi chú,Tên\n,\n  ,  \nghi chú,Trạm y tế xã Phú Lý\n",
	"Tên,Tên\nA,B\n",
	"STT,Quận/Huyện\n1,Biên Hòa\n",
	"Mã,Tên\nBIEN HOA,Biên Hòa\nbien-hoa,Biên Hòa 2\n",
	"Tên\n\"không đóng ngoặc\n",
	"\xff\xfeT\x00",
	"Tên\n\xc3\x28\n",
	"PK\x03\x04",
	"",
}

// pointsXLSXSeeds returns workbooks made with excelize: the Vietnamese
// header and rows of a province, with numbers as numbers, and a sheet with
// no name column.
func pointsXLSXSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, rows := range [][][]any{
		{
			{"STT", "Tên điểm cầu", "Quận/Huyện", "Người đại diện", "Số điện thoại", "Số đại biểu dự kiến"},
			{1, "Điểm cầu TP. Biên Hòa", "Thành phố Biên Hòa", "Nguyễn Văn Hùng", "0912 345 601", 40},
			{2, "Điểm cầu huyện Long Thành", "Huyện Long Thành", "Trần Thị Mai, Phó Chủ tịch", "0913 456 702", 25.0},
			{},
			{3, "Điểm cầu huyện Định Quán", "Huyện Định Quán"},
		},
		{{"Mã", "Tên"}, {"xa-phu-ly", "Trạm y tế xã Phú Lý"}, {"xa-phu-ly", "Trùng mã"}},
		{{"STT", "Ghi chú"}, {1, "không có cột tên"}},
	} {
		f := excelize.NewFile()
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
				tb.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			tb.Fatal(err)
		}
		f.Close()
		out = append(out, buf.Bytes())
	}
	return append(out, storedXLSX(tb))
}

// storedXLSX returns the smallest workbook excelize reads, its parts
// stored uncompressed and without checksums, so that the fuzzer's changes
// to the bytes reach the XML instead of breaking the zip.
func storedXLSX(tb testing.TB) []byte {
	tb.Helper()
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
			`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Điểm cầu" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4">` +
			`<si><t>Tên điểm cầu</t></si><si><t>Số đại biểu</t></si><si><t>Điểm cầu TP. Biên Hòa</t></si><si><t xml:space="preserve"> Long Thành </t></si></sst>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
			`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>` +
			`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>40</v></c></row>` +
			`<row r="4"><c r="A4" t="s"><v>3</v></c><c r="C4" t="inlineStr"><is><t>ghi chú</t></is></c></row></sheetData></worksheet>`},
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := z.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Store,
			CompressedSize64: uint64(len(p.body)), UncompressedSize64: uint64(len(p.body))})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestStoredXLSXSeed(t *testing.T) {
	points, err := readPointsXLSX(storedXLSX(t))
	want := []conference.Point{
		{ID: "diem-cau-tp-bien-hoa", Name: "Điểm cầu TP. Biên Hòa", ExpectedDelegates: 40},
		{ID: "long-thanh", Name: "Long Thành"},
	}
	if err != nil || !reflect.DeepEqual(points, want) {
		t.Errorf("readPointsXLSX = %+v, %v; want %+v", points, err, want)
	}
}

// checkPoints checks what a point file reader returned for one file: a
// refusal in both languages, or valid points that export and import back
// as they are in the same format.
func checkPoints(t *testing.T, points []conference.Point, err error, format string) {
	t.Helper()
	if err != nil {
		var fe *fileError
		if !errors.As(err, &fe) || fe.vi == "" || fe.en == "" || points != nil {
			t.Fatalf("refusal %v (%T) with %d points; want a fileError in Vietnamese and English", err, err, len(points))
		}
		return
	}
	if len(points) == 0 || len(points) > maxFileRows {
		t.Fatalf("read %d points", len(points))
	}
	ids := make(map[string]bool)
	for _, p := range points {
		if err := p.Validate(); err != nil {
			t.Fatalf("point %+v: %v", p, err)
		}
		if ids[p.ID] {
			t.Fatalf("id %q read twice", p.ID)
		}
		ids[p.ID] = true
		for _, v := range []string{p.ID, p.Name, p.District, p.Representative, p.Phone} {
			if v != strings.TrimSpace(v) || utf8.RuneCountInString(v) > maxCell || !utf8.ValidString(v) {
				t.Fatalf("point %+v: cell %q is not trimmed, too long or not UTF-8", p, v)
			}
		}
		if p.ExpectedDelegates < 0 || p.ExpectedDelegates > 100000 {
			t.Fatalf("point %+v: expected delegates out of range", p)
		}
	}
	var buf bytes.Buffer
	var again []conference.Point
	switch format {
	case "csv":
		if err := writePointsCSV(&buf, points); err != nil {
			t.Fatal(err)
		}
		again, err = readPointsCSV(buf.Bytes())
	case "xlsx":
		if err := writePointsXLSX(&buf, points); err != nil {
			t.Fatal(err)
		}
		again, err = readPointsXLSX(buf.Bytes())
	}
	if err != nil {
		t.Fatalf("the exported %s of %+v does not import: %v", format, points, err)
	}
	if !reflect.DeepEqual(again, points) {
		t.Fatalf("exported as %s and imported again:\n got %+v\nwant %+v", format, again, points)
	}
}

// FuzzReadPointsCSV checks that readPointsCSV never panics, refuses a
// file in both languages or reads valid points, and that what it reads
// exports and imports back unchanged.
func FuzzReadPointsCSV(f *testing.F) {
	for _, s := range pointsCSVSeeds {
		f.Add([]byte(s))
	}
	for _, x := range pointsXLSXSeeds(f) {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		points, err := readPointsCSV(data)
		checkPoints(t, points, err, "csv")
	})
}

// FuzzReadPointsXLSX is FuzzReadPointsCSV for workbooks.
func FuzzReadPointsXLSX(f *testing.F) {
	for _, x := range pointsXLSXSeeds(f) {
		f.Add(x)
	}
	for _, s := range pointsCSVSeeds[:3] {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		points, err := readPointsXLSX(data)
		checkPoints(t, points, err, "xlsx")
	})
}

// TestReadPointsXLSXBoundsWhatTheZipClaims: an XLSX whose zip headers claim
// a huge worksheet (what a fuzzer found: 16 KB that made the library
// allocate gigabytes and leave temporary files) is refused as a bad file,
// with little memory used, while a real file of the same parts reads.
func TestReadPointsXLSXBoundsWhatTheZipClaims(t *testing.T) {
	good := pointsXLSXSeeds(t)[0]
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		raw, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		h := f.FileHeader
		if strings.HasPrefix(h.Name, "xl/worksheets/") {
			h.UncompressedSize64 = 6 << 30 // claimed, not true
		}
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = readPointsXLSX(buf.Bytes())
	runtime.ReadMemStats(&after)
	var bad *fileError
	if !errors.As(err, &bad) {
		t.Fatalf("a zip claiming a 6 GB sheet: err = %v, want a bad file error", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("reading it allocated %d MB", alloc>>20)
	}
	if points, err := readPointsXLSX(good); err != nil || len(points) != 3 {
		t.Errorf("the real file: %d points, %v", len(points), err)
	}
}
