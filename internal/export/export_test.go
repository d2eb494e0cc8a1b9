package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hoinghi/internal/conference"
	"hoinghi/internal/testenv"
)

var ict = time.FixedZone("ICT", 7*3600)

// at returns the time hh:mm:ss on the day of the test conference, in Hanoi.
func at(hh, mm, ss int) time.Time { return time.Date(2026, 3, 15, hh, mm, ss, 0, ict) }

// knownReport is the report of a small conference whose every cell the
// tests know: four points, one roll call, two turns.
func knownReport(t testing.TB) conference.Report {
	t.Helper()
	c := conference.Conference{ID: "hn-2026-q1", Title: "Hội nghị sơ kết công tác quý I năm 2026",
		TimeZone: conference.DefaultTimeZone, ScheduledStart: at(8, 0, 0)}
	points := []conference.Point{
		{ID: "bien-hoa", Name: "Biên Hòa", District: "TP. Biên Hòa", Representative: "Nguyễn Văn An", ExpectedDelegates: 20},
		{ID: "long-khanh", Name: "Long Khánh", ExpectedDelegates: 15},
		{ID: "nhon-trach", Name: "Nhơn Trạch", ExpectedDelegates: 12},
		{ID: "dinh-quan", Name: "Định Quán", ExpectedDelegates: 10},
	}
	n := 0
	ev := func(e conference.AttendanceEvent) conference.AttendanceEvent {
		n++
		e.ID = fmt.Sprintf("e%03d", n)
		if e.Kind == conference.Joined && e.Role == "" {
			e.Role = conference.RolePoint
		}
		return e
	}
	events := []conference.AttendanceEvent{
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: at(7, 10, 0), ParticipantID: "bh1", PointID: "bien-hoa"}),
		ev(conference.AttendanceEvent{Kind: conference.CheckedIn, At: at(7, 15, 0), PointID: "bien-hoa", Delegates: 18, By: "bh1"}),
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: at(7, 20, 0), ParticipantID: "tech1", Role: conference.RoleTechnician}),
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: at(7, 50, 0), ParticipantID: "lk1", PointID: "long-khanh"}),
		ev(conference.AttendanceEvent{Kind: conference.CheckedIn, At: at(7, 51, 0), PointID: "long-khanh", Delegates: 15,
			Representative: "Trần Thị Bình", By: "lk1"}),
		ev(conference.AttendanceEvent{Kind: conference.ConferenceStarted, At: at(8, 2, 0), By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.CheckedIn, At: at(8, 3, 0), PointID: "bien-hoa", Delegates: 19, By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallStarted, At: at(8, 5, 0), RollCallID: "rc1",
			Window: conference.Seconds(2 * time.Minute), By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallConfirmed, At: at(8, 5, 30), RollCallID: "rc1", PointID: "bien-hoa", ParticipantID: "bh1"}),
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: at(8, 15, 0), ParticipantID: "nt1", PointID: "nhon-trach"}),
		ev(conference.AttendanceEvent{Kind: conference.CheckedIn, At: at(8, 16, 0), PointID: "nhon-trach", Delegates: 9, By: "nt1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallConfirmed, At: at(8, 16, 0), RollCallID: "rc1", PointID: "nhon-trach", ParticipantID: "nt1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallMarked, At: at(8, 17, 0), RollCallID: "rc1", PointID: "long-khanh",
			Status: conference.RollCallAbsent, Reason: "Mất điện", By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallClosed, At: at(8, 18, 0), RollCallID: "rc1", By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.Left, At: at(8, 30, 0), ParticipantID: "bh1", PointID: "bien-hoa", Reason: conference.LeftNetwork}),
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: at(8, 30, 30), ParticipantID: "bh2", PointID: "bien-hoa"}),
		ev(conference.AttendanceEvent{Kind: conference.Left, At: at(9, 0, 0), ParticipantID: "lk1", PointID: "long-khanh", Reason: conference.LeftClosed}),
		ev(conference.AttendanceEvent{Kind: conference.ConferenceEnded, At: at(10, 2, 0), By: "tech1"}),
	}
	turns := []conference.Turn{
		{ID: "t1", PointID: "bien-hoa", Subject: "Báo cáo tình hình", GivenBy: "tech1", Start: at(8, 20, 0), End: at(8, 27, 30),
			Duration: 450 * time.Second, Limit: 7 * time.Minute, EndReason: conference.EndFinished, EndedBy: "bh2"},
		{ID: "t2", PointID: "nhon-trach", Subject: "=Kiến nghị về đất đai", GivenBy: "chair", Start: at(8, 40, 0)},
	}
	return conference.BuildReport(c, points, events, turns, at(13, 0, 0))
}

