package export

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"

	"hoinghi/internal/conference"
)

// PDF layout, in millimetres on A4 landscape.
const (
	pdfMargin   = 10.0
	pdfLineH    = 4.2
	pdfPad      = 1.2
	pdfFontSize = 8
	pdfFamily   = "DejaVu"
)

// PDF writes r to w as a printable A4 landscape annex to the minutes of
// the conference, in Vietnamese with an embedded DejaVu Sans font, for the
// secretariat to sign: the organizing unit (Conference.Organizer, when
// set) and the day at the head; the title "PHỤ LỤC: DANH SÁCH ĐIỂM CẦU
// THAM DỰ" with the conference's title and times; the totals; the points
// with their attendance and roll-call results; each time a point was
// disconnected, when and for how long; the speaking log with its total;
// and places for the signatures and names of who drew it up (người lập
// biểu) and the conference secretary (thư ký hội nghị). It shows no
// internal ids: points go by their names.
func PDF(w io.Writer, r conference.Report) error {
	l := loc(r)
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(false, pdfMargin)
	pdf.AddUTF8FontFromBytes(pdfFamily, "", fontRegular)
	pdf.AddUTF8FontFromBytes(pdfFamily, "B", fontBold)
	pdf.SetTitle("Phụ lục: Danh sách điểm cầu tham dự – "+r.Conference.Title, true)
	if r.Conference.Organizer != "" {
		pdf.SetAuthor(r.Conference.Organizer, true)
	}
	pdf.SetCreator("hoinghi", true)
	pdf.SetCreationDate(r.GeneratedAt)
	pdf.SetModificationDate(r.GeneratedAt)
	pdf.AliasNbPages("{nb}")
	generated := "Lập lúc " + formatDateTime(shown(r.GeneratedAt, l))
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfMargin + 2)
		pdf.SetFont(pdfFamily, "", 7)
		pdf.CellFormat(0, 4, clean(r.Conference.Title)+" · "+generated, "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 4, fmt.Sprintf("Trang %d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	pt := &pdfTable{pdf: pdf, r: r, day: Day(r)}

	pt.heading()
	pt.summary()

	pt.section("1. Danh sách điểm cầu")
	rows := make([][]string, len(r.Points))
	for i, p := range r.Points {
		delegates := "–"
		if p.CheckedIn {
			delegates = fmt.Sprint(p.Delegates)
		}
		if p.Point.ExpectedDelegates > 0 {
			delegates += fmt.Sprintf(" / %d", p.Point.ExpectedDelegates)
		}
		outs := outages(r, p)
		lost := "–"
		if len(outs) > 0 {
			var d time.Duration
			for _, o := range outs {
				d += o.lasted
			}
			lost = fmt.Sprintf("%d lần (%s)", len(outs), formatDuration(d))
		}
		lastLeave := pt.clock(p.LastLeave)
		if p.Status != conference.StatusAbsent && p.LastLeave.IsZero() {
			lastLeave = "Còn kết nối"
		}
		var rolls []string
		for j, res := range p.RollCalls {
			rolls = append(rolls, fmt.Sprintf("%d: %s", j+1, rollCallName(res)))
		}
		connected := "–"
		if p.Status != conference.StatusAbsent {
			connected = formatDuration(connectedTime(p))
		}
		rows[i] = []string{fmt.Sprint(i + 1), p.Point.Name, p.Representative, statusName(p),
			pt.clock(p.FirstJoin), lastLeave, connected, lost, delegates, strings.Join(rolls, "; ")}
	}
	if len(rows) == 0 {
		pt.note("Hội nghị chưa mời điểm cầu nào.")
	} else {
		pt.draw([]string{"STT", "Điểm cầu", "Người đại diện", "Trạng thái", "Vào lần đầu", "Rời lần cuối",
			"Thời gian kết nối", "Mất kết nối", "Đại biểu (có mặt / dự kiến)", "Điểm danh"},
			[]float64{9, 40, 30, 22, 17, 19, 36, 36, 20, 48}, map[int]string{0: "C", 4: "C", 5: "C", 8: "C"}, rows, nil)
	}
	if len(r.RollCalls) > 0 {
		var notes []string
		for i, rc := range r.RollCalls {
			notes = append(notes, fmt.Sprintf("Điểm danh %d lúc %s, thời hạn xác nhận %s", i+1,
				pt.clock(rc.Start), formatDuration(rc.Window)))
		}
		pt.note(strings.Join(notes, "; ") + ".")
	}

	pt.section("2. Các lần mất kết nối")
	var lost [][]string
	for _, p := range r.Points {
		for _, o := range outages(r, p) {
			back := notBack
			if !o.end.IsZero() {
				back = pt.clock(o.end)
			}
			lost = append(lost, []string{fmt.Sprint(len(lost) + 1), p.Point.Name, pt.clock(o.start), back,
				formatDuration(o.lasted), o.note})
		}
	}
	if len(lost) == 0 {
		pt.note("Không điểm cầu nào mất kết nối trong thời gian hội nghị.")
	} else {
		pt.draw([]string{"STT", "Điểm cầu", "Mất kết nối lúc", "Kết nối lại lúc", "Thời gian mất kết nối", "Lý do"},
			[]float64{9, 64, 30, 30, 36, 108}, map[int]string{0: "C", 2: "C", 3: "C"}, lost, nil)
		if slices.ContainsFunc(lost, func(row []string) bool { return row[3] == notBack }) {
			pt.note(fmt.Sprintf("\"%s\": điểm cầu rời hội nghị sớm; thời gian mất kết nối tính đến %s.", notBack, pt.untilText()))
		}
	}

	pt.section("3. Phát biểu")
	if len(r.Turns) == 0 {
		pt.note("Không có lượt phát biểu nào.")
	} else {
		rows := make([][]string, len(r.Turns))
		for i, tn := range r.Turns {
			limit := "Không giới hạn"
			if tn.Limit > 0 {
				limit = formatDuration(tn.Limit)
			}
			end := ""
			if !tn.Ongoing {
				end = pt.clock(tn.End)
			}
			givenBy := tn.GivenByName
			if givenBy == tn.GivenBy && !conference.Role(givenBy).Valid() {
				givenBy = "" // a participant id the report could not name
			}
			rows[i] = []string{fmt.Sprint(i + 1), tn.PointName, tn.Subject, givenBy, pt.clock(tn.Start), end,
				formatDuration(turnTime(r, tn)), limit, endReason(tn)}
		}
		total := []string{"", "Tổng cộng", fmt.Sprintf("%d lượt phát biểu", len(r.Turns)), "", "", "",
			formatDuration(speakingTime(r)), "", ""}
		pt.draw([]string{"STT", "Điểm cầu", "Nội dung", "Người cho phát biểu", "Bắt đầu", "Kết thúc",
			"Thời lượng", "Thời gian cho phép", "Kết thúc do"},
			[]float64{9, 40, 64, 34, 20, 20, 34, 24, 32}, map[int]string{0: "C", 4: "C", 5: "C"}, rows, total)
	}

	pt.signatures()
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return nil
}

