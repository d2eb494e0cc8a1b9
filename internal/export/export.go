// Package export writes a conference's attendance report for the
// secretariat: an XLSX workbook, a zip of CSV files and a printable PDF
// annex to the minutes. Every export shows the same figures, with
// Vietnamese headers and names, times in the conference's time zone to the
// second, and durations computed from those times: a row's duration is its
// end minus its start as shown, and a total is the sum of the rows shown.
package export

import (
	"fmt"
	"io"
	"strconv"
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

// Separator is the field separator of the CSV files.
type Separator string

// The CSV separators. Excel splits a CSV file at the list separator of the
// computer's regional settings: ';' with Vietnamese settings (whose decimal
// mark is the comma), ',' with English ones.
const (
	SeparatorSemicolon Separator = "semicolon" // ';', the default
	SeparatorComma     Separator = "comma"     // ','
)

// Separators lists the CSV separators, the default first.
var Separators = []Separator{SeparatorSemicolon, SeparatorComma}

// ParseSeparator returns the separator named s: "semicolon" or ";",
// "comma" or "," (case-insensitive), SeparatorSemicolon for the empty
// string; else an error naming the valid ones.
func ParseSeparator(s string) (Separator, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", string(SeparatorSemicolon), ";":
		return SeparatorSemicolon, nil
	case string(SeparatorComma), ",":
		return SeparatorComma, nil
	}
	return "", fmt.Errorf("unknown CSV separator %q: use semicolon (;) or comma (,)", s)
}

// Rune returns the character of the separator; the zero Separator is ';'.
func (s Separator) Rune() rune {
	if s == SeparatorComma {
		return ','
	}
	return ';'
}

// Options are the choices of an export besides its format. The zero value
// is the default of each.
type Options struct {
	// Separator separates the fields of the CSV files; the other formats
	// ignore it.
	Separator Separator
}

// Write writes r to w in format f with the options o.
func (f Format) Write(w io.Writer, r conference.Report, o Options) error {
	switch f {
	case FormatXLSX:
		return XLSX(w, r)
	case FormatCSV:
		return CSV(w, r, o.Separator)
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

// Filename returns the name to save the export of r under: what it holds
// (the attendance, "diem-danh"), the conference id, its day in its time
// zone (see Day) and the format, such as "diem-danh-hn-2026-20260315.xlsx",
// "diem-danh-hn-2026-20260315.pdf", or "diem-danh-hn-2026-20260315-csv.zip"
// for the zip of CSV files, which says "csv" even where the extension is
// hidden.
func (f Format) Filename(r conference.Report) string {
	name := "diem-danh-" + r.Conference.ID + "-" + Day(r).Format("20060102")
	if f == FormatCSV {
		name += "-csv"
	}
	return name + f.Ext()
}

// Day returns the day of the conference of r in its time zone, at
// midnight: the day of the actual start, else of the scheduled start, else
// of when the report was made.
func Day(r conference.Report) time.Time {
	day := r.ActualStart
	if day.IsZero() {
		day = r.Conference.ScheduledStart
	}
	if day.IsZero() {
		day = r.GeneratedAt
	}
	y, m, d := day.In(loc(r)).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc(r))
}

func loc(r conference.Report) *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return time.UTC
}

// sec returns t to the whole second, truncated as a clock shows it. Every
// time an export shows goes through sec, and every duration is the
// difference of two such times, so that what the rows show adds up.
func sec(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Second)
}

// shown returns t as a cell: to the second in l, the zero time for none.
func shown(t time.Time, l *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return sec(t).In(l)
}

// span returns end - start as the exports show them, never negative.
func span(start, end time.Time) time.Duration {
	return max(sec(end).Sub(sec(start)), 0)
}

// gapTime returns how long gap g lasted, as shown.
func gapTime(g conference.Gap) time.Duration { return span(g.Start, g.End) }

// stayTime returns the time connected in stay s, as shown: its span minus
// its gaps.
func stayTime(s conference.Stay) time.Duration {
	d := span(s.Start, s.End)
	for _, g := range s.Gaps {
		d -= gapTime(g)
	}
	return max(d, 0)
}

