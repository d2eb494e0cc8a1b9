package contract

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hoinghi/docs"
)

// update rewrites the generated section of docs/protocol.md:
//
//	go test ./internal/contract -run TestMessageReference -update
var update = flag.Bool("update", false, "rewrite the message reference in docs/protocol.md from the schema")

const protocolDoc = "../../docs/protocol.md"

// The markers around the generated message reference in docs/protocol.md.
const (
	refBegin = "<!-- message reference: generated from docs/schema/signaling.json by TestMessageReference (internal/contract); do not edit, run: go test ./internal/contract -run TestMessageReference -update -->"
	refEnd   = "<!-- end of message reference -->"
)

// propOrder returns, for each $defs entry of the signaling schema, its
// property names in the order the schema lists them: its own, then those
// of the definitions of its allOf.
func propOrder(t *testing.T, schema schemaDoc) map[string][]string {
	t.Helper()
	raw, err := fs.ReadFile(docs.Schemas, SignalingSchema)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs map[string]struct {
			Properties json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	own := map[string][]string{}
	for name, def := range doc.Defs {
		if len(def.Properties) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(def.Properties))
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				t.Fatal(err)
			}
			own[name] = append(own[name], key.(string))
		}
	}
	out := map[string][]string{}
	for name := range schema.defs {
		keys := slices.Clone(own[name])
		for _, sub := range asList(schema.defs[name]["allOf"]) {
			if ref, ok := refName(sub.(map[string]any)); ok {
				keys = append(keys, own[ref]...)
			}
		}
		out[name] = keys
	}
	return out
}

// messageReference renders the signaling schema as the section "Message
// reference" of docs/protocol.md, markers included.
func messageReference(t *testing.T, schema schemaDoc) string {
	t.Helper()
	order := propOrder(t, schema)
	var b strings.Builder
	b.WriteString(refBegin + "\n\n")
	b.WriteString("## Message reference\n\n")
	b.WriteString("Every signaling message and its fields, as the JSON Schema [schema/signaling.json](schema/signaling.json) " +
		"(draft 2020-12) defines them: `$defs/client_message` is any message a client may send, `$defs/server_message` " +
		"any message the server sends, and each message is defined alone under `$defs` by its `type`. " +
		"The schema is the contract, and the server's tests check every message the server sends, and every one it " +
		"accepts from the pages and the Go client, against it. A field not listed is not part of the protocol: the server " +
		"ignores one it receives and never sends one. *Required* fields are always present; an optional one that is " +
		"absent means what its description says. Times are RFC 3339 strings in UTC; a time that does not apply is " +
		"absent, never the zero time.\n")
	parts := map[string]bool{}
	for _, sec := range []struct {
		title string
		dir   Direction
	}{{"Client to server", ClientToServer}, {"Server to client", ServerToClient}} {
		fmt.Fprintf(&b, "\n### %s\n", sec.title)
		for _, typ := range schema.types[sec.dir] {
			writeObject(&b, schema, order, typ, parts)
		}
	}
	b.WriteString("\n### Parts\n\nThe parts of messages the tables above refer to.\n")
	// Every part any message refers to, and those they refer to, by name.
	var names []string
	for len(names) < len(parts) {
		names = names[:0]
		for n := range parts {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			writeObject(&strings.Builder{}, schema, order, n, parts) // collects what n refers to
		}
	}
	for _, n := range names {
		writeObject(&b, schema, order, n, parts)
	}
	b.WriteString("\n" + refEnd)
	return b.String()
}

