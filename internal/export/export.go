// Package export writes a conference's attendance report for the
// secretariat: an XLSX workbook, a zip of CSV files and a printable PDF.
// Every export shows the same tables, with Vietnamese headers, names and
// times in the conference's time zone (dd/mm/yyyy HH:MM) and durations such
// as "1 giờ 05 phút".
package export

import (
	"fmt"
	"io"
	"strings"
	"time"

	"hoinghi/internal/conference"
)

// Format is an export file format.
type Format string

// The export formats.
const (
	FormatXLSX Format = "xlsx"
	FormatCSV  Format = "csv" // a zip of one CSV file per table
	FormatPDF  Format = "pdf"
)

// Formats lists every export format.
var Formats = []Format{FormatXLSX, FormatCSV, FormatPDF}

// ParseFormat returns the format named s (case-insensitive), or an error
// naming the valid ones.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	switch f {
	case FormatXLSX, FormatCSV, FormatPDF:
		return f, nil
	}
	return "", fmt.Errorf("unknown export format %q: use xlsx, csv or pdf", s)
}

// Write writes r to w in format f.
func (f Format) Write(w io.Writer, r conference.Report) error {
	switch f {
	case FormatXLSX:
		return XLSX(w, r)
	case FormatCSV:
		return CSV(w, r)
	case FormatPDF:
		return PDF(w, r)
	}
	return fmt.Errorf("unknown export format %q", string(f))
}

// Ext returns the file name extension of the format, with its dot.
func (f Format) Ext() string {
	if f == FormatCSV {
		return ".zip"
	}
	return "." + string(f)
}

// ContentType returns the MIME type of the format's files.
func (f Format) ContentType() string {
	switch f {
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatCSV:
		return "application/zip"
	case FormatPDF:
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Filename returns the name to save the export of r under, such as
// "diem-danh-hn-2026-20260315.xlsx": the conference id and its day (the
// actual start, else the scheduled start, else when the report was made)
// in its time zone.
func (f Format) Filename(r conference.Report) string {
	day := r.ActualStart
	if day.IsZero() {
		day = r.Conference.ScheduledStart
	}
	if day.IsZero() {
		day = r.GeneratedAt
	}
	return "diem-danh-" + r.Conference.ID + "-" + day.In(loc(r)).Format("20060102") + f.Ext()
}

func loc(r conference.Report) *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return time.UTC
}

// formatTime writes t as dd/mm/yyyy HH:MM in l, or "" for the zero time.
func formatTime(t time.Time, l *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l).Format("02/01/2006 15:04")
}

// formatSeconds writes t as dd/mm/yyyy HH:MM:SS in l, or "" for the zero
// time: for stays and gaps, which may last seconds.
func formatSeconds(t time.Time, l *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l).Format("02/01/2006 15:04:05")
}

// formatClock writes t as HH:MM in l, or "" for the zero time.
func formatClock(t time.Time, l *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l).Format("15:04")
}

// formatDuration writes d in Vietnamese: "1 giờ 05 phút" from an hour on
// (seconds dropped), "7 phút 30 giây" or "7 phút" below, "15 giây" below a
// minute, "0 phút" for none.
func formatDuration(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%d giờ %02d phút", h, m)
	case m > 0 && s > 0:
		return fmt.Sprintf("%d phút %d giây", m, s)
	case m > 0:
		return fmt.Sprintf("%d phút", m)
	case s > 0:
		return fmt.Sprintf("%d giây", s)
	}
	return "0 phút"
}

// minutes returns d in whole minutes, rounded, for columns one can add up.
func minutes(d time.Duration) int { return int(d.Round(time.Minute) / time.Minute) }

var statusNames = map[conference.PointStatus]string{
	conference.StatusPresent:   "Có mặt",
	conference.StatusLate:      "Đến muộn",
	conference.StatusLeftEarly: "Về sớm",
	conference.StatusAbsent:    "Vắng mặt",
}

func statusName(p conference.PointAttendance) string {
	s, ok := statusNames[p.Status]
	if !ok {
		s = string(p.Status)
	}
	if p.Late && p.LeftEarly {
		s = "Đến muộn, về sớm"
	}
	if !p.Invited {
		s += " (ngoài danh sách mời)"
	}
	return s
}