// connectedTime returns the time point p was connected: the sum of its
// stays as shown.
func connectedTime(p conference.PointAttendance) time.Duration {
	var d time.Duration
	for _, s := range p.Stays {
		d += stayTime(s)
	}
	return d
}

// gapsTime returns the total of point p's gaps as shown.
func gapsTime(p conference.PointAttendance) time.Duration {
	var d time.Duration
	for _, s := range p.Stays {
		for _, g := range s.Gaps {
			d += gapTime(g)
		}
	}
	return d
}

// turnTime returns how long turn t of r lasted as shown: to its end, or
// to the end of the report's window while it goes on.
func turnTime(r conference.Report, t conference.TurnEntry) time.Duration {
	if t.Ongoing || t.End.IsZero() {
		return span(t.Start, r.Until)
	}
	return span(t.Start, t.End)
}

// speakingTime returns the total speaking time of r: the sum of its turns
// as shown.
func speakingTime(r conference.Report) time.Duration {
	var d time.Duration
	for _, t := range r.Turns {
		d += turnTime(r, t)
	}
	return d
}

// formatDateTime writes t as dd/mm/yyyy HH:MM:SS in its own location, or
// "" for the zero time.
func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("02/01/2006 15:04:05")
}

// formatClock writes t as HH:MM in l, or "" for the zero time.
func formatClock(t time.Time, l *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l).Format("15:04")
}

// formatElapsed writes d as H:MM:SS, hours running past 24, as the XLSX
// cells show durations and spreadsheets read them.
func formatElapsed(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
}

// formatDuration writes d in Vietnamese words, to the second: "1 giờ 05
// phút 30 giây", "1 giờ 05 phút", "7 phút 30 giây", "7 phút", "15 giây",
// "0 phút" for none.
func formatDuration(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0 && s > 0:
		return fmt.Sprintf("%d giờ %02d phút %02d giây", h, m, s)
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
	why := t.EndReason
	if t.Ongoing {
		why = "Đang phát biểu"
	} else if v, ok := endReasons[t.EndReason]; ok {
		why = v
	}
	if m := mutesText(t); m != "" {
		why += "; " + m
	}
	return why
}

