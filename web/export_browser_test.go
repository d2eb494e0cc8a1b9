package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
)

// TestBrowserSecretariatExport downloads the exports from the secretariat
// page as its buttons do: the XLSX and the PDF under the server's names;
// the CSV with semicolons by default and, chosen beside the button, with
// commas, a choice the page keeps over a reload; and, with a separator the
// server refuses, no file but the refusal explained in the page's
// language.
func TestBrowserSecretariatExport(t *testing.T) {
	st := storetest.Redis(t)
	points := seedAttendance(t, st, "xuat")
	start := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	conn := store.Connection{ParticipantID: "bh-1", Role: conference.RolePoint, PointID: points[0],
		Name: "Điểm cầu TP. Biên Hòa", Since: start, Instance: "test"}
	for _, w := range []store.AttendanceWrite{
		{Event: store.JoinedEvent("e1", conn), Conn: &conn},
		{Event: conference.AttendanceEvent{ID: "e2", Kind: conference.CheckedIn, At: start.Add(time.Minute),
			PointID: points[0], Delegates: 28, By: "bh-1"}},
		{Event: conference.AttendanceEvent{ID: "e3", Kind: conference.ConferenceStarted, At: start.Add(2 * time.Minute), By: "technician"}},
		{Event: store.LeftEvent("e4", conn, conference.LeftClosed, start.Add(12*time.Minute)), Conn: &conn},
	} {
		w.Conference = "xuat"
		if _, err := st.WriteAttendance(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
	hanoi, err := time.LoadLocation(conference.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	base := "diem-danh-xuat-" + start.Add(2*time.Minute).In(hanoi).Format("20060102")
	stack := servertest.Start(t, st)
	browser := startBrowser(t)
	sec := newTab(t, browser)
	url := pageURL(stack, "secretariat", stack.Token("xuat", conference.RoleSecretariat, "", time.Hour))
	navigate(t, sec, url)
	shown := `document.querySelector('#list-body tr[data-participant="bien-hoa"]')?.dataset.status === 'left_early'`
	waitFor(t, sec, "secretariat shows the report", shown, 15*time.Second)

	// The XLSX and the PDF come under the names the server gives them.
	if b := downloadExport(t, sec, "#export-xlsx", base+".xlsx"); !bytes.HasPrefix(b, []byte("PK")) {
		t.Errorf("XLSX starts %q", b[:min(len(b), 4)])
	}
	if b := downloadExport(t, sec, "#export-pdf", base+".pdf"); !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("PDF starts %q", b[:min(len(b), 5)])
	}

	// The CSV: semicolons unless commas are chosen; the link says which.
	if v, err := eval[string](sec, `document.querySelector('#export-separator').value`); err != nil || v != "semicolon" {
		t.Errorf("separator %q, %v; want semicolon by default", v, err)
	}
	checkCSVLink(t, sec, "semicolon")
	checkCSVZip(t, downloadExport(t, sec, "#export-csv", base+"-csv.zip"), ';')
	chooseSeparator(t, sec, "comma")
	checkCSVLink(t, sec, "comma")
	checkCSVZip(t, downloadExport(t, sec, "#export-csv", base+"-csv.zip"), ',')

	// The choice is remembered.
	navigate(t, sec, url)
	waitFor(t, sec, "secretariat shows the report again", shown, 15*time.Second)
	if v, err := eval[string](sec, `document.querySelector('#export-separator').value`); err != nil || v != "comma" {
		t.Errorf("after a reload, separator %q, %v; want comma", v, err)
	}
	checkCSVLink(t, sec, "comma")

	// A separator the server does not take: no file, and the page says
	// why, in Vietnamese and then in English.
	if _, err := eval[chromedp.Void](sec, `document.querySelector('#export-separator').append(new Option('tab', 'tab'))`); err != nil {
		t.Fatal(err)
	}
	chooseSeparator(t, sec, "tab")
	dir := allowDownloads(t, sec)
	click(t, sec, "#export-csv")
	waitFor(t, sec, "the refusal explained",
		`(() => { const m = document.querySelector('#export-message');
		  return !m.hidden && m.dataset.kind === 'error' && m.dataset.code === 'bad_separator' &&
		    m.textContent.includes('Máy chủ không nhận dấu phân cách này') &&
		    document.querySelector('#export-csv').dataset.export === 'failed'; })()`, 10*time.Second)
	click(t, sec, "#lang")
	waitFor(t, sec, "the refusal in English",
		`document.querySelector('#export-message').textContent.includes('The server does not take this separator')`, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("a refused export downloaded %s", entries[0].Name())
	}
	// A good download clears the message.
	chooseSeparator(t, sec, "semicolon")
	checkCSVZip(t, downloadExport(t, sec, "#export-csv", base+"-csv.zip"), ';')
	waitFor(t, sec, "the message cleared", `document.querySelector('#export-message').hidden`, 5*time.Second)
}

// allowDownloads makes tab save downloads into a new directory, and
// returns it.
func allowDownloads(t *testing.T, tab context.Context) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.Call(tab, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:         cdpbrowser.SetDownloadBehaviorBehaviorAllow,
		DownloadPath:     dir,
		BrowserContextID: chromedp.FromContext(tab).BrowserContextID,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	return dir
}

// downloadExport clicks the export button at selector in tab and returns
// the file it downloads, which must be named name.
func downloadExport(t *testing.T, tab context.Context, selector, name string) []byte {
	t.Helper()
	dir := allowDownloads(t, tab)
	click(t, tab, selector)
	file := waitDownload(t, dir, filepath.Ext(name), 15*time.Second)
	if got := filepath.Base(file); got != name {
		t.Errorf("%s downloaded %s, want %s", selector, got, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chooseSeparator chooses the CSV separator value in tab as a user does.
func chooseSeparator(t *testing.T, tab context.Context, value string) {
	t.Helper()
	if _, err := eval[chromedp.Void](tab, `(() => { const s = document.querySelector('#export-separator');
		s.value = `+strconv.Quote(value)+`; s.dispatchEvent(new Event('change')); })()`); err != nil {
		t.Fatalf("choose separator %s: %v", value, err)
	}
}

// checkCSVLink checks that the CSV button's address asks for separator.
func checkCSVLink(t *testing.T, tab context.Context, separator string) {
	t.Helper()
	href, err := eval[string](tab, `document.querySelector('#export-csv').getAttribute('href')`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(href, "/api/conferences/xuat/export?format=csv&separator="+separator+"&t=") {
		t.Errorf("CSV link %q, want separator=%s", href, separator)
	}
}

// checkCSVZip checks that the zip of CSV files b lists the points, its
// fields split at sep.
func checkCSVZip(t *testing.T, b []byte, sep rune) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("CSV zip: %v", err)
	}
	f, err := zr.Open("diem-cau.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	cr.Comma = sep
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("diem-cau.csv split at %q: %v", sep, err)
	}
	if len(rows) != 5 || len(rows[0]) < 15 || rows[0][0] != "STT" || rows[1][1] != "bien-hoa" || rows[1][13] != "28" {
		t.Errorf("diem-cau.csv split at %q: %q", sep, rows)
	}
}
