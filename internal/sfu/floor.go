package sfu

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/conference"
)

// SpeakerAudioSlots is how many voices of floor holders a point hears at
// once, in an open discussion.
const SpeakerAudioSlots = 3

// SetFloor declares who holds the floor in conf, in the order given, as
// of floor version version; a version older than one set before is
// ignored, so that states set concurrently settle on the newest. Only the
// holders' audio among the points is forwarded, to everyone; every other
// point receives the first holder's video and the holders' audio in its
// speaker slots. The hall's audio is always forwarded, unless a technician
// muted it (SetMuted). A new first holder counts as a floor switch in
// Stats.
func (s *SFU) SetFloor(conf string, version int64, holders []string) {
	s.mu.Lock()
	r := s.roomLocked(conf)
	r.mu.Lock()
	s.mu.Unlock()
	if version < r.floorVersion {
		r.mu.Unlock()
		return
	}
	r.floorVersion = version
	switched := len(holders) > 0 && (len(r.holders) == 0 || r.holders[0] != holders[0])
	if switched {
		s.stats.floorSwitches.Add(1)
		r.switchAt.Store(time.Now().UnixNano())
	} else if len(holders) == 0 {
		r.switchAt.Store(0)
	}
	r.holders = slices.Clone(holders)
	r.mu.Unlock()
	r.applyFloor()
}

// Floor returns the holders last set for conf.
func (s *SFU) Floor(conf string) []string {
	s.mu.Lock()
	r := s.rooms[conf]
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.floorHolders()
}

// floorHolders returns the holders of the floor in r.
func (r *room) floorHolders() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.holders)
}

// applyFloor brings gates, speaker slots and the hall program in line with
// the holders and the hall's consoles, and tells the consoles where the
// program comes from. It is idempotent: every change to the room calls
// it. r.applyMu makes one call at a time, so that the last to read the
// room is the last to act on it.
func (r *room) applyFloor() {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	r.mu.Lock()
	holders := slices.Clone(r.holders)
	parts := make([]*Participant, 0, len(r.participants))
	for _, p := range r.participants {
		parts = append(parts, p)
	}
	r.mu.Unlock()

	byID := make(map[string]*Participant, len(parts))
	for _, p := range parts {
		byID[p.info.ID] = p
	}
	for _, p := range parts {
		open := p.hearable(holders)
		for _, up := range p.publishedTracks() {
			if up.kind == webrtc.RTPCodecTypeAudio {
				up.setGated(!open)
			}
		}
	}
	chosenVideo, chosenAudio := r.chosenProgram()
	video, audio := programSources(parts, chosenVideo, chosenAudio, true)
	vp8 := video
	if video != nil && !strings.EqualFold(video.codec.MimeType, webrtc.MimeTypeVP8) {
		vp8, _ = programSources(parts, chosenVideo, chosenAudio, false)
	}
	var told Program
	if video != nil {
		told.Video = video.streamID
		told.VideoChosen = told.Video == chosenVideo
	}
	if audio != nil {
		told.Audio = audio.streamID
		told.AudioChosen = told.Audio == chosenAudio
	}
	content := r.contentSource(byID, holders)
	for _, p := range parts {
		p.fillSlots(holders, byID)
		p.fillProgram(video, vp8, audio)
		p.fillContent(content)
		if p.info.Role.AtHall() && (!p.programSent || p.programTold != told) {
			p.programTold, p.programSent = told, true
			p.sig.SendProgram(told)
		}
	}
	r.mu.Lock()
	live := r.live
	r.mu.Unlock()
	if live != nil {
		live.fill(holders, byID, vp8, audio, content)
	}
	r.applyRecording(parts, holders, content, told)
}

// hearable reports whether p's audio is forwarded: the hall's always, a
// point's while it holds the floor, nobody's while a technician muted it.
func (p *Participant) hearable(holders []string) bool {
	if p.muted.Load() {
		return false
	}
	return p.info.Role != conference.RolePoint || slices.Contains(holders, p.info.ID)
}

