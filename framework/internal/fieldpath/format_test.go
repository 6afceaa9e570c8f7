package fieldpath

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		loc    []Step
		want   string
		reason string
	}{
		{loc(), "$", "the root"},
		{loc("items", 3, "price"), "$.items[3].price", "the example from the design"},
		{loc(0, 1), "$[0][1]", "arrays at the root"},
		{loc("first name"), `$."first name"`, "names with spaces are quoted"},
		{loc(""), `$.""`, "the empty name is quoted"},
		{loc("a.b"), `$."a.b"`, "a dot inside a name is quoted, not a separator"},
		{loc("a[0]"), `$."a[0]"`, "brackets inside a name are quoted"},
		{loc(`say "hi"\`), `$."say \"hi\"\\"`, "quotes and backslashes are escaped"},
		{loc("tab\there\n\x01"), `$."tab\there\n\u0001"`, "control characters are escaped"},
		{loc("naïve"), `$."naïve"`, "non-ASCII is kept raw inside quotes"},
		{loc("bad\xffbyte"), "$.\"bad\uFFFDbyte\"", "invalid UTF-8 becomes U+FFFD"},
		{loc("-x"), `$."-x"`, "identifiers cannot start with -"},
		{loc("x-1_y"), "$.x-1_y", "identifiers may contain - and digits"},
	}
	for _, tt := range tests {
		if got := Format(tt.loc); got != tt.want {
			t.Errorf("Format(%#v) = %q, want %q (%s)", tt.loc, got, tt.want, tt.reason)
		}
		if got := string(AppendFormat([]byte("x"), tt.loc)); got != "x"+tt.want {
			t.Errorf("AppendFormat(x, %#v) = %q, want %q (%s)", tt.loc, got, "x"+tt.want, tt.reason)
		}
	}
}

// TestFormatParseRoundTrip is a property: every formatted location parses,
// is valid UTF-8, and the parsed path matches exactly that location.
func TestFormatParseRoundTrip(t *testing.T) {
	names := []string{"a", "id", "", "a b", `q"`, `\`, "é", "\n", "x-y", "9", "\u2028", "😀", "\x7f"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var l []Step
		for range rng.IntN(6) {
			if rng.IntN(3) == 0 {
				l = append(l, Index(rng.IntN(12)))
			} else {
				l = append(l, Key(names[rng.IntN(len(names))]+names[rng.IntN(len(names))]))
			}
		}
		s := Format(l)
		p, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(Format(%#v)) = %v", l, err)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("Format(%#v) = %q is not valid UTF-8", l, s)
		}
		if !p.Matches(l) {
			t.Fatalf("Parse(%q) does not match %#v", s, l)
		}
		if p.String() != s {
			t.Fatalf("Parse(%q).String() = %q, want the same text", s, p.String())
		}
		// A location one step longer or shorter must not match.
		if p.Matches(append(l[:len(l):len(l)], Key("extra"))) {
			t.Fatalf("%q matched a longer location", s)
		}
		if len(l) > 0 && p.Matches(l[:len(l)-1]) {
			t.Fatalf("%q matched a shorter location", s)
		}
	}
}
