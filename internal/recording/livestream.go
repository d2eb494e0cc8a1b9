package recording

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hoinghi/internal/compose"
	"hoinghi/internal/live"
	"hoinghi/internal/sfu"
)

// LiveMedia is the part of the SFU a livestream needs.
type LiveMedia interface {
	StartLive(conf string, out sfu.LiveOutput) (*sfu.Live, error)
}

// Livestream targets (LiveRequest.Target).
const (
	TargetRTMP = "rtmp"
	TargetHLS  = "hls"
)

// Errors of livestreams.
var (
	ErrLiveRunning    = errors.New("recording: the conference is already broadcast live")
	ErrLiveNotRunning = errors.New("recording: the conference is not broadcast live")
	ErrBadTarget      = errors.New("recording: bad livestream target")
)

// LiveRequest asks for a livestream: to an RTMP(S) ingest at URL, or as
// HLS that the server serves.
type LiveRequest struct {
	Target string `json:"target"`
	URL    string `json:"url,omitempty"`
}

// LiveState is what the technician sees of a conference's livestream.
type LiveState struct {
	Running bool   `json:"running"`
	Target  string `json:"target,omitempty"`
	// URL is the RTMP ingest without its stream key, or the path of the
	// HLS playlist the server serves (/live/{id}/index.m3u8).
	URL       string    `json:"url,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	// BitrateKbps is what the encoder writes now.
	BitrateKbps float64 `json:"bitrate_kbps"`
	// DelayS is the stated delay to viewers, in seconds.
	DelayS float64 `json:"delay_s"`
	// Error says why the livestream ended when it ended by itself.
	Error string `json:"error,omitempty"`
}

// stream is one running livestream.
type stream struct {
	conf    string
	req     LiveRequest
	started time.Time
	runner  *live.Runner
	sfuLive *sfu.Live
	dir     string
	caption chan string
	done    chan struct{}
}

// HLSDir is the directory of conference conf's HLS livestream.
func (m *Manager) HLSDir(conf string) string {
	return filepath.Join(m.cfg.Dir, ".live", conf)
}

// StartLive starts broadcasting conference conf as req asks.
func (m *Manager) StartLive(conf string, req LiveRequest) (LiveState, error) {
	if !validName(conf) {
		return LiveState{}, ErrNotFound
	}
	target := live.Target{}
	switch req.Target {
	case TargetRTMP:
		u, err := url.Parse(req.URL)
		if err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
			return LiveState{}, fmt.Errorf("%w: an RTMP target needs an rtmp:// or rtmps:// address", ErrBadTarget)
		}
		target.RTMP = req.URL
	case TargetHLS:
		req.URL = ""
		target.HLSDir = m.HLSDir(conf)
	default:
		return LiveState{}, fmt.Errorf("%w: target must be rtmp or hls", ErrBadTarget)
	}
	lm, ok := m.cfg.Media.(LiveMedia)
	if !ok {
		return LiveState{}, errors.New("recording: this server's media cannot broadcast")
	}
	ffmpeg := m.cfg.FFmpeg
	if ffmpeg == "" {
		var err error
		if ffmpeg, err = compose.FFmpeg(); err != nil {
			return LiveState{}, fmt.Errorf("%w: %v", ErrFFmpegMissing, err)
		}
	}
	font, err := m.font()
	if err != nil {
		return LiveState{}, err
	}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return LiveState{}, errors.New("recording: the server is shutting down")
	}
	if old := m.streams[conf]; old != nil {
		if old.runner == nil || old.runner.State().Running {
			m.mu.Unlock()
			return LiveState{}, ErrLiveRunning
		}
		// Its encoder ended by itself: this start replaces it.
		delete(m.streams, conf)
		defer old.end()
	}
	s := &stream{conf: conf, req: req, started: time.Now(), caption: make(chan string, 1), done: make(chan struct{})}
	m.streams[conf] = s // held while it starts, so that a second start is refused
	m.mu.Unlock()
	fail := func(err error) (LiveState, error) {
		m.mu.Lock()
		delete(m.streams, conf)
		m.mu.Unlock()
		return LiveState{}, err
	}

	s.dir = filepath.Join(m.cfg.Dir, ".live-work", conf)
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fail(fmt.Errorf("recording: livestream: %w", err))
	}
	if target.HLSDir != "" {
		os.RemoveAll(target.HLSDir)
		if err := os.MkdirAll(target.HLSDir, 0o755); err != nil {
			return fail(fmt.Errorf("recording: livestream: %w", err))
		}
	}
	ports, err := live.FreePorts(3)
	if err != nil {
		return fail(err)
	}
	const videoPT, audioPT = 96, 111
	in := live.Input{VideoCodec: "vp8", VideoPort: ports[0], VideoPT: videoPT, AudioPorts: ports[1:], AudioPT: audioPT}
	runner, err := live.Start(context.Background(), ffmpeg, in, target, s.dir, font)
	if err != nil {
		return fail(fmt.Errorf("recording: livestream: %w", err))
	}
	s.runner = runner
	addr := func(port int) *net.UDPAddr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }
	s.sfuLive, err = lm.StartLive(conf, sfu.LiveOutput{Video: addr(ports[0]), HallAudio: addr(ports[1]), SpeakerAudio: addr(ports[2]),
		VideoPT: videoPT, AudioPT: audioPT,
		Speaker: func(p sfu.ProgramParticipant) {
			// The latest caption replaces one not yet written.
			select {
			case <-s.caption:
			default:
			}
			s.caption <- p.Name
		}})
	if err != nil {
		runner.Stop()
		return fail(fmt.Errorf("recording: livestream: %w", err))
	}
	go s.writeCaptions()
	m.log.Info("livestream started", "conference", conf, "target", req.Target, "url", redactURL(req.URL))
	m.changed(conf)
	return m.LiveState(conf), nil
}

// writeCaptions rewrites the caption file of s at each change of
// speaker, and asks for a keyframe every second until the encoder has
// pictures: it learns the picture's size from one.
func (s *stream) writeCaptions() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case text := <-s.caption:
			s.runner.SetCaption(text)
		case <-t.C:
			if s.runner.State().Frames == 0 {
				s.sfuLive.RequestKeyframe()
			}
		}
	}
}

// StopLive stops conference conf's livestream.
func (m *Manager) StopLive(conf string) (LiveState, error) {
	m.mu.Lock()
	s := m.streams[conf]
	if s == nil || s.runner == nil {
		m.mu.Unlock()
		return LiveState{}, ErrLiveNotRunning
	}
	delete(m.streams, conf)
	m.mu.Unlock()
	st := s.state()
	st.Running = false
	m.changed(conf) // the pages at once: it is no longer listed
	s.end()
	m.log.Info("livestream stopped", "conference", conf)
	return st, nil
}

func (s *stream) end() {
	close(s.done)
	s.sfuLive.Stop()
	s.runner.Stop()
}

// LiveState returns conference conf's livestream state. A livestream
// whose encoder ended by itself (its ingest refused it) shows its error
// and is no longer running.
func (m *Manager) LiveState(conf string) LiveState {
	m.mu.Lock()
	s := m.streams[conf]
	m.mu.Unlock()
	if s == nil || s.runner == nil {
		return LiveState{}
	}
	return s.state()
}

func (s *stream) state() LiveState {
	rs := s.runner.State()
	st := LiveState{Running: rs.Running, Target: s.req.Target, URL: redactURL(s.req.URL), StartedAt: s.started,
		BitrateKbps: rs.BitrateKbps, DelayS: rs.Delay.Seconds(), Error: rs.Err}
	if s.req.Target == TargetHLS {
		st.URL = "/live/" + s.conf + "/index.m3u8"
	}
	return st
}

// redactURL drops the stream key (the last path element) and any
// credentials of an RTMP address, for logs and the console.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return ""
	}
	path := u.Path
	if i := strings.LastIndex(path, "/"); i > 0 {
		path = path[:i] + "/…"
	}
	return u.Scheme + "://" + u.Host + path
}