// SetMuted mutes or unmutes participant id of conf in the SFU: while muted,
// none of its audio is forwarded, whatever the floor. It reports whether
// the participant is there.
func (s *SFU) SetMuted(conf, id string, muted bool) bool {
	p := s.participant(conf, id)
	if p == nil {
		return false
	}
	p.muted.Store(muted)
	p.room.applyFloor()
	return true
}

// RequestKeyframes asks participant id of conf for a keyframe of every
// video track it publishes, and reports whether it is there.
func (s *SFU) RequestKeyframes(conf, id string) bool {
	p := s.participant(conf, id)
	if p == nil {
		return false
	}
	p.RequestKeyframes()
	return true
}

// addSlots gives a point or a hall participant its speaker slots, empty
// until someone holds the floor, the track of its probes, and a hall
// participant its wall. Join
// calls it before the participant is in its room.
func (p *Participant) addSlots() error {
	if p.info.Role == conference.RoleViewer {
		return p.addViewerSlots()
	}
	if !conference.HasSpeakerSlots(p.info.Role) {
		return nil
	}
	stats := &p.sfu.stats
	slots := []*downTrack{newSpeakerSlot(p, stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, SpeakerStreamID, "speaker-video", needHigh)}
	for i := range SpeakerAudioSlots {
		slots = append(slots, newSpeakerSlot(p, stats, speakerCodec(webrtc.RTPCodecTypeAudio), webrtc.RTPCodecTypeAudio, SpeakerStreamID, fmt.Sprintf("speaker-audio-%d", i), needHigh))
	}
	// The hall program, for a point.
	var program []*downTrack
	if conference.ReceivesProgram(p.info.Role) {
		program = programSlots(p, stats)
	}
	// The content everyone sees (content.go).
	content := newSpeakerSlot(p, stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, ContentStreamID, ContentTrackID, needHigh)
	// The track of the probes of p's link (probe.go).
	prober := newSpeakerSlot(p, stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, ProbeStreamID, "probe", needLow)
	all := append(slices.Concat(slots, program), content, prober)
	var w *wall
	if conference.WatchesWall(p.info.Role) {
		w = newWall(p, p.sfu.wallSlots)
		all = append(all, w.slots...)
	}
	for _, d := range all {
		// sendonly: the subscribing PeerConnection carries nothing from
		// the client.
		t, err := p.sub.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err == nil && d.kind == webrtc.RTPCodecTypeVideo {
			err = t.SetCodecPreferences(slotCodecs(d))
		}
		if err != nil {
			for _, d := range all {
				d.close()
			}
			return fmt.Errorf("sfu: add speaker or wall slot: %w", err)
		}
		p.readRTCP(t.Sender(), d)
	}
	p.mu.Lock()
	p.slots, p.program, p.content = slots, program, content
	p.mu.Unlock()
	p.prober = prober
	p.wall = w // before Join makes p known to others
	p.requestNegotiation()
	return nil
}

// programSlots returns the hall program's two slots for p: video, which
// may carry H.264 beside VP8, then audio.
func programSlots(p *Participant, stats *counters) []*downTrack {
	video := newSpeakerSlot(p, stats, speakerCodec(webrtc.RTPCodecTypeVideo), webrtc.RTPCodecTypeVideo, ProgramStreamID, "program-video", needHigh)
	video.h264 = true
	return []*downTrack{video,
		newSpeakerSlot(p, stats, speakerCodec(webrtc.RTPCodecTypeAudio), webrtc.RTPCodecTypeAudio, ProgramStreamID, "program-audio", needHigh)}
}

