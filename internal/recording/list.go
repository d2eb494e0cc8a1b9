package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"hoinghi/internal/record"
)

// ArchiveFile is the name of a recording's composed archive in its
// directory.
const ArchiveFile = "archive.mp4"

// indexFile is the name of a recording's index in its directory.
const indexFile = record.IndexName

// Info describes one recording as the console and the API list it.
type Info struct {
	ID         string    `json:"id"`
	Conference string    `json:"conference_id"`
	StartedAt  time.Time `json:"started_at"`
	// StoppedAt is absent while it runs, and for a recording that a
	// crash ended (Duration is then up to its last written data).
	StoppedAt time.Time `json:"stopped_at,omitzero"`
	Active    bool      `json:"active"`
	// Duration is in seconds.
	Duration float64 `json:"duration_s"`
	// Size is the bytes of all its files.
	Size  int64      `json:"size_bytes"`
	Files []FileInfo `json:"files"`
	// Archive is the composed archive, absent until one was made.
	Archive *FileInfo `json:"archive,omitempty"`
	// Job is the archive job of the recording, absent when none ran
	// since the server started.
	Job *JobState `json:"job,omitempty"`
}

// FileInfo is one file of a recording.
type FileInfo struct {
	Name            string `json:"name"`
	Size            int64  `json:"size_bytes"`
	Participant     string `json:"participant_id,omitempty"`
	ParticipantName string `json:"participant_name,omitempty"`
	// Media is audio, video or content; archive for the composed file;
	// index for the index.
	Media string `json:"media"`
	Codec string `json:"codec,omitempty"`
	// Duration is in seconds, absent when not known.
	Duration float64 `json:"duration_s,omitempty"`
}

// List returns the recordings of conference conf, newest first.
func (m *Manager) List(conf string) ([]Info, error) {
	if !validName(conf) {
		return nil, nil
	}
	ids, err := sortedDirs(filepath.Join(m.cfg.Dir, conf))
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(ids))
	for _, id := range ids {
		info, err := m.Get(conf, id)
		if err != nil {
			m.log.Warn("recording: unreadable recording left out of the list", "conference", conf, "recording", id, "err", err)
			continue
		}
		out = append(out, info)
	}
	return out, nil
}

// Get returns recording id of conference conf.
func (m *Manager) Get(conf, id string) (Info, error) {
	if !validName(conf) || !validName(id) {
		return Info{}, ErrNotFound
	}
	dir := filepath.Join(m.cfg.Dir, conf, id)
	idx, err := record.ReadIndex(filepath.Join(dir, indexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, ErrNotFound
	}
	if err != nil {
		return Info{}, fmt.Errorf("recording: %s/%s: %w", conf, id, err)
	}
	info := Info{ID: id, Conference: conf, StartedAt: idx.Start, StoppedAt: idx.Stop, Files: []FileInfo{}}
	st := m.Status(conf)
	info.Active = st.Active && st.ID == id
	end := idx.Stop
	for _, t := range idx.Tracks {
		fi := FileInfo{Name: t.File, Participant: t.Participant, ParticipantName: t.Name, Media: t.Media, Codec: t.Codec}
		if s, err := os.Stat(filepath.Join(dir, t.File)); err == nil {
			fi.Size = s.Size()
		}
		if !t.End.IsZero() && !t.Start.IsZero() {
			fi.Duration = t.End.Sub(t.Start).Seconds()
		}
		info.Size += fi.Size
		info.Files = append(info.Files, fi)
	}
	if idx.Stop.IsZero() {
		end = crashEnd(idx, dir)
	}
	if s, err := os.Stat(filepath.Join(dir, indexFile)); err == nil {
		info.Size += s.Size()
	}
	if info.Active {
		end = time.Now()
	}
	if !end.IsZero() && end.After(idx.Start) {
		info.Duration = end.Sub(idx.Start).Seconds()
	}
	if s, err := os.Stat(filepath.Join(dir, ArchiveFile)); err == nil {
		info.Archive = &FileInfo{Name: ArchiveFile, Size: s.Size(), Media: "archive"}
		info.Size += s.Size()
	}
	m.mu.Lock()
	if j := m.jobs[conf+"/"+id]; j != nil {
		js := j.State()
		info.Job = &js
	}
	m.mu.Unlock()
	return info, nil
}

// crashEnd is how far a recording that did not stop cleanly got: its
// index's last event, or the last write to one of its files (each is
// flushed every second), whichever is later.
func crashEnd(idx *record.Index, dir string) time.Time {
	end := idx.LastAt
	for _, t := range idx.Tracks {
		if t.End.After(end) {
			end = t.End
		}
		if s, err := os.Stat(filepath.Join(dir, t.File)); err == nil && s.ModTime().After(end) {
			end = s.ModTime()
		}
	}
	return end
}

// File returns the path of file name of recording id of conference conf,
// for a download: a track's file, the index or the archive.
func (m *Manager) File(conf, id, name string) (string, error) {
	if !validName(conf) || !validName(id) || !validName(name) {
		return "", ErrNotFound
	}
	p := filepath.Join(m.cfg.Dir, conf, id, name)
	s, err := os.Stat(p)
	if err != nil || !s.Mode().IsRegular() {
		return "", ErrNotFound
	}
	return p, nil
}

// Delete removes recording id of conference conf with its files; a
// recording that runs or is being composed is refused with ErrBusy.
func (m *Manager) Delete(conf, id string) error {
	if !validName(conf) || !validName(id) {
		return ErrNotFound
	}
	dir := filepath.Join(m.cfg.Dir, conf, id)
	key := conf + "/" + id
	m.mu.Lock()
	if s := m.active[conf]; (s != nil && s.id == id) || m.busy[key] {
		m.mu.Unlock()
		return ErrBusy
	}
	if j := m.jobs[key]; j != nil && j.State().Running {
		m.mu.Unlock()
		return ErrBusy
	}
	// Marked busy, the files are removed with no lock held; a job
	// cannot start on it meanwhile.
	m.busy[key] = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.busy, key)
		delete(m.jobs, key)
		m.mu.Unlock()
	}()
	if _, err := os.Stat(filepath.Join(dir, indexFile)); err != nil {
		return ErrNotFound
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("recording: delete %s/%s: %w", conf, id, err)
	}
	return nil
}
