package compare

import (
	"context"
	"errors"
	"strconv"

	"golang.org/x/sync/semaphore"

	"github.com/shadowtest/shadowtest/framework"
)

// MaxJSONValues is how many values (objects, arrays, members, elements,
// scalars) one JSON body may hold to be compared field by field. A tape
// node takes about 36 bytes, so a dense 10 MB array of small numbers
// would need some 180 MB per side; a body over the limit is compared by
// length and SHA-256 digest instead, which still tells a match from a
// difference exactly (the bodies are known to differ byte-wise by then).
const MaxJSONValues = 1 << 20

// tapeBudget bounds the tape nodes held by all comparisons of the process
// at once: two bodies at the limit fit, so any pair can go ahead, and
// larger pairs wait for each other instead of adding up. Small pairs
// (smallTape nodes or fewer) do not wait.
var tapeBudget = semaphore.NewWeighted(2 * MaxJSONValues)

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
	w := tapeWeight(prod) + tapeWeight(shadow)
	if w <= smallTape {
		return func() {}
	}
	_ = tapeBudget.Acquire(context.Background(), w) // never fails without a deadline
	return func() { tapeBudget.Release(w) }
}

// tooManyValuesDiff compares two JSON bodies, one of them over
// MaxJSONValues, by length and digest.
func tooManyValuesDiff(prod, shadow []byte) framework.Diff {
	kind := framework.KindValue
	if len(prod) != len(shadow) {
		kind = framework.KindSize
	}
	note := " (over " + strconv.Itoa(MaxJSONValues) + " JSON values: compared by digest)"
	return framework.Diff{Path: "body", Kind: kind, Prod: digest(prod) + note, Shadow: digest(shadow) + note}
}