// slotCodecs are the codecs the subscribe offer names on the m-line of
// the video slot d: VP8, and H.264 after it on the program's
// (programCodec); a subscriber's answer without H.264 there keeps the
// program's picture VP8. Each keeps the transport-wide congestion
// control feedback of the subscribe media engine (registerTransportCC).
func slotCodecs(d *downTrack) []webrtc.RTPCodecParameters {
	cs := []webrtc.RTPCodecParameters{vp8Codec()}
	if d.h264 {
		cs = append(cs, programCodec())
	}
	for i := range cs {
		cs[i].RTCPFeedback = append(cs[i].RTCPFeedback, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC})
	}
	return cs
}

// addViewerSlots gives a viewer the hall program's two slots, on the
// subscribing PeerConnection whose offer its client sends
// (HandleWatchOffer): no speaker slots, no probes, no wall.
func (p *Participant) addViewerSlots() error {
	program := programSlots(p, &p.sfu.stats)
	for _, d := range program {
		sender, err := p.sub.AddTrack(d)
		if err != nil {
			for _, d := range program {
				d.close()
			}
			return fmt.Errorf("sfu: add program slot of a viewer: %w", err)
		}
		p.readRTCP(sender, d)
	}
	p.mu.Lock()
	p.program = program
	p.mu.Unlock()
	return nil
}

// fillSlots points p's speaker slots at the holders' tracks, leaving out
// p's own.
func (p *Participant) fillSlots(holders []string, byID map[string]*Participant) {
	p.mu.Lock()
	slots := p.slots
	p.mu.Unlock()
	if len(slots) == 0 {
		return
	}
	var video *upTrack
	var audio []*upTrack
	for _, id := range holders {
		h := byID[id]
		if h == nil || h == p {
			continue
		}
		for _, up := range h.publishedTracks() {
			switch {
			case up.kind == webrtc.RTPCodecTypeVideo && video == nil:
				video = up
			case up.kind == webrtc.RTPCodecTypeAudio && len(audio) < SpeakerAudioSlots:
				audio = append(audio, up)
			}
		}
	}
	slots[0].switchSource(video)

	// A voice that keeps speaking stays in its slot; new voices take the
	// free ones.
	audioSlots := slots[1:]
	kept := make(map[*upTrack]bool)
	for _, d := range audioSlots {
		if cur := d.shown(); cur != nil && slices.Contains(audio, cur) {
			kept[cur] = true
		}
	}
	var pending []*upTrack
	for _, a := range audio {
		if !kept[a] {
			pending = append(pending, a)
		}
	}
	for _, d := range audioSlots {
		if cur := d.shown(); cur != nil && kept[cur] {
			continue
		}
		var src *upTrack
		if len(pending) > 0 {
			src, pending = pending[0], pending[1:]
		}
		d.switchSource(src)
	}
}

// ProgramStreamID is the MediaStream id of the hall program a point
// receives: one picture and one sound of the hall, whichever hall console
// they come from (programSources), so that a second console, or one that
// reconnects, adds nothing.
const ProgramStreamID = "program"

