// Package recording runs the recordings of conferences: it starts and
// stops them in the SFU, keeps them on disk under one directory, lists,
// serves and deletes them, watches the free space, and composes the
// archive file of a finished recording.
package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/rtp"

	"hoinghi/internal/record"
	"hoinghi/internal/sfu"
	"hoinghi/internal/signal"
)

// Media is the part of the SFU a recording needs.
type Media interface {
	SetRecorder(conf string, rec sfu.Recorder)
}

// Config is what a Manager needs.
type Config struct {
	// Dir holds the recordings, one directory per conference and one
	// below it per recording.
	Dir string
	// MinFree is the free space (bytes) Dir's file system must have for
	// a recording to start; a recording stops when less than half of it
	// is left.
	MinFree int64
	Media   Media
	Log     *slog.Logger
	// OnChange is told when a conference's recording starts or stops.
	OnChange func(conf string)
	// Font is the font file of the archive's captions.
	Font string
	// Location is the time zone of the archive's clock (nil: time.Local).
	Location *time.Location
	// FFmpeg is the path of ffmpeg ("": looked up on PATH when a job
	// starts).
	FFmpeg string
	// CheckEvery is how often the free space is checked while recording
	// (0: 5 s).
	CheckEvery time.Duration
	// FreeSpace measures the free space of a directory (nil: FreeSpace,
	// the file system's own figure).
	FreeSpace func(dir string) (int64, error)
}

// Errors of the manager, for the API to map to its codes.
var (
	ErrRecording    = errors.New("recording: the conference is already being recorded")
	ErrNotRecording = errors.New("recording: the conference is not being recorded")
	ErrNotFound     = errors.New("recording: no such recording or file")
	ErrDiskFull     = errors.New("recording: not enough free space")
	ErrBusy         = errors.New("recording: the recording is in use")
	// ErrEmpty: the recording holds nothing to compose.
	ErrEmpty = errors.New("recording: nothing was recorded")
	// ErrFFmpegMissing: ffmpeg is not installed.
	ErrFFmpegMissing = errors.New("recording: ffmpeg is not installed")
)

// Manager runs the recordings of every conference of one server.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	active map[string]*session // conference id -> its running recording
	jobs   map[string]*Job     // conference id + "/" + recording id -> its archive job
	// streams are the livestreams, by conference id (livestream.go).
	streams map[string]*stream
	// busy holds what is being changed on disk with no lock held: a
	// conference whose recording starts (by conference id), a recording
	// being deleted (conference id + "/" + recording id).
	busy   map[string]bool
	closed bool
	wg     sync.WaitGroup
}

// New returns a manager of the recordings under cfg.Dir.
func New(cfg Config) *Manager {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = 5 * time.Second
	}
	if cfg.FreeSpace == nil {
		cfg.FreeSpace = FreeSpace
	}
	return &Manager{cfg: cfg, log: cfg.Log, active: map[string]*session{}, jobs: map[string]*Job{}, streams: map[string]*stream{}, busy: map[string]bool{}}
}

// Status is the state of a conference's recording, as pages show it.
type Status struct {
	Active    bool
	ID        string
	StartedAt time.Time
}

// Status returns whether conference conf is being recorded.
func (m *Manager) Status(conf string) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.active[conf]
	if s == nil {
		return Status{}
	}
	return Status{Active: true, ID: s.id, StartedAt: s.started}
}

// Broadcasting returns whether conference conf is being recorded, for
// the conference_state of its pages.
func (m *Manager) Broadcasting(conf string) signal.Broadcasting {
	st := m.Status(conf)
	return signal.Broadcasting{Recording: st.Active, RecordingSince: st.StartedAt, Livestream: m.LiveState(conf).Running}
}

// FreeSpace returns the bytes free for an unprivileged user on the file
// system of dir, the nearest existing parent of dir when it does not
// exist yet.
func FreeSpace(dir string) (int64, error) {
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return int64(st.Bavail) * int64(st.Bsize), nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, syscall.ENOENT) || parent == dir {
			return 0, fmt.Errorf("recording: free space of %s: %w", dir, err)
		}
		dir = parent
	}
}