// notBack is what the PDF says of a point that did not come back.
const notBack = "Không kết nối lại"

// outage is a time a point was not connected during the conference: a gap
// within a stay, the time between two stays, or from leaving early to the
// end.
type outage struct {
	start, end time.Time // end is zero if the point did not come back
	lasted     time.Duration
	note       string
}

// outages returns the times point p of r was not connected within the
// report's window, in order.
func outages(r conference.Report, p conference.PointAttendance) []outage {
	var out []outage
	for i, s := range p.Stays {
		for _, g := range s.Gaps {
			out = append(out, outage{start: g.Start, end: g.End, lasted: gapTime(g), note: leftReason(g.Reason)})
		}
		switch {
		case i+1 < len(p.Stays):
			next := p.Stays[i+1].Start
			out = append(out, outage{start: s.End, end: next, lasted: span(s.End, next), note: leftReason(s.EndReason)})
		case p.LeftEarly && !s.Open:
			out = append(out, outage{start: s.End, lasted: span(s.End, r.Until), note: leftReason(s.EndReason)})
		}
	}
	return out
}

func pageWidth(pdf *fpdf.Fpdf) float64 {
	w, _ := pdf.GetPageSize()
	return w - 2*pdfMargin
}

// pdfTable draws the parts of the report r: tables that wrap their cells
// and break across pages, repeating the header on each page, notes, the
// heading and the signatures.
type pdfTable struct {
	pdf *fpdf.Fpdf
	r   conference.Report
	day time.Time // Day(r)
}

