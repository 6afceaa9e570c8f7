package compare

import (
	"bytes"
	"context"
	"errors"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
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

// overValues reports whether parsing body would stop at MaxJSONValues
// (errTooManyValues), without building a tape: a byte scan bounds the
// number of values from above, and only a body that may be over is read
// by the decoder, which counts values exactly as parseTape does and keeps
// none. A body that fails to parse before the limit is not over (parseTape
// then reports its error).
func overValues(body []byte) bool {
	if tapeWeight(body) < MaxJSONValues || valueBound(body) <= MaxJSONValues {
		return false
	}
	t := tapes.Get().(*tape)
	t.buf = *bytes.NewBuffer(body)
	t.dec.Reset(&t.buf, decodeOptions...)
	n := 0
	err := t.countValue(&n)
	t.put()
	return err == errTooManyValues
}

// valueBound is an upper bound of the values in a JSON document: every
// value but the root is a member or element, and a container of m of them
// has m-1 commas, so values <= commas + containers + 1 (counted outside
// strings; twice the containers and one more to spare).
func valueBound(body []byte) int {
	bound := 2
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case ',':
			bound++
		case '[', '{':
			bound += 2
		case '"':
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		}
	}
	return bound
}

// countValue reads one value and its subtree like tape.value, counting
// values in *n instead of keeping them, and stops with errTooManyValues
// where tape.value would.
func (t *tape) countValue(n *int) error {
	if *n >= MaxJSONValues {
		return errTooManyValues
	}
	*n++
	switch kind := t.dec.PeekKind(); kind {
	case '{', '[':
		if _, err := t.dec.ReadToken(); err != nil {
			return err
		}
		closing := jsontext.Kind(']')
		if kind == '{' {
			closing = '}'
		}
		for t.dec.PeekKind() != closing {
			if kind == '{' {
				if _, err := t.dec.ReadValue(); err != nil {
					return err
				}
			}
			if err := t.countValue(n); err != nil {
				return err
			}
		}
		_, err := t.dec.ReadToken()
		return err
	default:
		_, err := t.dec.ReadValue()
		return err
	}
}
