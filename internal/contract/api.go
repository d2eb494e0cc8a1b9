package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var english = message.NewPrinter(language.English)

// documentURL names the OpenAPI document among the schema resources, so
// that its "#/components/schemas/..." references resolve in it.
const documentURL = "https://hoinghi.invalid/openapi.json"

// API is an OpenAPI 3.1 document compiled to check HTTP responses
// against. It is safe for concurrent use.
type API struct {
	doc      document
	routes   *http.ServeMux // a pattern per operation; the handler names it
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema // by JSON pointer
}

// document is the part of an OpenAPI document the checks read.
type document struct {
	OpenAPI    string                                `json:"openapi"`
	RawPaths   map[string]map[string]json.RawMessage `json:"paths"`
	Paths      map[string]map[string]operation       `json:"-"` // the operations of RawPaths
	Components struct {
		Responses map[string]response `json:"responses"`
	} `json:"components"`
}

type operation struct {
	OperationID string              `json:"operationId"`
	Responses   map[string]response `json:"responses"`
}

type response struct {
	Ref     string                     `json:"$ref"`
	Content map[string]json.RawMessage `json:"content"`
}

// methods are the operations a path item may hold, in OpenAPI's names.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// routeKey is what the route mux hands back for a matched request.
type routeKey struct{ path, method string }

// NotFoundResponse is the response, in components/responses, that any
// request matching no operation of the document answers (a path under
// /api/ that the document does not list, or a method it does not list for
// the path).
const NotFoundResponse = "NotFound"

// LoadAPI parses an OpenAPI 3.1 document (docs.OpenAPI) for checking
// responses. It reports an error if the document is not JSON, is not
// OpenAPI 3.1, or has a path that is not a valid route pattern.
func LoadAPI(data []byte) (*API, error) {
	a := &API{routes: http.NewServeMux(), schemas: make(map[string]*jsonschema.Schema)}
	if err := json.Unmarshal(data, &a.doc); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	if !strings.HasPrefix(a.doc.OpenAPI, "3.1.") {
		return nil, fmt.Errorf("openapi document: version %q: want 3.1.x", a.doc.OpenAPI)
	}
	root, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	a.compiler = jsonschema.NewCompiler()
	a.compiler.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's dialect
	a.compiler.AssertFormat()                     // date-time, uri and the like are checked
	if err := a.compiler.AddResource(documentURL, root); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	a.doc.Paths = make(map[string]map[string]operation)
	for path, item := range a.doc.RawPaths {
		a.doc.Paths[path] = make(map[string]operation)
		for method, raw := range item {
			if !slices.Contains(methods, method) {
				continue // parameters, summary and the like
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi document: %s %s: %w", method, path, err)
			}
			a.doc.Paths[path][method] = op
			pattern := strings.ToUpper(method) + " " + path
			key := routeKey{path, method}
			if err := register(a.routes, pattern, key); err != nil {
				return nil, fmt.Errorf("openapi document: path %q: %w", path, err)
			}
		}
	}
	return a, nil
}

// register adds pattern to mux, turning its panic on a bad or clashing
// pattern into an error.
func register(mux *http.ServeMux, pattern string, key routeKey) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	mux.Handle(pattern, routeHandler(key))
	return nil
}

type routeHandler routeKey

