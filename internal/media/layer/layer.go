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

// Layer is what the chooser knows of one encoding of a published track.
type Layer struct {
	// Live is set while the encoding's packets arrive (or it was just
	// resumed and will): only a live encoding can be forwarded.
	Live bool
	// Bitrate is what the encoding carries, in bits a second, as
	// measured; 0 while unknown, when it is taken to fit any budget.
	Bitrate int
}

// Choice is the encoding a subscriber is to receive.
type Choice struct {
	// Index is the encoding's place among the layers, lowest first; -1
	// for none: nothing is live, or even the lowest does not fit.
	Index int
	// Limited is set when the link, not the need, kept the subscriber
	// from a higher encoding that is live.
	Limited bool
}

// Choose returns the encoding of layers (lowest first) for a subscriber
// that needs at most the encoding want and whose link carries budget bits
// a second (0: no limit): the highest live encoding at most want that fits
// the budget. When none at most want is live, it is the lowest live one
// above. When no live encoding fits the budget, it is none, Limited.
func Choose(layers []Layer, want, budget int) Choice {
	want = min(want, len(layers)-1)
	best, limited := -1, false
	for i := want; i >= 0; i-- {
		l := layers[i]
		if !l.Live {
			continue
		}
		if budget > 0 && l.Bitrate > budget {
			limited = true
			continue
		}
		best = i
		break
	}
	if best >= 0 || limited {
		return Choice{Index: best, Limited: limited}
	}
	for i := want + 1; i < len(layers); i++ {
		l := layers[i]
		if !l.Live {
			continue
		}
		if budget > 0 && l.Bitrate > budget {
			return Choice{Index: -1, Limited: true}
		}
		return Choice{Index: i}
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
		if b := layers[i].Bitrate; budget == 0 || b == 0 || b <= budget {
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
// gets its lowest live encoding while the budget lasts, in order; then,
// in order, each climbs as far as its need and what is left allow. A
// track that gets less than Choose would give it without a budget is
// Limited; one that gets nothing for want of budget has Index -1.
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
		if c := t.Layers[low].Bitrate; c <= left {
			left -= c
			out[i] = Choice{Index: low, Limited: low < best}
		} else {
			out[i] = Choice{Index: -1, Limited: true}
		}
	}
	for i, t := range tracks {
		cur := out[i].Index
		if cur < 0 {
			continue
		}
		best := Choose(t.Layers, t.Want, 0).Index
		for j := cur + 1; j <= best; j++ {
			if !t.Layers[j].Live {
				continue
			}
			extra := t.Layers[j].Bitrate - t.Layers[cur].Bitrate
			if extra > left {
				break
			}
			left -= extra
			cur = j
		}
		out[i] = Choice{Index: cur, Limited: cur < best}
	}
	return out
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
