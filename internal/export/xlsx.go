package export

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"hoinghi/internal/conference"
)

// Number formats of the XLSX cells: a date and time to the second, and a
// duration whose hours run past 24.
const (
	xlsxDateTime = "dd/mm/yyyy hh:mm:ss"
	xlsxDuration = "[h]:mm:ss"
)

// cellStyles are the style ids of a workbook's cells.
type cellStyles struct {
	header, dateTime, duration int
}

// XLSX writes r to w as a workbook of four sheets: points (SheetPoints),
// stays and gaps (SheetStays), the speaking log (SheetTurns) and the
// totals (SheetSummary). Each sheet has a bold header row that stays in
// view when scrolling. Counts and minutes are numbers; times are Excel
// date-times in the conference's time zone, shown dd/mm/yyyy hh:mm:ss;
// durations are Excel times shown [h]:mm:ss, so that a column adds up to
// the totals the summary gives.
func XLSX(w io.Writer, r conference.Report) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("xlsx: close: %w", cerr)
		}
	}()
	var styles cellStyles
	styles.header, err = f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE6F0"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"},
	})
	if err != nil {
		return fmt.Errorf("xlsx: header style: %w", err)
	}
	dateTime, duration := xlsxDateTime, xlsxDuration
	if styles.dateTime, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateTime}); err != nil {
		return fmt.Errorf("xlsx: date style: %w", err)
	}
	if styles.duration, err = f.NewStyle(&excelize.Style{CustomNumFmt: &duration}); err != nil {
		return fmt.Errorf("xlsx: duration style: %w", err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:   "Điểm danh: " + r.Conference.Title,
		Creator: "hoinghi",
	}); err != nil {
		return fmt.Errorf("xlsx: properties: %w", err)
	}
	for i, t := range tables(r) {
		if i == 0 {
			err = f.SetSheetName("Sheet1", t.sheet)
		} else {
			_, err = f.NewSheet(t.sheet)
		}
		if err != nil {
			return fmt.Errorf("xlsx: sheet %s: %w", t.sheet, err)
		}
		if err := writeSheet(f, t, styles); err != nil {
			return fmt.Errorf("xlsx: sheet %s: %w", t.sheet, err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: write: %w", err)
	}
	return nil
}

func writeSheet(f *excelize.File, t table, styles cellStyles) error {
	sw, err := f.NewStreamWriter(t.sheet)
	if err != nil {
		return err
	}
	for i, width := range t.widths {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(t.header))
	for i, h := range t.header {
		header[i] = excelize.Cell{StyleID: styles.header, Value: h}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	cells := make([]any, 0, len(t.header))
	for i, row := range t.rows {
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		cells = cells[:0]
		for _, v := range row {
			cells = append(cells, xlsxCell(v, styles))
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// xlsxCell returns the value of a table cell as the stream writer takes
// it: a time or duration with its number format, nothing for the zero time.
func xlsxCell(v any, styles cellStyles) any {
	switch v := v.(type) {
	case time.Time:
		if v.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: styles.dateTime, Value: v}
	case time.Duration:
		return excelize.Cell{StyleID: styles.duration, Value: v}
	}
	return v
}
