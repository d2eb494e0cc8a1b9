package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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
		Organizer: "Văn phòng Tỉnh ủy Đồng Nai", TimeZone: conference.DefaultTimeZone, ScheduledStart: at(8, 0, 0)}
	// Some events fall within a second: the exports show whole seconds
	// (truncated), and every duration and total is computed from those.
	ms := func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Millisecond) }
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
		ev(conference.AttendanceEvent{Kind: conference.ConferenceStarted, At: ms(at(8, 2, 0), 250), By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.CheckedIn, At: at(8, 3, 0), PointID: "bien-hoa", Delegates: 19, By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallStarted, At: at(8, 5, 0), RollCallID: "rc1",
			Window: conference.Seconds(2 * time.Minute), By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallConfirmed, At: at(8, 5, 30), RollCallID: "rc1", PointID: "bien-hoa", ParticipantID: "bh1"}),
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: at(8, 15, 0), ParticipantID: "nt1", PointID: "nhon-trach"}),
		ev(conference.AttendanceEvent{Kind: conference.CheckedIn, At: at(8, 16, 0), PointID: "nhon-trach", Delegates: 9, By: "nt1"}),
		ev(conference.AttendanceEvent{Kind: conference.Left, At: at(8, 25, 0), ParticipantID: "nt1", PointID: "nhon-trach", Reason: conference.LeftNetwork}),
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: at(8, 35, 0), ParticipantID: "nt2", PointID: "nhon-trach"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallConfirmed, At: at(8, 16, 0), RollCallID: "rc1", PointID: "nhon-trach", ParticipantID: "nt1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallMarked, At: at(8, 17, 0), RollCallID: "rc1", PointID: "long-khanh",
			Status: conference.RollCallAbsent, Reason: "Mất điện", By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.RollCallClosed, At: at(8, 18, 0), RollCallID: "rc1", By: "tech1"}),
		ev(conference.AttendanceEvent{Kind: conference.Left, At: ms(at(8, 30, 0), 400), ParticipantID: "bh1", PointID: "bien-hoa", Reason: conference.LeftNetwork}),
		ev(conference.AttendanceEvent{Kind: conference.Joined, At: ms(at(8, 30, 20), 900), ParticipantID: "bh2", PointID: "bien-hoa"}),
		ev(conference.AttendanceEvent{Kind: conference.Left, At: at(9, 0, 0), ParticipantID: "lk1", PointID: "long-khanh", Reason: conference.LeftClosed}),
		ev(conference.AttendanceEvent{Kind: conference.ConferenceEnded, At: at(10, 2, 0), By: "tech1"}),
	}
	turns := []conference.Turn{
		{ID: "t1", PointID: "bien-hoa", Subject: "Báo cáo tình hình", GivenBy: "tech1", Start: ms(at(8, 20, 0), 600), End: ms(at(8, 27, 30), 300),
			Duration: 449700 * time.Millisecond, Limit: 7 * time.Minute, EndReason: conference.EndFinished, EndedBy: "bh2"},
		{ID: "t2", PointID: "nhon-trach", Subject: "=Kiến nghị về đất đai", GivenBy: "chair", Start: ms(at(8, 40, 0), 700)},
	}
	return conference.BuildReport(c, points, events, turns, at(13, 0, 0))
}

