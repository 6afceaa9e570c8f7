package compare

import (
	"context"
	"errors"
	"strconv"

	"golang.org/x/sync/semaphore"

	"github.com/shadowtest/shadowtest/framework"
)

// MaxJSONValues is how many values (objects, arrays, members, elements,
// scalars) one JSON body may hold to be compared field by field: about
// 18 MiB of tape at 36 bytes a node, where a dense 10 MB array of small
// numbers would need some 180 MB per side. A body over the limit is
// compared by length and SHA-256 digest instead, which still tells a match
// from a difference exactly (the bodies are known to differ byte-wise by
// then).
const MaxJSONValues = 1 << 19

// TapeBudget is how many tape nodes all comparisons of the process hold at
// once (two tapes at the limit, about 36 MiB): large pairs wait for each other instead of adding
// up, and a pair that needs more than the whole budget takes all of it.
// Small pairs (smallTape nodes or fewer) do not wait.
const TapeBudget = 2 * MaxJSONValues

var tapeBudget = semaphore.NewWeighted(TapeBudget)

// smallTape is the weight under which a pair does not take from tapeBudget:
// concurrency times this is small.
const smallTape = 1 << 14

var errTooManyValues = errors.New("too many JSON values")

// tapeWeight is an upper bound of the nodes a body's tape can need: every
// value but the first takes at least two bytes ("1,").
func tapeWeight(body []byte) int64 {
	return min(int64(len(body))/2+2, MaxJSONValues)
}

// reserveTapes waits until the tapes of a pair fit in tapeBudget and
// returns the function that gives them back.
func reserveTapes(prod, shadow []byte) (release func()) {
	w := min(tapeWeight(prod)+tapeWeight(shadow), TapeBudget)
	if w <= smallTape {
		return func() {}
	}
	_ = tapeBudget.Acquire(context.Background(), w) // never fails without a deadline
	return func() { tapeBudget.Release(w) }
}

// tooManyValuesDiff compares two JSON bodies, one of them over
// MaxJSONValues, by length and digest; the note says which side is over.
func tooManyValuesDiff(prod, shadow []byte, prodOver, shadowOver bool) framework.Diff {
	kind := framework.KindValue
	if len(prod) != len(shadow) {
		kind = framework.KindSize
	}
	over := " (over " + strconv.Itoa(MaxJSONValues) + " JSON values: compared by digest)"
	d := framework.Diff{Path: "body", Kind: kind, Prod: digest(prod), Shadow: digest(shadow)}
	if prodOver {
		d.Prod += over
	}
	if shadowOver {
		d.Shadow += over
	}
	return d
}
