package recording

import (
	"encoding/json"
	"testing"
	"time"

	"hoinghi/internal/compose"
	"hoinghi/internal/record"
)

// TestPlanOf maps an index to the archive's shots: the hall program,
// the speaker's camera during a turn, the content with the speaker small
// while it is shared, the hall again; every point's sound and the hall's.
func TestPlanOf(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	track := func(participant, point, media string, from, to float64) record.IndexTrack {
		return record.IndexTrack{TrackInfo: record.TrackInfo{Participant: participant, PointID: point, Media: media},
			File: participant + "-" + media, Started: true, Start: at(from), End: at(to)}
	}
	event := func(s float64, ev ProgramEvent) record.IndexEvent {
		b, _ := json.Marshal(ev)
		return record.IndexEvent{Kind: EventProgram, At: at(s), Fields: b}
	}
	hall := ProgramEvent{Holders: []ProgramHolder{}, Video: "tech", Audio: "tech"}
	turn := ProgramEvent{Holders: []ProgramHolder{{ID: "diem-1", Name: "Điểm cầu số 1"}}, Video: "tech", Audio: "tech"}
	slides := turn
	slides.Content = "diem-1"
	idx := &record.Index{Conference: "c", ID: "r", Start: t0, Stop: at(20),
		Tracks: []record.IndexTrack{
			track("tech", "", "video", 0.2, 20),                                                 // 0
			track("tech", "", "audio", 0.1, 20),                                                 // 1
			track("diem-1", "diem-1", "video", 0.3, 20),                                         // 2
			track("diem-1", "diem-1", "audio", 5, 15),                                           // 3
			track("diem-1", "diem-1", "content", 8, 11),                                         // 4
			track("diem-2", "diem-2", "video", 0.3, 20),                                         // 5
			{TrackInfo: record.TrackInfo{Participant: "diem-2", Media: "audio"}, File: "empty"}, // nothing written
		},
		Events: []record.IndexEvent{event(0, hall), event(5, turn), event(8, slides), event(11, turn), event(15, hall)},
	}
	plan, err := PlanOf(idx, "/rec", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Duration != 20*time.Second || len(plan.Inputs) != 6 {
		t.Fatalf("plan of %v with %d inputs", plan.Duration, len(plan.Inputs))
	}
	if in := plan.Inputs[2]; in.File != "/rec/diem-1-video" || in.Offset != 300*time.Millisecond || in.Audio {
		t.Errorf("input 2: %+v", in)
	}
	if got := plan.Audio; len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("audio %v, want the hall's and the point's", got)
	}
	s := func(from, to float64, main, inset int, caption string) compose.Shot {
		return compose.Shot{From: time.Duration(from * float64(time.Second)), To: time.Duration(to * float64(time.Second)), Main: main, Inset: inset, Caption: caption}
	}
	want := []compose.Shot{
		s(0, 0.2, -1, -1, ""), // before the hall's first frame
		s(0.2, 5, 0, -1, ""),
		s(5, 8, 2, -1, "Điểm cầu số 1"),
		s(8, 11, 4, 2, "Điểm cầu số 1"),
		s(11, 15, 2, -1, "Điểm cầu số 1"),
		s(15, 20, 0, -1, ""),
	}
	if len(plan.Shots) != len(want) {
		t.Fatalf("shots %+v, want %+v", plan.Shots, want)
	}
	for i := range want {
		if plan.Shots[i] != want[i] {
			t.Errorf("shot %d: %+v, want %+v", i, plan.Shots[i], want[i])
		}
	}
	if _, err := PlanOf(&record.Index{Start: t0, Stop: t0}, "/rec", nil); err == nil {
		t.Error("a plan of nothing")
	}
}
