package export

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"hoinghi/internal/conference"
)

// XLSX writes r to w as a workbook of four sheets: points (SheetPoints),
// stays and gaps (SheetStays), the speaking log (SheetTurns) and the
// totals (SheetSummary). Each sheet has a bold header row that stays in
// view when scrolling; counts and minutes are numbers, times and durations
// text.
func XLSX(w io.Writer, r conference.Report) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("xlsx: close: %w", cerr)
		}
	}()
	bold, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE6F0"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"},
	})
	if err != nil {
		return fmt.Errorf("xlsx: header style: %w", err)
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
		if err := writeSheet(f, t, bold); err != nil {
			return fmt.Errorf("xlsx: sheet %s: %w", t.sheet, err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: write: %w", err)
	}
	return nil
}

func writeSheet(f *excelize.File, t table, headerStyle int) error {
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
		header[i] = excelize.Cell{StyleID: headerStyle, Value: h}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, row := range t.rows {
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	return sw.Flush()
}
