package sfu

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"hoinghi/internal/media/layer"
)

// maxLayers is the most encodings of one published video track the SFU
// forwards: three, as the pages and the Go client send simulcast.
const maxLayers = 3

// What a down-track needs of a simulcast source: the lowest encoding for a
// tile of the hall's wall, the highest for the program and the floor
// holder. The link may allow less.
const (
	needLow  = 0
	needHigh = maxLayers - 1
)

// Timing of the encodings' life: an encoding is live while its packets
// came within liveWindow, or for resumeWait after the publisher was asked
// to resume it; one that nobody wanted for pauseAfter is paused at the
// publisher. layerInterval is how often the reporter chooses again.
const (
	liveWindow    = time.Second
	resumeWait    = 2 * time.Second
	pauseAfter    = 3 * time.Second
	layerInterval = 250 * time.Millisecond
)

// ridRank orders the encodings of a simulcast track by their RID, lowest
// first: q, h, f (quarter, half and full resolution, as the pages and the
// Go client name them), or l, m, h, or 0, 1, 2. It reports false for
// another RID.
func ridRank(rid string) (int, bool) {
	switch strings.ToLower(rid) {
	case "q", "l", "low":
		return 0, true
	case "h", "m", "mid", "medium":
		return 1, true
	case "f", "high", "full":
		return 2, true
	}
	if n, err := strconv.Atoi(rid); err == nil && n >= 0 && n < maxLayers {
		return n, true
	}
	return 0, false
}

// layerSet is the encodings of one published video track: those of a
// simulcast, or the one of a track sent without. Subscribers know the
// track by its head, the first encoding to arrive; the others join it as
// pion reports them.
type layerSet struct {
	head *upTrack
	mid  string // of the publisher's transceiver, by which it is asked to pause
	// list holds the encodings, lowest first; replaced whole under mu.
	mu   sync.Mutex
	list atomic.Pointer[[]*upTrack]
}

// layerState is what the reporter (runReports, one goroutine) keeps of
// one encoding: when it was last wanted (unix nanoseconds), whether the
// publisher was last asked to send it, and its byte count at the previous
// round, for its bitrate.
type layerState struct {
	wantedAt   int64
	asked      bool
	lastBytes  uint64
	lastTBytes [layer.MaxTemporal]uint64
	measured   bool
}

// temporalCounter counts the bytes that arrive of each temporal layer of
// a VP8 encoding, and the highest layer seen.
type temporalCounter struct {
	bytes [layer.MaxTemporal]atomic.Uint64
	top   atomic.Int32 // the highest layer seen, once seen is set
	seen  atomic.Bool
}

// count adds a packet of n bytes of temporal layer tid.
func (c *temporalCounter) count(tid uint8, n int) {
	tid &= layer.MaxTemporal - 1
	c.bytes[tid].Add(uint64(n))
	if !c.seen.Load() || int32(tid) > c.top.Load() {
		c.top.Store(int32(tid))
		c.seen.Store(true)
	}
}

// layers returns how many temporal layers were seen (0: none told).
func (c *temporalCounter) layers() int {
	if !c.seen.Load() {
		return 0
	}
	return int(c.top.Load()) + 1
}

// encodings returns the encodings, lowest first.
func (ls *layerSet) encodings() []*upTrack { return *ls.list.Load() }

// add puts the encoding u into the set by its rank.
func (ls *layerSet) add(u *upTrack) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	old := ls.encodings()
	if len(old) >= maxLayers {
		return false
	}
	next := append(slices.Clone(old), u)
	slices.SortStableFunc(next, func(a, b *upTrack) int { return a.rank - b.rank })
	ls.list.Store(&next)
	return true
}

// remove takes the encoding u out of the set.
func (ls *layerSet) remove(u *upTrack) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(ls.encodings()), func(x *upTrack) bool { return x == u })
	ls.list.Store(&next)
}

// layerView fills out with what the chooser knows of the encodings list
// at now (unix nanoseconds) and returns it.
func layerView(out []layer.Layer, list []*upTrack, now int64) []layer.Layer {
	out = out[:0]
	for _, u := range list {
		live := now-u.lastArrival.Load() < int64(liveWindow) || now-u.resumedAt.Load() < int64(resumeWait)
		l := layer.Layer{Live: live, Bitrate: int(u.bitrate.Load()), Temporal: u.temporal.layers()}
		for t := range l.Temporal {
			l.TemporalRates[t] = int(u.temporalRates[t].Load())
		}
		out = append(out, l)
	}
	return out
}