var leftReasons = map[string]string{
	conference.LeftClosed:    "Đóng trang",
	conference.LeftNetwork:   "Mất kết nối mạng",
	conference.LeftDropped:   "Kỹ thuật viên ngắt kết nối",
	conference.LeftStopped:   "Máy chủ dừng",
	conference.LeftReplaced:  "Mở lại ở nơi khác",
	conference.LeftRestarted: "Máy chủ khởi động lại",
}

func leftReason(r string) string {
	if v, ok := leftReasons[r]; ok {
		return v
	}
	return r
}

var endReasons = map[string]string{
	conference.EndFinished:     "Phát biểu xong",
	conference.EndTakenBack:    "Chủ tọa thu hồi quyền phát biểu",
	conference.EndTimeOut:      "Hết thời gian",
	conference.EndDisconnected: "Mất kết nối",
}

func endReason(t conference.TurnEntry) string {
	if t.Ongoing {
		return "Đang phát biểu"
	}
	if v, ok := endReasons[t.EndReason]; ok {
		return v
	}
	return t.EndReason
}

var rollCallNames = map[string]string{
	conference.RollCallPresent: "Có mặt",
	conference.RollCallLate:    "Xác nhận muộn",
	conference.RollCallAbsent:  "Vắng",
	conference.RollCallPending: "Chưa xác nhận",
}

func rollCallName(res conference.RollCallResult) string {
	s, ok := rollCallNames[res.Status]
	if !ok {
		s = res.Status
	}
	if res.Reason != "" {
		s += " (" + res.Reason + ")"
	}
	return s
}

// table is one table of a report, written as an XLSX sheet, a CSV file and
// a section of the PDF. Cells are string or int. Times are text, as
// dd/mm/yyyy HH:MM, except in the stays sheet, whose gaps may last seconds:
// dd/mm/yyyy HH:MM:SS there.
type table struct {
	sheet  string    // sheet name, Vietnamese
	file   string    // CSV file name
	header []string  // column titles
	widths []float64 // XLSX column widths, in characters
	rows   [][]any
}

// Sheet names of the XLSX workbook.
const (
	SheetPoints  = "Điểm cầu"
	SheetStays   = "Thời gian kết nối"
	SheetTurns   = "Phát biểu"
	SheetSummary = "Tổng hợp"
)

// CSV file names in the zip.
const (
	FilePoints  = "diem-cau.csv"
	FileStays   = "thoi-gian-ket-noi.csv"
	FileTurns   = "phat-bieu.csv"
	FileSummary = "tong-hop.csv"
)

// tables returns the four tables of r: points, stays and gaps, speaking log,
// summary.
func tables(r conference.Report) []table {
	return []table{pointsTable(r), staysTable(r), turnsTable(r), summaryTable(r)}
}

func pointsTable(r conference.Report) table {
	l := loc(r)
	t := table{
		sheet: SheetPoints, file: FilePoints,
		header: []string{"STT", "Mã điểm cầu", "Điểm cầu", "Đơn vị", "Người đại diện", "Trạng thái",
			"Vào lần đầu", "Rời lần cuối", "Thời gian kết nối", "Số phút kết nối",
			"Số lần gián đoạn", "Thời gian gián đoạn", "Đại biểu dự kiến", "Đại biểu có mặt", "Khai báo bởi"},
		widths: []float64{5, 16, 26, 18, 24, 16, 17, 17, 17, 10, 10, 16, 10, 10, 22},
	}
	for i, rc := range r.RollCalls {
		t.header = append(t.header, fmt.Sprintf("Điểm danh %d (%s)", i+1, formatClock(rc.Start, l)))
		t.widths = append(t.widths, 20)
	}
	for i, p := range r.Points {
		lastLeave := formatTime(p.LastLeave, l)
		if p.Status != conference.StatusAbsent && p.LastLeave.IsZero() {
			lastLeave = "Còn kết nối"
		}
		var delegates any = ""
		by := ""
		if p.CheckedIn {
			delegates, by = p.Delegates, r.ActorName(p.DelegatesBy)
		}
		row := []any{i + 1, p.Point.ID, p.Point.Name, p.Point.District, p.Representative, statusName(p),
			formatTime(p.FirstJoin, l), lastLeave, formatDuration(p.Connected), minutes(p.Connected),
			p.Gaps, formatDuration(p.GapTime), p.Point.ExpectedDelegates, delegates, by}
		for _, res := range p.RollCalls {
			row = append(row, rollCallName(res))
		}
		t.rows = append(t.rows, row)
	}
	return t
}

