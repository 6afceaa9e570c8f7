package compare

import (
	"bytes"
	"strconv"
	"unsafe"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
	"github.com/shadowtest/shadowtest/framework/internal/shape"
)

// walker compares two JSON tapes depth-first, keeping the concrete location
// of the values being compared in loc.
type walker struct {
	c          *Comparator
	prod, shad *tape
	diffs      []framework.Diff
	loc        []fieldpath.Step
	members    []int32 // scratch: member node indices of the objects being compared
	// only, when set, restricts the comparison to the subtree at this path
	// (errors.by): everything else is skipped.
	only *fieldpath.Path
	// onlySeen is set once a location the only path matches was met, on
	// either side.
	onlySeen bool
	// quiet stops at the first difference without recording it: used to
	// test whether two array elements are equal.
	quiet, differs bool
	// labels are the keyed-set steps of loc whose labels are not filled in.
	labels []label
	// more counts the differences found once MaxDiffs were kept.
	more int
}

// full reports whether MaxDiffs differences are kept already, counting the
// one about to be reported: the walk goes on, so that the count is exact,
// but builds no more paths or values.
func (w *walker) full() bool {
	if len(w.diffs) < MaxDiffs {
		return false
	}
	w.more++
	return true
}

// compare compares prod node p with shadow node s at w.loc, which the
// caller has checked is not ignored.
func (w *walker) compare(p, s int32) {
	pn, sn := &w.prod.nodes[p], &w.shad.nodes[s]
	if pn.kind != sn.kind {
		if isBool(pn.kind) && isBool(sn.kind) {
			w.report(framework.KindValue, p, s)
		} else {
			w.report(framework.KindType, p, s)
		}
		return
	}
	switch pn.kind {
	case kindObject:
		w.object(p, s)
	case kindArray:
		w.array(p, s)
	case kindNumber:
		if !w.numbersMatch(w.prod.bytes(pn.value), w.shad.bytes(sn.value)) {
			w.report(framework.KindValue, p, s)
		}
	case kindString:
		if !w.stringsMatch(w.prod.bytes(pn.value), w.shad.bytes(sn.value)) {
			w.report(framework.KindValue, p, s)
		}
	}
}

// object compares members by name, in byte order of the names so that the
// diffs come out in a stable order. With duplicate names the last one
// counts, as in encoding/json.
func (w *walker) object(p, s int32) {
	start := len(w.members)
	w.members = appendMembers(w.members, w.prod, p)
	mid := len(w.members)
	w.members = appendMembers(w.members, w.shad, s)
	end := len(w.members)
	prodMembers, shadowMembers := w.members[start:mid], w.members[mid:end]
	sortMembers(w.prod, prodMembers)
	sortMembers(w.shad, shadowMembers)
	i, j := 0, 0
	for (i < len(prodMembers) || j < len(shadowMembers)) && !(w.quiet && w.differs) {
		// w.members may grow (and move) while children are compared:
		// re-slice it on every step.
		prodMembers, shadowMembers = w.members[start:mid], w.members[mid:end]
		i = skipDuplicates(w.prod, prodMembers, i)
		j = skipDuplicates(w.shad, shadowMembers, j)
		var order int
		switch {
		case i == len(prodMembers):
			order = 1
		case j == len(shadowMembers):
			order = -1
		default:
			order = bytes.Compare(w.prod.bytes(w.prod.nodes[prodMembers[i]].key), w.shad.bytes(w.shad.nodes[shadowMembers[j]].key))
		}
		var name []byte
		if order <= 0 {
			name = w.prod.bytes(w.prod.nodes[prodMembers[i]].key)
		} else {
			name = w.shad.bytes(w.shad.nodes[shadowMembers[j]].key)
		}
		w.loc = append(w.loc, fieldpath.Key(unsafeString(name)))
		if !w.ignored() {
			switch {
			case order < 0:
				w.reportOne(framework.KindMissing, w.prod, prodMembers[i])
			case order > 0:
				w.reportOne(framework.KindExtra, w.shad, shadowMembers[j])
			default:
				w.compare(prodMembers[i], shadowMembers[j])
			}
		}
		w.loc = w.loc[:len(w.loc)-1]
		if order <= 0 {
			i++
		}
		if order >= 0 {
			j++
		}
	}
	w.members = w.members[:start]
}

