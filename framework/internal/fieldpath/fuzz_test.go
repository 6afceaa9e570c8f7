package fieldpath

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that every parsed path prints
// as valid UTF-8 text that parses back to an equal path, and that a body
// path matches the concrete location it describes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"$", "$.a[*].b", "$..id", `$."a \"b\"".c[12]`, "header:content-type", "$.a[x]", `$."\ud83d\ude00"`, `$.orders[id=7].total`, `$.o["a b"="x\"y"]`, "$.o[k=]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", s, err)
			}
			return
		}
		text := p.String()
		if !utf8.ValidString(text) {
			t.Fatalf("Parse(%q).String() = %q is not valid UTF-8", s, text)
		}
		q, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but Parse(String() = %q): %v", s, text, err)
		}
		if !q.Equal(p) || q.String() != text {
			t.Fatalf("round trip of %q: %q became %q", s, text, q.String())
		}
		if p.IsHeader() {
			return
		}
		// The location the path describes, with [*] as index 0 and every
		// ".." descending zero levels, must match.
		var l []Step
		for _, e := range p.elems {
			switch e.kind {
			case elemKey:
				l = append(l, Key(e.name))
			case elemIndex:
				l = append(l, Index(e.index))
			case elemAnyIndex:
				l = append(l, Index(0))
			case elemKeyed:
				l = append(l, Step{IsIndex: true, Label: e.name})
			}
		}
		if !p.Matches(l) {
			t.Fatalf("%q does not match its own location %s", text, Format(l))
		}
	})
}
