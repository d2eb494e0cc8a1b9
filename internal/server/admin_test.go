package server

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"hoinghi/internal/conference"
	"hoinghi/internal/store"
)

// doBody sends a request with a body of the given content type.
func (f *fixture) doBody(t *testing.T, method, path, tok, ctype string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.body, err)
	}
	return v
}

// registryCSV is a province's points as a technician might type them in a
// spreadsheet: Vietnamese headers, a row number, no ids.
const registryCSV = "STT,Tên điểm cầu,Quận/Huyện,Người đại diện,Số điện thoại,Số đại biểu dự kiến\n" +
	"1,Điểm cầu TP. Biên Hòa,Thành phố Biên Hòa,Nguyễn Văn Hùng,0912 345 601,40\n" +
	"2,Điểm cầu huyện Long Thành,Huyện Long Thành,\"Trần Thị Mai, Phó Chủ tịch\",0913 456 702,25\n" +
	"\n" +
	"3,Điểm cầu huyện Định Quán,Huyện Định Quán,,,\n"

var wantRegistry = []conference.Point{
	{ID: "diem-cau-tp-bien-hoa", Name: "Điểm cầu TP. Biên Hòa", District: "Thành phố Biên Hòa", Representative: "Nguyễn Văn Hùng", Phone: "0912 345 601", ExpectedDelegates: 40},
	{ID: "diem-cau-huyen-long-thanh", Name: "Điểm cầu huyện Long Thành", District: "Huyện Long Thành", Representative: "Trần Thị Mai, Phó Chủ tịch", Phone: "0913 456 702", ExpectedDelegates: 25},
	{ID: "diem-cau-huyen-dinh-quan", Name: "Điểm cầu huyện Định Quán", District: "Huyện Định Quán"},
}

func xlsxOf(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRegistryImport(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	semicolons := strings.ReplaceAll(strings.ReplaceAll(registryCSV, ",", ";"), "Mai; Phó", "Mai, Phó")
	xlsx := xlsxOf(t, [][]any{
		{"STT", "Tên điểm cầu", "Quận/Huyện", "Người đại diện", "Số điện thoại", "Số đại biểu dự kiến"},
		{1, "Điểm cầu TP. Biên Hòa", "Thành phố Biên Hòa", "Nguyễn Văn Hùng", "0912 345 601", 40},
		{2, "Điểm cầu huyện Long Thành", "Huyện Long Thành", "Trần Thị Mai, Phó Chủ tịch", "0913 456 702", 25},
		{},
		{3, "Điểm cầu huyện Định Quán", "Huyện Định Quán"},
	})
	tests := []struct {
		name  string
		ctype string
		body  []byte
	}{
		{"csv", "text/csv", []byte(registryCSV)},
		{"csv with bom", "text/csv; charset=utf-8", append([]byte("\ufeff"), registryCSV...)},
		{"csv with semicolons", "text/csv", []byte(semicolons)},
		{"csv with crlf", "text/csv", []byte(strings.ReplaceAll(registryCSV, "\n", "\r\n"))},
		{"xlsx", contentTypeXLSX, xlsx},
		{"xlsx as octet-stream", "application/octet-stream", xlsx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov := "p-" + strings.ReplaceAll(tt.name, " ", "-")
			res := f.doBody(t, "POST", "/api/registry/"+prov+"/import", tech, tt.ctype, tt.body)
			if res.status != 200 {
				t.Fatalf("import: %d %s", res.status, res.body)
			}
			got := decode[Imported](t, res)
			if got.Created != 3 || !slices.Equal(got.Points, wantRegistry) {
				t.Errorf("imported %+v\nwant %+v", got, wantRegistry)
			}
			// Importing again updates, and creates nothing.
			again := decode[Imported](t, f.doBody(t, "POST", "/api/registry/"+prov+"/import", tech, tt.ctype, tt.body))
			if again.Created != 0 || again.Updated != 3 {
				t.Errorf("second import: %+v; want 3 updated", again.ImportResult)
			}
		})
	}
}