// Start starts recording conference conf, refused when it is already
// recorded or the disk has less than Config.MinFree free.
func (m *Manager) Start(conf string, now time.Time) (Status, error) {
	if !validName(conf) {
		return Status{}, fmt.Errorf("%w: conference %q", ErrNotFound, conf)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return Status{}, errors.New("recording: the server is shutting down")
	}
	if m.active[conf] != nil || m.busy[conf] {
		m.mu.Unlock()
		return Status{}, ErrRecording
	}
	// The disk is asked with no lock held: a slow disk must not hold up
	// the pages, which ask Status at every connection.
	m.busy[conf] = true
	m.mu.Unlock()
	fail := func(err error) (Status, error) {
		m.mu.Lock()
		delete(m.busy, conf)
		m.mu.Unlock()
		return Status{}, err
	}
	free, err := m.cfg.FreeSpace(m.cfg.Dir)
	if err != nil {
		return fail(err)
	}
	if free < m.cfg.MinFree {
		return fail(fmt.Errorf("%w: %d MB free in %s, at least %d MB needed", ErrDiskFull, free>>20, m.cfg.Dir, m.cfg.MinFree>>20))
	}
	id := now.UTC().Format("20060102T150405Z")
	for i := 2; ; i++ {
		if _, err := os.Stat(filepath.Join(m.cfg.Dir, conf, id)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		id = fmt.Sprintf("%s-%d", now.UTC().Format("20060102T150405Z"), i)
	}
	rec, err := record.Create(m.cfg.Dir, conf, id, now)
	if err != nil {
		return fail(fmt.Errorf("recording: start %s: %w", conf, err))
	}
	s := &session{m: m, conf: conf, id: id, started: now, rec: rec, done: make(chan struct{}),
		events: make(chan programEntry, 256), eventsDone: make(chan struct{})}
	m.mu.Lock()
	delete(m.busy, conf)
	if m.closed {
		m.mu.Unlock()
		rec.Close(now)
		return Status{}, errors.New("recording: the server is shutting down")
	}
	go s.writeEvents()
	m.active[conf] = s
	m.wg.Add(1)
	m.mu.Unlock()
	m.cfg.Media.SetRecorder(conf, s)
	go s.watchSpace()
	m.log.Info("recording started", "conference", conf, "recording", id, "free_mb", free>>20)
	m.changed(conf)
	return Status{Active: true, ID: id, StartedAt: now}, nil
}

// Stop stops recording id of conference conf, closing its files so
// that they play; ErrNotRecording when that recording does not run.
func (m *Manager) Stop(conf, id string, now time.Time) (Status, error) {
	return m.stop(conf, id, "stopped", now)
}

// stop ends recording id of conf (any for ""), checked and taken out
// of the running ones under one lock, so that a stop meant for one
// recording never ends the next.
func (m *Manager) stop(conf, id, reason string, now time.Time) (Status, error) {
	m.mu.Lock()
	s := m.active[conf]
	if s == nil || (id != "" && s.id != id) {
		m.mu.Unlock()
		return Status{}, ErrNotRecording
	}
	delete(m.active, conf)
	m.mu.Unlock()
	st := Status{ID: s.id, StartedAt: s.started}
	err := s.finish(reason, now)
	m.wg.Done()
	m.log.Info("recording stopped", "conference", conf, "recording", s.id, "reason", reason, "err", err)
	m.changed(conf)
	return st, err
}

// Close stops every recording and waits for the archive jobs to end.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	confs := make([]string, 0, len(m.active))
	for c := range m.active {
		confs = append(confs, c)
	}
	jobs := make([]*Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		jobs = append(jobs, j)
	}
	var streams []string
	for c := range m.streams {
		streams = append(streams, c)
	}
	m.mu.Unlock()
	for _, c := range streams {
		m.StopLive(c)
	}
	for _, c := range confs {
		m.stop(c, "", "shutdown", time.Now())
	}
	for _, j := range jobs {
		j.cancel()
	}
	m.wg.Wait()
}

func (m *Manager) changed(conf string) {
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(conf)
	}
}

// session is one running recording; it is the SFU's Recorder of its
// conference.
type session struct {
	m       *Manager
	conf    string
	id      string
	started time.Time
	rec     *record.Recording
	// tracks counts the track recordings opened and not yet closed by
	// their goroutines in the SFU.
	tracks sync.WaitGroup
	done   chan struct{}
	// events queues the program's changes for the index (writeEvents);
	// eventsDone is closed once they are written.
	events     chan programEntry
	eventsDone chan struct{}
	stopOnce   sync.Once
}

// RecordTrack opens the file of one track (sfu.Recorder).
func (s *session) RecordTrack(t sfu.RecordedTrack, now time.Time) (sfu.TrackRecorder, error) {
	tr, err := s.rec.AddTrack(record.TrackInfo{
		ID: t.ID, Participant: t.Participant, PointID: pointID(t), Name: t.Name, Role: string(t.Role),
		Media: t.Media, Codec: t.Codec, ClockRate: t.ClockRate,
	}, now)
	if err != nil {
		s.failed(err)
		return nil, err
	}
	s.tracks.Add(1)
	return &trackWriter{s: s, t: tr}, nil
}

// pointID is the point id of a recorded track's participant: its
// participant id for a point, "" at the hall.
func pointID(t sfu.RecordedTrack) string {
	if t.Role.AtHall() {
		return ""
	}
	return t.Participant
}