// appendMembers appends the node indices of object i's members.
func appendMembers(dst []int32, t *tape, i int32) []int32 {
	for m := i + 1; m < t.nodes[i].end; m = t.nodes[m].end {
		dst = append(dst, m)
	}
	return dst
}

// sortMembers sorts member indices by name, stably (document order among
// equal names), by insertion sort: objects are small, and nearly sorted
// more often than not.
func sortMembers(t *tape, members []int32) {
	for i := 1; i < len(members); i++ {
		m := members[i]
		key := t.bytes(t.nodes[m].key)
		j := i
		for j > 0 && bytes.Compare(t.bytes(t.nodes[members[j-1]].key), key) > 0 {
			members[j] = members[j-1]
			j--
		}
		members[j] = m
	}
}

// skipDuplicates moves i to the last of a run of members with equal names.
func skipDuplicates(t *tape, members []int32, i int) int {
	for i+1 < len(members) && bytes.Equal(t.bytes(t.nodes[members[i]].key), t.bytes(t.nodes[members[i+1]].key)) {
		i++
	}
	return i
}

// unsafeString views b as a string without copying. It is used for member
// names in w.loc, which live only while the tapes do and are copied by
// fieldpath.Format when a diff is reported.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// array compares elements by index over the common prefix; a length
// difference is one size diff at the array itself. Arrays declared
// unordered are compared as multisets or keyed sets instead.
func (w *walker) array(p, s int32) {
	if w.c.unordered.Len() > 0 {
		if u := w.c.unordered.Find(w.loc); u >= 0 {
			w.unorderedArray(p, s, w.c.unorderedKeys[u])
			return
		}
	}
	pn, sn := &w.prod.nodes[p], &w.shad.nodes[s]
	if pn.count != sn.count {
		if w.quiet {
			w.differs = true
			return
		}
		if !w.full() {
			w.diffs = append(w.diffs, framework.Diff{
				Path:   w.path(),
				Kind:   framework.KindSize,
				Prod:   elements(int(pn.count)),
				Shadow: elements(int(sn.count)),
			})
		}
	}
	pe, se := p+1, s+1
	for i := range min(pn.count, sn.count) {
		if w.quiet && w.differs {
			return
		}
		w.loc = append(w.loc, fieldpath.Index(int(i)))
		if !w.ignored() {
			w.compare(pe, se)
		}
		w.loc = w.loc[:len(w.loc)-1]
		pe, se = w.prod.nodes[pe].end, w.shad.nodes[se].end
	}
}

func elements(n int) string {
	if n == 1 {
		return "1 element"
	}
	return strconv.Itoa(n) + " elements"
}

// ignored reports whether the location is skipped: an ignore path matches
// it, or errors.by restricts the comparison to another subtree.
func (w *walker) ignored() bool {
	if w.only != nil && !w.onlySeen && w.only.Matches(w.loc) {
		w.onlySeen = true
	}
	if w.only != nil && !w.only.MayContain(w.loc) && !w.insideOnly() {
		return true
	}
	return w.c.ignore.Len() > 0 && w.c.ignore.Match(w.loc)
}

// insideOnly reports whether w.loc is at or below a location the errors.by
// path matches.
func (w *walker) insideOnly() bool {
	for n := len(w.loc); n >= 0; n-- {
		if w.only.Matches(w.loc[:n]) {
			return true
		}
	}
	return false
}

func isBool(k nodeKind) bool { return k == kindFalse || k == kindTrue }