func staysTable(r conference.Report) table {
	l := loc(r)
	t := table{
		sheet: SheetStays, file: FileStays,
		header: []string{"STT", "Điểm cầu", "Loại", "Bắt đầu", "Kết thúc", "Thời lượng", "Số giây", "Ghi chú"},
		widths: []float64{5, 26, 12, 17, 17, 17, 10, 30},
	}
	n := 0
	for _, p := range r.Points {
		for _, s := range p.Stays {
			n++
			note := leftReason(s.EndReason)
			if s.Open {
				note = "Còn kết nối đến hết"
			}
			t.rows = append(t.rows, []any{n, p.Point.Name, "Kết nối", formatSeconds(s.Start, l), formatSeconds(s.End, l),
				formatDuration(s.Connected), int(s.Connected / time.Second), note})
			for _, g := range s.Gaps {
				t.rows = append(t.rows, []any{"", p.Point.Name, "Gián đoạn", formatSeconds(g.Start, l), formatSeconds(g.End, l),
					formatDuration(g.Duration()), int(g.Duration() / time.Second), leftReason(g.Reason)})
			}
		}
	}
	return t
}

func turnsTable(r conference.Report) table {
	l := loc(r)
	t := table{
		sheet: SheetTurns, file: FileTurns,
		header: []string{"STT", "Điểm cầu", "Nội dung", "Người cho phát biểu", "Bắt đầu", "Kết thúc",
			"Thời lượng", "Số giây", "Thời gian cho phép", "Kết thúc do"},
		widths: []float64{5, 26, 40, 22, 17, 17, 17, 10, 17, 30},
	}
	for i, tn := range r.Turns {
		limit := "Không giới hạn"
		if tn.Limit > 0 {
			limit = formatDuration(tn.Limit)
		}
		t.rows = append(t.rows, []any{i + 1, tn.PointName, tn.Subject, tn.GivenByName, formatTime(tn.Start, l),
			formatTime(tn.End, l), formatDuration(tn.Duration), int(tn.Duration / time.Second), limit, endReason(tn)})
	}
	return t
}

func summaryTable(r conference.Report) table {
	l, s := loc(r), r.Summary
	end := formatTime(s.End, l)
	if end == "" {
		end = "Chưa kết thúc"
	}
	return table{
		sheet: SheetSummary, file: FileSummary,
		header: []string{"Mục", "Giá trị"},
		widths: []float64{36, 50},
		rows: [][]any{
			{"Hội nghị", r.Conference.Title},
			{"Mã hội nghị", r.Conference.ID},
			{"Múi giờ", l.String()},
			{"Giờ bắt đầu dự kiến", formatTime(s.ScheduledStart, l)},
			{"Giờ bắt đầu thực tế", formatTime(s.ActualStart, l)},
			{"Giờ kết thúc", end},
			{"Số điểm cầu được mời", s.PointsExpected},
			{"Số điểm cầu tham dự", s.PointsAttended},
			{"Số điểm cầu vắng mặt", s.PointsAbsent},
			{"Số điểm cầu đến muộn", s.PointsLate},
			{"Số điểm cầu về sớm", s.PointsLeftEarly},
			{"Tổng số đại biểu có mặt", s.Delegates},
			{"Tổng số đại biểu dự kiến", s.ExpectedDelegates},
			{"Số lần điểm danh", len(r.RollCalls)},
			{"Số lượt phát biểu", s.Turns},
			{"Tổng thời gian phát biểu", formatDuration(s.SpeakingTime)},
			{"Lập báo cáo lúc", formatTime(r.GeneratedAt, l)},
		},
	}
}

// text returns a cell as text, as CSV and PDF write it.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return fmt.Sprint(v)
	}
	return fmt.Sprint(v)
}
