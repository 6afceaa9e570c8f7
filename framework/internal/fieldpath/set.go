package fieldpath

// Set is a list of body paths matched together, compiled once and then
// matched against many locations. The zero Set is empty and matches
// nothing. A Set is safe for concurrent use.
type Set struct {
	paths []Path
}

// NewSet returns a Set of the given paths; Find reports indices into this
// list. Header paths may be included but match no location.
func NewSet(paths ...Path) Set {
	return Set{paths: append([]Path(nil), paths...)}
}

// Len returns the number of paths in s.
func (s Set) Len() int { return len(s.paths) }

// Match reports whether any path in s matches loc.
func (s Set) Match(loc []Step) bool { return s.Find(loc) >= 0 }

// Find returns the index of the first path in s that matches loc, or -1.
func (s Set) Find(loc []Step) int {
	for i := range s.paths {
		if s.paths[i].Matches(loc) {
			return i
		}
	}
	return -1
}
