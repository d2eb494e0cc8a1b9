package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"hoinghi/docs"
)

// SignalingSchema is the path, within docs.Schemas, of the JSON Schema of
// the signaling messages.
const SignalingSchema = "schema/signaling.json"

// signalingURL is the schema's $id, under which it is compiled.
const signalingURL = "https://hoinghi.example/schema/signaling.json"

// Direction says who sends a signaling message.
type Direction int

// The two directions of the signaling WebSocket, each with its union of
// messages in the schema ($defs/server_message, $defs/client_message).
const (
	ServerToClient Direction = iota + 1
	ClientToServer
)

// String names the direction as the schema's union does: "server" or
// "client", the sender.
func (d Direction) String() string {
	switch d {
	case ServerToClient:
		return "server"
	case ClientToServer:
		return "client"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// union is the $defs entry that lists the messages of direction d.
func (d Direction) union() string { return d.String() + "_message" }

// Messages validates signaling messages against the schema in
// docs.Schemas. It is safe for concurrent use.
type Messages struct {
	types map[Direction]map[string]*jsonschema.Schema // direction -> message type -> its schema
	parts map[string]*jsonschema.Schema               // $defs entries that are no message, by name
}

// LoadMessages compiles the signaling schema of docs.Schemas, formats
// (date-time) asserted, and each message it lists under the unions of the
// two directions.
func LoadMessages() (*Messages, error) {
	raw, err := fs.ReadFile(docs.Schemas, SignalingSchema)
	if err != nil {
		return nil, fmt.Errorf("load signaling schema: %w", err)
	}
	return compileMessages(raw)
}

func compileMessages(raw []byte) (*Messages, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("signaling schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(signalingURL, doc); err != nil {
		return nil, fmt.Errorf("signaling schema: %w", err)
	}
	unions, err := MessageTypes(raw)
	if err != nil {
		return nil, err
	}
	m := &Messages{types: make(map[Direction]map[string]*jsonschema.Schema), parts: make(map[string]*jsonschema.Schema)}
	var defs struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &defs); err != nil {
		return nil, fmt.Errorf("signaling schema: %w", err)
	}
	for name := range defs.Defs {
		if name == ServerToClient.union() || name == ClientToServer.union() ||
			slices.Contains(unions[ServerToClient], name) || slices.Contains(unions[ClientToServer], name) {
			continue
		}
		sch, err := c.Compile(signalingURL + "#/$defs/" + name)
		if err != nil {
			return nil, fmt.Errorf("signaling schema: part %s: %w", name, err)
		}
		m.parts[name] = sch
	}
	for d, types := range unions {
		m.types[d] = make(map[string]*jsonschema.Schema, len(types))
		for _, t := range types {
			sch, err := c.Compile(signalingURL + "#/$defs/" + t)
			if err != nil {
				return nil, fmt.Errorf("signaling schema: message %s: %w", t, err)
			}
			m.types[d][t] = sch
		}
	}
	return m, nil
}

// MessageTypes reads the message types each direction's union of the
// signaling schema raw lists (each member a $ref to "#/$defs/<type>"), in
// the schema's order.
func MessageTypes(raw []byte) (map[Direction][]string, error) {
	var doc struct {
		Defs map[string]struct {
			OneOf []struct {
				Ref string `json:"$ref"`
			} `json:"oneOf"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("signaling schema: %w", err)
	}
	out := make(map[Direction][]string)
	for _, d := range []Direction{ServerToClient, ClientToServer} {
		u, ok := doc.Defs[d.union()]
		if !ok || len(u.OneOf) == 0 {
			return nil, fmt.Errorf("signaling schema: no $defs/%s union", d.union())
		}
		for _, member := range u.OneOf {
			t, ok := strings.CutPrefix(member.Ref, "#/$defs/")
			if !ok {
				return nil, fmt.Errorf("signaling schema: $defs/%s: member %q is not a $ref to #/$defs/<type>", d.union(), member.Ref)
			}
			out[d] = append(out[d], t)
		}
	}
	return out, nil
}

// Types returns the message types of direction d, sorted.
func (m *Messages) Types(d Direction) []string {
	out := make([]string, 0, len(m.types[d]))
	for t := range m.types[d] {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Validate checks raw, one message of direction d, against the schema of
// its type. It returns nil for a valid message and otherwise a
// *MessageError naming the type and each failing field.
func (m *Messages) Validate(d Direction, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return &MessageError{Direction: d, Problems: []Problem{{Message: fmt.Sprintf("not JSON: %v", err)}}}
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return &MessageError{Direction: d, Problems: []Problem{{Message: "not a JSON object"}}}
	}
	typ, ok := obj["type"].(string)
	if !ok {
		return &MessageError{Direction: d, Problems: []Problem{{Field: "/type", Message: "missing, or not a string"}}}
	}
	sch, ok := m.types[d][typ]
	if !ok {
		return &MessageError{Direction: d, Type: typ, Problems: []Problem{{Field: "/type", Message: fmt.Sprintf("no %s message has this type", d)}}}
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &MessageError{Direction: d, Type: typ, Problems: []Problem{{Message: err.Error()}}}
	}
	me := &MessageError{Direction: d, Type: typ}
	collect(ve, &me.Problems)
	return me
}

// ValidatePart checks raw, a part of messages (a $defs entry of the
// schema that is no message itself, such as "participant"), against its
// schema; it returns nil when it is valid and otherwise a *MessageError
// whose Type is the part's name.
func (m *Messages) ValidatePart(part string, raw []byte) error {
	sch, ok := m.parts[part]
	if !ok {
		return fmt.Errorf("signaling schema: no part %q", part)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return &MessageError{Type: part, Problems: []Problem{{Message: fmt.Sprintf("not JSON: %v", err)}}}
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	me := &MessageError{Type: part}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		me.Problems = []Problem{{Message: err.Error()}}
		return me
	}
	collect(ve, &me.Problems)
	return me
}

// MessageError says why a message does not match the schema.
type MessageError struct {
	Direction Direction // 0 for a part (ValidatePart)
	Type      string    // the message's type, or the part's name; "" when it has none
	Problems  []Problem // at least one
}

// Problem is one failed rule of the schema.
type Problem struct {
	Field   string // a JSON pointer to the failing value ("/holders/0/deadline"); "" for the whole message
	Message string // what is wrong with it
}

// Error names the direction, the type and every problem, each with its
// field.
func (e *MessageError) Error() string {
	var b strings.Builder
	if e.Direction == 0 {
		fmt.Fprintf(&b, "part %q", e.Type)
	} else {
		fmt.Fprintf(&b, "%s message", e.Direction)
		if e.Type != "" {
			fmt.Fprintf(&b, " %q", e.Type)
		}
	}
	b.WriteString(" does not match the schema:")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		field := p.Field
		if field == "" {
			field = "(message)"
		}
		fmt.Fprintf(&b, " %s: %s", field, p.Message)
	}
	return b.String()
}

var printer = message.NewPrinter(language.English)

// collect appends the leaves of the tree of ve, the rules that failed, to
// out.
func collect(ve *jsonschema.ValidationError, out *[]Problem) {
	if len(ve.Causes) == 0 {
		field := ""
		for _, tok := range ve.InstanceLocation {
			field += "/" + strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
		}
		msg := ve.ErrorKind.LocalizedString(printer)
		switch ve.ErrorKind.(type) {
		case *kind.FalseSchema:
			msg = "not a field of the schema" // unevaluatedProperties: false
		case *kind.Not:
			msg = "a value the schema excludes (of a time: the zero time; leave the field out instead)"
		}
		*out = append(*out, Problem{Field: field, Message: msg})
		return
	}
	for _, c := range ve.Causes {
		collect(c, out)
	}
}