// writeObject writes the heading, description and field table of the
// $defs entry name to b, and adds the parts its fields refer to to parts.
func writeObject(b *strings.Builder, schema schemaDoc, order map[string][]string, name string, parts map[string]bool) {
	def := schema.defs[name]
	fmt.Fprintf(b, "\n#### `%s`\n\n%s\n", name, cell(def["description"]))
	props, required := schema.props(def)
	var rows []string
	for _, p := range order[name] {
		if p == "type" {
			continue
		}
		req := "no"
		if slices.Contains(required, p) {
			req = "yes"
		}
		rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s |", p, typeText(schema, props[p], parts), req, cell(props[p]["description"])))
	}
	if len(rows) == 0 && def["properties"] == nil {
		if def["type"] == "object" || def["additionalProperties"] != nil {
			fmt.Fprintf(b, "\nAn object; each value %s.\n", typeText(schema, asMap(def["additionalProperties"]), parts))
		} else {
			fmt.Fprintf(b, "\nType: %s.\n", typeText(schema, def, parts))
		}
		return
	}
	if len(rows) == 0 {
		b.WriteString("\nNo fields but `type`.\n")
		return
	}
	b.WriteString("\n| field | type | required | description |\n| --- | --- | --- | --- |\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	if _, ok := def["allOf"]; ok && slices.ContainsFunc(asList(def["allOf"]), func(s any) bool { _, ok := asMap(s)["if"]; return ok }) {
		b.WriteString("\nSome fields are required with some actions only: see their descriptions.\n")
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// cell makes a description fit in a table cell.
func cell(v any) string {
	s, _ := v.(string)
	return strings.ReplaceAll(s, "|", `\|`)
}

// typeText describes the type of the value schema s allows, with links
// to the parts it refers to, which it adds to parts.
func typeText(schema schemaDoc, s map[string]any, parts map[string]bool) string {
	if s == nil {
		return "any"
	}
	if name, ok := refName(s); ok {
		def := schema.defs[name]
		if def["enum"] != nil {
			return typeText(schema, def, parts)
		}
		parts[name] = true
		return fmt.Sprintf("[`%s`](#%s)", name, name)
	}
	if words := schema.values(s); len(words) > 0 {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "`" + w + "`"
		}
		if len(quoted) == 1 {
			return quoted[0]
		}
		return "one of " + strings.Join(quoted, ", ")
	}
	var kinds []string
	switch k := s["type"].(type) {
	case string:
		kinds = []string{k}
	case []any:
		for _, x := range k {
			kinds = append(kinds, x.(string))
		}
	}
	text := strings.Join(kinds, " or ")
	switch {
	case slices.Contains(kinds, "array"):
		text = "array"
		if n, ok := s["minItems"].(float64); ok {
			text += ", at least " + num(n) + " items,"
		}
		if n, ok := s["maxItems"].(float64); ok {
			text += ", at most " + num(n) + " items,"
		}
		text += " of " + typeText(schema, asMap(s["items"]), parts)
	case s["format"] == "date-time":
		text = "string, RFC 3339 time"
	case slices.Contains(kinds, "string"):
		if n, ok := s["minLength"].(float64); ok && n > 0 {
			text += ", at least " + num(n) + " characters"
		}
		if n, ok := s["maxLength"].(float64); ok {
			text += ", at most " + num(n) + " characters"
		}
		if p, ok := s["pattern"].(string); ok {
			text += fmt.Sprintf(", matching `%s`", p)
		}
	case slices.Contains(kinds, "integer"), slices.Contains(kinds, "number"):
		lo, hasLo := s["minimum"].(float64)
		hi, hasHi := s["maximum"].(float64)
		switch {
		case hasLo && hasHi:
			text += ", " + num(lo) + " to " + num(hi)
		case hasLo:
			text += ", at least " + num(lo)
		case hasHi:
			text += ", at most " + num(hi)
		}
	}
	if text == "" {
		return "any"
	}
	return text
}

// num writes a bound of the schema as a person would.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// splitDoc returns docs/protocol.md's text before, in and after the
// generated message reference (markers included in the middle part).
func splitDoc(t *testing.T, doc string) (before, ref, after string) {
	t.Helper()
	i := strings.Index(doc, refBegin)
	j := strings.Index(doc, refEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no message reference between the markers %q and %q; add them where it goes and run with -update", protocolDoc, refBegin, refEnd)
	}
	j += len(refEnd)
	return doc[:i], doc[i:j], doc[j:]
}

// TestMessageReference regenerates the message reference of
// docs/protocol.md from the schema and fails when the document differs;
// -update rewrites it.
func TestMessageReference(t *testing.T) {
	schema := readSchema(t)
	raw, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, ref, after := splitDoc(t, string(raw))
	want := messageReference(t, schema)
	if ref == want {
		return
	}
	if *update {
		if err := os.WriteFile(protocolDoc, []byte(before+want+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the message reference in %s is not what the schema makes of it; run: go test ./internal/contract -run TestMessageReference -update\n%s",
		protocolDoc, firstDiff(ref, want))
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d of the section:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return ""
}

// docTable is a table of messages of docs/protocol.md: one whose first
// column is "type".
type docTable struct {
	line    int      // of its header
	heading string   // the heading it is under
	header  []string // the column names
	rows    []docRow
}

type docRow struct {
	line  int
	cells []string
}

// splitRow splits a markdown table row into its cells; \| is a pipe
// within a cell.
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// messageTables returns the tables of messages in text, whose first line
// is line first of the document.
func messageTables(text string, first int) []docTable {
	var out []docTable
	heading := ""
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#") {
			heading = strings.TrimSpace(strings.TrimLeft(l, "#"))
			continue
		}
		if !strings.HasPrefix(l, "|") || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "| ---") {
			continue
		}
		header := splitRow(l)
		tbl := docTable{line: first + i, heading: heading, header: header}
		for i += 2; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
			tbl.rows = append(tbl.rows, docRow{line: first + i, cells: splitRow(lines[i])})
		}
		if header[0] == "type" {
			out = append(out, tbl)
		}
	}
	return out
}