// temporalTarget is the highest temporal layer a down-track takes for
// choice c of the encodings of view: layer.AllTemporal for all of them.
func temporalTarget(view []layer.Layer, c layer.Choice) int {
	if c.Index < 0 || c.Skip == 0 {
		return layer.AllTemporal
	}
	return max(0, view[c.Index].Temporal-1-c.Skip)
}

// head returns the track subscribers know u by: the head of its encodings,
// or u itself.
func (u *upTrack) head() *upTrack {
	if u.layers == nil {
		return u
	}
	return u.layers.head
}

// chooseLayer returns the encoding of pub that p receives when it needs
// at most need, and the highest temporal layer of it p takes: the best
// live one its link carries, or, with none, the one it wants, which the
// publisher will be asked to send; nil when pub has no encoding left (its
// encodings are ending).
func (p *Participant) chooseLayer(pub *upTrack, need int) (*upTrack, int) {
	if pub.layers == nil {
		return pub, layer.AllTemporal
	}
	list := pub.layers.encodings()
	if len(list) == 0 {
		return nil, layer.AllTemporal
	}
	var buf [maxLayers]layer.Layer
	view := layerView(buf[:], list, time.Now().UnixNano())
	budget := p.budget()
	c := layer.Choose(view, need, budget)
	if c.Index < 0 {
		c = layer.Choice{Index: max(0, layer.Wanted(view, need, budget))}
	}
	return list[c.Index], temporalTarget(view, c)
}

// budget is what p's link is estimated to carry of one video track, in
// bits a second, when it is alone; 0 for no limit.
func (p *Participant) budget() int {
	if p == nil {
		return 0
	}
	b, _ := p.videoBudget()
	return b
}

// audioAllowance is what one sound track takes of a link, in bits a
// second, headers and SRTP included.
const audioAllowance = 50_000

// videoBudget returns what p's link is estimated to carry for video, in
// bits a second (0: no limit, as for a subscriber that gives no
// transport-wide feedback, or one on ICE-TCP), and whether the last
// feedback showed congestion: nine tenths of the estimate, less the
// sound p receives.
func (p *Participant) videoBudget() (int, bool) {
	dp := p.direct.Load()
	if dp == nil {
		return 0, false
	}
	rate, congested, ok := dp.estimate()
	if !ok {
		return 0, false
	}
	audio := 0
	p.mu.Lock()
	for _, ds := range [...][]*downTrack{p.slots, p.program} {
		for _, d := range ds {
			if d.kind == webrtc.RTPCodecTypeAudio && d.shown() != nil {
				audio++
			}
		}
	}
	p.mu.Unlock()
	return max(1, rate*9/10-audio*audioAllowance), congested
}

// videoDownTracks appends p's video down-tracks to out, most important
// first: the speaker slot, the hall program, the wall's tiles in order.
func (p *Participant) videoDownTracks(out []*downTrack) []*downTrack {
	p.mu.Lock()
	for _, ds := range [...][]*downTrack{p.slots, p.program} {
		for _, d := range ds {
			if d.kind == webrtc.RTPCodecTypeVideo {
				out = append(out, d)
			}
		}
	}
	if p.content != nil {
		out = append(out, p.content)
	}
	p.mu.Unlock()
	if p.wall != nil {
		out = append(out, p.wall.slots...)
	}
	return out
}

// layerChooser is the reporter's state for choosing encodings: scratch
// space kept from one round to the next.
type layerChooser struct {
	downs   []*downTrack
	ups     []*upTrack
	lists   [][]*upTrack
	views   [][maxLayers]layer.Layer
	tracks  []layer.Track
	choices []layer.Choice
	lastAt  time.Time
}

// chooseLayers runs one round over parts at now: each encoding's bitrate
// is measured; each subscriber's video down-tracks go over to the
// encodings its need and its link allow (Allocate), or stop while even
// the lowest does not fit; a subscriber held back by its link is probed
// for more; and each publisher is asked to send the encodings someone
// wants and to pause the others.
func (lc *layerChooser) chooseLayers(parts []*Participant, now time.Time) {
	ns := now.UnixNano()
	elapsed := now.Sub(lc.lastAt)
	lc.lastAt = now
	for _, p := range parts {
		lc.ups = p.videoEncodings(lc.ups[:0])
		for _, u := range lc.ups {
			u.measure(elapsed)
		}
	}
	for _, p := range parts {
		lc.choose(p, ns)
	}
	for _, p := range parts {
		lc.ups = p.videoEncodings(lc.ups[:0])
		for _, u := range lc.ups {
			if u.layers != nil && u.layers.head == u {
				askLayers(p, u.layers, ns)
			}
		}
		clear(lc.ups)
	}
}