// ProgramChanged appends what the program shows to the index
// (sfu.Recorder).
func (s *session) ProgramChanged(st sfu.ProgramState, now time.Time) {
	ev := ProgramEvent{Content: st.Content, Video: st.Video, Audio: st.Audio, Holders: []ProgramHolder{}}
	for _, h := range st.Holders {
		ev.Holders = append(ev.Holders, ProgramHolder{ID: h.ID, Name: h.Name, Role: string(h.Role)})
	}
	// The SFU calls this under its program lock: the index is written
	// by the session's own goroutine, never on the floor's path.
	select {
	case s.events <- programEntry{at: now, ev: ev}:
	default:
		s.m.log.Warn("recording: program change not recorded, the index is behind", "conference", s.conf)
	}
}

// programEntry is one change of the program for the index.
type programEntry struct {
	at time.Time
	ev ProgramEvent
}

// writeEvents writes the program's changes to the index until the
// session ends, then those still queued.
func (s *session) writeEvents() {
	defer close(s.eventsDone)
	write := func(e programEntry) {
		if err := s.rec.Event(EventProgram, e.at, e.ev); err != nil {
			s.failed(err)
		}
	}
	for {
		select {
		case e := <-s.events:
			write(e)
		case <-s.done:
			for {
				select {
				case e := <-s.events:
					write(e)
				default:
					return
				}
			}
		}
	}
}

// EventProgram is the kind of the index event of each change of what
// the program shows; its fields are a ProgramEvent.
const EventProgram = "program"

// ProgramEvent is what the program shows from an index event on.
type ProgramEvent struct {
	// Holders are the floor holders, first the speaker.
	Holders []ProgramHolder `json:"holders"`
	// Content is the participant whose content everyone sees.
	Content string `json:"content,omitempty"`
	// Video and Audio are the participants of the hall program.
	Video string `json:"video,omitempty"`
	Audio string `json:"audio,omitempty"`
}

// ProgramHolder is a floor holder in a ProgramEvent.
type ProgramHolder struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
}

// failed stops the recording when a write failed for lack of space; other
// failures lose one track only.
func (s *session) failed(err error) {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		go s.m.stop(s.conf, s.id, "disk_full", time.Now())
	}
}

// watchSpace stops the recording when the free space falls below half
// of Config.MinFree.
func (s *session) watchSpace() {
	t := time.NewTicker(s.m.cfg.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			free, err := s.m.cfg.FreeSpace(s.rec.Dir())
			if err == nil && free < s.m.cfg.MinFree/2 {
				s.m.log.Warn("recording: disk almost full; stopping", "conference", s.conf, "free_mb", free>>20)
				s.m.stop(s.conf, s.id, "disk_full", time.Now())
				return
			}
		}
	}
}

// finish ends the session: the SFU stops handing it packets, each track
// is closed by its goroutine once its queue is written (waited for a few
// seconds), and the index is closed.
func (s *session) finish(reason string, now time.Time) error {
	var err error
	s.stopOnce.Do(func() {
		s.m.cfg.Media.SetRecorder(s.conf, nil) // no program change after this
		close(s.done)
		<-s.eventsDone
		waited := make(chan struct{})
		go func() { s.tracks.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			s.m.log.Warn("recording: tracks still open after 5 s; closing them", "conference", s.conf)
		}
		if e := s.rec.Event("stopping", now, map[string]string{"reason": reason}); e != nil {
			err = e
		}
		if e := s.rec.Close(now); e != nil {
			err = e
		}
	})
	return err
}

// trackWriter is one track's recording as the SFU writes it.
type trackWriter struct {
	s      *session
	t      *record.Track
	closed bool
}

func (w *trackWriter) WriteRTP(p *rtp.Packet, arrival time.Time) error {
	err := w.t.WriteRTP(p, arrival)
	if err != nil {
		w.s.failed(err)
	}
	return err
}

func (w *trackWriter) SenderReport(ntp uint64, rtpTime uint32, arrival time.Time) error {
	return w.t.SenderReport(ntp, rtpTime, arrival)
}

func (w *trackWriter) Flush() error { return w.t.Flush() }

func (w *trackWriter) Close(now time.Time) error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.s.tracks.Done()
	return w.t.Close(now)
}

// validName reports whether a conference or recording id or a file name
// is one the manager makes: no path separators, no dot files.
func validName(s string) bool {
	return s != "" && !strings.HasPrefix(s, ".") && !strings.ContainsAny(s, `/\`) && filepath.Base(s) == s && len(s) <= 200
}

// sortedDirs returns the names of the directories in dir, newest (by
// name, which is the start time) first.
func sortedDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recording: list %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && validName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out, nil
}

// Dir returns the directory of the recordings.
func (m *Manager) Dir() string { return m.cfg.Dir }
