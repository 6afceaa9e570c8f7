package compare

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// element is one element of an array compared as a set.
type element struct {
	pos  int   // index in its array
	node int32 // the element's node
	key  int32 // the node of its key member, -1 when it has none
	pair int   // index of the matching element on the other side, -1 when none
	// keyKind and keyText identify the key value: a string's content, or
	// the canonical text of any other value (1.0 and 1 are one key).
	keyKind nodeKind
	keyText []byte
}

// label is a keyed-set step of w.loc whose Label is filled in only when a
// diff is reported, so that comparing matching elements builds no strings.
type label struct {
	depth int
	t     *tape
	key   int32
	field string
}

// unorderedArray compares two arrays regardless of order: as a multiset
// when key is empty, else as a set of objects identified by their member
// key. Paired elements are compared at prod's index (or key); elements
// without a partner are missing or extra.
func (w *walker) unorderedArray(p, s int32, key string) {
	prodEls, shadowEls := w.elements(w.prod, p, key), w.elements(w.shad, s, key)
	if key == "" {
		w.pairEqual(prodEls, shadowEls)
	} else {
		w.pairByKey(prodEls, shadowEls)
	}
	// What is left unpaired pairs up in order: a changed element is
	// reported once, at its own paths, not as one missing and one extra.
	j := 0
	for i := range prodEls {
		if prodEls[i].pair >= 0 || key != "" && prodEls[i].key >= 0 {
			continue
		}
		for j < len(shadowEls) && (shadowEls[j].pair >= 0 || key != "" && shadowEls[j].key >= 0) {
			j++
		}
		if j == len(shadowEls) {
			break
		}
		prodEls[i].pair, shadowEls[j].pair = j, i
	}
	moved := w.moved(prodEls, shadowEls, key)
	for i := range prodEls {
		if w.quiet && w.differs {
			return
		}
		e := &prodEls[i]
		w.pushElement(e, w.prod, key)
		if !w.ignored() {
			switch {
			case e.pair < 0:
				w.reportOne(framework.KindMissing, w.prod, e.node)
			default:
				other := &shadowEls[e.pair]
				w.compare(e.node, other.node)
				if moved[i] {
					w.reportOrder(e.pos, other.pos)
				}
			}
		}
		w.popElement()
	}
	for j := range shadowEls {
		if w.quiet && w.differs {
			return
		}
		e := &shadowEls[j]
		if e.pair >= 0 {
			continue
		}
		w.pushElement(e, w.shad, key)
		if !w.ignored() {
			w.reportOne(framework.KindExtra, w.shad, e.node)
		}
		w.popElement()
	}
}

// elements lists the elements of array node i with their key members.
func (w *walker) elements(t *tape, i int32, key string) []element {
	els := make([]element, 0, t.nodes[i].count)
	for n, pos := i+1, 0; n < t.nodes[i].end; n, pos = t.nodes[n].end, pos+1 {
		e := element{pos: pos, node: n, key: -1, pair: -1}
		if key != "" && t.nodes[n].kind == kindObject {
			for m := n + 1; m < t.nodes[n].end; m = t.nodes[m].end {
				if string(t.bytes(t.nodes[m].key)) == key {
					e.key = m // the last one wins, as in encoding/json
				}
			}
			if e.key >= 0 {
				e.keyKind = t.nodes[e.key].kind
				if e.keyKind == kindString {
					e.keyText = t.bytes(t.nodes[e.key].value)
				} else {
					e.keyText = appendCanonical(nil, t, e.key)
				}
			}
		}
		els = append(els, e)
	}
	return els
}

// multisetBudget bounds the element comparisons spent pairing the
// left-overs of one multiset (any with any is quadratic): beyond it, the
// rest pairs up in order and differences are reported there.
const multisetBudget = 1 << 16