// clock writes v in the conference's time zone as HH:MM:SS on the
// conference's day, with its date on another, "–" for the zero time.
func (t *pdfTable) clock(v time.Time) string {
	if v.IsZero() {
		return "–"
	}
	v = shown(v, t.day.Location())
	if y, m, d := v.Date(); y == t.day.Year() && m == t.day.Month() && d == t.day.Day() {
		return v.Format("15:04:05")
	}
	return formatDateTime(v)
}

// untilText says when the report's window ends: the end of the
// conference, or when the report was made while it goes on.
func (t *pdfTable) untilText() string {
	if t.r.Ended() {
		return "khi kết thúc hội nghị (" + t.clock(t.r.End) + ")"
	}
	return "lúc lập biểu (" + t.clock(t.r.GeneratedAt) + ")"
}

// dateLine writes the day as the date line of a Vietnamese document:
// "Ngày 05 tháng 02 năm 2026", "Ngày 15 tháng 3 năm 2026" (days below 10
// and the months 1 and 2 with a leading zero).
func dateLine(day time.Time) string {
	month := fmt.Sprint(int(day.Month()))
	if day.Month() <= time.February {
		month = fmt.Sprintf("%02d", int(day.Month()))
	}
	return fmt.Sprintf("Ngày %02d tháng %s năm %d", day.Day(), month, day.Year())
}

// heading draws the organizing unit at the top left and the day at the
// top right, then the title, the conference's title and its times.
func (t *pdfTable) heading() {
	pdf, r := t.pdf, t.r
	const side = 120.0 // width of each column of the head
	top := pdf.GetY()
	if org := strings.TrimSpace(r.Conference.Organizer); org != "" {
		pdf.SetFont(pdfFamily, "B", 11)
		for _, line := range wrap(pdf, strings.ToUpper(clean(org)), side) {
			pdf.CellFormat(side, 5.5, line, "", 2, "C", false, 0, "")
		}
		mid, y := pdfMargin+side/2, pdf.GetY()+0.8
		pdf.Line(mid-20, y, mid+20, y)
	}
	left := pdf.GetY()
	pdf.SetXY(pdfMargin+pageWidth(pdf)-side, top)
	pdf.SetFont(pdfFamily, "", 10)
	pdf.CellFormat(side, 5.5, dateLine(t.day), "", 2, "C", false, 0, "")
	pdf.SetXY(pdfMargin, max(left, pdf.GetY())+5)

	pdf.SetFont(pdfFamily, "B", 14)
	pdf.CellFormat(0, 7, "PHỤ LỤC: DANH SÁCH ĐIỂM CẦU THAM DỰ", "", 1, "C", false, 0, "")
	pdf.SetFont(pdfFamily, "B", 12)
	for _, line := range wrap(pdf, clean(r.Conference.Title), pageWidth(pdf)) {
		pdf.CellFormat(0, 6, line, "", 1, "C", false, 0, "")
	}
	l := t.day.Location()
	var when []string
	switch {
	case !r.ActualStart.IsZero():
		when = append(when, "Bắt đầu lúc "+t.clock(r.ActualStart))
		if r.Ended() {
			when = append(when, "kết thúc lúc "+t.clock(r.End))
		} else {
			when = append(when, "đang diễn ra (số liệu đến "+t.clock(r.GeneratedAt)+")")
		}
	case !r.Conference.ScheduledStart.IsZero():
		when = append(when, "Dự kiến bắt đầu lúc "+t.clock(r.Conference.ScheduledStart), "chưa bắt đầu")
	default:
		when = append(when, "Chưa bắt đầu")
	}
	_, offset := t.day.Zone()
	zone := fmt.Sprintf("UTC%+03d:%02d", offset/3600, abs(offset)%3600/60)
	pdf.SetFont(pdfFamily, "", 9)
	line := fmt.Sprintf("Ngày %s: %s. Giờ theo múi giờ %s (%s).", t.day.Format("02/01/2006"), strings.Join(when, ", "), l, zone)
	if len(r.Sessions) > 1 {
		parts := make([]string, 0, len(r.Sessions))
		for i, ss := range r.Sessions {
			end := "chưa kết thúc"
			if !ss.End.IsZero() {
				end = t.clock(ss.End)
			}
			parts = append(parts, fmt.Sprintf("%s từ %s đến %s", strings.ToLower(sessionName(i, ss)), t.clock(ss.Start), end))
		}
		line += fmt.Sprintf(" Hội nghị có %d phiên họp: %s.", len(r.Sessions), strings.Join(parts, "; "))
	}
	for _, line := range wrap(pdf, line, pageWidth(pdf)) {
		pdf.CellFormat(0, 5, line, "", 1, "C", false, 0, "")
	}
	pdf.Ln(1)
}

