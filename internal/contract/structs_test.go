package contract

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hoinghi/internal/protocol"
)

// goMessages are the Go structs of every message type, by direction.
var goMessages = []struct {
	dir Direction
	typ string
	v   any
}{
	{ClientToServer, protocol.TypePublishOffer, protocol.SDP{}},
	{ClientToServer, protocol.TypeSubscribeAnswer, protocol.SDP{}},
	{ClientToServer, protocol.TypeCandidate, protocol.Candidate{}},
	{ClientToServer, protocol.TypeFloor, protocol.Floor{}},
	{ClientToServer, protocol.TypeWall, protocol.Wall{}},
	{ClientToServer, protocol.TypeControl, protocol.Control{}},
	{ClientToServer, protocol.TypeCheckIn, protocol.CheckIn{}},
	{ClientToServer, protocol.TypeRollCall, protocol.RollCall{}},
	{ClientToServer, protocol.TypeConference, protocol.Conference{}},
	{ClientToServer, protocol.TypeStats, protocol.Stats{}},
	{ClientToServer, protocol.TypeContent, protocol.Content{}},

	{ServerToClient, protocol.TypeWelcome, protocol.Welcome{}},
	{ServerToClient, protocol.TypePublishAnswer, protocol.SDP{}},
	{ServerToClient, protocol.TypeSubscribeOffer, protocol.SDP{}},
	{ServerToClient, protocol.TypeRoster, protocol.Roster{}},
	{ServerToClient, protocol.TypeRosterUpdate, protocol.RosterUpdate{}},
	{ServerToClient, protocol.TypeError, protocol.Error{}},
	{ServerToClient, protocol.TypeClosing, protocol.Closing{}},
	{ServerToClient, protocol.TypeFloorState, protocol.FloorState{}},
	{ServerToClient, protocol.TypeFloorAlert, protocol.FloorAlert{}},
	{ServerToClient, protocol.TypeWallState, protocol.WallState{}},
	{ServerToClient, protocol.TypeMediaState, protocol.MediaState{}},
	{ServerToClient, protocol.TypePublishLayers, protocol.PublishLayers{}},
	{ServerToClient, protocol.TypeDownlink, protocol.Downlink{}},
	{ServerToClient, protocol.TypeLinkQuality, protocol.LinkQuality{}},
	{ServerToClient, protocol.TypeQualityAlert, protocol.QualityAlert{}},
	{ServerToClient, protocol.TypeRollCallState, protocol.RollCallState{}},
	{ServerToClient, protocol.TypeConferenceState, protocol.ConferenceState{}},
	{ServerToClient, protocol.TypeAttendanceChanged, protocol.AttendanceChanged{}},
	{ServerToClient, protocol.TypeMuted, protocol.Muted{}},
	{ServerToClient, protocol.TypeRestartCamera, protocol.RestartCamera{}},
	{ServerToClient, protocol.TypeProgram, protocol.Program{}},
	{ServerToClient, protocol.TypeContentState, protocol.ContentState{}},
}

// TestMessageTypes checks that every message type constant of package
// protocol (a string constant named Type...) has a Go struct above and a
// schema of the same direction, and that the schema has no other message.
func TestMessageTypes(t *testing.T) {
	schema := readSchema(t)
	consts := typeConstants(t)
	listed := map[string]bool{}
	for _, m := range goMessages {
		listed[m.typ] = true
		if !slices.Contains(consts, m.typ) {
			t.Errorf("%s: no protocol.Type constant has this value", m.typ)
		}
		if dir, ok := schema.direction(m.typ); !ok {
			t.Errorf("%s: no schema in $defs/client_message or $defs/server_message", m.typ)
		} else if dir != m.dir {
			t.Errorf("%s: the schema has it as a %s message; the server treats it as a %s message", m.typ, dir, m.dir)
		}
	}
	for _, c := range consts {
		if !listed[c] {
			t.Errorf("protocol type %q has no entry in goMessages (and perhaps no schema)", c)
		}
	}
	for dir, types := range schema.types {
		for _, typ := range types {
			if !listed[typ] {
				t.Errorf("the schema has the %s message %q, which package protocol does not define", dir, typ)
			}
		}
	}
}

// typeConstants returns the values of the string constants named Type...
// in package protocol's source, read with go/parser so that a new one
// cannot be forgotten.
func typeConstants(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("../protocol")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join("../protocol", e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Type") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, v)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Type constants found in internal/protocol")
	}
	slices.Sort(out)
	return out
}

// TestStructsMatchSchema compares the JSON fields of each message's Go
// struct (by its json tags, embedded structs flattened) with the
// properties of its schema, both ways, and so on down every nested object
// the schema defines. Of a message the server sends, a field Go always
// writes (no omitempty or omitzero) must be required, and one it may
// leave out must not be.
func TestStructsMatchSchema(t *testing.T) {
	schema := readSchema(t)
	for _, m := range goMessages {
		def, ok := schema.defs[m.typ]
		if !ok {
			continue // TestMessageTypes says so
		}
		compareStruct(t, schema, m.dir, m.typ, reflect.TypeOf(m.v), def)
	}
}

type goField struct {
	t        reflect.Type
	optional bool // omitempty or omitzero
}

// jsonFields returns the JSON fields of struct type st, by name.
func jsonFields(st reflect.Type) map[string]goField {
	out := map[string]goField{}
	for f := range st.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			for n, g := range jsonFields(f.Type) {
				out[n] = g
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := false
		for o := range strings.SplitSeq(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		out[name] = goField{t: f.Type, optional: optional}
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// compareStruct compares struct type st with object schema s, at path.
func compareStruct(t *testing.T, schema schemaDoc, dir Direction, path string, st reflect.Type, s map[string]any) {
	t.Helper()
	props, required := schema.props(s)
	fields := jsonFields(st)
	for name := range fields {
		if _, ok := props[name]; !ok {
			t.Errorf("%s: Go field %q (%s) is not in the schema", path, name, st)
		}
	}
	for name := range props {
		if _, ok := fields[name]; !ok {
			t.Errorf("%s: schema property %q is not a field of %s", path, name, st)
		}
	}
	for name, f := range fields {
		p, ok := props[name]
		if !ok {
			continue
		}
		req := slices.Contains(required, name)
		if dir == ServerToClient {
			switch {
			case !f.optional && !req:
				t.Errorf("%s.%s: Go always sends it (no omitempty), but the schema does not require it", path, name)
			case f.optional && req:
				t.Errorf("%s.%s: the schema requires it, but Go leaves it out when empty (omitempty)", path, name)
			}
		}
		ft := f.t
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			if ft.Kind() == reflect.Slice {
				p = schema.items(p)
				if p == nil {
					t.Errorf("%s.%s: Go has a list (%s); the schema no array of items", path, name, f.t)
					break
				}
			}
			ft = ft.Elem()
		}
		if p == nil || ft.Kind() != reflect.Struct || ft == timeType {
			continue
		}
		compareStruct(t, schema, dir, path+"."+name, ft, p)
	}
}