// The known report's tables, cell by cell, as text.
var (
	wantPoints = [][]string{
		{"STT", "Mã điểm cầu", "Điểm cầu", "Đơn vị", "Người đại diện", "Trạng thái", "Vào lần đầu", "Rời lần cuối",
			"Thời gian kết nối", "Số phút kết nối", "Số lần gián đoạn", "Thời gian gián đoạn", "Đại biểu dự kiến",
			"Đại biểu có mặt", "Khai báo bởi", "Điểm danh 1 (08:05)"},
		{"1", "bien-hoa", "Biên Hòa", "TP. Biên Hòa", "Nguyễn Văn An", "Có mặt", "15/03/2026 07:10", "Còn kết nối",
			"1 giờ 59 phút", "120", "1", "30 giây", "20", "19", "Hội trường (kỹ thuật)", "Có mặt"},
		{"2", "long-khanh", "Long Khánh", "", "Trần Thị Bình", "Về sớm", "15/03/2026 07:50", "15/03/2026 09:00",
			"58 phút", "58", "0", "0 phút", "15", "15", "Long Khánh", "Vắng (Mất điện)"},
		{"3", "nhon-trach", "Nhơn Trạch", "", "", "Đến muộn", "15/03/2026 08:15", "Còn kết nối",
			"1 giờ 47 phút", "107", "0", "0 phút", "12", "9", "Nhơn Trạch", "Xác nhận muộn"},
		{"4", "dinh-quan", "Định Quán", "", "", "Vắng mặt", "", "",
			"0 phút", "0", "0", "0 phút", "10", "", "", "Vắng"},
	}
	wantStays = [][]string{
		{"STT", "Điểm cầu", "Loại", "Bắt đầu", "Kết thúc", "Thời lượng", "Số giây", "Ghi chú"},
		{"1", "Biên Hòa", "Kết nối", "15/03/2026 08:02:00", "15/03/2026 10:02:00", "1 giờ 59 phút", "7170", "Còn kết nối đến hết"},
		{"", "Biên Hòa", "Gián đoạn", "15/03/2026 08:30:00", "15/03/2026 08:30:30", "30 giây", "30", "Mất kết nối mạng"},
		{"2", "Long Khánh", "Kết nối", "15/03/2026 08:02:00", "15/03/2026 09:00:00", "58 phút", "3480", "Đóng trang"},
		{"3", "Nhơn Trạch", "Kết nối", "15/03/2026 08:15:00", "15/03/2026 10:02:00", "1 giờ 47 phút", "6420", "Còn kết nối đến hết"},
	}
	wantTurns = [][]string{
		{"STT", "Điểm cầu", "Nội dung", "Người cho phát biểu", "Bắt đầu", "Kết thúc", "Thời lượng", "Số giây",
			"Thời gian cho phép", "Kết thúc do"},
		{"1", "Biên Hòa", "Báo cáo tình hình", "Hội trường (kỹ thuật)", "15/03/2026 08:20", "15/03/2026 08:27",
			"7 phút 30 giây", "450", "7 phút", "Phát biểu xong"},
		{"2", "Nhơn Trạch", "=Kiến nghị về đất đai", "Chủ tọa", "15/03/2026 08:40", "",
			"1 giờ 22 phút", "4920", "Không giới hạn", "Đang phát biểu"},
	}
	wantSummary = [][]string{
		{"Mục", "Giá trị"},
		{"Hội nghị", "Hội nghị sơ kết công tác quý I năm 2026"},
		{"Mã hội nghị", "hn-2026-q1"},
		{"Múi giờ", "Asia/Ho_Chi_Minh"},
		{"Giờ bắt đầu dự kiến", "15/03/2026 08:00"},
		{"Giờ bắt đầu thực tế", "15/03/2026 08:02"},
		{"Giờ kết thúc", "15/03/2026 10:02"},
		{"Số điểm cầu được mời", "4"},
		{"Số điểm cầu tham dự", "3"},
		{"Số điểm cầu vắng mặt", "1"},
		{"Số điểm cầu đến muộn", "1"},
		{"Số điểm cầu về sớm", "1"},
		{"Tổng số đại biểu có mặt", "43"},
		{"Tổng số đại biểu dự kiến", "57"},
		{"Số lần điểm danh", "1"},
		{"Số lượt phát biểu", "2"},
		{"Tổng thời gian phát biểu", "1 giờ 29 phút"},
		{"Lập báo cáo lúc", "15/03/2026 13:00"},
	}
)