func TestRegistryRoundTrip(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	if res := f.doBody(t, "POST", "/api/registry/dong-nai/import", tech, "text/csv", []byte(registryCSV)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	for _, format := range []string{"csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			res := f.do(t, "GET", "/api/registry/dong-nai/export?format="+format, tech, "")
			if res.status != 200 {
				t.Fatalf("export: %d %s", res.status, res.body)
			}
			if cd := res.header.Get("Content-Disposition"); !strings.Contains(cd, "diem-cau-dong-nai."+format) {
				t.Errorf("Content-Disposition = %q", cd)
			}
			if format == "csv" && !bytes.HasPrefix(res.body, []byte("\ufeffMã,Tên điểm cầu")) {
				t.Errorf("csv starts %q; want a BOM and Vietnamese headers", res.body[:min(40, len(res.body))])
			}
			ctype, _, _ := strings.Cut(res.header.Get("Content-Type"), ";")
			back := f.doBody(t, "POST", "/api/registry/copy-"+format+"/import", tech, ctype, res.body)
			if back.status != 200 {
				t.Fatalf("import of the export: %d %s", back.status, back.body)
			}
			if got := decode[Imported](t, back).Points; !slices.Equal(got, wantRegistry) {
				t.Errorf("round trip gives %+v\nwant %+v", got, wantRegistry)
			}
		})
	}
	// Without a format the export is XLSX, as documented; an unknown
	// format is bad_format, as for the attendance export.
	if res := f.do(t, "GET", "/api/registry/dong-nai/export", tech, ""); res.status != 200 || res.header.Get("Content-Type") != contentTypeXLSX {
		t.Errorf("export without a format: %d %q", res.status, res.header.Get("Content-Type"))
	}
	if res := f.do(t, "GET", "/api/registry/dong-nai/export?format=pdf", tech, ""); res.status != 400 || !strings.Contains(string(res.body), `"error":"bad_format"`) {
		t.Errorf("export as pdf: %d %s; want 400 bad_format", res.status, res.body)
	}
	res := f.do(t, "GET", "/api/registry", tech, "")
	if provs := decode[[]string](t, res); !slices.Equal(provs, []string{"copy-csv", "copy-xlsx", "dong-nai"}) {
		t.Errorf("provinces = %v", provs)
	}
}

func TestRegistryImportRefusals(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	if res := f.doBody(t, "POST", "/api/registry/dong-nai/import", tech, "text/csv", []byte(registryCSV)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	head := "Mã,Tên điểm cầu,Số đại biểu dự kiến\n"
	tests := []struct {
		name  string
		ctype string
		body  []byte
		code  string
		want  string // in the English message
	}{
		{"latin-1", "text/csv", []byte("Tên,x\nBi\xean H\xf2a,1\n"), CodeBadFile, "not UTF-8"},
		{"utf-16", "text/csv", []byte("\xff\xfeT\x00"), CodeBadFile, "UTF-16"},
		{"empty", "text/csv", []byte("\n\n"), CodeBadFile, "empty"},
		{"header only", "text/csv", []byte(head), CodeBadFile, "no points"},
		{"no name column", "text/csv", []byte("Mã,Quận/huyện\nx,y\n"), CodeBadFile, "no \"name\""},
		{"row without name", "text/csv", []byte(head + "a,Điểm A,1\nb,,2\n"), CodeBadFile, "row 3: the point has no name"},
		{"bad delegates", "text/csv", []byte(head + "a,Điểm A,nhiều\n"), CodeBadFile, "row 2: expected delegates"},
		{"negative delegates", "text/csv", []byte(head + "a,Điểm A,-3\n"), CodeBadFile, "row 2"},
		{"bad id", "text/csv", []byte(head + "Điểm A,Điểm A,1\n"), CodeBadFile, "row 2: id"},
		{"repeated id", "text/csv", []byte(head + "a,Điểm A,1\nb,Điểm B,1\na,Điểm C,1\n"), CodeBadFile, "row 4: id \"a\" repeats row 2"},
		{"unbalanced quote", "text/csv", []byte(head + "a,\"Điểm A,1\n"), CodeBadFile, "malformed CSV"},
		{"xlsx sent as csv", "text/csv", xlsxOf(t, [][]any{{"Tên"}, {"A"}}), CodeBadFile, "XLSX"},
		{"garbage xlsx", contentTypeXLSX, []byte("PK\x03\x04 not really"), CodeBadFile, "cannot open the XLSX"},
		{"xlsx row without name", contentTypeXLSX, xlsxOf(t, [][]any{{"Tên điểm cầu", "Đại biểu"}, {"A", 3}, {nil, 4}}), CodeBadFile, "row 3"},
		{"json", "application/json", []byte(`[{"name":"x"}]`), CodeBadBody, "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.doBody(t, "POST", "/api/registry/dong-nai/import?mode=replace", tech, tt.ctype, tt.body)
			if res.status != 400 {
				t.Fatalf("status %d %s; want 400", res.status, res.body)
			}
			e := res.apiError(t)
			if e.Code != tt.code || !strings.Contains(e.MessageEN, tt.want) || e.Message == "" {
				t.Errorf("refusal %+v; want %s mentioning %q", e, tt.code, tt.want)
			}
			got := decode[[]conference.Point](t, f.do(t, "GET", "/api/registry/dong-nai/points", tech, ""))
			if !slices.Equal(got, wantRegistry) {
				t.Errorf("after a refused import the registry is %+v", got)
			}
		})
	}
}

