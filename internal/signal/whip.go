package signal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
	"hoinghi/internal/protocol"
	"hoinghi/internal/sfu"
	"hoinghi/internal/store"
)

// Refusals of Ingest and Watch.
var (
	// ErrTooManyViewers refuses a WHEP viewer beyond Deps.MaxViewers of
	// its conference.
	ErrTooManyViewers = errors.New("the conference has as many viewers as it may")
	// ErrNoSession is returned for a session id that is not (or no
	// longer) open in the conference.
	ErrNoSession = errors.New("no such session")
	// ErrICERestart refuses a PATCH that restarts ICE (another username
	// fragment than the offer's): sessions only take trickled candidates.
	ErrICERestart = errors.New("ICE restarts are not supported")
	// ErrWrongRole refuses a session of a role that may not open it: only
	// an ingest publishes by WHIP, only a viewer watches by WHEP.
	ErrWrongRole = errors.New("the role may not open this session")
)

// Session is one WHIP or WHEP session: a participant of the SFU without a
// signaling connection, addressed by its resource's id.
type Session struct {
	// ID names the session's resource (/whip/{conference}/{ID}): 32 hex
	// digits, unguessable.
	ID         string
	Conference string
	// Role is conference.RoleIngest (WHIP) or conference.RoleViewer (WHEP).
	Role conference.Role
	// ParticipantID is the participant's id in the SFU (and, for the
	// ingest, in the roster): "ingest-" or "viewer-" and 8 hex digits.
	ParticipantID string
	// Answer is the server's SDP answer to the client's offer.
	Answer string
	// ICEUfrag is the ICE username fragment of the client's offer: a
	// PATCH with another one is an ICE restart, which sessions do not do.
	ICEUfrag string

	hub  *Hub
	part *sfu.Participant
	log  *slog.Logger
	once sync.Once
}

// sessions are the hub's open WHIP and WHEP sessions.
type sessions struct {
	mu      sync.Mutex
	byID    map[string]*Session            // by session id
	ingest  map[string]*Session            // conference id -> its WHIP source
	viewers map[string]map[string]*Session // conference id -> its viewers, by session id
}

// Ingest opens the WHIP session of the admitted ingest a: the mixer's
// offer (picture and sound) is answered, its participant joins the SFU as
// a hall participant that only publishes, and the roster shows it (role
// ingest). A session that publishes already in the conference is ended:
// the newer source replaces it. It appears in no attendance. Its media
// becomes the hall program's by the SFU's rule (sfu.SetProgramVideo).
func (h *Hub) Ingest(ctx context.Context, a Admission, offer string) (*Session, error) {
	if a.Claims == nil || a.Claims.Role != conference.RoleIngest {
		return nil, ErrWrongRole
	}
	s, err := h.openSession(a, conference.RoleIngest, offer)
	if err != nil {
		return nil, err
	}
	if s.Answer, err = s.part.HandlePublishOffer(ctx, offer); err != nil {
		s.part.Close()
		return nil, fmt.Errorf("whip offer: %w", err)
	}
	h.sessions.mu.Lock()
	if h.shuttingDown() {
		h.sessions.mu.Unlock()
		s.part.Close()
		return nil, sfu.ErrClosed
	}
	old := h.sessions.ingest[s.Conference]
	h.sessions.put(s)
	h.sessions.ingest[s.Conference] = s
	h.sessions.mu.Unlock()
	if old != nil {
		old.log.Info("WHIP source replaced by a newer one", "by", s.ParticipantID)
		old.end()
	}
	h.mu.Lock()
	r := h.rooms[s.Conference]
	if r == nil {
		r = newRoom(h, s.Conference)
		h.rooms[s.Conference] = r
	}
	delete(h.empty, s.Conference)
	r.mu.Lock()
	r.addExtra(protocol.Participant{ID: s.ParticipantID, Role: string(conference.RoleIngest),
		Name: conference.DisplayName(conference.RoleIngest, "")})
	r.mu.Unlock()
	h.mu.Unlock()
	s.part.OnEnd(s.end)
	s.log.Info("WHIP source connected")
	detail := ""
	if old != nil {
		detail = "replaced " + old.ParticipantID
	}
	s.audit(ctx, AuditWHIPStarted, detail)
	return s, nil
}

