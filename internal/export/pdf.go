package export

import (
	"fmt"
	"io"
	"strings"
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

// PDF writes r to w as a printable A4 landscape report: the totals, the
// points with their attendance and roll-call results, and the speaking log,
// in Vietnamese with an embedded DejaVu Sans font. The stays and gaps one
// by one are left to the XLSX and CSV exports; the PDF gives their count
// and total per point.
func PDF(w io.Writer, r conference.Report) error {
	l := loc(r)
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(false, pdfMargin)
	pdf.AddUTF8FontFromBytes(pdfFamily, "", fontRegular)
	pdf.AddUTF8FontFromBytes(pdfFamily, "B", fontBold)
	pdf.SetTitle("Báo cáo điểm danh: "+r.Conference.Title, true)
	pdf.SetCreator("hoinghi", true)
	pdf.SetCreationDate(r.GeneratedAt)
	pdf.SetModificationDate(r.GeneratedAt)
	pdf.AliasNbPages("{nb}")
	generated := "Lập lúc " + formatTime(r.GeneratedAt, l)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfMargin + 2)
		pdf.SetFont(pdfFamily, "", 7)
		pdf.CellFormat(0, 4, clean(r.Conference.Title)+" · "+generated, "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 4, fmt.Sprintf("Trang %d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont(pdfFamily, "B", 14)
	pdf.CellFormat(0, 8, "BÁO CÁO ĐIỂM DANH HỘI NGHỊ", "", 1, "C", false, 0, "")
	pdf.SetFont(pdfFamily, "B", 12)
	for _, line := range wrap(pdf, clean(r.Conference.Title), pageWidth(pdf)) {
		pdf.CellFormat(0, 6, line, "", 1, "C", false, 0, "")
	}
	pdf.Ln(2)

	pt := &pdfTable{pdf: pdf}
	sum := summaryTable(r)
	pt.section("Tổng hợp")
	pt.draw([]string{"Mục", "Giá trị"}, []float64{70, 100}, nil, textRows(sum.rows))

	pt.section("Danh sách điểm cầu")
	pts := pointsTable(r)
	rows := make([][]string, len(pts.rows))
	for i, p := range r.Points {
		delegates := "–"
		if p.CheckedIn {
			delegates = fmt.Sprint(p.Delegates)
		}
		if p.Point.ExpectedDelegates > 0 {
			delegates += fmt.Sprintf(" / %d", p.Point.ExpectedDelegates)
		}
		gaps := "–"
		if p.Gaps > 0 {
			gaps = fmt.Sprintf("%d (%s)", p.Gaps, formatDuration(p.GapTime))
		}
		var rolls []string
		for j, res := range p.RollCalls {
			rolls = append(rolls, fmt.Sprintf("%d: %s", j+1, rollCallName(res)))
		}
		row := pts.rows[i]
		rows[i] = []string{text(row[0]), p.Point.Name, p.Representative, statusName(p),
			text(row[6]), text(row[7]), formatDuration(p.Connected), gaps, delegates, strings.Join(rolls, "; ")}
	}
	pt.draw([]string{"STT", "Điểm cầu", "Người đại diện", "Trạng thái", "Vào lần đầu", "Rời lần cuối",
		"Thời gian kết nối", "Gián đoạn", "Đại biểu (có mặt / dự kiến)", "Điểm danh"},
		[]float64{9, 36, 32, 22, 29, 29, 25, 24, 21, 50}, map[int]string{0: "C", 8: "C"}, rows)
	if len(r.RollCalls) > 0 {
		var notes []string
		for i, rc := range r.RollCalls {
			notes = append(notes, fmt.Sprintf("Điểm danh %d lúc %s, thời hạn xác nhận %s", i+1,
				formatTime(rc.Start, l), formatDuration(rc.Window)))
		}
		pt.note(strings.Join(notes, "; ") + ".")
	}

	pt.section("Phát biểu")
	turns := turnsTable(r)
	if len(turns.rows) == 0 {
		pt.note("Không có lượt phát biểu nào.")
	} else {
		rows := make([][]string, len(turns.rows))
		for i, row := range turns.rows {
			rows[i] = []string{text(row[0]), text(row[1]), text(row[2]), text(row[3]), text(row[4]),
				text(row[5]), text(row[6]), text(row[8]), text(row[9])}
		}
		pt.draw([]string{"STT", "Điểm cầu", "Nội dung", "Người cho phát biểu", "Bắt đầu", "Kết thúc",
			"Thời lượng", "Thời gian cho phép", "Kết thúc do"},
			[]float64{9, 36, 56, 32, 29, 29, 26, 24, 36}, map[int]string{0: "C"}, rows)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return nil
}

func textRows(rows [][]any) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		out[i] = make([]string, len(row))
		for j, v := range row {
			out[i][j] = text(v)
		}
	}
	return out
}

func pageWidth(pdf *fpdf.Fpdf) float64 {
	w, _ := pdf.GetPageSize()
	return w - 2*pdfMargin
}

// pdfTable draws tables that wrap their cells and break across pages,
// repeating the header on each page.
type pdfTable struct {
	pdf *fpdf.Fpdf
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

// draw draws a table of rows under header with the column widths; align
// maps a column to "C" or "R" (left by default).
func (t *pdfTable) draw(header []string, widths []float64, align map[int]string, rows [][]string) {
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