// trimRows drops trailing empty cells, as excelize's GetRows does.
func trimRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for len(r) > 0 && r[len(r)-1] == "" {
			r = r[:len(r)-1]
		}
		out[i] = r
	}
	return out
}

func compareTable(t *testing.T, name string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d:\n%q", name, len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		for j := range max(len(got[i]), len(want[i])) {
			var g, w string
			if j < len(got[i]) {
				g = got[i][j]
			}
			if j < len(want[i]) {
				w = want[i][j]
			}
			if g != w {
				t.Errorf("%s: row %d column %d: %q, want %q", name, i+1, j+1, g, w)
			}
		}
	}
}

func TestXLSX(t *testing.T) {
	r := knownReport(t)
	var buf bytes.Buffer
	if err := XLSX(&buf, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{SheetPoints, SheetStays, SheetTurns, SheetSummary}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	for _, tc := range []struct {
		sheet string
		want  [][]string
	}{
		{SheetPoints, wantPoints}, {SheetStays, wantStays}, {SheetTurns, wantTurns}, {SheetSummary, wantSummary},
	} {
		rows, err := f.GetRows(tc.sheet)
		if err != nil {
			t.Fatal(err)
		}
		compareTable(t, tc.sheet, rows, trimRows(tc.want))
	}
	// Counts are numbers one can add up; a subject that looks like a
	// formula stays text.
	for _, tc := range []struct {
		sheet, cell string
		want        excelize.CellType
	}{
		{SheetPoints, "J2", excelize.CellTypeNumber},
		{SheetPoints, "N4", excelize.CellTypeNumber},
		{SheetSummary, "B13", excelize.CellTypeNumber},
		{SheetTurns, "C3", excelize.CellTypeSharedString},
	} {
		typ, err := f.GetCellType(tc.sheet, tc.cell)
		if err != nil {
			t.Fatal(err)
		}
		// A number cell may carry no type at all: number is the default.
		ok := typ == tc.want ||
			tc.want == excelize.CellTypeSharedString && typ == excelize.CellTypeInlineString ||
			tc.want == excelize.CellTypeNumber && typ == excelize.CellTypeUnset
		if !ok {
			t.Errorf("%s!%s: cell type %v, want %v", tc.sheet, tc.cell, typ, tc.want)
		}
	}
	if formula, _ := f.GetCellFormula(SheetTurns, "C3"); formula != "" {
		t.Errorf("subject became the formula %q", formula)
	}
}

func TestCSV(t *testing.T) {
	r := knownReport(t)
	var buf bytes.Buffer
	if err := CSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if want := []string{FilePoints, FileStays, FileTurns, FileSummary}; !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	escaped := slices.Clone(wantTurns)
	escaped[2] = slices.Clone(escaped[2])
	escaped[2][2] = "'" + escaped[2][2]
	for _, tc := range []struct {
		file string
		want [][]string
	}{
		{FilePoints, wantPoints}, {FileStays, wantStays}, {FileTurns, escaped}, {FileSummary, wantSummary},
	} {
		f, err := zr.Open(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			t.Errorf("%s: no UTF-8 byte order mark", tc.file)
		}
		if !bytes.Contains(data, []byte("\r\n")) {
			t.Errorf("%s: lines do not end in CRLF", tc.file)
		}
		rows, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		compareTable(t, tc.file, rows, tc.want)
	}
}

func TestPDF(t *testing.T) {
	r := knownReport(t)
	var buf bytes.Buffer
	if err := PDF(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", buf.Bytes()[:min(buf.Len(), 16)])
	}
	pdftotext, err := exec.LookPath("pdftotext")
	testenv.Need(t, "pdftotext (poppler-utils)", err)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// Collapse the layout's runs of spaces: a table cell may wrap.
	txt := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{
		"BÁO CÁO ĐIỂM DANH HỘI NGHỊ",
		"Hội nghị sơ kết công tác quý I năm 2026",
		"Biên Hòa", "Long Khánh", "Nhơn Trạch", "Định Quán",
		"Nguyễn Văn An", "Trần Thị Bình",
		"Có mặt", "Về sớm", "Đến muộn", "Vắng mặt", "Vắng (Mất điện)",
		"15/03/2026 07:10", "15/03/2026 09:00", "1 giờ 59 phút", "1 giờ 47 phút", "58 phút",
		"19 / 20", "15 / 15", "9 / 12", "1 (30 giây)",
		"Tổng số đại biểu có mặt 43", "Tổng số đại biểu dự kiến 57", "Số điểm cầu vắng mặt 1",
		"Báo cáo tình hình", "Kiến nghị về đất đai", "7 phút 30 giây", "Chủ tọa", "Đang phát biểu",
		"Trang 1/",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("PDF text:\n%s", out)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 phút"},
		{-time.Second, "0 phút"},
		{15 * time.Second, "15 giây"},
		{7 * time.Minute, "7 phút"},
		{7*time.Minute + 30*time.Second, "7 phút 30 giây"},
		{time.Hour + 5*time.Minute, "1 giờ 05 phút"},
		{time.Hour + 5*time.Minute + 59*time.Second, "1 giờ 05 phút"},
		{26 * time.Hour, "26 giờ 00 phút"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFilename(t *testing.T) {
	r := knownReport(t)
	tests := []struct {
		f    Format
		want string
	}{
		{FormatXLSX, "diem-danh-hn-2026-q1-20260315.xlsx"},
		{FormatCSV, "diem-danh-hn-2026-q1-20260315.zip"},
		{FormatPDF, "diem-danh-hn-2026-q1-20260315.pdf"},
	}
	for _, tt := range tests {
		if got := tt.f.Filename(r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.f, got, tt.want)
		}
	}
	// Late at night in Hanoi is the previous day in UTC.
	r.ActualStart = time.Date(2026, 3, 15, 23, 30, 0, 0, ict)
	if got := FormatPDF.Filename(r); got != "diem-danh-hn-2026-q1-20260315.pdf" {
		t.Errorf("late start: %q", got)
	}
	if _, err := ParseFormat("docx"); err == nil {
		t.Error("ParseFormat accepted docx")
	}
	if f, err := ParseFormat(" XLSX "); err != nil || f != FormatXLSX {
		t.Errorf("ParseFormat(XLSX) = %q, %v", f, err)
	}
}

// bigConference returns a conference of points points and about events
// attendance events: every point joins early, drops and reconnects now and
// then, checks in and confirms a roll call; a turn every few minutes.
func bigConference(points, events int) (conference.Conference, []conference.Point, []conference.AttendanceEvent, []conference.Turn) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := at(8, 0, 0)
	c := conference.Conference{ID: "big", Title: "Hội nghị trực tuyến toàn tỉnh", TimeZone: conference.DefaultTimeZone, ScheduledStart: start}
	var ps []conference.Point
	var evs []conference.AttendanceEvent
	n := 0
	add := func(e conference.AttendanceEvent) {
		n++
		e.ID = fmt.Sprintf("%016d", n)
		evs = append(evs, e)
	}
	add(conference.AttendanceEvent{Kind: conference.ConferenceStarted, At: start, By: "tech"})
	add(conference.AttendanceEvent{Kind: conference.RollCallStarted, At: start.Add(10 * time.Minute), RollCallID: "rc1",
		Window: conference.Seconds(3 * time.Minute), By: "tech"})
	rest := max(events-3-2*points, 0)
	pairs := max((rest+2*points-1)/(2*points), 1) // joins and leaves per point, rounded up
	for i := range points {
		id := fmt.Sprintf("xa-%03d", i)
		ps = append(ps, conference.Point{ID: id, Name: fmt.Sprintf("Xã Phước Thiền %d", i), District: "Huyện Nhơn Trạch",
			Representative: "Nguyễn Thị Hồng", ExpectedDelegates: 20})
		tm := start.Add(-time.Duration(rng.IntN(3600)) * time.Second)
		add(conference.AttendanceEvent{Kind: conference.CheckedIn, At: tm.Add(time.Minute), PointID: id, Delegates: 15 + rng.IntN(6), By: id + "-0"})
		add(conference.AttendanceEvent{Kind: conference.RollCallConfirmed, At: start.Add(11 * time.Minute), RollCallID: "rc1", PointID: id})
		for k := range pairs {
			part := fmt.Sprintf("%s-%d", id, k)
			add(conference.AttendanceEvent{Kind: conference.Joined, At: tm, ParticipantID: part, Role: conference.RolePoint, PointID: id})
			tm = tm.Add(time.Duration(60+rng.IntN(600)) * time.Second)
			add(conference.AttendanceEvent{Kind: conference.Left, At: tm, ParticipantID: part, Role: conference.RolePoint, PointID: id,
				Reason: conference.LeftNetwork})
			tm = tm.Add(time.Duration(5+rng.IntN(60)) * time.Second)
		}
	}
	add(conference.AttendanceEvent{Kind: conference.ConferenceEnded, At: start.Add(4 * time.Hour), By: "tech"})
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	var turns []conference.Turn
	for i := range 40 {
		s := start.Add(time.Duration(i) * 6 * time.Minute)
		turns = append(turns, conference.Turn{ID: fmt.Sprint(i), PointID: ps[i%len(ps)].ID, Subject: "Báo cáo kết quả thực hiện nhiệm vụ",
			GivenBy: "chair", Start: s, End: s.Add(5 * time.Minute), Duration: 5 * time.Minute, Limit: 7 * time.Minute,
			EndReason: conference.EndFinished})
	}
	return c, ps, evs, turns
}

func BenchmarkExport(b *testing.B) {
	c, points, events, turns := bigConference(300, 10000)
	if len(events) < 10000 {
		b.Fatalf("only %d events", len(events))
	}
	now := at(13, 0, 0)
	for b.Loop() {
		r := conference.BuildReport(c, points, events, turns, now)
		for _, f := range Formats {
			if err := f.Write(io.Discard, r); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestBigExport checks that the exports of a large conference open again
// and hold every point.
func TestBigExport(t *testing.T) {
	c, points, events, turns := bigConference(300, 10000)
	r := conference.BuildReport(c, points, events, turns, at(13, 0, 0))
	var buf bytes.Buffer
	if err := XLSX(&buf, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(SheetPoints)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 301 || rows[300][2] != "Xã Phước Thiền 299" {
		t.Errorf("%d rows, last %q", len(rows), rows[len(rows)-1])
	}
	buf.Reset()
	if err := PDF(&buf, r); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkExportParts times the report and each export alone, for the
// same conference as BenchmarkExport.
func BenchmarkExportParts(b *testing.B) {
	c, points, events, turns := bigConference(300, 10000)
	now := at(13, 0, 0)
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			conference.BuildReport(c, points, events, turns, now)
		}
	})
	r := conference.BuildReport(c, points, events, turns, now)
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				if err := f.Write(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestExportOddInput writes an empty conference and one with text the
// font cannot draw, in every format.
func TestExportOddInput(t *testing.T) {
	empty := conference.BuildReport(conference.Conference{ID: "trong", Title: "Trống"}, nil, nil, nil, at(9, 0, 0))
	odd := knownReport(t)
	odd.Turns[0].Subject = "Kiến nghị 🙂\tvề\x00 " + strings.Repeat("rấtdài", 40)
	odd.Points[0].Point.Name = strings.Repeat("Điểm cầu rất dài ", 12)
	for _, r := range []conference.Report{empty, odd} {
		for _, f := range Formats {
			var buf bytes.Buffer
			if err := f.Write(&buf, r); err != nil {
				t.Errorf("%s of %s: %v", f, r.Conference.ID, err)
			}
			if buf.Len() == 0 {
				t.Errorf("%s of %s: empty", f, r.Conference.ID)
			}
		}
	}
}