// Watch opens the WHEP session of the admitted viewer a: its client's
// offer (receiving audio and video) is answered with the hall program's
// picture and sound, which follow the program from source to source
// without renegotiation. A viewer is in no roster and no attendance. Past
// Deps.MaxViewers viewers of the conference it is refused with
// ErrTooManyViewers.
func (h *Hub) Watch(ctx context.Context, a Admission, offer string) (*Session, error) {
	if a.Claims == nil || a.Claims.Role != conference.RoleViewer {
		return nil, ErrWrongRole
	}
	conf := a.Conference.ID
	h.sessions.mu.Lock()
	if h.sessions.viewers == nil {
		h.sessions.viewers = make(map[string]map[string]*Session)
	}
	vs := h.sessions.viewers[conf]
	if len(vs) >= h.d.MaxViewers {
		h.sessions.mu.Unlock()
		return nil, ErrTooManyViewers
	}
	if vs == nil {
		vs = make(map[string]*Session)
		h.sessions.viewers[conf] = vs
	}
	// The place is taken before the join, so that viewers arriving at
	// once cannot pass the bound together.
	placeholder := &Session{}
	key := "joining-" + randomHex(8)
	vs[key] = placeholder
	h.sessions.mu.Unlock()
	release := func() {
		h.sessions.mu.Lock()
		delete(h.sessions.viewers[conf], key)
		h.sessions.mu.Unlock()
	}

	s, err := h.openSession(a, conference.RoleViewer, offer)
	if err != nil {
		release()
		return nil, err
	}
	if s.Answer, err = s.part.HandleWatchOffer(ctx, offer); err != nil {
		release()
		s.part.Close()
		return nil, fmt.Errorf("whep offer: %w", err)
	}
	h.sessions.mu.Lock()
	delete(h.sessions.viewers[conf], key)
	if h.shuttingDown() {
		h.sessions.mu.Unlock()
		s.part.Close()
		return nil, sfu.ErrClosed
	}
	h.sessions.put(s)
	h.sessions.viewers[conf][s.ID] = s
	h.sessions.mu.Unlock()
	s.part.OnEnd(s.end)
	s.log.Info("WHEP viewer connected")
	return s, nil
}

// openSession joins a new participant of role for a's conference to the
// SFU, for the client's offer.
func (h *Hub) openSession(a Admission, role conference.Role, offer string) (*Session, error) {
	s := &Session{ID: randomHex(16), Conference: a.Conference.ID, Role: role,
		ParticipantID: string(role) + "-" + randomHex(4), ICEUfrag: iceUfrag(offer), hub: h}
	s.log = h.log.With("conference", s.Conference, "participant", s.ParticipantID, "role", string(role))
	part, err := h.d.SFU.Join(s.Conference, sfu.Info{ID: s.ParticipantID, Role: role, Name: a.Name()}, sessionSignaler{s})
	if err != nil {
		return nil, fmt.Errorf("join media: %w", err)
	}
	s.part = part
	return s, nil
}

// EndSession ends session id of conference conf (a WHIP or WHEP DELETE)
// if it is open and of role; it reports whether it was.
func (h *Hub) EndSession(conf string, role conference.Role, id string) bool {
	s := h.session(conf, role, id)
	if s == nil {
		return false
	}
	s.end()
	return true
}

// AddSessionCandidates adds the client's trickled ICE candidates (a WHIP
// or WHEP PATCH) of ICE username fragment ufrag ("": the offer's) to
// session id of conference conf and role. The error wraps ErrNoSession,
// ErrICERestart for another fragment than the offer's, or sfu.ErrBadSDP
// for a candidate pion refuses.
func (h *Hub) AddSessionCandidates(conf string, role conference.Role, id, ufrag string, cands []webrtc.ICECandidateInit) error {
	s := h.session(conf, role, id)
	if s == nil {
		return ErrNoSession
	}
	if ufrag != "" && ufrag != s.ICEUfrag {
		return ErrICERestart
	}
	for _, c := range cands {
		if err := s.part.AddCandidate(role == conference.RoleIngest, c); err != nil {
			return err
		}
	}
	return nil
}

// Viewers returns how many WHEP viewers conference conf has now.
func (h *Hub) Viewers(conf string) int {
	h.sessions.mu.Lock()
	defer h.sessions.mu.Unlock()
	n := 0
	for _, s := range h.sessions.viewers[conf] {
		if s.part != nil {
			n++
		}
	}
	return n
}

// session returns the open session id of conf and role, or nil.
func (h *Hub) session(conf string, role conference.Role, id string) *Session {
	h.sessions.mu.Lock()
	defer h.sessions.mu.Unlock()
	s := h.sessions.byID[id]
	if s == nil || s.Conference != conf || s.Role != role {
		return nil
	}
	return s
}

