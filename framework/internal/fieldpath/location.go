package fieldpath

import (
	"strings"
	"unicode/utf8"
)

// ParseLocation parses a concrete location as Format writes it ("$",
// "$.a.b", `$."odd key"[3]`, "$.orders[id=7].total") into steps; ok is
// false for anything else: patterns ([*], ..), header paths, "status",
// "body". A keyed-set element becomes a step with its Label and Index -1,
// so that [*] and [field=value] patterns match it and [N] patterns do not.
func ParseLocation(s string) (loc []Step, ok bool) {
	p, err := Parse(s)
	if err != nil || p.IsHeader() || p.anyLen {
		return nil, false
	}
	loc = make([]Step, 0, len(p.elems))
	for _, e := range p.elems {
		switch e.kind {
		case elemKey:
			loc = append(loc, Key(e.name))
		case elemIndex:
			loc = append(loc, Index(e.index))
		case elemKeyed:
			loc = append(loc, Step{Index: -1, IsIndex: true, Label: e.name})
		default:
			return nil, false
		}
	}
	return loc, true
}

// FoldIndices returns path with every array index and keyed-set element
// written as [*], in canonical syntax: the path part of a difference's
// category ($.items[3].price and $.items[id=7].price both fold to
// $.items[*].price). Text that is not a body path ("status",
// "header:Date", "body") is returned as it is.
func FoldIndices(path string) string {
	if strings.IndexByte(path, '[') < 0 {
		return path // no index or keyed step to fold (and no error to build for a non-path such as a shadow error's)
	}
	p, err := Parse(path)
	if err != nil || p.IsHeader() {
		return path
	}
	folded := false
	elems := make([]elem, len(p.elems))
	for i, e := range p.elems {
		if e.kind == elemIndex || e.kind == elemKeyed {
			e, folded = elem{kind: elemAnyIndex}, true
		}
		elems[i] = e
	}
	if !folded {
		return path
	}
	p.elems = elems
	return p.String()
}

// KeyedBy returns the key member and value that name a keyed-set element
// step ([id=7] gives "id", "7", false; [sku="A-1"] gives "sku", "A-1",
// true); ok is false for other steps.
func (s Step) KeyedBy() (field, value string, isString, ok bool) {
	if !s.IsIndex || s.Label == "" {
		return "", "", false, false
	}
	p := parser{src: s.Label}
	field, err := p.name()
	if err != nil || p.pos >= len(p.src) || p.src[p.pos] != '=' {
		return "", "", false, false
	}
	p.pos++
	if p.pos < len(p.src) && p.src[p.pos] == '"' {
		value, err := p.quoted()
		if err != nil || p.pos != len(p.src) {
			return "", "", false, false
		}
		return field, value, true, true
	}
	return field, p.src[p.pos:], false, true
}

// KeyedLabels returns a step for each keyed-set element ([field=value]) of
// p, in order; KeyedBy reads them.
func (p Path) KeyedLabels() []Step {
	var out []Step
	for _, e := range p.elems {
		if e.kind == elemKeyed {
			out = append(out, Step{Index: -1, IsIndex: true, Label: e.name})
		}
	}
	return out
}

// Shorten returns path with every member name longer than maxName bytes
// cut to its first and last maxName/2 bytes (at character boundaries)
// around "…", so that a word that makes it secret at either end
// ("…_token", "password…") still does, and a name keep reports true for
// (a secret one, wherever its word stands) left whole; a keyed-set element
// with a longer label is written [*]; in canonical syntax. A difference's
// path built from a hostile answer's keys (a 200 KB member name per
// response) must not make each category, metric label and example as
// large. Depth is not cut: a secret name deep down must stay in the path.
// A path that does not parse, or has no long name, is returned as it is.
func Shorten(path string, maxName int, keep func(name string) bool) string {
	if len(path) <= maxName {
		return path
	}
	p, err := Parse(path)
	if err != nil || p.IsHeader() {
		return path
	}
	cut := false
	for i, e := range p.elems {
		switch {
		case len(e.name) <= maxName:
		case e.kind == elemKey && keep != nil && keep(e.name):
		case e.kind == elemKey:
			p.elems[i].name, cut = clipMiddle(e.name, maxName), true
		case e.kind == elemKeyed:
			p.elems[i], cut = elem{kind: elemAnyIndex}, true // a label cut would not parse
		}
	}
	if !cut {
		return path
	}
	return p.String()
}

// clipMiddle keeps the first and last n/2 bytes of s (at character
// boundaries) around "…".
func clipMiddle(s string, n int) string {
	head, tail := n/2, len(s)-n/2
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + "…" + s[tail:]
}

// Overlap reports whether two folded paths (the path part of discrepancy
// categories) may name the same place: the same steps, where a member
// wildcard (.*) stands for any member and any index step ([*], [N],
// [field=value]) for any element. Folding keeps the first names it meets,
// so one run's "$.users.u7.name" is another's "$.users.*.name". Paths
// that do not parse, with "..", or header paths overlap only when equal.
func Overlap(a, b string) bool {
	if a == b {
		return true
	}
	pa, errA := Parse(a)
	pb, errB := Parse(b)
	if errA != nil || errB != nil || pa.IsHeader() || pb.IsHeader() || len(pa.elems) != len(pb.elems) {
		return false
	}
	index := func(e elem) bool { return e.kind == elemIndex || e.kind == elemAnyIndex || e.kind == elemKeyed }
	for i, x := range pa.elems {
		y := pb.elems[i]
		switch {
		case x.kind == elemAnySteps || y.kind == elemAnySteps:
			return false
		case index(x) && index(y):
			if x.kind == y.kind && x.kind != elemAnyIndex && (x.index != y.index || x.name != y.name) {
				return false
			}
		case x.kind == elemKey && y.kind == elemKey:
			if x.name != y.name {
				return false
			}
		case x.kind == elemAnyKey && (y.kind == elemKey || y.kind == elemAnyKey), y.kind == elemAnyKey && x.kind == elemKey:
		default:
			return false
		}
	}
	return true
}