// choose gives each video down-track of p its encoding, at now.
func (lc *layerChooser) choose(p *Participant, now int64) {
	lc.downs = p.videoDownTracks(lc.downs[:0])
	defer clear(lc.downs)
	n := len(lc.downs)
	lc.lists, lc.tracks = lc.lists[:0], lc.tracks[:0]
	if cap(lc.views) < n {
		lc.views = make([][maxLayers]layer.Layer, n)
	}
	for i, d := range lc.downs {
		var list []*upTrack
		if pub := d.shown(); pub != nil && pub.layers != nil {
			list = pub.layers.encodings()
		}
		lc.lists = append(lc.lists, list)
		v := layerView(lc.views[i][:0], list, now)
		lc.tracks = append(lc.tracks, layer.Track{Layers: v, Want: d.need})
	}
	budget, congested := p.videoBudget()
	lc.choices = layer.Allocate(lc.tracks, budget, lc.choices)
	limited, off, want := false, false, 0
	for i, d := range lc.downs {
		list, c := lc.lists[i], lc.choices[i]
		if len(list) == 0 {
			continue
		}
		limited = limited || c.Limited
		if w := layer.Wanted(lc.tracks[i].Layers, d.need, 0); w >= 0 {
			want += lc.tracks[i].Layers[w].Bitrate
			if !c.Limited {
				// What the subscriber needs is sent for it, paused or not.
				list[w].chooser.wantedAt = now
			}
		}
		switch {
		case c.Index >= 0:
			list[c.Index].chooser.wantedAt = now
			tid := temporalTarget(lc.tracks[i].Layers, c)
			if enc, t := d.targets(); enc != list[c.Index] || t != tid {
				d.retarget(list[c.Index], tid)
			}
		case c.Limited:
			off = true
			d.suspend()
		}
	}
	clear(lc.lists)
	p.probe.afterChoice(p, limited, off, congested, budget, want, now)
}

// videoEncodings appends the video encodings p publishes to out.
func (p *Participant) videoEncodings(out []*upTrack) []*upTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.published {
		if u.layers != nil {
			out = append(out, u)
		}
	}
	return out
}

// measure updates u's bitrate, and those of its temporal layers, from
// the bytes that came since the previous round, elapsed ago. A paused
// encoding keeps its last bitrates.
func (u *upTrack) measure(elapsed time.Duration) {
	st := &u.chooser
	b := u.in.bytes.Load()
	last, measured := st.lastBytes, st.measured
	st.lastBytes, st.measured = b, true
	var tb [layer.MaxTemporal]uint64
	for t := range tb {
		tb[t] = u.temporal.bytes[t].Load()
	}
	lastT := st.lastTBytes
	st.lastTBytes = tb
	if !measured || elapsed <= 0 || b == last {
		return
	}
	smooth(&u.bitrate, b-last, elapsed)
	var sum uint64
	for t := range u.temporal.layers() {
		sum += tb[t] - lastT[t]
		smooth(&u.temporalRates[t], sum, elapsed)
	}
}

// smooth folds the rate of bytes that came in elapsed into the bits a
// second of r.
func smooth(r *atomic.Int64, bytes uint64, elapsed time.Duration) {
	rate := int64(float64(bytes) * 8 / elapsed.Seconds())
	if old := r.Load(); old > 0 {
		rate = (3*old + rate) / 4
	}
	r.Store(rate)
}

// askLayers asks p to send the encodings of ls that someone wanted within
// pauseAfter and to pause the others, when that differs from what it was
// last asked.
func askLayers(p *Participant, ls *layerSet, now int64) {
	list := ls.encodings()
	changed := false
	for _, u := range list {
		st := &u.chooser
		want := now-st.wantedAt < int64(pauseAfter)
		if want != st.asked {
			changed = true
			st.asked = want
			if want {
				u.resumedAt.Store(now)
			}
		}
	}
	if !changed || ls.mid == "" {
		return
	}
	active, paused := make([]string, 0, len(list)), make([]string, 0, len(list))
	for _, u := range list {
		if u.chooser.asked {
			active = append(active, u.rid)
		} else {
			paused = append(paused, u.rid)
		}
	}
	p.sig.SendLayers(ls.mid, active, paused)
}