// The known report's tables, cell by cell, as text: as the XLSX shows its
// cells and the CSV writes them.
var (
	wantPoints = [][]string{
		{"STT", "Mã điểm cầu", "Điểm cầu", "Đơn vị", "Người đại diện", "Trạng thái", "Vào lần đầu", "Rời lần cuối",
			"Thời gian kết nối", "Số phút kết nối", "Số lần gián đoạn", "Thời gian gián đoạn", "Đại biểu dự kiến",
			"Đại biểu có mặt", "Khai báo bởi", "Điểm danh 1 (08:05)"},
		{"1", "bien-hoa", "Biên Hòa", "TP. Biên Hòa", "Nguyễn Văn An", "Có mặt", "15/03/2026 07:10:00", "Còn kết nối",
			"1:59:40", "120", "1", "0:00:20", "20", "19", "Hội trường (kỹ thuật)", "Có mặt"},
		{"2", "long-khanh", "Long Khánh", "", "Trần Thị Bình", "Về sớm", "15/03/2026 07:50:00", "15/03/2026 09:00:00",
			"0:58:00", "58", "0", "0:00:00", "15", "15", "Long Khánh", "Vắng (Mất điện)"},
		{"3", "nhon-trach", "Nhơn Trạch", "", "", "Đến muộn", "15/03/2026 08:15:00", "Còn kết nối",
			"1:37:00", "97", "0", "0:00:00", "12", "9", "Nhơn Trạch", "Xác nhận muộn"},
		{"4", "dinh-quan", "Định Quán", "", "", "Vắng mặt", "", "",
			"0:00:00", "0", "0", "0:00:00", "10", "", "", "Vắng"},
	}
	wantStays = [][]string{
		{"STT", "Điểm cầu", "Loại", "Bắt đầu", "Kết thúc", "Thời lượng", "Số giây", "Ghi chú"},
		{"1", "Biên Hòa", "Kết nối", "15/03/2026 08:02:00", "15/03/2026 10:02:00", "1:59:40", "7180", "Còn kết nối đến hết"},
		{"", "Biên Hòa", "Gián đoạn", "15/03/2026 08:30:00", "15/03/2026 08:30:20", "0:00:20", "20", "Mất kết nối mạng"},
		{"2", "Long Khánh", "Kết nối", "15/03/2026 08:02:00", "15/03/2026 09:00:00", "0:58:00", "3480", "Đóng trang"},
		{"3", "Nhơn Trạch", "Kết nối", "15/03/2026 08:15:00", "15/03/2026 08:25:00", "0:10:00", "600", "Mất kết nối mạng"},
		{"4", "Nhơn Trạch", "Kết nối", "15/03/2026 08:35:00", "15/03/2026 10:02:00", "1:27:00", "5220", "Còn kết nối đến hết"},
	}
	wantTurns = [][]string{
		{"STT", "Điểm cầu", "Nội dung", "Người cho phát biểu", "Bắt đầu", "Kết thúc", "Thời lượng", "Số giây",
			"Thời gian cho phép", "Kết thúc do"},
		{"1", "Biên Hòa", "Báo cáo tình hình", "Hội trường (kỹ thuật)", "15/03/2026 08:20:00", "15/03/2026 08:27:30",
			"0:07:30", "450", "0:07:00", "Phát biểu xong"},
		{"2", "Nhơn Trạch", "=Kiến nghị về đất đai", "Chủ tọa", "15/03/2026 08:40:00", "",
			"1:22:00", "4920", "Không giới hạn", "Đang phát biểu"},
	}
	wantSummary = [][]string{
		{"Mục", "Giá trị"},
		{"Hội nghị", "Hội nghị sơ kết công tác quý I năm 2026"},
		{"Đơn vị tổ chức", "Văn phòng Tỉnh ủy Đồng Nai"},
		{"Mã hội nghị", "hn-2026-q1"},
		{"Múi giờ", "Asia/Ho_Chi_Minh"},
		{"Giờ bắt đầu dự kiến", "15/03/2026 08:00:00"},
		{"Giờ bắt đầu thực tế", "15/03/2026 08:02:00"},
		{"Giờ kết thúc", "15/03/2026 10:02:00"},
		{"Số điểm cầu được mời", "4"},
		{"Số điểm cầu tham dự", "3"},
		{"Số điểm cầu vắng mặt", "1"},
		{"Số điểm cầu đến muộn", "1"},
		{"Số điểm cầu về sớm", "1"},
		{"Tổng số đại biểu có mặt", "43"},
		{"Tổng số đại biểu dự kiến", "57"},
		{"Số lần điểm danh", "1"},
		{"Số lượt phát biểu", "2"},
		{"Tổng thời gian phát biểu", "1:29:30"},
		{"Tổng số giây phát biểu", "5370"},
		{"Lập báo cáo lúc", "15/03/2026 13:00:00"},
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
	// Counts are numbers one can add up; times are numbers with a date
	// format and durations numbers with a duration format, holding the
	// instant or the length to the second; a subject that looks like a
	// formula stays text.
	for _, tc := range []struct {
		sheet, cell string
		want        excelize.CellType
		format      string
		time        time.Time     // the date and time the cell holds
		duration    time.Duration // the duration it holds
	}{
		{sheet: SheetPoints, cell: "J2", want: excelize.CellTypeNumber},
		{sheet: SheetPoints, cell: "N4", want: excelize.CellTypeNumber},
		{sheet: SheetPoints, cell: "G2", want: excelize.CellTypeNumber, format: xlsxDateTime, time: at(7, 10, 0)},
		{sheet: SheetPoints, cell: "H3", want: excelize.CellTypeNumber, format: xlsxDateTime, time: at(9, 0, 0)},
		{sheet: SheetPoints, cell: "I2", want: excelize.CellTypeNumber, format: xlsxDuration, duration: 7180 * time.Second},
		{sheet: SheetStays, cell: "E3", want: excelize.CellTypeNumber, format: xlsxDateTime, time: at(8, 30, 20)},
		{sheet: SheetTurns, cell: "E2", want: excelize.CellTypeNumber, format: xlsxDateTime, time: at(8, 20, 0)},
		{sheet: SheetTurns, cell: "F2", want: excelize.CellTypeNumber, format: xlsxDateTime, time: at(8, 27, 30)},
		{sheet: SheetTurns, cell: "G2", want: excelize.CellTypeNumber, format: xlsxDuration, duration: 450 * time.Second},
		{sheet: SheetSummary, cell: "B7", want: excelize.CellTypeNumber, format: xlsxDateTime, time: at(8, 2, 0)},
		{sheet: SheetSummary, cell: "B14", want: excelize.CellTypeNumber},
		{sheet: SheetSummary, cell: "B18", want: excelize.CellTypeNumber, format: xlsxDuration, duration: 5370 * time.Second},
		{sheet: SheetTurns, cell: "C3", want: excelize.CellTypeSharedString},
	} {
		name := tc.sheet + "!" + tc.cell
		typ, err := f.GetCellType(tc.sheet, tc.cell)
		if err != nil {
			t.Fatal(err)
		}
		// A number cell may carry no type at all: number is the default.
		ok := typ == tc.want ||
			tc.want == excelize.CellTypeSharedString && typ == excelize.CellTypeInlineString ||
			tc.want == excelize.CellTypeNumber && typ == excelize.CellTypeUnset
		if !ok {
			t.Errorf("%s: cell type %v, want %v", name, typ, tc.want)
		}
		if tc.format == "" {
			continue
		}
		if got := numFmt(t, f, tc.sheet, tc.cell); got != tc.format {
			t.Errorf("%s: number format %q, want %q", name, got, tc.format)
		}
		v := rawNumber(t, f, tc.sheet, tc.cell)
		if !tc.time.IsZero() {
			got, err := excelize.ExcelDateToTime(v, false)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// Excel keeps the wall clock of the conference's zone.
			want := tc.time.In(r.Location)
			wall := time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute(), want.Second(), 0, time.UTC)
			if got.Round(time.Second) != wall {
				t.Errorf("%s: %v, want %v", name, got, wall)
			}
		}
		if tc.duration != 0 {
			if got := days(v); got != tc.duration {
				t.Errorf("%s: %v, want %v", name, got, tc.duration)
			}
		}
	}
	if formula, _ := f.GetCellFormula(SheetTurns, "C3"); formula != "" {
		t.Errorf("subject became the formula %q", formula)
	}

	// The totals are the sums of the rows as they show: the speaking log's
	// durations and seconds add up to the summary's total speaking time,
	// and each point's time connected and gap time to its stays and gaps.
	turns, err := f.GetRows(SheetTurns)
	if err != nil {
		t.Fatal(err)
	}
	var speaking time.Duration
	seconds := 0
	for i := 2; i <= len(turns); i++ {
		speaking += days(rawNumber(t, f, SheetTurns, fmt.Sprintf("G%d", i)))
		seconds += int(rawNumber(t, f, SheetTurns, fmt.Sprintf("H%d", i)))
	}
	if total := days(rawNumber(t, f, SheetSummary, "B18")); speaking != total || total != 5370*time.Second {
		t.Errorf("total speaking time %v, the turns add up to %v", total, speaking)
	}
	if total := int(rawNumber(t, f, SheetSummary, "B19")); seconds != total {
		t.Errorf("total speaking seconds %d, the turns add up to %d", total, seconds)
	}
	stays, err := f.GetRows(SheetStays)
	if err != nil {
		t.Fatal(err)
	}
	connected := map[string]time.Duration{}
	gaps := map[string]time.Duration{}
	for i, row := range stays[1:] {
		d := days(rawNumber(t, f, SheetStays, fmt.Sprintf("F%d", i+2)))
		if row[2] == "Gián đoạn" {
			gaps[row[1]] += d
		} else {
			connected[row[1]] += d
		}
		end := excelTime(t, f, SheetStays, fmt.Sprintf("E%d", i+2))
		start := excelTime(t, f, SheetStays, fmt.Sprintf("D%d", i+2))
		if row[2] == "Gián đoạn" && end.Sub(start) != d {
			t.Errorf("stays row %d: %v to %v lasted %v", i+2, start, end, d)
		}
	}
	points, err := f.GetRows(SheetPoints)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range points[1:] {
		name := row[2]
		if got := days(rawNumber(t, f, SheetPoints, fmt.Sprintf("I%d", i+2))); got != connected[name] {
			t.Errorf("%s connected %v, its stays add up to %v", name, got, connected[name])
		}
		if got := days(rawNumber(t, f, SheetPoints, fmt.Sprintf("L%d", i+2))); got != gaps[name] {
			t.Errorf("%s gaps %v, its gap rows add up to %v", name, got, gaps[name])
		}
	}
}

