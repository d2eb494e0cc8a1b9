package contract

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"hoinghi/docs"
)

// schemaDoc is the signaling schema as plain JSON, for the tests that
// compare it with the Go structs and the document.
type schemaDoc struct {
	defs  map[string]map[string]any
	types map[Direction][]string // the unions' members, in order
}

func readSchema(t *testing.T) schemaDoc {
	t.Helper()
	raw, err := fs.ReadFile(docs.Schemas, SignalingSchema)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs map[string]map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	types, err := MessageTypes(raw)
	if err != nil {
		t.Fatal(err)
	}
	return schemaDoc{defs: doc.Defs, types: types}
}

// direction returns the direction of message type typ, and whether the
// schema has it.
func (d schemaDoc) direction(typ string) (Direction, bool) {
	for dir, types := range d.types {
		if slices.Contains(types, typ) {
			return dir, true
		}
	}
	return 0, false
}

// refName returns the $defs name s refers to, if s is a $ref.
func refName(s map[string]any) (string, bool) {
	ref, ok := s["$ref"].(string)
	if !ok {
		return "", false
	}
	return strings.CutPrefix(ref, "#/$defs/")
}

// resolve follows the $ref of s, if any, to the definition it names.
func (d schemaDoc) resolve(s map[string]any) map[string]any {
	for range 10 {
		name, ok := refName(s)
		if !ok {
			return s
		}
		s = d.defs[name]
	}
	return s
}

// props returns the properties of the object schema s, its own and those
// of the schemas of its allOf, and the names of those required.
func (d schemaDoc) props(s map[string]any) (props map[string]map[string]any, required []string) {
	s = d.resolve(s)
	props = map[string]map[string]any{}
	if p, ok := s["properties"].(map[string]any); ok {
		for name, v := range p {
			props[name], _ = v.(map[string]any)
		}
	}
	for _, r := range asList(s["required"]) {
		required = append(required, r.(string))
	}
	for _, sub := range asList(s["allOf"]) {
		sub, _ := sub.(map[string]any)
		if _, ok := refName(sub); !ok {
			continue // a conditional (if/then), which adds no property
		}
		p, r := d.props(sub)
		for name, v := range p {
			props[name] = v
		}
		required = append(required, r...)
	}
	slices.Sort(required)
	return props, slices.Compact(required)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// items returns the schema of the items of array schema s, resolved; nil
// when s is not an array.
func (d schemaDoc) items(s map[string]any) map[string]any {
	s = d.resolve(s)
	it, ok := s["items"].(map[string]any)
	if !ok {
		return nil
	}
	return d.resolve(it)
}

// values returns the words an enum or const schema allows, following a
// $ref.
func (d schemaDoc) values(s map[string]any) []string {
	s = d.resolve(s)
	var out []string
	for _, v := range asList(s["enum"]) {
		if w, ok := v.(string); ok {
			out = append(out, w)
		}
	}
	if w, ok := s["const"].(string); ok {
		out = append(out, w)
	}
	return out
}