func TestRegistryPointsAPI(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	if res := f.do(t, "PUT", "/api/registry/dong-nai/points/bien-hoa", tech, `{"name":"Điểm cầu TP. Biên Hòa","expected_delegates":40}`); res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	if res := f.do(t, "PUT", "/api/registry/dong-nai/points/bien-hoa", tech, `{"name":"Điểm cầu thành phố Biên Hòa"}`); res.status != 200 {
		t.Fatalf("update: %d %s", res.status, res.body)
	}
	if res := f.do(t, "PUT", "/api/registry/dong-nai/points/bien-hoa", tech, `{"id":"x","name":"y"}`); res.status != 400 {
		t.Errorf("id mismatch: %d", res.status)
	}
	got := decode[[]conference.Point](t, f.do(t, "GET", "/api/registry/dong-nai/points", tech, ""))
	if len(got) != 1 || got[0].Name != "Điểm cầu thành phố Biên Hòa" {
		t.Errorf("registry = %+v", got)
	}
	if res := f.do(t, "DELETE", "/api/registry/dong-nai/points/bien-hoa", tech, ""); res.status != 204 {
		t.Errorf("delete: %d %s", res.status, res.body)
	}
	if res := f.do(t, "DELETE", "/api/registry/dong-nai/points/bien-hoa", tech, ""); res.status != 404 {
		t.Errorf("delete again: %d %s", res.status, res.body)
	}
	if res := f.do(t, "GET", "/api/registry/Dong_Nai/points", tech, ""); res.status != 400 {
		t.Errorf("bad province: %d", res.status)
	}
	// Any technician token admits the registry; other roles do not.
	other := f.token(t, f.iss, "demo", conference.RoleChair, "", time.Hour)
	if res := f.do(t, "GET", "/api/registry/dong-nai/points", other, ""); res.status != 403 {
		t.Errorf("chair: %d", res.status)
	}
}

func TestConferencesAPI(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	res := f.do(t, "POST", "/api/conferences", tech, `{"id":"so-ket-2026","title":"Hội nghị sơ kết 6 tháng","default_speaking_time":420,"grace_period":30,"technician_phone":"0251 3822 999"}`)
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	created := decode[CreatedConference](t, res)
	if created.TimeZone != conference.DefaultTimeZone || created.CreatedAt.IsZero() || created.DefaultSpeakingTime != conference.Seconds(7*time.Minute) {
		t.Errorf("created = %+v", created)
	}
	// The technician link of the new conference admits it.
	newTech := created.TechnicianURL[strings.Index(created.TechnicianURL, "?t=")+3:]
	if res := f.do(t, "GET", "/api/conferences/so-ket-2026/status", newTech, ""); res.status != 200 {
		t.Errorf("status with the new link: %d %s", res.status, res.body)
	}
	if res := f.do(t, "POST", "/api/conferences", tech, `{"id":"so-ket-2026","title":"x"}`); res.status != 409 || res.apiError(t).Code != CodeExists {
		t.Errorf("create twice: %d %s", res.status, res.body)
	}
	if res := f.do(t, "POST", "/api/conferences", tech, `{"id":"Bad Id","title":"x"}`); res.status != 400 {
		t.Errorf("bad id: %d", res.status)
	}
	list := decode[[]store.ConferenceOverview](t, f.do(t, "GET", "/api/conferences", tech, ""))
	if len(list) != 2 || list[0].ID != "demo" || list[0].Points != 3 || list[1].Status != store.StatusDraft {
		t.Errorf("list = %+v", list)
	}

	steps := []struct {
		name   string
		body   string
		status int
		code   string
		want   store.Status
	}{
		{"start is not a status", `{"status":"running"}`, 400, CodeBadBody, ""},
		{"unknown status", `{"status":"paused"}`, 400, CodeBadBody, ""},
		{"schedule without time", `{"status":"scheduled"}`, 400, CodeBadBody, ""},
		{"time without scheduling", `{"status":"testing","scheduled_start":"2026-12-01T01:00:00Z"}`, 400, CodeBadBody, ""},
		{"schedule", `{"status":"scheduled","scheduled_start":"2026-12-01T01:00:00Z"}`, 200, "", store.StatusScheduled},
		{"open for testing", `{"status":"testing"}`, 200, "", store.StatusTesting},
		{"archive", `{"status":"archived"}`, 200, "", store.StatusArchived},
		{"archived is final", `{"status":"testing"}`, 409, CodeConflict, ""},
		{"reschedule archived", `{"status":"scheduled","scheduled_start":"2026-12-02T01:00:00Z"}`, 409, CodeConflict, ""},
	}
	for _, st := range steps {
		res := f.do(t, "POST", "/api/conferences/so-ket-2026/status", newTech, st.body)
		if res.status != st.status {
			t.Errorf("%s: %d %s; want %d", st.name, res.status, res.body, st.status)
			continue
		}
		if st.code != "" {
			if e := res.apiError(t); e.Code != st.code {
				t.Errorf("%s: code %s; want %s", st.name, e.Code, st.code)
			}
			continue
		}
		if got := decode[StatusChanged](t, res); got.Status != st.want {
			t.Errorf("%s: %+v; want %s", st.name, got, st.want)
		}
	}
	c, err := f.st.Conference(t.Context(), "so-ket-2026")
	if err != nil || !c.ScheduledStart.Equal(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled start = %v, %v", c.ScheduledStart, err)
	}
	// A conference's status is changed by its own technician only.
	if res := f.do(t, "POST", "/api/conferences/so-ket-2026/status", tech, `{"status":"testing"}`); res.status != 403 {
		t.Errorf("another conference's technician: %d", res.status)
	}
}