var (
	backticked = regexp.MustCompile("`([^`]*)`")
	identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// words returns the names the schema knows within message typ: the
// property names of it and of every part it refers to, and the words of
// their enums.
func (d schemaDoc) words(typ string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]bool{}
	var walk func(s map[string]any)
	walk = func(s map[string]any) {
		if s == nil {
			return
		}
		if name, ok := refName(s); ok {
			if seen[name] {
				return
			}
			seen[name] = true
		}
		s = d.resolve(s)
		for _, w := range d.values(s) {
			out[w] = true
		}
		props, _ := d.props(s)
		for name, p := range props {
			out[name] = true
			walk(p)
		}
		walk(asMap(s["items"]))
		walk(asMap(s["additionalProperties"]))
	}
	walk(d.defs[typ])
	return out
}

// tableDirection says which direction the messages of tbl go: by its
// column "direction", else by the heading it is under.
func tableDirection(tbl docTable, row docRow) (Direction, bool) {
	if i := slices.Index(tbl.header, "direction"); i >= 0 && i < len(row.cells) {
		switch c := row.cells[i]; {
		case strings.HasSuffix(c, "→ server"):
			return ClientToServer, true
		case strings.HasPrefix(c, "server →"):
			return ServerToClient, true
		}
		return 0, false
	}
	switch {
	case strings.Contains(strings.ToLower(tbl.heading), "client to server"):
		return ClientToServer, true
	case strings.Contains(strings.ToLower(tbl.heading), "server to client"):
		return ServerToClient, true
	}
	return 0, false
}

// TestDocTables checks the tables of messages of docs/protocol.md (those
// whose first column is "type", outside the generated reference) against
// the schema: each message is one of the schema's, in the direction the
// table says; every name in backticks in its fields is a field of it (or
// of a part it refers to) or a word one of them takes; it names every
// field of the message, unless it names none and refers to another
// section; and every message of the schema is in some table.
func TestDocTables(t *testing.T) {
	schema := readSchema(t)
	raw, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatal(err)
	}
	before, ref, after := splitDoc(t, string(raw))
	tables := messageTables(before, 1)
	tables = append(tables, messageTables(after, 1+strings.Count(before+ref, "\n"))...)
	if len(tables) == 0 {
		t.Fatal("no tables of messages in docs/protocol.md")
	}
	listed := map[Direction]map[string]bool{ClientToServer: {}, ServerToClient: {}}
	for _, tbl := range tables {
		for _, row := range tbl.rows {
			at := fmt.Sprintf("%s:%d", protocolDoc, row.line)
			types := backticked.FindAllStringSubmatch(row.cells[0], -1)
			if types == nil {
				t.Errorf("%s: the first cell %q names no message type in backticks", at, row.cells[0])
				continue
			}
			for _, m := range types {
				checkRow(t, schema, tbl, row, at, m[1], listed)
			}
		}
	}
	for dir, types := range schema.types {
		for _, typ := range types {
			if !listed[dir][typ] {
				t.Errorf("the %s message %s is in no table of messages of %s", dir, typ, protocolDoc)
			}
		}
	}
}

