package signal

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// drain pops every waiting message of o and names each: its data, or
// "RESYNC" for the place of a whole roster.
func drain(o *outbox) []string {
	var out []string
	for {
		m, resync, ok := o.pop()
		switch {
		case !ok:
			return out
		case resync:
			out = append(out, "RESYNC")
		default:
			out = append(out, string(m.data))
		}
	}
}

func msg(data string, c class, key string) *message {
	return &message{data: []byte(data), class: c, key: key}
}

func TestOutbox(t *testing.T) {
	big := strings.Repeat("x", outboxSoftLimit/4)
	tests := []struct {
		name string
		push []*message
		want []string
	}{
		{"in order", []*message{msg("a", classKeep, ""), msg("b", classRoster, ""), msg("c", classError, "")},
			[]string{"a", "b", "c"}},
		{"state superseded at once", []*message{
			msg("f1", classState, keyFloor), msg("a", classKeep, ""), msg("f2", classState, keyFloor), msg("q1", classState, keyLinkQuality)},
			[]string{"a", "f2", "q1"}},
		{"an older state never supersedes a newer one", []*message{
			{data: []byte("v7"), class: classState, key: keyFloor, version: 7}, {data: []byte("v5"), class: classState, key: keyFloor, version: 5},
			{data: []byte("v7b"), class: classState, key: keyFloor, version: 7}},
			[]string{"v7b"}},
		{"nudges kept while there is room", []*message{msg("n1", classNudge, keyAttendance), msg("n2", classNudge, keyAttendance)},
			[]string{"n1", "n2"}},
		{"under pressure", []*message{
			msg("r1", classRoster, ""), msg("n1", classNudge, keyAttendance), msg("e1", classError, ""),
			msg(big, classKeep, ""), msg("r2", classRoster, ""), msg(big, classKeep, ""), msg("n2", classNudge, keyAttendance),
			msg(big, classKeep, ""), msg(big, classKeep, ""), // over the soft limit: shed
			msg("r3", classRoster, ""), msg("e2", classError, ""), msg("n3", classNudge, keyAttendance), msg("k", classKeep, "")},
			[]string{"RESYNC", big, big, big, big, "n3", "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var shed atomic.Uint64
			o := newOutbox(&shed)
			for _, m := range tt.push {
				o.push(m)
			}
			got := drain(o)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("popped %s, want %s", short(got), short(tt.want))
			}
			if b, n := o.size(); b != 0 || n != 0 {
				t.Errorf("after draining, %d bytes in %d messages wait", b, n)
			}
		})
	}
}

func short(s []string) string {
	out := make([]string, len(s))
	for i, x := range s {
		if len(x) > 8 {
			x = fmt.Sprintf("<%d bytes>", len(x))
		}
		out[i] = x
	}
	return strings.Join(out, " ")
}

// TestOutboxOverflow: past the hard limit push says so, but only keep
// messages can get it there.
func TestOutboxOverflow(t *testing.T) {
	var shed atomic.Uint64
	o := newOutbox(&shed)
	big := strings.Repeat("x", 64<<10)
	for range 2 * outboxHardLimit / len(big) {
		if r := o.push(msg(big, classRoster, "")); r == pushOverflow {
			t.Fatal("roster updates overflowed; they give way to a resync")
		}
		if r := o.push(msg(big, classState, keyLinkQuality)); r == pushOverflow {
			t.Fatal("superseded state overflowed")
		}
	}
	var last pushResult
	for range 2 * outboxHardLimit / len(big) {
		last = o.push(msg(big, classKeep, ""))
	}
	if last != pushOverflow {
		t.Errorf("keep messages past the hard limit: %v, want overflow", last)
	}
	if shed.Load() == 0 {
		t.Error("nothing counted as shed")
	}
	if got := drain(o); got[0] != "RESYNC" {
		t.Errorf("the first message is %s, want the resync", short(got[:1]))
	}
}

// TestOutboxPopInterleaved pushes while popping, as the writer and the
// hub do, and checks that nothing is lost or repeated.
func TestOutboxPopInterleaved(t *testing.T) {
	var shed atomic.Uint64
	o := newOutbox(&shed)
	var got []string
	for i := range 1000 {
		o.push(msg(fmt.Sprint(i), classKeep, ""))
		if i%3 == 0 {
			got = append(got, drain(o)...)
		}
	}
	got = append(got, drain(o)...)
	if len(got) != 1000 {
		t.Fatalf("popped %d messages, want 1000", len(got))
	}
	for i, g := range got {
		if g != fmt.Sprint(i) {
			t.Fatalf("message %d is %s", i, g)
		}
	}
}

func BenchmarkOutboxPushPop(b *testing.B) {
	var shed atomic.Uint64
	o := newOutbox(&shed)
	m := msg(`{"type":"roster_update","version":1}`, classRoster, "")
	s := msg(`{"type":"link_quality"}`, classState, keyLinkQuality)
	b.ReportAllocs()
	for b.Loop() {
		o.push(m)
		o.push(s)
		o.pop()
		o.pop()
	}
}

// TestOutboxHold checks the joining order: what is queued after hold
// waits for the roster, which goes ahead of it, and follows it once
// released; states superseded while they wait still go.
func TestOutboxHold(t *testing.T) {
	var shed atomic.Uint64
	o := newOutbox(&shed)
	o.push(msg("welcome", classKeep, ""))
	o.hold()
	o.push(msg("offer", classKeep, ""))
	o.push(msg("f1", classState, keyFloor))
	if got := drain(o); fmt.Sprint(got) != "[welcome]" {
		t.Fatalf("before the roster: %v; want only welcome", got)
	}
	o.push(msg("f2", classState, keyFloor))
	o.push(msg("roster", classRoster, ""))
	o.push(msg("update", classRoster, ""))
	if got := drain(o); fmt.Sprint(got) != "[roster update]" {
		t.Fatalf("roster links before release: %v; want [roster update]", got)
	}
	o.release()
	o.push(msg("later", classKeep, ""))
	if got := drain(o); fmt.Sprint(got) != "[offer f2 later]" {
		t.Fatalf("after release: %v; want [offer f2 later]", got)
	}
	// A hold survives the compaction of what the writer takes before it.
	for i := range 150 {
		o.push(msg(fmt.Sprint("a", i), classKeep, ""))
	}
	o.hold()
	for i := range 50 {
		o.push(msg(fmt.Sprint("b", i), classKeep, ""))
	}
	for range 100 {
		o.pop()
	}
	o.push(msg("roster", classRoster, ""))
	got := drain(o)
	if len(got) != 51 || got[0] != "a100" || got[49] != "a149" || got[50] != "roster" {
		t.Fatalf("held after compaction: %v; want a100 to a149, then roster", got)
	}
	o.release()
	if got := drain(o); len(got) != 50 || got[0] != "b0" || got[49] != "b49" {
		t.Fatalf("after release: %v; want b0 to b49", got)
	}
}