// numFmt returns the custom number format of a cell, "" for none.
func numFmt(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	style, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if style.CustomNumFmt == nil {
		return ""
	}
	return *style.CustomNumFmt
}

// rawNumber returns the number a cell holds, unformatted.
func rawNumber(t *testing.T, f *excelize.File, sheet, cell string) float64 {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s!%s holds %q, not a number", sheet, cell, v)
	}
	return n
}

// excelTime returns the date and time a cell holds, as a wall clock in UTC.
func excelTime(t *testing.T, f *excelize.File, sheet, cell string) time.Time {
	t.Helper()
	tm, err := excelize.ExcelDateToTime(rawNumber(t, f, sheet, cell), false)
	if err != nil {
		t.Fatal(err)
	}
	return tm.Round(time.Second)
}

// days returns an Excel duration, in days, to the second.
func days(v float64) time.Duration {
	return time.Duration(math.Round(v*86400)) * time.Second
}

func TestCSV(t *testing.T) {
	r := knownReport(t)
	escaped := slices.Clone(wantTurns)
	escaped[2] = slices.Clone(escaped[2])
	escaped[2][2] = "'" + escaped[2][2]
	for _, tc := range []struct {
		sep  Separator
		char rune
	}{
		{"", ';'}, {SeparatorSemicolon, ';'}, {SeparatorComma, ','},
	} {
		t.Run(fmt.Sprintf("separator %q", tc.sep), func(t *testing.T) {
			var buf bytes.Buffer
			if err := CSV(&buf, r, tc.sep); err != nil {
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
			for _, file := range []struct {
				name string
				want [][]string
			}{
				{FilePoints, wantPoints}, {FileStays, wantStays}, {FileTurns, escaped}, {FileSummary, wantSummary},
			} {
				f, err := zr.Open(file.name)
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(f)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
					t.Errorf("%s: no UTF-8 byte order mark", file.name)
				}
				if !bytes.Contains(data, []byte("\r\n")) {
					t.Errorf("%s: lines do not end in CRLF", file.name)
				}
				header, _, _ := strings.Cut(string(data[3:]), "\r\n")
				if want := strings.Join(file.want[0], string(tc.char)); header != want {
					t.Errorf("%s: header line %q, want %q", file.name, header, want)
				}
				cr := csv.NewReader(bytes.NewReader(data[3:]))
				cr.Comma = tc.char
				rows, err := cr.ReadAll()
				if err != nil {
					t.Fatalf("%s: %v", file.name, err)
				}
				compareTable(t, file.name, rows, file.want)
			}
		})
	}
}

