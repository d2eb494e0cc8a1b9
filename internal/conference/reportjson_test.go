package conference

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReportJSON checks the report's JSON: snake_case names only, no zero
// time, durations in seconds, and a round trip that gives the report back.
func TestReportJSON(t *testing.T) {
	c, points, events, turns := knownConference()
	live := BuildReport(c, points, events[:len(events)-1], turns, mins(125)) // not ended: end and the open turn's end absent
	ended := BuildReport(c, points, events, turns, mins(300))
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	for _, tt := range []struct {
		name   string
		report Report
		want   map[string]any // paths in the JSON and their values
		absent []string       // paths that must not be there
	}{
		{"live", live,
			map[string]any{
				"summary.points_attended":        3.0,
				"summary.speaking_time":          dur(7.5).Seconds() + mins(125).Sub(mins(40)).Seconds(),
				"turns.0.duration":               450.0,
				"turns.0.limit":                  420.0,
				"turns.1.ongoing":                true,
				"roll_calls.0.window":            120.0,
				"points.0.point.id":              "bien-hoa",
				"points.0.gap_count":             1.0,
				"points.0.gap_time":              30.0,
				"points.0.stays.0.gaps.0.reason": LeftNetwork,
				"conference.time_zone":           DefaultTimeZone,
			},
			[]string{"end", "summary.end", "turns.1.end", "turns.1.end_reason", "points.3.first_join", "points.3.stays"}},
		{"ended", ended,
			map[string]any{
				"end":                    mins(122).Format(time.RFC3339),
				"points.3.status":        string(StatusAbsent),
				"points.3.connected":     0.0,
				"turns.1.ongoing":        true,
				"roll_calls.0.closed_at": mins(18).Format(time.RFC3339),
			},
			[]string{"points.3.first_join", "points.3.last_leave", "points.0.last_leave"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.report)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "0001-01-01") {
				t.Errorf("a zero time in %s", data)
			}
			var tree any
			if err := json.Unmarshal(data, &tree); err != nil {
				t.Fatal(err)
			}
			walkKeys(tree, "", func(path, key string) {
				if !snake.MatchString(key) {
					t.Errorf("%s: key %q is not snake_case", path, key)
				}
			})
			for path, want := range tt.want {
				got, ok := lookup(tree, path)
				if !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v (present %v), want %v", path, got, ok, want)
				}
			}
			for _, path := range tt.absent {
				if got, ok := lookup(tree, path); ok {
					t.Errorf("%s = %v, want it absent", path, got)
				}
			}
			var back Report
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			again, err := json.Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(data) {
				t.Errorf("round trip:\n got %s\nwant %s", again, data)
			}
			if back.Summary.SpeakingTime != tt.report.Summary.SpeakingTime || back.Points[0].Connected != tt.report.Points[0].Connected ||
				back.Turns[0].Limit != tt.report.Turns[0].Limit || back.RollCalls[0].Window != tt.report.RollCalls[0].Window {
				t.Errorf("durations read back: %v %v %v %v", back.Summary.SpeakingTime, back.Points[0].Connected, back.Turns[0].Limit, back.RollCalls[0].Window)
			}
		})
	}
}

func walkKeys(v any, path string, f func(path, key string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			f(path, k)
			walkKeys(e, path+"."+k, f)
		}
	case []any:
		for _, e := range v {
			walkKeys(e, path+"[]", f)
		}
	}
}

// lookup follows a dotted path of keys and array indexes in v.
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			e, ok := node[part]
			if !ok {
				return nil, false
			}
			v = e
		case []any:
			i := -1
			for j := range node {
				if part == strconv.Itoa(j) {
					i = j
				}
			}
			if i < 0 {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}