func TestInviteLinksSheetQR(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	if res := f.doBody(t, "POST", "/api/registry/dong-nai/import", tech, "text/csv", []byte(registryCSV)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	refusals := []struct{ name, body string }{
		{"unknown point", `{"province":"dong-nai","points":["vung-tau"]}`},
		{"empty province", `{"province":"khanh-hoa"}`},
		{"bad province", `{"province":"Đồng Nai"}`},
	}
	for _, tt := range refusals {
		if res := f.do(t, "POST", "/api/conferences/demo/invite", tech, tt.body); res.status != 400 {
			t.Errorf("%s: %d %s", tt.name, res.status, res.body)
		}
	}
	res := f.do(t, "POST", "/api/conferences/demo/invite", tech,
		`{"province":"dong-nai","points":["diem-cau-huyen-dinh-quan","diem-cau-tp-bien-hoa"]}`)
	if res.status != 200 {
		t.Fatalf("invite: %d %s", res.status, res.body)
	}
	inv := decode[Invited](t, res)
	if inv.Added != 2 || len(inv.Points) != 5 || inv.Points[3].ID != "diem-cau-huyen-dinh-quan" {
		t.Errorf("invited = %+v", inv)
	}

	links := decode[[]Link](t, f.do(t, "GET", "/api/conferences/demo/links", tech, ""))
	again := decode[[]Link](t, f.do(t, "GET", "/api/conferences/demo/links", tech, ""))
	if len(links) != 10 || len(again) != 10 {
		t.Fatalf("links: %d then %d; want 3 hall, 5 points, the ingest and a viewer", len(links), len(again))
	}
	links = links[:8] // the points' and the hall's
	for i := 3; i < 8; i++ {
		if links[i].URL != again[i].URL || links[i].PointID != inv.Points[i-3].ID {
			t.Errorf("point link %d changes between calls or is out of order: %+v, %+v", i, links[i], again[i])
		}
	}

	sheet := f.do(t, "GET", "/api/conferences/demo/links/sheet?t="+tech, "", "")
	if sheet.status != 200 || !strings.HasPrefix(sheet.header.Get("Content-Type"), "text/html") {
		t.Fatalf("sheet: %d %s", sheet.status, sheet.header.Get("Content-Type"))
	}
	html := string(sheet.body)
	for _, l := range links[3:] {
		if !strings.Contains(html, `data-point="`+l.PointID+`"`) || !strings.Contains(html, l.Name) {
			t.Errorf("sheet lacks point %s", l.PointID)
		}
		if !strings.Contains(html, strings.ReplaceAll(l.URL, "&", "&amp;")) {
			t.Errorf("sheet lacks the link of %s", l.PointID)
		}
	}
	if n := strings.Count(html, `src="data:image/png;base64,`); n != 5 {
		t.Errorf("sheet has %d QR codes; want 5", n)
	}

	sizes := []struct {
		query  string
		status int
		size   int
	}{
		{"", 200, DefaultQRSize},
		{"?size=512", 200, 512},
		{"?size=20", 400, 0},
		{"?size=big", 400, 0},
	}
	for _, tt := range sizes {
		res := f.do(t, "GET", "/api/conferences/demo/links/bien-hoa/qr.png"+tt.query, tech, "")
		if res.status != tt.status {
			t.Errorf("qr%s: %d %s", tt.query, res.status, res.body)
			continue
		}
		if tt.status != 200 {
			continue
		}
		if ct := res.header.Get("Content-Type"); ct != "image/png" {
			t.Errorf("qr Content-Type = %q", ct)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(res.body))
		if err != nil || cfg.Width != tt.size || cfg.Height != tt.size {
			t.Errorf("qr%s: %dx%d, %v; want %d px square", tt.query, cfg.Width, cfg.Height, err, tt.size)
		}
	}
	if res := f.do(t, "GET", "/api/conferences/demo/links/vung-tau/qr.png", tech, ""); res.status != 404 {
		t.Errorf("qr of a point not invited: %d", res.status)
	}
}

func TestReissueRefusesTheOldLink(t *testing.T) {
	f := newFixture(t)
	tech := f.token(t, f.iss, "demo", conference.RoleTechnician, "", time.Hour)
	old := f.token(t, f.iss, "demo", conference.RolePoint, "long-thanh", time.Hour) // without a version
	if res := f.do(t, "GET", "/api/session", old, ""); res.status != 200 {
		t.Fatalf("old link before the reissue: %d %s", res.status, res.body)
	}
	res := f.do(t, "POST", "/api/conferences/demo/links/long-thanh/reissue", tech, "")
	if res.status != 200 {
		t.Fatalf("reissue: %d %s", res.status, res.body)
	}
	re := decode[Reissued](t, res)
	if re.Version != 1 || re.PointID != "long-thanh" || re.Closed != 0 {
		t.Errorf("reissued = %+v", re)
	}
	for _, path := range []string{"/api/session", "/ws"} {
		res := f.do(t, "GET", path, old, "")
		if e := res.apiError(t); res.status != 401 || e.Code != CodeLinkRevoked || e.TechnicianPhone == "" {
			t.Errorf("%s with the old link: %d %+v; want 401 %s with the phone", path, res.status, e, CodeLinkRevoked)
		}
	}
	newTok := re.URL[strings.Index(re.URL, "?t=")+3:]
	if res := f.do(t, "GET", "/api/session?t="+newTok, "", ""); res.status != 200 {
		t.Errorf("new link: %d %s", res.status, res.body)
	}
	// Other points keep their links; a second reissue revokes the first.
	if res := f.do(t, "GET", "/api/session", f.token(t, f.iss, "demo", conference.RolePoint, "bien-hoa", time.Hour), ""); res.status != 200 {
		t.Errorf("another point: %d", res.status)
	}
	f.do(t, "POST", "/api/conferences/demo/links/long-thanh/reissue", tech, "")
	if res := f.do(t, "GET", "/api/session?t="+newTok, "", ""); res.status != 401 {
		t.Errorf("first reissued link after a second reissue: %d", res.status)
	}
	if res := f.do(t, "POST", "/api/conferences/demo/links/vung-tau/reissue", tech, ""); res.status != 404 {
		t.Errorf("reissue for a point not invited: %d", res.status)
	}
	log, err := f.st.AuditLog(t.Context(), "demo")
	if err != nil || len(log) != 2 || log[0].Action != "link_reissued" || log[0].Target != "long-thanh" {
		t.Errorf("audit log = %+v, %v", log, err)
	}
	res = f.do(t, "GET", "/api/conferences/demo/audit", tech, "")
	var served []store.AuditEntry
	if err := json.Unmarshal(res.body, &served); res.status != 200 || err != nil || len(served) != 2 || served[1].Target != "long-thanh" {
		t.Errorf("GET audit = %d %s", res.status, res.body)
	}
}

func TestPointsFileHeaders(t *testing.T) {
	tests := []struct {
		header string
		want   string
	}{
		{"Tên điểm cầu", "ten diem cau"},
		{"  Quận/Huyện ", "quan huyen"},
		{"SỐ ĐẠI BIỂU DỰ KIẾN", "so dai bieu du kien"},
		{"expected_delegates", "expected delegates"},
		{"Người đại diện", "nguoi dai dien"},
	}
	for _, tt := range tests {
		if got := foldHeader(tt.header); got != tt.want {
			t.Errorf("foldHeader(%q) = %q; want %q", tt.header, got, tt.want)
		}
	}
	if got := slugID("Điểm cầu xã Đắk Lua, huyện Tân Phú"); got != "diem-cau-xa-dak-lua-huyen-tan-phu" {
		t.Errorf("slugID = %q", got)
	}
}