// checkRow checks message typ of row of tbl, at at, against the schema
// and adds it to listed.
func checkRow(t *testing.T, schema schemaDoc, tbl docTable, row docRow, at, typ string, listed map[Direction]map[string]bool) {
	t.Helper()
	dir, ok := tableDirection(tbl, row)
	if !ok {
		t.Errorf("%s: %s: the table under %q says no direction (a heading \"Client to server\" or \"Server to client\", or a column direction)", at, typ, tbl.heading)
		return
	}
	if got, ok := schema.direction(typ); !ok {
		t.Errorf("%s: %s is no message of the schema", at, typ)
		return
	} else if got != dir {
		t.Errorf("%s: %s is listed as a %s message; the schema has it as a %s message", at, typ, dir, got)
		return
	}
	listed[dir][typ] = true
	fieldsCol := slices.Index(tbl.header, "fields")
	if fieldsCol < 0 || fieldsCol >= len(row.cells) {
		return
	}
	fields := row.cells[fieldsCol]
	known := schema.words(typ)
	named := map[string]bool{}
	for _, w := range backticked.FindAllStringSubmatch(fields, -1) {
		if !identifier.MatchString(w[1]) {
			continue
		}
		named[w[1]] = true
		if !known[w[1]] {
			t.Errorf("%s: %s: %q is neither a field of it in the schema nor a word one of them takes", at, typ, w[1])
		}
	}
	props, _ := schema.props(schema.defs[typ])
	if len(named) == 0 {
		if len(props) > 1 && !strings.Contains(fields, "](#") {
			t.Errorf("%s: %s: the table names none of its fields and refers to no section that does", at, typ)
		}
		return
	}
	for p, ps := range props {
		if p != "type" && !named[p] {
			t.Errorf("%s: %s: the table does not name its field %q", at, typ, p)
		}
		// A table that lists some of a field's words lists them all.
		words := schema.values(ps)
		if !slices.ContainsFunc(words, func(w string) bool { return named[w] }) {
			continue
		}
		for _, w := range words {
			if !named[w] {
				t.Errorf("%s: %s: the table lists words of %s but not %q", at, typ, p, w)
			}
		}
	}
}

// invalidExample marks, on the line before a ```json block of
// docs/protocol.md, a block of messages that are wrong on purpose.
const invalidExample = "<!-- invalid on purpose -->"

// TestDocExamples validates every JSON example of a message in
// docs/protocol.md (an object with a string "type" in a ```json block,
// on one line or several) against the schema of its type's direction,
// but those of a block marked invalidExample.
func TestDocExamples(t *testing.T) {
	m := loadMessages(t)
	schema := readSchema(t)
	raw, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	n := 0
	inBlock, skip := false, false
	var obj []string
	start := 0
	for i, l := range lines {
		switch {
		case !inBlock && strings.HasPrefix(l, "```json"):
			inBlock, obj = true, nil
			skip = i > 0 && strings.TrimSpace(lines[i-1]) == invalidExample
			continue
		case inBlock && strings.HasPrefix(l, "```"):
			if obj != nil {
				t.Errorf("%s:%d: a JSON object that does not end", protocolDoc, start)
			}
			inBlock = false
			continue
		case !inBlock || skip:
			continue
		}
		if obj == nil {
			if !strings.HasPrefix(l, "{") {
				continue
			}
			start = i + 1
		}
		obj = append(obj, l)
		text := strings.Join(obj, "\n")
		if !json.Valid([]byte(text)) {
			continue
		}
		obj = nil
		var env struct {
			Type *string `json:"type"`
		}
		if err := json.Unmarshal([]byte(text), &env); err != nil || env.Type == nil {
			continue // not a message: a REST body
		}
		n++
		t.Run(strconv.Itoa(start)+"_"+*env.Type, func(t *testing.T) {
			dir, ok := schema.direction(*env.Type)
			if !ok {
				t.Fatalf("%s:%d: no message has the type %q", protocolDoc, start, *env.Type)
			}
			if err := m.Validate(dir, []byte(text)); err != nil {
				t.Errorf("%s:%d: %v", protocolDoc, start, err)
			}
		})
	}
	if n == 0 {
		t.Fatal("no JSON examples of messages in docs/protocol.md")
	}
}
