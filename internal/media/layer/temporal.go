package layer

// AllTemporal is the temporal layer target that takes every picture.
const AllTemporal = MaxTemporal - 1

// Temporal is one subscriber's filter of the temporal layers of the
// encoding it receives: it takes the pictures of the layers up to its
// current layer, which follows the target picture by picture. Going down
// needs nothing and happens at the next picture; going up happens at a
// picture the layer can start from: a layer sync picture (one that refers
// only to the base layer) or a keyframe. The zero value takes only the
// base layer; SetTarget(AllTemporal) takes everything.
//
// A Temporal is plain state with no lock; its owner serializes calls.
type Temporal struct {
	target, cur uint8
}

// SetTarget makes t the highest layer to take from now on.
func (f *Temporal) SetTarget(t int) { f.target = uint8(min(max(t, 0), AllTemporal)) }

// Target returns the highest layer to take.
func (f *Temporal) Target() int { return int(f.target) }

// Current returns the highest layer taken now.
func (f *Temporal) Current() int { return int(f.cur) }

// Reset takes the target at once: the next picture is a keyframe.
func (f *Temporal) Reset() { f.cur = f.target }

// Take reports whether a packet of a picture of temporal layer tid is to
// be forwarded; start is set on the picture's first packet, sync when it
// is a layer sync picture, keyframe when it is a keyframe. The layer
// taken changes only at the start of a picture, so that every packet of
// one picture gets the same answer.
func (f *Temporal) Take(tid uint8, start, sync, keyframe bool) bool {
	if start {
		switch {
		case keyframe || f.target < f.cur:
			f.cur = f.target
		case tid > f.cur && tid <= f.target && sync:
			f.cur = tid
		}
	}
	return tid <= f.cur
}