// numbersMatch reports whether two JSON numbers are equal in value or
// within the tolerance that applies at w.loc.
func (w *walker) numbersMatch(prod, shadow []byte) bool {
	if bytes.Equal(prod, shadow) || decimalEqual(unsafeString(prod), unsafeString(shadow)) {
		return true
	}
	if w.c.tolerance.Len() == 0 {
		return false
	}
	i := w.c.tolerance.Find(w.loc)
	if i < 0 {
		return false
	}
	tol := w.c.tolerances[i]
	if tol.skew > 0 && epochWithin(unsafeString(prod), unsafeString(shadow), tol.skew) {
		return true
	}
	return withinTolerance(unsafeString(prod), unsafeString(shadow), tol)
}

// stringsMatch reports whether two strings are equal, equal once masked, or
// timestamps within the skew that applies at w.loc.
func (w *walker) stringsMatch(prod, shadow []byte) bool {
	if bytes.Equal(prod, shadow) {
		return true
	}
	if w.c.tolerance.Len() > 0 {
		if i := w.c.tolerance.Find(w.loc); i >= 0 && w.c.tolerances[i].skew > 0 &&
			timeWithin(unsafeString(prod), unsafeString(shadow), w.c.tolerances[i].skew) {
			return true
		}
	}
	return len(w.c.masks) > 0 && w.c.masked(w.loc, prod, shadow)
}

// report appends a diff at w.loc between prod node p and shadow node s. A
// shape rule at w.loc turns it into a match when the shadow's value keeps
// the shape, else into a shape difference; without one, a string in a
// distinctive format (shape.Strong) replaced by one that is not is a shape
// difference too.
func (w *walker) report(kind framework.DiffKind, p, s int32) {
	if w.c.shape.Len() > 0 {
		if i := w.c.shape.Find(w.loc); i >= 0 {
			if w.c.shapes[i].Fits(nodeValue(w.shad, s)) {
				return
			}
			kind = framework.KindShape
		}
	}
	if w.quiet {
		w.differs = true
		return
	}
	if kind == framework.KindValue && w.prod.nodes[p].kind == kindString && lostFormat(w.prod.bytes(w.prod.nodes[p].value), w.shad.bytes(w.shad.nodes[s].value)) {
		kind = framework.KindShape
	}
	if w.full() {
		return
	}
	w.diffs = append(w.diffs, framework.Diff{
		Path:   w.path(),
		Kind:   kind,
		Prod:   displayNode(w.prod, p),
		Shadow: displayNode(w.shad, s),
	})
}

// lostFormat reports whether prod's string has a distinctive format that
// the shadow's does not share: "127.0.0.1:40224" against "127.0.0.1".
func lostFormat(prod, shadow []byte) bool {
	formats := shape.StrongFormats(unsafeString(prod))
	return formats != 0 && shape.StrongFormats(unsafeString(shadow))&formats == 0
}

// nodeValue is node i as a shape.Value.
func nodeValue(t *tape, i int32) shape.Value {
	n := &t.nodes[i]
	switch n.kind {
	case kindString:
		return shape.Value{Kind: shape.String, Text: unsafeString(t.bytes(n.value))}
	case kindNumber:
		return shape.Value{Kind: shape.Number, Text: unsafeString(t.bytes(n.value))}
	case kindObject:
		return shape.Value{Kind: shape.Object}
	case kindArray:
		return shape.Value{Kind: shape.Array}
	case kindNull:
		return shape.Value{Kind: shape.Null}
	}
	return shape.Value{Kind: shape.Bool}
}

// reportOne appends a missing (prod's node) or extra (the shadow's node)
// diff at w.loc.
func (w *walker) reportOne(kind framework.DiffKind, t *tape, i int32) {
	if w.quiet {
		w.differs = true
		return
	}
	if w.full() {
		return
	}
	d := framework.Diff{Path: w.path(), Kind: kind}
	if kind == framework.KindMissing {
		d.Prod = displayNode(t, i)
	} else {
		d.Shadow = displayNode(t, i)
	}
	w.diffs = append(w.diffs, d)
}

// equal reports whether prod node p and shadow node s match under the rules
// at w.loc, without reporting anything.
func (w *walker) equal(p, s int32) bool {
	quiet, differs := w.quiet, w.differs
	w.quiet, w.differs = true, false
	w.compare(p, s)
	eq := !w.differs
	w.quiet, w.differs = quiet, differs
	return eq
}