// ingestRole reports whether id is the participant of conf's WHIP source,
// and its role.
func (h *Hub) ingestRole(conf, id string) (conference.Role, bool) {
	h.sessions.mu.Lock()
	defer h.sessions.mu.Unlock()
	if s := h.sessions.ingest[conf]; s != nil && s.ParticipantID == id {
		return conference.RoleIngest, true
	}
	return "", false
}

// isViewer reports whether id is a WHEP viewer of conf.
func (h *Hub) isViewer(conf, id string) bool {
	h.sessions.mu.Lock()
	defer h.sessions.mu.Unlock()
	for _, s := range h.sessions.viewers[conf] {
		if s.ParticipantID == id {
			return true
		}
	}
	return false
}

// shuttingDown reports whether Shutdown began.
func (h *Hub) shuttingDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.shutdown
}

// put files s by its id. ss.mu must be held.
func (ss *sessions) put(s *Session) {
	if ss.byID == nil {
		ss.byID = make(map[string]*Session)
		ss.ingest = make(map[string]*Session)
	}
	if ss.viewers == nil {
		ss.viewers = make(map[string]map[string]*Session)
	}
	ss.byID[s.ID] = s
}

// end closes the session, once: its participant leaves the SFU (the
// program falls back to the next source) and, for the ingest, the roster.
func (s *Session) end() {
	s.once.Do(func() {
		h := s.hub
		h.sessions.mu.Lock()
		if h.sessions.byID[s.ID] == s {
			delete(h.sessions.byID, s.ID)
		}
		if h.sessions.ingest[s.Conference] == s {
			delete(h.sessions.ingest, s.Conference)
		}
		if vs := h.sessions.viewers[s.Conference]; vs != nil {
			delete(vs, s.ID)
			if len(vs) == 0 {
				delete(h.sessions.viewers, s.Conference)
			}
		}
		h.sessions.mu.Unlock()
		s.part.Close()
		if s.Role == conference.RoleIngest {
			h.mu.Lock()
			if r := h.rooms[s.Conference]; r != nil {
				r.mu.Lock()
				r.removeExtra(s.ParticipantID)
				if len(r.conns) == 0 && len(r.extras) == 0 {
					delete(h.rooms, r.id)
					h.empty[r.id] = time.Now()
					r.dead = true
					if r.timer != nil {
						r.timer.Stop()
					}
				}
				r.mu.Unlock()
			}
			h.mu.Unlock()
			s.audit(context.Background(), AuditWHIPEnded, "")
		}
		s.log.Info("session ended")
	})
}

// Audit actions of the WHIP source: the hall program's source came or went.
const (
	AuditWHIPStarted = "whip_started" // a mixer began to send the program (Detail: the source it replaced, if any)
	AuditWHIPEnded   = "whip_ended"   // it stopped: DELETE, its media failed, or a newer source replaced it
)

// audit appends action of the session's source to the conference's audit
// log; a store that fails loses the entry, not the session.
func (s *Session) audit(ctx context.Context, action, detail string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := s.hub.d.Store.Audit(ctx, s.Conference, store.AuditEntry{At: time.Now().UTC(), By: s.ParticipantID,
		Role: s.Role, Action: action, Detail: detail}); err != nil {
		s.log.Error("write audit log", "action", action, "err", err)
	}
}

// sessionSignaler is the sfu.Signaler of a session: it has no signaling
// connection, so nothing is sent; media that never connects ends it.
type sessionSignaler struct{ s *Session }

func (sessionSignaler) SendSubscribeOffer(string)             {}
func (sessionSignaler) SendWall([]string)                     {}
func (sessionSignaler) SendLayers(string, []string, []string) {}
func (sessionSignaler) SendDownlink(string)                   {}
func (sessionSignaler) SendProgram(sfu.Program)               {}
func (g sessionSignaler) MediaConnected()                     { g.s.log.Info("session media connected") }

// MediaFailed ends the session: its client is gone, or never reached the
// media port.
func (g sessionSignaler) MediaFailed(reason string) {
	g.s.log.Warn("session media did not connect; ending it", "reason", reason)
	go g.s.end()
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// iceUfrag returns the first ICE username fragment of sdp, "" for none.
func iceUfrag(sdp string) string {
	for line := range strings.Lines(sdp) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "a=ice-ufrag:"); ok {
			return v
		}
	}
	return ""
}