func abs(n int) int { return max(n, -n) }

// summary draws the totals in two pairs of columns.
func (t *pdfTable) summary() {
	r, s := t.r, t.r.Summary
	rows := [][]string{
		{"Số điểm cầu được mời", fmt.Sprint(s.PointsExpected), "Tổng số đại biểu dự kiến", fmt.Sprint(s.ExpectedDelegates)},
		{"Số điểm cầu tham dự", fmt.Sprint(s.PointsAttended), "Tổng số đại biểu có mặt", fmt.Sprint(s.Delegates)},
		{"Số điểm cầu vắng mặt", fmt.Sprint(s.PointsAbsent), "Số lần điểm danh", fmt.Sprint(len(r.RollCalls))},
		{"Số điểm cầu đến muộn", fmt.Sprint(s.PointsLate), "Số lượt phát biểu", fmt.Sprint(s.Turns)},
		{"Số điểm cầu về sớm", fmt.Sprint(s.PointsLeftEarly), "Tổng thời gian phát biểu", formatDuration(speakingTime(r))},
	}
	t.section("Tổng hợp")
	t.draw([]string{"Mục", "Số liệu", "Mục", "Số liệu"}, []float64{60, 40, 60, 40},
		map[int]string{1: "R", 3: "R"}, rows, nil)
}

// signatures draws the places where who drew the annex up and the
// conference secretary sign and write their names, kept on one page.
func (t *pdfTable) signatures() {
	pdf := t.pdf
	const height = 46.0
	if pdf.GetY()+height > t.bottom() {
		pdf.AddPage()
	}
	pdf.Ln(6)
	top, w := pdf.GetY(), pageWidth(pdf)/2
	for i, who := range []string{"NGƯỜI LẬP BIỂU", "THƯ KÝ HỘI NGHỊ"} {
		x := pdfMargin + float64(i)*w
		pdf.SetXY(x, top)
		pdf.SetFont(pdfFamily, "B", 10)
		pdf.CellFormat(w, 5.5, who, "", 2, "C", false, 0, "")
		pdf.SetFont(pdfFamily, "", 9)
		pdf.CellFormat(w, 5, "(Ký, ghi rõ họ tên)", "", 2, "C", false, 0, "")
		pdf.SetXY(x, top+height-10)
		pdf.CellFormat(w, 5, "Họ và tên: ........................................................", "", 2, "C", false, 0, "")
	}
	pdf.SetXY(pdfMargin, top+height)
}

func (t *pdfTable) bottom() float64 {
	_, h := t.pdf.GetPageSize()
	return h - pdfMargin - 3 // room for the footer
}

