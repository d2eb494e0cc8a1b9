// Package layer chooses which encoding of a simulcast track a subscriber
// receives: the best its need allows (the floor rules say who must be
// seen large and who small) that its link can carry, among the encodings
// the publisher is sending.
//
// The encodings of a track are given lowest first. Choosing is a pure
// function of what the caller measured, with no state and no allocation,
// so that it can run for every subscriber of every track as often as the
// estimates change.
package layer

// MaxTemporal is the most temporal layers of one encoding the chooser
// tells apart (VP8 numbers them in two bits).
const MaxTemporal = 4

// Layer is what the chooser knows of one encoding of a published track.
type Layer struct {
	// Live is set while the encoding's packets arrive (or it was just
	// resumed and will): only a live encoding can be forwarded.
	Live bool
	// Bitrate is what the encoding carries, in bits a second, as
	// measured; 0 while unknown, when it is taken to fit any budget.
	Bitrate int
	// Temporal is how many temporal layers the encoding is seen to
	// carry (0 or 1: none to tell apart); TemporalRates[t] is what its
	// layers up to t carry, in bits a second, 0 while unknown.
	Temporal      int
	TemporalRates [MaxTemporal]int
}

// Choice is the encoding a subscriber is to receive.
type Choice struct {
	// Index is the encoding's place among the layers, lowest first; -1
	// for none: nothing is live, or even the lowest does not fit.
	Index int
	// Skip is how many of the encoding's upper temporal layers the
	// subscriber goes without, to fit its link: 0 takes them all, one
	// halves the frame rate. Only the lowest live encoding of a track
	// goes below half its frame rate: short of that a lower encoding is
	// better.
	Skip int
	// Limited is set when the link, not the need, kept the subscriber
	// from a higher encoding, or from all the pictures of this one.
	Limited bool
}

// top is the highest temporal layer of l.
func (l *Layer) top() int { return max(0, l.Temporal-1) }

// rate is what l carries up to its temporal layer t.
func (l *Layer) rate(t int) int {
	if t >= l.top() {
		return l.Bitrate
	}
	return l.TemporalRates[t]
}

// lowestT is the lowest temporal layer a subscriber of l takes: the base
// for the lowest live encoding of a track, one below the top otherwise.
func (l *Layer) lowestT(lowest bool) int {
	if lowest {
		return 0
	}
	return max(0, l.top()-1)
}

// choice is encoding i of layers at temporal layer t.
func choice(layers []Layer, i, t int, limited bool) Choice {
	return Choice{Index: i, Skip: layers[i].top() - t, Limited: limited}
}

// fits reports whether rate fits budget (0: no limit); an unknown rate
// (0) fits any.
func fits(rate, budget int) bool { return budget <= 0 || rate <= budget }

// Choose returns the encoding of layers (lowest first) for a subscriber
// that needs at most the encoding want and whose link carries budget bits
// a second (0: no limit): the highest live encoding at most want that fits
// the budget, with all its pictures or, when only fewer fit, half of them
// (the lowest live encoding down to its base layer). When none at most
// want is live, it is the lowest live one above. When no live encoding
// fits the budget, it is none, Limited.
func Choose(layers []Layer, want, budget int) Choice {
	want = min(want, len(layers)-1)
	low := lowestLive(layers, len(layers)-1)
	limited := false
	for i := want; i >= 0; i-- {
		l := &layers[i]
		if !l.Live {
			continue
		}
		for t := l.top(); t >= l.lowestT(i == low); t-- {
			if fits(l.rate(t), budget) {
				return choice(layers, i, t, limited)
			}
			limited = true
		}
	}
	if limited {
		return Choice{Index: -1, Limited: true}
	}
	for i := want + 1; i < len(layers); i++ {
		l := &layers[i]
		if !l.Live {
			continue
		}
		for t := l.top(); t >= l.lowestT(i == low); t-- {
			if fits(l.rate(t), budget) {
				return choice(layers, i, t, t < l.top())
			}
		}
		return Choice{Index: -1, Limited: true}
	}
	return Choice{Index: -1}
}

// Wanted returns the encoding of layers that a subscriber needing at most
// want, with budget bits a second (0: no limit), would receive if every
// encoding were live: the one the publisher must send for it. Bitrate is
// the last measured, kept while an encoding is paused. It is -1 when even
// the lowest does not fit.
func Wanted(layers []Layer, want, budget int) int {
	for i := min(want, len(layers)-1); i >= 0; i-- {
		l := &layers[i]
		if fits(l.rate(l.lowestT(i == 0)), budget) {
			return i
		}
	}
	return -1
}

// Track is one video track a subscriber receives, for Allocate: its
// encodings, lowest first, and the highest it needs.
type Track struct {
	Layers []Layer
	Want   int
}

// Allocate chooses, into out (one Choice per track, in order), the
// encodings of the tracks a subscriber receives, most important first,
// whose link carries budget bits a second (0: no limit). Each track first
// gets its lowest live encoding, at its base temporal layer, while the
// budget lasts, in order; then, in order, each climbs through its
// temporal layers and encodings as far as its need and what is left
// allow. A track that gets less than Choose would give it without a
// budget is Limited; one that gets nothing for want of budget has Index
// -1.
func Allocate(tracks []Track, budget int, out []Choice) []Choice {
	out = out[:0]
	for _, t := range tracks {
		out = append(out, Choose(t.Layers, t.Want, 0))
	}
	if budget <= 0 {
		return out
	}
	left := budget
	for i, t := range tracks {
		best := out[i].Index
		if best < 0 {
			continue
		}
		low := lowestLive(t.Layers, best)
		if c := t.Layers[low].rate(0); c <= left {
			left -= c
			out[i] = choice(t.Layers, low, 0, low < best || t.Layers[low].top() > 0)
		} else {
			out[i] = Choice{Index: -1, Limited: true}
		}
	}
	for i, t := range tracks {
		if out[i].Index < 0 {
			continue
		}
		out[i] = climb(t, out[i], &left)
	}
	return out
}

// climb raises the choice c of track t through its temporal layers and
// encodings, in order, while what is left of the budget pays for each
// step, and returns where it stopped.
func climb(t Track, c Choice, left *int) Choice {
	best := Choose(t.Layers, t.Want, 0).Index
	low := lowestLive(t.Layers, best)
	cur, curT := c.Index, t.Layers[c.Index].top()-c.Skip
	paid := t.Layers[cur].rate(curT)
	for j := cur; j <= best; j++ {
		l := &t.Layers[j]
		if !l.Live {
			continue
		}
		first := l.lowestT(j == low)
		if j == cur {
			first = curT + 1
		}
		for k := first; k <= l.top(); k++ {
			extra := max(0, l.rate(k)-paid)
			if extra > *left {
				return choice(t.Layers, cur, curT, true)
			}
			*left -= extra
			paid += extra
			cur, curT = j, k
		}
	}
	return choice(t.Layers, cur, curT, cur < best || curT < t.Layers[cur].top())
}

// lowestLive returns the lowest live encoding of layers at most best,
// which is live.
func lowestLive(layers []Layer, best int) int {
	for i := 0; i < best; i++ {
		if layers[i].Live {
			return i
		}
	}
	return best
}