// pdfText returns the text of a PDF as pdftotext reads it, one string per
// page with the layout's runs of spaces collapsed (a table cell may wrap).
// It skips the test without pdftotext (fails it in CI).
func pdfText(t *testing.T, data []byte) []string {
	t.Helper()
	pdftotext, err := exec.LookPath("pdftotext")
	testenv.Need(t, "pdftotext (poppler-utils)", err)
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(strings.TrimSuffix(string(out), "\f"), "\f")
	for i, p := range pages {
		pages[i] = strings.Join(strings.Fields(p), " ")
	}
	return pages
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
	pages := pdfText(t, buf.Bytes())
	txt := strings.Join(pages, " ")
	// In this order: the head, the totals, the points, their
	// disconnections, the speaking log, the signatures.
	ordered := []string{
		"VĂN PHÒNG TỈNH ỦY ĐỒNG NAI", "Ngày 15 tháng 3 năm 2026",
		"PHỤ LỤC: DANH SÁCH ĐIỂM CẦU THAM DỰ",
		"Hội nghị sơ kết công tác quý I năm 2026",
		"Ngày 15/03/2026: Bắt đầu lúc 08:02:00, kết thúc lúc 10:02:00. Giờ theo múi giờ Asia/Ho_Chi_Minh (UTC+07:00).",
		"Tổng hợp",
		"1. Danh sách điểm cầu",
		"2. Các lần mất kết nối",
		"1 Biên Hòa 08:30:00 08:30:20 20 giây Mất kết nối mạng",
		"2 Long Khánh 09:00:00 Không kết nối lại 1 giờ 02 phút Đóng trang",
		"3 Nhơn Trạch 08:25:00 08:35:00 10 phút Mất kết nối mạng",
		"\"Không kết nối lại\": điểm cầu rời hội nghị sớm; thời gian mất kết nối tính đến khi kết thúc hội nghị (10:02:00).",
		"3. Phát biểu",
		"Tổng cộng 2 lượt phát biểu 1 giờ 29 phút 30 giây",
		"NGƯỜI LẬP BIỂU", "THƯ KÝ HỘI NGHỊ",
	}
	rest := txt
	for _, want := range ordered {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Errorf("PDF text lacks %q (after what came before)", want)
			continue
		}
		rest = rest[i+len(want):]
	}
	for _, want := range []string{
		"Biên Hòa", "Long Khánh", "Nhơn Trạch", "Định Quán",
		"Nguyễn Văn An", "Trần Thị Bình",
		"Có mặt", "Về sớm", "Đến muộn", "Vắng mặt", "Vắng (Mất điện)",
		"07:10:00", "1 giờ 59 phút 40 giây", "1 giờ 37 phút", "58 phút",
		"19 / 20", "15 / 15", "9 / 12", "1 lần (20 giây)", "1 lần (1 giờ 02 phút)", "1 lần (10 phút)",
		"Số điểm cầu được mời 4", "Tổng số đại biểu có mặt 43", "Tổng số đại biểu dự kiến 57", "Số điểm cầu vắng mặt 1",
		"Tổng thời gian phát biểu 1 giờ 29 phút 30 giây",
		"Điểm danh 1 lúc 08:05:00, thời hạn xác nhận 2 phút",
		"Báo cáo tình hình", "Kiến nghị về đất đai", "08:20:00 08:27:30 7 phút 30 giây", "Chủ tọa", "Đang phát biểu",
		"(Ký, ghi rõ họ tên) (Ký, ghi rõ họ tên)", "Họ và tên:",
		"Lập lúc 15/03/2026 13:00:00", "Trang 1/",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	// No internal ids: not the conference's, the points' or the
	// participants'.
	for _, id := range []string{"hn-2026-q1", "Mã hội nghị", "bien-hoa", "long-khanh", "nhon-trach", "dinh-quan", "tech1", "bh1", "nt1"} {
		if strings.Contains(txt, id) {
			t.Errorf("PDF text shows the internal id %q", id)
		}
	}
	if t.Failed() {
		t.Logf("PDF text:\n%s", strings.Join(pages, "\n\f\n"))
	}
}

