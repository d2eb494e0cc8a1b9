package contract

import (
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"hoinghi/docs"
)

// TestOpenAPIDocument checks docs/openapi.json against the OpenAPI 3.1
// specification's own schema, and that every response schema in it
// compiles.
func TestOpenAPIDocument(t *testing.T) {
	doc, err := libopenapi.NewDocument(docs.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s", se.Reason)
			}
		}
	}
	a := loadAPI(t)
	for path, item := range a.doc.Paths {
		for method, op := range item {
			for code, resp := range op.Responses {
				for ctype := range resp.Content {
					if !isJSON(ctype) || resp.Ref != "" {
						continue
					}
					if _, err := a.schema("/paths/" + escape(path) + "/" + method + "/responses/" + code + "/content/" + escape(ctype) + "/schema"); err != nil {
						t.Errorf("%s %s %s: %v", method, path, code, err)
					}
				}
			}
		}
	}
}

func loadAPI(t *testing.T) *API {
	t.Helper()
	a, err := LoadAPI(docs.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCheck(t *testing.T) {
	a := loadAPI(t)
	const json = "application/json; charset=utf-8"
	session := `{"conference_id":"demo","conference_title":"Hội nghị","role":"point","point_id":"bien-hoa","name":"Biên Hòa",` +
		`"time_zone":"Asia/Ho_Chi_Minh","expires_at":"2026-12-26T10:49:00Z","ice_servers":[]}`
	for _, tt := range []struct {
		name string
		r    Response
		want string // in the error; "" for none
	}{
		{"session", Response{"GET", "/api/session", 200, json, []byte(session)}, ""},
		{"HEAD answers as GET, without a body", Response{"HEAD", "/api/session", 200, json, nil}, ""},
		{"unknown field", Response{"GET", "/api/session", 200, json, []byte(strings.Replace(session, `"name"`, `"Name":"x","name"`, 1))}, "additional properties 'Name'"},
		{"zero time is still a time, a bad one is not", Response{"GET", "/api/session", 200, json, []byte(strings.Replace(session, "2026-12-26T10:49:00Z", "hôm qua", 1))}, "date-time"},
		{"missing field", Response{"GET", "/api/session", 200, json, []byte(strings.Replace(session, `"time_zone":"Asia/Ho_Chi_Minh",`, "", 1))}, "time_zone"},
		{"undocumented status", Response{"GET", "/api/session", 418, json, []byte(`{}`)}, "status 418 is not documented"},
		{"undocumented content type", Response{"GET", "/api/session", 200, "text/plain", []byte("ok")}, "text/plain is not documented"},
		{"documented error", Response{"GET", "/api/conferences/demo/links", 403, json,
			[]byte(`{"error":"forbidden","message":"…","message_en":"…","technician_phone":"0251"}`)}, ""},
		{"error code the route does not answer", Response{"GET", "/api/conferences/demo/links", 403, json,
			[]byte(`{"error":"bad_origin","message":"…","message_en":"…"}`)}, "/error"},
		{"no operation, not found", Response{"GET", "/api/no-such-thing", 404, json, []byte(`{"error":"not_found","message":"…","message_en":"…"}`)}, ""},
		{"no operation for the method", Response{"DELETE", "/api/session", 404, json, []byte(`{"error":"not_found","message":"…","message_en":"…"}`)}, ""},
		{"no operation, answered", Response{"GET", "/api/no-such-thing", 200, json, []byte(`{}`)}, "no operation"},
		{"a file", Response{"GET", "/api/conferences/demo/export", 200, "application/pdf", []byte("%PDF-1.4")}, ""},
		{"no content", Response{"DELETE", "/api/registry/dong-nai/points/x", 204, "", nil}, ""},
		{"a body where none is", Response{"DELETE", "/api/registry/dong-nai/points/x", 204, "", []byte("x")}, "no body"},
		{"not JSON", Response{"GET", "/api/session", 200, json, []byte("<html>")}, "not JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Check(tt.r)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("Check passed; want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Check: %v; want it to say %q", err, tt.want)
			}
		})
	}
}