// programSources returns the hall program among parts. Its picture is
// the camera of hall participant chosenVideo (the technician's choice,
// SetProgramVideo) while it sends one; else the mixer's WHIP source
// (the ingest) while it sends one; else the camera of the technician's
// console that joined first (of another hall console when no
// technician's sends one). Its sound is that of chosenAudio
// (SetProgramAudio) while it sends sound; else that of the participant
// whose picture it is; else of the first technician's console that sends
// sound. Either is nil for none. An H.264 picture (the mixer's) is taken
// only with h264: without, the picture is the VP8 one these rules give
// when they pass over H.264 (the program of a subscriber that did not
// negotiate H.264).
func programSources(parts []*Participant, chosenVideo, chosenAudio string, h264 bool) (video, audio *upTrack) {
	// rank orders the sources: the ingest first, then technicians'
	// consoles, then the others, each by join.
	rank := func(p *Participant) (int, uint64) {
		switch p.info.Role {
		case conference.RoleIngest:
			return 0, p.joinSeq
		case conference.RoleTechnician:
			return 1, p.joinSeq
		}
		return 2, p.joinSeq
	}
	before := func(a, b *Participant) bool {
		ra, sa := rank(a)
		rb, sb := rank(b)
		return ra < rb || ra == rb && sa < sb
	}
	var owner, voice, chosenV, chosenA *Participant
	var videoOf, audioOf = map[*Participant]*upTrack{}, map[*Participant]*upTrack{}
	for _, p := range parts {
		if !p.info.Role.AtHall() && p.info.Role != conference.RoleIngest {
			continue
		}
		for _, up := range p.publishedTracks() {
			switch {
			case up.kind == webrtc.RTPCodecTypeVideo && videoOf[p] == nil:
				// The program slots carry VP8 (speakerCodec), and
				// H.264 where the subscriber negotiated it.
				if strings.EqualFold(up.codec.MimeType, webrtc.MimeTypeVP8) || h264 && strings.EqualFold(up.codec.MimeType, webrtc.MimeTypeH264) {
					videoOf[p] = up
				}
			case up.kind == webrtc.RTPCodecTypeAudio && audioOf[p] == nil:
				audioOf[p] = up
			}
		}
		if videoOf[p] != nil && (owner == nil || before(p, owner)) {
			owner = p
		}
		if audioOf[p] != nil && p.info.Role == conference.RoleTechnician && (voice == nil || before(p, voice)) {
			voice = p
		}
		if p.info.ID == chosenVideo && videoOf[p] != nil {
			chosenV = p
		}
		if p.info.ID == chosenAudio && audioOf[p] != nil {
			chosenA = p
		}
	}
	if chosenV != nil {
		owner = chosenV
	}
	video = videoOf[owner]
	switch {
	case chosenA != nil:
		return video, audioOf[chosenA]
	case owner != nil && audioOf[owner] != nil:
		return video, audioOf[owner]
	}
	return video, audioOf[voice]
}

// fillProgram points p's program slots, if it has them, at the hall
// program's video and audio; a program slot whose subscriber did not
// negotiate H.264 gets vp8, the VP8 picture, when video is H.264.
func (p *Participant) fillProgram(video, vp8, audio *upTrack) {
	p.mu.Lock()
	program := p.program
	p.mu.Unlock()
	if len(program) != 2 {
		return
	}
	if video != nil && !program[0].takes(video.codec) {
		video = vp8
	}
	program[0].switchSource(video)
	program[1].switchSource(audio)
}

// SetProgramAudio makes the sound of hall participant id of conf the hall
// program's, as long as it sends sound ("": the default, the sound of the
// participant whose picture is the program).
func (s *SFU) SetProgramAudio(conf, id string) {
	s.chooseProgram(conf, func(r *room) { r.programAudio = id })
}

// SetProgramVideo makes the picture of hall participant id of conf (a
// console's camera, or the WHIP source's) the hall program's, as long as
// it sends one ("": the default, the WHIP source while it sends one, else
// the first technician console's camera; see programSources).
func (s *SFU) SetProgramVideo(conf, id string) {
	s.chooseProgram(conf, func(r *room) { r.programVideo = id })
}

// chooseProgram applies the technician's choice set to the room of conf,
// under the room's lock, and brings the program in line with it.
func (s *SFU) chooseProgram(conf string, set func(r *room)) {
	s.mu.Lock()
	r := s.roomLocked(conf)
	r.mu.Lock()
	s.mu.Unlock()
	set(r)
	r.mu.Unlock()
	r.applyFloor()
}

// chosenProgram returns the participants whose picture and sound the
// technician chose for the program.
func (r *room) chosenProgram() (video, audio string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.programVideo, r.programAudio
}

// speakerCodec is the codec of a speaker slot of kind: every browser
// offers Opus and VP8.
func speakerCodec(kind webrtc.RTPCodecType) webrtc.RTPCodecParameters {
	if kind == webrtc.RTPCodecTypeVideo {
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}
	}
	return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}}
}
