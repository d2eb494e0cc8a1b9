package server

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"mime"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
)

func TestExport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	conn := store.Connection{ParticipantID: "bh-1", Role: conference.RolePoint, PointID: "bien-hoa",
		Name: "Điểm cầu TP. Biên Hòa", Since: start.Add(-10 * time.Minute), Instance: "test"}
	writes := []store.AttendanceWrite{
		{Event: store.JoinedEvent("e1", conn), Conn: &conn},
		{Event: conference.AttendanceEvent{ID: "e2", Kind: conference.CheckedIn, At: start.Add(-9 * time.Minute),
			PointID: "bien-hoa", Delegates: 37, By: "bh-1"}},
		{Event: conference.AttendanceEvent{ID: "e3", Kind: conference.ConferenceStarted, At: start, By: "tech"}},
		{Event: store.LeftEvent("e4", conn, conference.LeftClosed, start.Add(30*time.Minute)), Conn: &conn},
	}
	for _, w := range writes {
		w.Conference = "demo"
		if _, err := f.st.WriteAttendance(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	const day = 24 * time.Hour
	secretariat := f.token(t, f.iss, "demo", conference.RoleSecretariat, "", day)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", day)
	chair := f.token(t, f.iss, "demo", conference.RoleChair, "", day)
	point := f.token(t, f.iss, "demo", conference.RolePoint, "bien-hoa", day)
	other := f.token(t, f.iss, "other", conference.RoleSecretariat, "", day)
	date := start.In(mustLoad(t, conference.DefaultTimeZone)).Format("20060102")

	tests := []struct {
		name, query, token string
		status             int
		code               string
		contentType        string
		filename           string
		magic              string
	}{
		{"xlsx by the secretariat", "?format=xlsx", secretariat, 200, "",
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "diem-danh-demo-" + date + ".xlsx", "PK"},
		{"xlsx by default", "", tech, 200, "",
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "diem-danh-demo-" + date + ".xlsx", "PK"},
		{"csv", "?format=csv", tech, 200, "", "application/zip", "diem-danh-demo-" + date + "-csv.zip", "PK"},
		{"csv with commas", "?format=csv&separator=comma", secretariat, 200, "", "application/zip", "diem-danh-demo-" + date + "-csv.zip", "PK"},
		{"csv with semicolons", "?format=csv&separator=%3B", secretariat, 200, "", "application/zip", "diem-danh-demo-" + date + "-csv.zip", "PK"},
		{"unknown separator", "?format=csv&separator=tab", secretariat, 400, CodeBadSeparator, "", "", ""},
		{"unknown separator with xlsx", "?format=xlsx&separator=%7C", secretariat, 400, CodeBadSeparator, "", "", ""},
		{"pdf", "?format=PDF", secretariat, 200, "", "application/pdf", "diem-danh-demo-" + date + ".pdf", "%PDF-"},
		{"unknown format", "?format=docx", secretariat, 400, CodeBadFormat, "", "", ""},
		{"chair", "?format=xlsx", chair, 403, CodeForbidden, "", "", ""},
		{"point", "?format=xlsx", point, 403, CodeForbidden, "", "", ""},
		{"other conference", "?format=xlsx", other, 403, CodeWrongConference, "", "", ""},
		{"no token", "?format=xlsx", "", 401, CodeTokenMissing, "", "", ""},
	}
	t.Run("live report as JSON", func(t *testing.T) {
		for _, tok := range []string{secretariat, tech, chair} {
			res := f.do(t, "GET", "/api/conferences/demo/report", tok, "")
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			var rep conference.Report
			if err := json.Unmarshal(res.body, &rep); err != nil {
				t.Fatal(err)
			}
			p := rep.Points[0]
			if p.Point.ID != "bien-hoa" || p.Delegates != 37 || len(p.Stays) != 1 || rep.ActualStart.IsZero() {
				t.Errorf("report point = %+v, actual start %v", p, rep.ActualStart)
			}
		}
		if res := f.do(t, "GET", "/api/conferences/demo/report", point, ""); res.status != 403 {
			t.Errorf("a point read the report: status %d", res.status)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, "GET", "/api/conferences/demo/export"+tt.query, tt.token, "")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status != 200 {
				if e := res.apiError(t); e.Code != tt.code {
					t.Errorf("error %q, want %q", e.Code, tt.code)
				}
				return
			}
			if got := res.header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			disp, params, err := mime.ParseMediaType(res.header.Get("Content-Disposition"))
			if err != nil || disp != "attachment" || params["filename"] != tt.filename {
				t.Errorf("Content-Disposition %q, want attachment; filename=%s", res.header.Get("Content-Disposition"), tt.filename)
			}
			if !bytes.HasPrefix(res.body, []byte(tt.magic)) {
				t.Errorf("body starts %q, want %q", res.body[:min(len(res.body), 8)], tt.magic)
			}
		})
	}

	// The CSV files are split at the separator asked for, ';' by default.
	for _, tc := range []struct {
		query string
		comma rune
	}{
		{"?format=csv", ';'}, {"?format=csv&separator=semicolon", ';'}, {"?format=csv&separator=comma", ','}, {"?format=csv&separator=,", ','},
	} {
		res := f.do(t, "GET", "/api/conferences/demo/export"+tc.query, secretariat, "")
		if res.status != 200 {
			t.Fatalf("%s: status %d: %s", tc.query, res.status, res.body)
		}
		zr, err := zip.NewReader(bytes.NewReader(res.body), int64(len(res.body)))
		if err != nil {
			t.Fatal(err)
		}
		file, err := zr.Open("diem-cau.csv")
		if err != nil {
			t.Fatal(err)
		}
		cr := csv.NewReader(file)
		cr.Comma = tc.comma
		rows, err := cr.ReadAll()
		file.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if len(rows) < 2 || len(rows[0]) < 15 || rows[1][1] != "bien-hoa" || rows[1][13] != "37" {
			t.Errorf("%s: split at %q: %q", tc.query, tc.comma, rows)
		}
	}

	// The workbook holds what was recorded.
	res := f.do(t, "GET", "/api/conferences/demo/export?format=xlsx", secretariat, "")
	wb, err := excelize.OpenReader(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, err := wb.GetRows("Điểm cầu")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 2 && r[1] == "bien-hoa" })
	if i < 0 {
		t.Fatalf("no row for bien-hoa in %q", rows)
	}
	row := rows[i]
	if row[2] != "Điểm cầu TP. Biên Hòa" || row[5] != "Về sớm" || row[8] != "0:30:00" || row[13] != "37" {
		t.Errorf("bien-hoa row %q", row)
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestExportOrganizer sets the conference's organizing unit through the
// API, as the admin page does, and finds it in the export.
func TestExportOrganizer(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	const organizer = "Văn phòng Tỉnh ủy Đồng Nai"
	if res := f.do(t, "PUT", "/api/conferences/demo", tech, `{"title":"Hội nghị thử nghiệm","organizer":"`+organizer+`"}`); res.status != 200 {
		t.Fatalf("put: status %d: %s", res.status, res.body)
	}
	c, err := f.st.Conference(context.Background(), "demo")
	if err != nil || c.Organizer != organizer {
		t.Fatalf("stored organizer %q, %v", c.Organizer, err)
	}
	res := f.do(t, "GET", "/api/conferences/demo/export?format=xlsx", tech, "")
	wb, err := excelize.OpenReader(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, err := wb.GetRows("Tổng hợp")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rows, func(r []string) bool { return len(r) == 2 && r[0] == "Đơn vị tổ chức" && r[1] == organizer }) {
		t.Errorf("summary lacks the organizer: %q", rows)
	}
}