// pairEqual pairs multiset elements that match under the rules: first at
// the same index (the common case costs one pass), then any with any,
// within multisetBudget comparisons.
func (w *walker) pairEqual(prodEls, shadowEls []element) {
	for i := range min(len(prodEls), len(shadowEls)) {
		w.loc = append(w.loc, fieldpath.Index(i))
		if w.ignored() || w.equal(prodEls[i].node, shadowEls[i].node) {
			prodEls[i].pair, shadowEls[i].pair = i, i
		}
		w.loc = w.loc[:len(w.loc)-1]
	}
	budget := multisetBudget
	for i := range prodEls {
		if prodEls[i].pair >= 0 {
			continue
		}
		w.loc = append(w.loc, fieldpath.Index(i))
		for j := range shadowEls {
			if budget--; budget < 0 {
				break // what is left pairs up in order
			}
			if shadowEls[j].pair < 0 && w.equal(prodEls[i].node, shadowEls[j].node) {
				prodEls[i].pair, shadowEls[j].pair = j, i
				break
			}
		}
		w.loc = w.loc[:len(w.loc)-1]
	}
}

// pairByKey pairs keyed-set elements with equal key values, in order among
// equal keys.
func (w *walker) pairByKey(prodEls, shadowEls []element) {
	prodOrder, shadowOrder := w.byKey(w.prod, prodEls), w.byKey(w.shad, shadowEls)
	i, j := 0, 0
	for i < len(prodOrder) && j < len(shadowOrder) {
		pe, se := &prodEls[prodOrder[i]], &shadowEls[shadowOrder[j]]
		switch c := compareKeys(pe, se); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			pe.pair, se.pair = shadowOrder[j], prodOrder[i]
			i++
			j++
		}
	}
}

// byKey returns the positions of the elements that have a key, sorted by
// key value, stably.
func (w *walker) byKey(t *tape, els []element) []int {
	order := make([]int, 0, len(els))
	for i := range els {
		if els[i].key >= 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareKeys(&els[a], &els[b]) })
	return order
}

// compareKeys orders key values by JSON type, then canonical text.
func compareKeys(a, b *element) int {
	if a.keyKind != b.keyKind {
		return int(a.keyKind) - int(b.keyKind)
	}
	return bytes.Compare(a.keyText, b.keyText)
}

// appendCanonical appends a text of node i that is equal for equal JSON
// values: numbers by exact value (1, 1.0 and 10e-1 alike), object members
// sorted by name (the last of duplicates), no whitespace.
func appendCanonical(b []byte, t *tape, i int32) []byte {
	n := &t.nodes[i]
	switch n.kind {
	case kindNumber:
		return appendCanonicalNumber(b, t.bytes(n.value))
	case kindString:
		return appendString(b, unsafeString(t.bytes(n.value)))
	case kindArray:
		b = append(b, '[')
		for e := i + 1; e < n.end; e = t.nodes[e].end {
			b = appendCanonical(b, t, e)
			b = append(b, ',')
		}
		return append(b, ']')
	case kindObject:
		members := appendMembers(make([]int32, 0, n.count), t, i)
		sortMembers(t, members)
		b = append(b, '{')
		for m := 0; m < len(members); m++ {
			m = skipDuplicates(t, members, m)
			b = appendString(b, unsafeString(t.bytes(t.nodes[members[m]].key)))
			b = append(b, ':')
			b = appendCanonical(b, t, members[m])
			b = append(b, ',')
		}
		return append(b, '}')
	}
	return appendNode(b, t, i) // null, true, false
}

// appendCanonicalNumber writes a JSON number as sign, significant digits
// and exponent, so that equal values give equal text.
func appendCanonicalNumber(b, number []byte) []byte {
	d, ok := parseDecimal(string(number))
	if !ok {
		return append(b, number...)
	}
	lo, hi := d.significant()
	if lo == hi {
		return append(b, '0')
	}
	if d.neg {
		b = append(b, '-')
	}
	for k := lo; k < hi; k++ {
		b = append(b, d.digit(k))
	}
	exp := d.exp + int64(len(d.intPart)+len(d.fracPart)-hi)
	b = append(b, 'e')
	return strconv.AppendInt(b, exp, 10)
}

