package fieldpath

import "strings"

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
