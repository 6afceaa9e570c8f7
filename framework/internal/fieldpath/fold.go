package fieldpath

// FoldKeys returns a body path with each member name that keep rejects
// replaced by the wildcard, "$.users.x7f3" becoming "$.users.*". keep is
// called for the members in order, with the already folded text of the
// member's parent path ("$.users"). Indices are left as they are; a header
// path, or text that does not parse, is returned unchanged.
func FoldKeys(path string, keep func(parent, name string) bool) string {
	p, err := Parse(path)
	if err != nil || p.IsHeader() {
		return path
	}
	b := make([]byte, 0, len(path))
	b = append(b, '$')
	for _, e := range p.elems {
		if e.kind == elemKey && !keep(string(b), e.name) {
			e = elem{kind: elemAnyKey}
		}
		b = e.appendTo(b)
	}
	return string(b)
}
