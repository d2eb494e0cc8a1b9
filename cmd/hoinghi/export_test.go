package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
	"hoinghi/internal/store/storetest"
	"hoinghi/internal/testenv"
)

// seedExport stores a conference with one point and a join in st.
func seedExport(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC) // 08:00 in Hanoi
	if err := st.PutConference(ctx, conference.Conference{ID: "quy-1", Title: "Hội nghị quý I",
		TimeZone: conference.DefaultTimeZone, ScheduledStart: start}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutPoint(ctx, "quy-1", conference.Point{ID: "dinh-quan", Name: "Định Quán"}); err != nil {
		t.Fatal(err)
	}
	conn := store.Connection{ParticipantID: "dq-1", Role: conference.RolePoint, PointID: "dinh-quan",
		Name: "Định Quán", Since: start, Instance: "test"}
	if _, err := st.WriteAttendance(ctx, store.AttendanceWrite{Conference: "quy-1",
		Event: store.JoinedEvent("e1", conn), Conn: &conn}); err != nil {
		t.Fatal(err)
	}
}

// checkZip checks that the zip of CSV files at path lists the point, its
// fields separated by sep.
func checkZip(t *testing.T, path string, sep rune) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open("diem-cau.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	buf.ReadFrom(f)
	if !strings.Contains(buf.String(), "Định Quán") {
		t.Errorf("diem-cau.csv lacks the point:\n%s", buf.String())
	}
	cr := csv.NewReader(&buf)
	cr.Comma = sep
	rows, err := cr.ReadAll()
	if err != nil || len(rows) != 2 || len(rows[1]) < 15 || rows[1][2] != "Định Quán" {
		t.Errorf("diem-cau.csv split at %q: %q, %v", sep, rows, err)
	}
}

func TestExportCommandEmbedded(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"HOINGHI_DATA_DIR": dir}[k] }
	st, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	seedExport(t, st)

	// While a server holds the data directory, the export says so.
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "out.zip")
	if code := run([]string{"export", "--conference", "quy-1", "--format", "csv", "-o", out}, getenv, &stdout, &stderr); code != 1 {
		t.Errorf("export of a locked store: exit %d, stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "is the server running") {
		t.Errorf("stderr %q does not explain the lock", stderr.String())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{args: []string{"--conference", "quy-1", "--format", "csv", "--separator", "comma", "-o", out + ".comma"}},
		{args: []string{"--conference", "quy-1", "--format", "csv", "-o", out}},
		{args: []string{"--format", "csv"}, code: 2, wantErr: "--conference"},
		{args: []string{"--conference", "quy-1", "--format", "docx"}, code: 2, wantErr: "--format"},
		{args: []string{"--conference", "quy-1", "--format", "csv", "--separator", "tab"}, code: 2, wantErr: "--separator: unknown CSV separator \"tab\""},
		{args: []string{"--conference", "nowhere", "-o", out}, code: 1, wantErr: "conference nowhere not found"},
	}
	for _, tt := range tests {
		stdout.Reset()
		stderr.Reset()
		code := run(append([]string{"export"}, tt.args...), getenv, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.wantErr) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.wantErr)
		}
	}
	checkZip(t, out, ';')
	checkZip(t, out+".comma", ',')

	// Without -o the file gets its standard name in the working directory.
	wd := t.TempDir()
	t.Chdir(wd)
	stderr.Reset()
	if code := run([]string{"export", "--conference", "quy-1", "--format", "pdf"}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(wd, "diem-danh-quy-1-20260315.pdf"))
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Errorf("default file: %v", err)
	}
	if code := run([]string{"export", "--conference", "quy-1", "--format", "csv", "--separator", ","}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	checkZip(t, filepath.Join(wd, "diem-danh-quy-1-20260315-csv.zip"), ',')
	// -o - writes to standard output.
	stdout.Reset()
	if code := run([]string{"export", "--conference", "quy-1", "--format", "xlsx", "-o", "-"}, getenv, &stdout, &stderr); code != 0 ||
		!bytes.HasPrefix(stdout.Bytes(), []byte("PK")) {
		t.Errorf("-o -: exit %d, %d bytes", code, stdout.Len())
	}
}

func TestRedisExportCommand(t *testing.T) {
	opts := storetest.RedisOptions(t)
	c, err := net.DialTimeout("tcp", opts.Addr, 2*time.Second)
	testenv.Need(t, "test Redis at "+opts.Addr, err)
	c.Close()
	t.Cleanup(func() {
		if err := storetest.DeletePrefix(opts); err != nil {
			t.Errorf("clean up test keys: %v", err)
		}
	})
	// The running server: its store stays open, with its data directory
	// (and attendance spool) locked, while the export reads Redis.
	dataDir := t.TempDir()
	opts.DataDir = dataDir
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedExport(t, st)
	getenv := func(k string) string {
		return map[string]string{
			"HOINGHI_DATA_DIR":       dataDir,
			"HOINGHI_REDIS_ADDR":     opts.Addr,
			"HOINGHI_REDIS_DB":       strconv.Itoa(opts.DB),
			"HOINGHI_REDIS_PASSWORD": opts.Password,
			"HOINGHI_REDIS_PREFIX":   opts.Prefix,
		}[k]
	}
	out := filepath.Join(t.TempDir(), "out.zip")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"export", "--conference", "quy-1", "--format", "csv", "-o", out}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	checkZip(t, out, ';')
}