// mutesText says when the hall muted the point's microphone during turn
// t, "" when it did not.
func mutesText(t conference.TurnEntry) string {
	if len(t.Mutes) == 0 {
		return ""
	}
	var total time.Duration
	for _, m := range t.Mutes {
		end := m.End
		if end.IsZero() {
			end = t.Start.Add(t.Duration)
		}
		total += span(m.Start, end)
	}
	return fmt.Sprintf("hội trường tắt micro %d lần (%s)", len(t.Mutes), formatDuration(total))
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

// table is one table of a report, written as an XLSX sheet and a CSV file;
// the PDF draws its own tables from the same figures. A cell is a string,
// an int, a time.Time (a date and time in the conference's time zone, to
// the second; the zero time is an empty cell) or a time.Duration (whole
// seconds). The XLSX writes times and durations as numbers with a date or
// duration format, the CSV as dd/mm/yyyy HH:MM:SS and H:MM:SS.
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

// Column widths, in characters, of the XLSX sheets.
const (
	widthTime     = 19 // dd/mm/yyyy hh:mm:ss
	widthDuration = 11 // [h]:mm:ss
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
		widths: []float64{5, 16, 26, 18, 24, 16, widthTime, widthTime, widthDuration, 10, 10, widthDuration, 10, 10, 22},
	}
	for i, rc := range r.RollCalls {
		t.header = append(t.header, fmt.Sprintf("Điểm danh %d (%s)", i+1, formatClock(rc.Start, l)))
		t.widths = append(t.widths, 20)
	}
	for i, p := range r.Points {
		var lastLeave any = shown(p.LastLeave, l)
		if p.Status != conference.StatusAbsent && p.LastLeave.IsZero() {
			lastLeave = "Còn kết nối"
		}
		var delegates any = ""
		by := ""
		if p.CheckedIn {
			delegates, by = p.Delegates, r.ActorName(p.DelegatesBy)
		}
		connected := connectedTime(p)
		row := []any{i + 1, p.Point.ID, p.Point.Name, p.Point.District, p.Representative, statusName(p),
			shown(p.FirstJoin, l), lastLeave, connected, minutes(connected),
			p.Gaps, gapsTime(p), p.Point.ExpectedDelegates, delegates, by}
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
		widths: []float64{5, 26, 12, widthTime, widthTime, widthDuration, 10, 30},
	}
	n := 0
	for _, p := range r.Points {
		for _, s := range p.Stays {
			n++
			note := leftReason(s.EndReason)
			if s.Open {
				note = "Còn kết nối đến hết"
			}
			d := stayTime(s)
			t.rows = append(t.rows, []any{n, p.Point.Name, "Kết nối", shown(s.Start, l), shown(s.End, l),
				d, int(d / time.Second), note})
			for _, g := range s.Gaps {
				d := gapTime(g)
				t.rows = append(t.rows, []any{"", p.Point.Name, "Gián đoạn", shown(g.Start, l), shown(g.End, l),
					d, int(d / time.Second), leftReason(g.Reason)})
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
		widths: []float64{5, 26, 40, 22, widthTime, widthTime, widthDuration, 10, widthDuration, 30},
	}
	for i, tn := range r.Turns {
		var limit any = "Không giới hạn"
		if tn.Limit > 0 {
			limit = tn.Limit.Truncate(time.Second)
		}
		var end time.Time
		if !tn.Ongoing {
			end = shown(tn.End, l)
		}
		d := turnTime(r, tn)
		t.rows = append(t.rows, []any{i + 1, tn.PointName, tn.Subject, tn.GivenByName, shown(tn.Start, l),
			end, d, int(d / time.Second), limit, endReason(tn)})
	}
	return t
}

func summaryTable(r conference.Report) table {
	l, s := loc(r), r.Summary
	var end any = shown(s.End, l)
	if s.End.IsZero() {
		end = "Chưa kết thúc"
	}
	speaking := speakingTime(r)
	t := table{
		sheet: SheetSummary, file: FileSummary,
		header: []string{"Mục", "Giá trị"},
		widths: []float64{36, 50},
		rows: [][]any{
			{"Hội nghị", r.Conference.Title},
			{"Đơn vị tổ chức", r.Conference.Organizer},
			{"Mã hội nghị", r.Conference.ID},
			{"Múi giờ", l.String()},
			{"Giờ bắt đầu dự kiến", shown(s.ScheduledStart, l)},
			{"Giờ bắt đầu thực tế", shown(s.ActualStart, l)},
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
			{"Tổng thời gian phát biểu", speaking},
			{"Tổng số giây phát biểu", int(speaking / time.Second)},
			{"Lập báo cáo lúc", shown(r.GeneratedAt, l)},
		},
	}
	if len(r.Sessions) > 1 {
		// A reopened conference: each session after the end time.
		rows := make([][]any, 0, len(t.rows)+len(r.Sessions))
		rows = append(rows, t.rows[:7]...)
		for i, ss := range r.Sessions {
			rows = append(rows, []any{sessionName(i, ss), sessionText(ss, l)})
		}
		t.rows = append(rows, t.rows[7:]...)
	}
	return t
}

// sessionName names session i (from 0) of a reopened conference.
func sessionName(i int, s conference.Session) string {
	if s.Reopened {
		return fmt.Sprintf("Phiên họp %d (mở lại sau khi kết thúc)", i+1)
	}
	return fmt.Sprintf("Phiên họp %d", i+1)
}

// sessionText says when session s ran, in l.
func sessionText(s conference.Session, l *time.Location) string {
	end := "chưa kết thúc"
	if !s.End.IsZero() {
		end = formatDateTime(shown(s.End, l))
	}
	return formatDateTime(shown(s.Start, l)) + " – " + end
}

// text returns a cell as the CSV writes it.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case time.Time:
		return formatDateTime(v)
	case time.Duration:
		return formatElapsed(v)
	}
	return fmt.Sprint(v)
}