func (routeHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// Operations returns the method and path of every operation of the
// document, as route patterns ("GET /api/session"), sorted.
func (a *API) Operations() []string {
	var out []string
	for path, item := range a.doc.Paths {
		for method := range item {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// Response is an HTTP response to check: the request's method and URL
// path, and the status, Content-Type and body answered.
type Response struct {
	Method      string
	Path        string
	Status      int
	ContentType string
	Body        []byte
}

// Check reports how r disagrees with the document: a request that matches
// no operation (unless it answers the NotFound response), a status the
// operation does not list, a content type the status does not list, or a
// JSON body its schema refuses (such as a field the schema does not
// know). A HEAD request's empty body is not checked.
func (a *API) Check(r Response) error {
	resp, where, err := a.response(r)
	if err != nil {
		return err
	}
	if len(resp.Content) == 0 {
		if len(r.Body) > 0 {
			return fmt.Errorf("%s: %d answers no body, got %d bytes", where, r.Status, len(r.Body))
		}
		return nil
	}
	ctype, _, err := mime.ParseMediaType(r.ContentType)
	if err != nil {
		return fmt.Errorf("%s: %d: Content-Type %q: %w", where, r.Status, r.ContentType, err)
	}
	if _, ok := resp.Content[ctype]; !ok {
		return fmt.Errorf("%s: %d: Content-Type %s is not documented (documented: %s)", where, r.Status, ctype,
			strings.Join(sortedKeys(resp.Content), ", "))
	}
	if !isJSON(ctype) || r.Method == http.MethodHead && len(r.Body) == 0 {
		return nil
	}
	var media struct {
		Schema json.RawMessage `json:"schema"`
	}
	if err := json.Unmarshal(resp.Content[ctype], &media); err != nil || len(media.Schema) == 0 {
		return fmt.Errorf("%s: %d %s has no schema", where, r.Status, ctype)
	}
	sch, err := a.schema(resp.pointer + "/content/" + escape(ctype) + "/schema")
	if err != nil {
		return err
	}
	body, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	if err != nil {
		return fmt.Errorf("%s: %d: body is not JSON: %w", where, r.Status, err)
	}
	if err := sch.Validate(body); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("%s: %d: body %s does not match the schema: %s", where, r.Status, abbreviate(r.Body), detail(ve))
		}
		return fmt.Errorf("%s: %d: %w", where, r.Status, err)
	}
	return nil
}

// located is a response of the document with the JSON pointer it is at.
type located struct {
	response
	pointer string
}

// response finds the documented response to r and says where it is, as
// "GET /api/session".
func (a *API) response(r Response) (located, string, error) {
	req := &http.Request{Method: r.Method, URL: &url.URL{Path: r.Path}, Host: "hoinghi.invalid"}
	if r.Method == http.MethodHead {
		req.Method = http.MethodGet // a GET operation answers HEAD too
	}
	h, _ := a.routes.Handler(req)
	key, ok := h.(routeHandler)
	if !ok {
		where := r.Method + " " + r.Path
		if r.Status != http.StatusNotFound {
			return located{}, where, fmt.Errorf("%s: no operation of the document matches (answered %d)", where, r.Status)
		}
		resp, err := a.component(NotFoundResponse)
		return resp, where + " (no operation: " + NotFoundResponse + ")", err
	}
	where := strings.ToUpper(key.method) + " " + key.path
	op := a.doc.Paths[key.path][key.method]
	code := strconv.Itoa(r.Status)
	resp, ok := op.Responses[code]
	if !ok {
		return located{}, where, fmt.Errorf("%s: status %d is not documented (documented: %s)", where, r.Status,
			strings.Join(sortedKeys(op.Responses), ", "))
	}
	l := located{resp, "/paths/" + escape(key.path) + "/" + key.method + "/responses/" + code}
	if resp.Ref != "" {
		name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/")
		if !ok {
			return located{}, where, fmt.Errorf("%s: %d: $ref %q: want #/components/responses/NAME", where, r.Status, resp.Ref)
		}
		c, err := a.component(name)
		if err != nil {
			return located{}, where, fmt.Errorf("%s: %d: %w", where, r.Status, err)
		}
		l = c
	}
	return l, where, nil
}

func (a *API) component(name string) (located, error) {
	resp, ok := a.doc.Components.Responses[name]
	if !ok {
		return located{}, fmt.Errorf("no response %q in components", name)
	}
	return located{resp, "/components/responses/" + escape(name)}, nil
}

// schema compiles the schema at pointer in the document, once.
func (a *API) schema(pointer string) (*jsonschema.Schema, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.schemas[pointer]; ok {
		return s, nil
	}
	s, err := a.compiler.Compile(documentURL + "#" + (&url.URL{Fragment: pointer}).EscapedFragment())
	if err != nil {
		return nil, fmt.Errorf("openapi document: schema at %s: %w", pointer, err)
	}
	a.schemas[pointer] = s
	return s, nil
}

// escape writes s as one token of a JSON pointer (RFC 6901).
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func isJSON(ctype string) bool {
	return ctype == "application/json" || strings.HasSuffix(ctype, "+json")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// detail lists the innermost causes of a validation error, each with the
// place in the body it concerns.
func detail(ve *jsonschema.ValidationError) string {
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, "at /"+strings.Join(e.InstanceLocation, "/")+": "+e.ErrorKind.LocalizedString(english))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(out, "; ")
}

// abbreviate returns body as text, shortened to a few hundred bytes.
func abbreviate(body []byte) string {
	const max = 300
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// Handler returns h with every response to a path under /api/ checked
// against a as it is sent; each disagreement goes to report, from the
// goroutine that served the request. Other paths (pages, /ws, /metrics)
// pass unchecked and untouched.
func (a *API) Handler(h http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		err := a.Check(Response{Method: r.Method, Path: r.URL.Path, Status: rec.status,
			ContentType: w.Header().Get("Content-Type"), Body: rec.body.Bytes()})
		if err != nil {
			report(err)
		}
	})
}

// recorder passes a response on and keeps its status and body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
