package recording

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"hoinghi/internal/compose"
	"hoinghi/internal/export"
	"hoinghi/internal/record"
)

// JobState is how far a recording's archive job is.
type JobState struct {
	Running bool `json:"running"`
	// Done and Total are seconds of the program composed and to compose.
	Done  float64 `json:"done_s"`
	Total float64 `json:"total_s"`
	// Speed is the composition's speed, in seconds of program a second.
	Speed      float64   `json:"speed,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Error says why the job failed; absent when it did not.
	Error string `json:"error,omitempty"`
}

// Job is one composition of a recording's archive.
type Job struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	state  JobState
}

// State returns the job's state now.
func (j *Job) State() JobState {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state
}

// Compose starts composing the archive of recording id of conference
// conf: one MP4 of the program, written as ArchiveFile beside the
// recording's files. A recording still running, or one already being
// composed, is refused with ErrBusy.
func (m *Manager) Compose(conf, id string) (JobState, error) {
	if !validName(conf) || !validName(id) {
		return JobState{}, ErrNotFound
	}
	dir := filepath.Join(m.cfg.Dir, conf, id)
	idx, err := record.ReadIndex(filepath.Join(dir, indexFile))
	if err != nil {
		return JobState{}, ErrNotFound
	}
	ffmpeg := m.cfg.FFmpeg
	if ffmpeg == "" {
		if ffmpeg, err = compose.FFmpeg(); err != nil {
			return JobState{}, fmt.Errorf("%w: %v", ErrFFmpegMissing, err)
		}
	}
	plan, err := PlanOf(idx, dir, m.cfg.Location)
	if err != nil {
		return JobState{}, err
	}
	if plan.Font, err = m.font(); err != nil {
		return JobState{}, err
	}
	key := conf + "/" + id
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return JobState{}, errors.New("recording: the server is shutting down")
	}
	if s := m.active[conf]; s != nil && s.id == id {
		m.mu.Unlock()
		return JobState{}, ErrBusy
	}
	if j := m.jobs[key]; (j != nil && j.State().Running) || m.busy[key] {
		m.mu.Unlock()
		return JobState{}, ErrBusy
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{cancel: cancel, state: JobState{Running: true, Total: plan.Duration.Seconds(), StartedAt: time.Now()}}
	m.jobs[key] = j
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		defer cancel()
		tmp := filepath.Join(dir, ".archive.part.mp4")
		err := compose.Compose(ctx, ffmpeg, plan, tmp, func(p compose.Progress) {
			j.mu.Lock()
			j.state.Done, j.state.Speed = p.Done.Seconds(), p.Speed
			j.mu.Unlock()
		})
		if err == nil {
			err = os.Rename(tmp, filepath.Join(dir, ArchiveFile))
		}
		if err != nil {
			os.Remove(tmp)
		}
		j.mu.Lock()
		j.state.Running, j.state.FinishedAt = false, time.Now()
		if err != nil {
			j.state.Error = err.Error()
		} else {
			j.state.Done = j.state.Total
		}
		j.mu.Unlock()
		m.log.Info("recording: archive job ended", "conference", conf, "recording", id, "took", time.Since(j.state.StartedAt).Round(time.Millisecond), "err", err)
	}()
	return j.State(), nil
}

// font returns the path of the captions' font: Config.Font, else the
// reports' own font written once into the recordings' directory.
func (m *Manager) font() (string, error) {
	if m.cfg.Font != "" {
		return m.cfg.Font, nil
	}
	p := filepath.Join(m.cfg.Dir, ".fonts", "DejaVuSans.ttf")
	if s, err := os.Stat(p); err == nil && s.Size() == int64(len(export.RegularFont())) {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("recording: font: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, export.RegularFont(), 0o644); err != nil {
		return "", fmt.Errorf("recording: font: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("recording: font: %w", err)
	}
	return p, nil
}

// PlanOf maps a recording's index to the composition of its archive: the
// hall program's picture, cut to the speaker's camera while one holds
// the floor and to the content (the speaker or the hall small beside it)
// while one is shared, with the speaker's name as caption; the sound of
// every point (forwarded, so recorded, only while it held the floor) and
// of the hall participants that were the program's sound or held the
// floor, mixed.
func PlanOf(idx *record.Index, dir string, loc *time.Location) (compose.Plan, error) {
	start := idx.Start
	end := idx.Stop
	for _, t := range idx.Tracks {
		if idx.Stop.IsZero() && t.End.After(end) {
			end = t.End
		}
	}
	if idx.Stop.IsZero() {
		end = crashEnd(idx, dir)
	}
	if !end.After(start) {
		return compose.Plan{}, fmt.Errorf("%w: %s/%s", ErrEmpty, idx.Conference, idx.ID)
	}
	plan := compose.Plan{Duration: end.Sub(start), Start: start, Location: loc}

	// The program's states, in order.
	type state struct {
		at time.Time
		ev ProgramEvent
	}
	var states []state
	for _, e := range idx.Events {
		if e.Kind != EventProgram {
			continue
		}
		var ev ProgramEvent
		if err := json.Unmarshal(e.Fields, &ev); err != nil {
			continue
		}
		states = append(states, state{at: e.At, ev: ev})
	}

	// The inputs: every track's file, placed where it started.
	type placed struct {
		input      int
		t          record.IndexTrack
		from, till time.Time
	}
	var videos []placed
	audioWanted := map[string]bool{}
	for _, s := range states {
		if s.ev.Audio != "" {
			audioWanted[s.ev.Audio] = true
		}
		for _, h := range s.ev.Holders {
			audioWanted[h.ID] = true
		}
	}
	for _, t := range idx.Tracks {
		if !t.Started || t.Start.IsZero() {
			continue // nothing was written
		}
		till := t.End
		if till.IsZero() {
			till = end
		}
		in := compose.Input{File: filepath.Join(dir, t.File), Offset: t.Start.Sub(start), Audio: t.Media == "audio"}
		plan.Inputs = append(plan.Inputs, in)
		i := len(plan.Inputs) - 1
		if in.Audio {
			if t.PointID != "" || audioWanted[t.Participant] || len(states) == 0 {
				plan.Audio = append(plan.Audio, i)
			}
			continue
		}
		videos = append(videos, placed{input: i, t: t, from: t.Start, till: till})
	}
	// videoOf returns the input of participant id's media at moment at:
	// of its files that cover at, the one that started last.
	videoOf := func(id, media string, at time.Time) int {
		best := -1
		var bestFrom time.Time
		for _, v := range videos {
			if v.t.Participant != id || v.t.Media != media || at.Before(v.from) || !at.Before(v.till) {
				continue
			}
			if best < 0 || v.from.After(bestFrom) {
				best, bestFrom = v.input, v.from
			}
		}
		return best
	}

	// The cuts: every change of the program and every start or end of
	// a video file; between two, one shot.
	cuts := []time.Time{start, end}
	for _, s := range states {
		cuts = append(cuts, s.at)
	}
	for _, v := range videos {
		cuts = append(cuts, v.from, v.till)
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })
	stateAt := func(at time.Time) ProgramEvent {
		var ev ProgramEvent
		for _, s := range states {
			if s.at.After(at) {
				break
			}
			ev = s.ev
		}
		return ev
	}
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		if !from.Before(end) || !to.After(start) {
			continue
		}
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		ev := stateAt(from)
		shot := compose.Shot{From: from.Sub(start), To: to.Sub(start), Main: -1, Inset: -1}
		camera := -1
		if len(ev.Holders) > 0 {
			camera = videoOf(ev.Holders[0].ID, "video", from)
			shot.Caption = ev.Holders[0].Name
		}
		hall := -1
		if ev.Video != "" {
			hall = videoOf(ev.Video, "video", from)
		}
		if camera < 0 {
			camera = hall
		}
		content := -1
		if ev.Content != "" {
			content = videoOf(ev.Content, "content", from)
		}
		if content >= 0 {
			shot.Main, shot.Inset = content, camera
		} else {
			shot.Main = camera
		}
		if n := len(plan.Shots); n > 0 {
			last := &plan.Shots[n-1]
			if last.To == shot.From && last.Main == shot.Main && last.Inset == shot.Inset && last.Caption == shot.Caption {
				last.To = shot.To
				continue
			}
		}
		plan.Shots = append(plan.Shots, shot)
	}
	return plan, nil
}