// moved marks the paired prod elements of a keyed set that are out of
// order: those outside a longest run of pairs in the same relative order on
// both sides (so one element moved to the front is one order diff, not
// one per element it jumped over).
func (w *walker) moved(prodEls, shadowEls []element, key string) []bool {
	moved := make([]bool, len(prodEls))
	if key == "" {
		return moved // a multiset has no order
	}
	var seq []int // prod indices of paired elements, in prod order
	for i := range prodEls {
		if prodEls[i].pair >= 0 {
			seq = append(seq, i)
		}
	}
	// Longest increasing subsequence of the shadow positions, O(n log n).
	tails, prev := make([]int, 0, len(seq)), make([]int, len(seq))
	for k, i := range seq {
		pos := shadowEls[prodEls[i].pair].pos
		n, _ := slices.BinarySearchFunc(tails, pos, func(t, target int) int {
			return shadowEls[prodEls[seq[t]].pair].pos - target
		})
		prev[k] = -1
		if n > 0 {
			prev[k] = tails[n-1]
		}
		if n == len(tails) {
			tails = append(tails, k)
		} else {
			tails[n] = k
		}
	}
	for k := range seq {
		moved[seq[k]] = true
	}
	if len(tails) > 0 {
		for k := tails[len(tails)-1]; k >= 0; k = prev[k] {
			moved[seq[k]] = false
		}
	}
	return moved
}

// pushElement appends the step into a set element to w.loc: its index, and
// for a keyed set with a key its label (filled now when rules name keyed
// elements, else only when a diff is reported).
func (w *walker) pushElement(e *element, t *tape, key string) {
	step := fieldpath.Index(e.pos)
	if key != "" && e.key >= 0 {
		if w.c.keyedRules {
			step = keyedStep(e.pos, t, e.key, key)
		} else {
			w.labels = append(w.labels, label{depth: len(w.loc), t: t, key: e.key, field: key})
		}
	}
	w.loc = append(w.loc, step)
}

func (w *walker) popElement() {
	w.loc = w.loc[:len(w.loc)-1]
	if n := len(w.labels); n > 0 && w.labels[n-1].depth == len(w.loc) {
		w.labels = w.labels[:n-1]
	}
}

// keyedStep is the step into element pos whose key member is node key.
func keyedStep(pos int, t *tape, key int32, field string) fieldpath.Step {
	n := &t.nodes[key]
	switch n.kind {
	case kindString:
		return fieldpath.KeyedIndex(pos, field, string(t.bytes(n.value)), true)
	case kindNumber:
		return fieldpath.KeyedIndex(pos, field, string(t.bytes(n.value)), false)
	case kindTrue, kindFalse, kindNull:
		return fieldpath.KeyedIndex(pos, field, displayNode(t, key), false)
	}
	return fieldpath.Index(pos) // an object or array key has no short label
}

// path formats w.loc, with the labels of keyed-set elements filled in.
func (w *walker) path() string {
	if len(w.labels) == 0 {
		return fieldpath.Format(w.loc)
	}
	loc := slices.Clone(w.loc)
	for _, l := range w.labels {
		loc[l.depth] = keyedStep(loc[l.depth].Index, l.t, l.key, l.field)
	}
	return fieldpath.Format(loc)
}

// reportOrder appends an order diff for a keyed-set element that moved.
func (w *walker) reportOrder(prodPos, shadowPos int) {
	if w.quiet {
		w.differs = true
		return
	}
	if w.full() {
		return
	}
	w.diffs = append(w.diffs, framework.Diff{
		Path:   w.path(),
		Kind:   framework.KindOrder,
		Prod:   "index " + strconv.Itoa(prodPos),
		Shadow: "index " + strconv.Itoa(shadowPos),
	})
}