func (t *pdfTable) section(title string) {
	pdf := t.pdf
	if pdf.GetY()+20 > t.bottom() {
		pdf.AddPage()
	}
	pdf.Ln(2)
	pdf.SetFont(pdfFamily, "B", 11)
	pdf.CellFormat(0, 7, title, "", 1, "L", false, 0, "")
}

func (t *pdfTable) note(s string) {
	pdf := t.pdf
	pdf.SetFont(pdfFamily, "", pdfFontSize)
	for _, line := range wrap(pdf, clean(s), pageWidth(pdf)) {
		if pdf.GetY()+pdfLineH > t.bottom() {
			pdf.AddPage()
		}
		pdf.CellFormat(0, pdfLineH, line, "", 1, "L", false, 0, "")
	}
}

// draw draws a table of rows under header with the column widths, and
// total in bold under them unless it is nil; align maps a column to "C"
// or "R" (left by default).
func (t *pdfTable) draw(header []string, widths []float64, align map[int]string, rows [][]string, total []string) {
	pdf := t.pdf
	drawHeader := func() {
		pdf.SetFont(pdfFamily, "B", pdfFontSize)
		pdf.SetFillColor(221, 230, 240)
		t.row(header, widths, map[int]string{}, true)
		pdf.SetFont(pdfFamily, "", pdfFontSize)
	}
	drawHeader()
	for _, row := range rows {
		if pdf.GetY()+t.height(row, widths) > t.bottom() {
			pdf.AddPage()
			drawHeader()
		}
		t.row(row, widths, align, false)
	}
	if total != nil {
		if pdf.GetY()+t.height(total, widths) > t.bottom() {
			pdf.AddPage()
			drawHeader()
		}
		pdf.SetFont(pdfFamily, "B", pdfFontSize)
		t.row(total, widths, align, false)
		pdf.SetFont(pdfFamily, "", pdfFontSize)
	}
	pdf.Ln(1)
}

func (t *pdfTable) height(cells []string, widths []float64) float64 {
	n := 1
	for i, c := range cells {
		n = max(n, len(wrap(t.pdf, clean(c), widths[i]-2*pdfPad)))
	}
	return float64(n)*pdfLineH + pdfPad
}

func (t *pdfTable) row(cells []string, widths []float64, align map[int]string, fill bool) {
	pdf := t.pdf
	h := t.height(cells, widths)
	x, y := pdf.GetX(), pdf.GetY()
	for i, c := range cells {
		style := "D"
		if fill {
			style = "FD"
		}
		pdf.Rect(x, y, widths[i], h, style)
		a := align[i]
		if a == "" {
			a = "L"
		}
		for j, line := range wrap(pdf, clean(c), widths[i]-2*pdfPad) {
			pdf.SetXY(x+pdfPad, y+pdfPad/2+float64(j)*pdfLineH)
			pdf.CellFormat(widths[i]-2*pdfPad, pdfLineH, line, "", 0, a, false, 0, "")
		}
		x += widths[i]
	}
	pdf.SetXY(pdfMargin, y+h)
}

// wrap breaks s into lines no wider than w in the current font, at spaces
// where it can and within a word where it must.
func wrap(pdf *fpdf.Fpdf, s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			candidate := word
			if line != "" {
				candidate = line + " " + word
			}
			if pdf.GetStringWidth(candidate) <= w {
				line = candidate
				continue
			}
			if line != "" {
				lines = append(lines, line)
			}
			line = ""
			for _, r := range word { // a word wider than the column
				if line != "" && pdf.GetStringWidth(line+string(r)) > w {
					lines = append(lines, line)
					line = ""
				}
				line += string(r)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// clean replaces what the embedded font cannot draw: control characters by
// spaces, characters beyond the Basic Multilingual Plane by U+FFFD.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case unicode.IsControl(r):
			return ' '
		case r > 0xFFFF:
			return unicode.ReplacementChar
		}
		return r
	}, s)
}