func TestPDFHead(t *testing.T) {
	tests := []struct {
		name   string
		change func(*conference.Report)
		want   []string
		not    []string
	}{
		{
			name:   "no organizer",
			change: func(r *conference.Report) { r.Conference.Organizer = "" },
			want:   []string{"Ngày 15 tháng 3 năm 2026 PHỤ LỤC: DANH SÁCH ĐIỂM CẦU THAM DỰ"},
			not:    []string{"VĂN PHÒNG"},
		},
		{
			name: "running",
			change: func(r *conference.Report) {
				r.End = time.Time{}
				r.GeneratedAt = at(9, 30, 15)
				r.Until = r.GeneratedAt
			},
			want: []string{"Bắt đầu lúc 08:02:00, đang diễn ra (số liệu đến 09:30:15)", "Lập lúc 15/03/2026 09:30:15"},
		},
		{
			name: "not started",
			change: func(r *conference.Report) {
				r.ActualStart, r.End, r.Turns = time.Time{}, time.Time{}, nil
				r.Summary.Turns = 0
			},
			want: []string{"Dự kiến bắt đầu lúc 08:00:00, chưa bắt đầu", "Không có lượt phát biểu nào."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := knownReport(t)
			tt.change(&r)
			var buf bytes.Buffer
			if err := PDF(&buf, r); err != nil {
				t.Fatal(err)
			}
			txt := strings.Join(pdfText(t, buf.Bytes()), " ")
			for _, want := range tt.want {
				if !strings.Contains(txt, want) {
					t.Errorf("PDF text lacks %q", want)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(txt, not) {
					t.Errorf("PDF text has %q", not)
				}
			}
			if t.Failed() {
				t.Logf("PDF text: %s", txt)
			}
		})
	}
}

func TestDateLine(t *testing.T) {
	tests := []struct {
		day  time.Time
		want string
	}{
		{time.Date(2026, 3, 15, 0, 0, 0, 0, ict), "Ngày 15 tháng 3 năm 2026"},
		{time.Date(2026, 2, 5, 0, 0, 0, 0, ict), "Ngày 05 tháng 02 năm 2026"},
		{time.Date(2026, 1, 31, 0, 0, 0, 0, ict), "Ngày 31 tháng 01 năm 2026"},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, ict), "Ngày 01 tháng 12 năm 2026"},
	}
	for _, tt := range tests {
		if got := dateLine(tt.day); got != tt.want {
			t.Errorf("dateLine(%v) = %q, want %q", tt.day, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d            time.Duration
		words, hmmss string
	}{
		{0, "0 phút", "0:00:00"},
		{-time.Second, "0 phút", "0:00:00"},
		{15 * time.Second, "15 giây", "0:00:15"},
		{7 * time.Minute, "7 phút", "0:07:00"},
		{7*time.Minute + 30*time.Second, "7 phút 30 giây", "0:07:30"},
		{time.Hour + 5*time.Minute, "1 giờ 05 phút", "1:05:00"},
		{time.Hour + 5*time.Minute + 59*time.Second, "1 giờ 05 phút 59 giây", "1:05:59"},
		{time.Hour + 5*time.Minute + 999*time.Millisecond, "1 giờ 05 phút", "1:05:00"},
		{26 * time.Hour, "26 giờ 00 phút", "26:00:00"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.words {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.words)
		}
		if got := formatElapsed(tt.d); got != tt.hmmss {
			t.Errorf("formatElapsed(%v) = %q, want %q", tt.d, got, tt.hmmss)
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
		{FormatCSV, "diem-danh-hn-2026-q1-20260315-csv.zip"},
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

func TestParseSeparator(t *testing.T) {
	tests := []struct {
		in   string
		want Separator
		char rune
		err  bool
	}{
		{"", SeparatorSemicolon, ';', false},
		{"semicolon", SeparatorSemicolon, ';', false},
		{" Semicolon ", SeparatorSemicolon, ';', false},
		{";", SeparatorSemicolon, ';', false},
		{"comma", SeparatorComma, ',', false},
		{",", SeparatorComma, ',', false},
		{"COMMA", SeparatorComma, ',', false},
		{"tab", "", 0, true},
		{"|", "", 0, true},
		{";;", "", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSeparator(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseSeparator(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
			continue
		}
		if err == nil && got.Rune() != tt.char {
			t.Errorf("%q.Rune() = %q, want %q", got, got.Rune(), tt.char)
		}
	}
	if got := Separator("").Rune(); got != ';' {
		t.Errorf("the zero Separator is %q, want ';'", got)
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
			if err := f.Write(io.Discard, r, Options{}); err != nil {
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
	// The annex runs over many pages: the head once, the signatures on the
	// last page, no point ids anywhere.
	pages := pdfText(t, buf.Bytes())
	if len(pages) < 10 {
		t.Fatalf("PDF of %d pages", len(pages))
	}
	txt := strings.Join(pages, " ")
	if n := strings.Count(txt, "PHỤ LỤC: DANH SÁCH ĐIỂM CẦU THAM DỰ"); n != 1 {
		t.Errorf("the title is on %d pages", n)
	}
	if last := pages[len(pages)-1]; !strings.Contains(last, "NGƯỜI LẬP BIỂU") || !strings.Contains(last, "THƯ KÝ HỘI NGHỊ") ||
		!strings.Contains(last, fmt.Sprintf("Trang %d/%d", len(pages), len(pages))) {
		t.Errorf("last page lacks the signatures: %s", last)
	}
	if !strings.Contains(txt, "Xã Phước Thiền 299") || strings.Contains(txt, "xa-0") || strings.Contains(txt, "big") {
		t.Error("PDF lacks the last point or shows point ids")
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
				if err := f.Write(io.Discard, r, Options{}); err != nil {
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
			if err := f.Write(&buf, r, Options{}); err != nil {
				t.Errorf("%s of %s: %v", f, r.Conference.ID, err)
			}
			if buf.Len() == 0 {
				t.Errorf("%s of %s: empty", f, r.Conference.ID)
			}
		}
	}
}

// TestReopenedSessions: a conference reopened after its end shows both
// sessions, in the summary (XLSX and CSV) and in the PDF's head.
func TestReopenedSessions(t *testing.T) {
	c := conference.Conference{ID: "mo-lai", Title: "Hội nghị mở lại", TimeZone: conference.DefaultTimeZone}
	events := []conference.AttendanceEvent{
		{ID: "e1", Kind: conference.ConferenceStarted, At: at(8, 0, 0), By: "tech1"},
		{ID: "e2", Kind: conference.ConferenceEnded, At: at(15, 24, 0), By: "tech1"},
		{ID: "e3", Kind: conference.ConferenceStarted, At: at(15, 29, 0), By: "tech1", Reason: conference.StartReopened},
		{ID: "e4", Kind: conference.ConferenceEnded, At: at(16, 0, 0), By: "tech1"},
	}
	r := conference.BuildReport(c, nil, events, nil, at(17, 0, 0))
	if len(r.Sessions) != 2 || !r.Sessions[1].Reopened || !r.Sessions[0].End.Equal(at(15, 24, 0)) {
		t.Fatalf("sessions %+v", r.Sessions)
	}
	rows := summaryTable(r).rows
	var got []string
	for _, row := range rows {
		if name, ok := row[0].(string); ok && strings.HasPrefix(name, "Phiên họp") {
			got = append(got, name+": "+text(row[1]))
		}
	}
	want := []string{
		"Phiên họp 1: 15/03/2026 08:00:00 – 15/03/2026 15:24:00",
		"Phiên họp 2 (mở lại sau khi kết thúc): 15/03/2026 15:29:00 – 15/03/2026 16:00:00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("summary sessions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var buf bytes.Buffer
	if err := PDF(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := pdfText(t, buf.Bytes())[0]
	if !strings.Contains(page, "Hội nghị có 2 phiên họp: phiên họp 1 từ 08:00:00 đến 15:24:00; phiên họp 2 (mở lại sau khi kết thúc) từ 15:29:00 đến 16:00:00") {
		t.Errorf("the PDF's head does not show both sessions: %s", page)
	}
}

// TestSpeakingLogShowsMutes: a mute during a turn is in the speaking
// log's last column.
func TestSpeakingLogShowsMutes(t *testing.T) {
	tn := conference.TurnEntry{Turn: conference.Turn{Start: at(9, 0, 0), End: at(9, 10, 0), Duration: 10 * time.Minute,
		EndReason: conference.EndFinished},
		Mutes: []conference.Mute{{Start: at(9, 2, 0), End: at(9, 3, 30)}, {Start: at(9, 9, 0), End: at(9, 10, 0)}}}
	got := endReason(tn)
	if !strings.Contains(got, "hội trường tắt micro 2 lần (2 phút 30 giây)") {
		t.Errorf("end column %q", got)
	}
}
