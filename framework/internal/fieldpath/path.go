package fieldpath

// Step is one step of a concrete location in a JSON document: an object
// member name or an array index. The zero Step is the member named "".
type Step struct {
	// Key is the member name; used when IsIndex is false.
	Key string
	// Index is the array index; used when IsIndex is true.
	Index int
	// IsIndex reports whether the step is an array index.
	IsIndex bool
	// Label, when set on an index step, names the element by a key field
	// instead of its position, for example `id=7` or `sku="A-1"`: arrays
	// compared as keyed sets report their elements this way. Build it with
	// KeyedIndex. Index still holds prod's position, so [*] and [N] match.
	Label string
}

// Key returns the step into the object member called name.
func Key(name string) Step { return Step{Key: name} }

// Index returns the step into the array element at index i.
func Index(i int) Step { return Step{Index: i, IsIndex: true} }

type elemKind uint8

const (
	elemKey      elemKind = iota // .name: one member
	elemIndex                    // [N]: one element
	elemAnyIndex                 // [*]: any element
	elemAnySteps                 // the ".." of "..name": zero or more steps of any kind
	elemKeyed                    // [field=value]: the keyed-set element with that label
	elemAnyKey                   // .*: any member
)

// elem is one element of a parsed path. "..name" parses to elemAnySteps
// followed by elemKey, so that matching is a glob match where elemAnySteps
// plays the part of "*"; the parser guarantees elemAnySteps is always
// followed by an elemKey.
type elem struct {
	kind  elemKind
	name  string
	index int
}

// Path is a parsed response path: either a body path ($...) or a header
// path (header:Name). The zero Path is the body root, $. Paths are
// immutable and safe for concurrent use.
type Path struct {
	header string // canonical header name; empty for a body path
	elems  []elem
	fixed  int  // number of elements that consume exactly one step
	anyLen bool // the path has "..": it matches locations of fixed or more steps
}

// IsHeader reports whether p names a response header.
func (p Path) IsHeader() bool { return p.header != "" }

// Header returns the canonical name of the header p names ("Content-Type"),
// or "" for a body path.
func (p Path) Header() string { return p.header }

// String returns p in canonical syntax: Parse(p.String()) is equal to p.
// Member names that are not identifiers are quoted.
func (p Path) String() string {
	if p.header != "" {
		return "header:" + p.header
	}
	b := make([]byte, 0, 1+8*len(p.elems))
	b = append(b, '$')
	for _, e := range p.elems {
		b = e.appendTo(b)
	}
	return string(b)
}

func (e elem) appendTo(b []byte) []byte {
	switch e.kind {
	case elemKey:
		b = append(b, '.')
		b = appendName(b, e.name)
	case elemIndex:
		b = appendIndex(b, e.index)
	case elemAnyIndex:
		b = append(b, "[*]"...)
	case elemKeyed:
		b = append(b, '[')
		b = append(b, e.name...)
		b = append(b, ']')
	case elemAnySteps:
		b = append(b, '.') // the member that follows adds the second dot
	case elemAnyKey:
		b = append(b, ".*"...)
	}
	return b
}

// Equal reports whether p and q are the same path.
func (p Path) Equal(q Path) bool {
	if p.header != q.header || len(p.elems) != len(q.elems) {
		return false
	}
	for i := range p.elems {
		if p.elems[i] != q.elems[i] {
			return false
		}
	}
	return true
}

// Matches reports whether the body path p covers the concrete location
// loc. [*] matches any index, ..name matches a member called name at any
// depth. A header path matches no location.
func (p Path) Matches(loc []Step) bool {
	if p.header != "" {
		return false
	}
	if len(loc) != p.fixed && (!p.anyLen || len(loc) < p.fixed) {
		return false
	}
	if len(p.elems) == 0 {
		return true // $ matches the root, and len(loc) == 0 was checked above
	}
	// The last element always consumes the last step: reject cheaply.
	if !p.elems[len(p.elems)-1].matches(loc[len(loc)-1]) {
		return false
	}
	if !p.anyLen {
		for i, e := range p.elems[:len(p.elems)-1] {
			if !e.matches(loc[i]) {
				return false
			}
		}
		return true
	}
	return globMatch(p.elems, loc)
}

// globMatch is the classic linear wildcard match with elemAnySteps as "*":
// on a mismatch, only the most recent "*" needs to take one more step,
// because any later "*" can absorb whatever an earlier one would have.
func globMatch(elems []elem, loc []Step) bool {
	e, l := 0, 0
	star, starLoc := -1, 0
	for l < len(loc) {
		switch {
		case e < len(elems) && elems[e].kind == elemAnySteps:
			star, starLoc = e, l
			e++
		case e < len(elems) && elems[e].matches(loc[l]):
			e++
			l++
		case star >= 0:
			starLoc++
			e, l = star+1, starLoc
		default:
			return false
		}
	}
	for e < len(elems) && elems[e].kind == elemAnySteps {
		e++
	}
	return e == len(elems)
}

func (e elem) matches(s Step) bool {
	switch e.kind {
	case elemKey:
		return !s.IsIndex && s.Key == e.name
	case elemIndex:
		return s.IsIndex && s.Index == e.index
	case elemAnyIndex:
		return s.IsIndex
	case elemKeyed:
		return s.IsIndex && s.Label == e.name
	case elemAnyKey:
		return !s.IsIndex
	}
	return false
}

// MayContain reports whether a location below loc could be matched by p:
// loc is a prefix of some location p matches. Paths with ".." may match
// below anything, so it is always true for them. A header path matches
// nothing.
func (p Path) MayContain(loc []Step) bool {
	if p.header != "" {
		return false
	}
	if p.anyLen {
		return true
	}
	if len(loc) > len(p.elems) {
		return false
	}
	for i := range loc {
		if !p.elems[i].matches(loc[i]) {
			return false
		}
	}
	return true
}

// HasKeyed reports whether p names a keyed-set element ([field=value]).
func (p Path) HasKeyed() bool {
	for _, e := range p.elems {
		if e.kind == elemKeyed {
			return true
		}
	}
	return false
}
