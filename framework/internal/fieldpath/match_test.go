package fieldpath

import (
	"math/rand/v2"
	"testing"
)

// loc builds a location from names (string) and indices (int).
func loc(steps ...any) []Step {
	out := make([]Step, 0, len(steps))
	for _, s := range steps {
		switch s := s.(type) {
		case string:
			out = append(out, Key(s))
		case int:
			out = append(out, Index(s))
		}
	}
	return out
}

func TestMatches(t *testing.T) {
	tests := []struct {
		path   string
		loc    []Step
		want   bool
		reason string
	}{
		{"$", loc(), true, "the root matches the root"},
		{"$", loc("a"), false, "the root does not match a member: subtrees are the caller's business"},
		{"$.a", loc("a"), true, "same member"},
		{"$.a", loc("b"), false, "different member"},
		{"$.a", loc(), false, "a member does not match the root"},
		{"$.a", loc("a", "b"), false, "no prefix matching"},
		{"$.a.b", loc("a"), false, "a longer path does not match a shorter location"},
		{"$.items[3]", loc("items", 3), true, "same index"},
		{"$.items[3]", loc("items", 4), false, "different index"},
		{"$.items[*]", loc("items", 17), true, "any index"},
		{"$.items[*]", loc("items", "17"), false, "[*] does not match a member, even one named like a number"},
		{"$.items[3]", loc("items", "3"), false, "[3] does not match the member \"3\""},
		{`$."3"`, loc(3), false, "the member \"3\" does not match index 3"},
		{"$.items[*].price", loc("items", 0, "price"), true, "any index then member"},
		{"$.items[*].price", loc("items", 0, "cost"), false, "any index then another member"},
		{"$[*][*]", loc(1, 2), true, "nested arrays"},
		{"$..id", loc("id"), true, "recursive descent includes depth one"},
		{"$..id", loc("a", 2, "b", "id"), true, "recursive descent through members and indices"},
		{"$..id", loc("a", "id", "b"), false, "recursive descent must end at the name"},
		{"$..id", loc("ids"), false, "recursive descent matches whole names"},
		{"$..id", loc(), false, "recursive descent does not match the root"},
		{"$.a..id", loc("a", "id"), true, "descent below a member, zero levels"},
		{"$.a..id", loc("b", "id"), false, "descent below another member"},
		{"$.a..id", loc("a", "x", "y", "id"), true, "descent below a member, two levels"},
		{"$..a..b", loc("x", "a", "y", "b"), true, "two descents"},
		{"$..a..b", loc("x", "b", "y", "a"), false, "two descents, wrong order"},
		{"$..a.b", loc("a", "a", "b"), true, "backtracking: the first a is skipped"},
		{"$..a.b", loc("a", "c", "a", "c"), false, "backtracking without a match"},
		{"$..a[*]", loc("x", "a", 5), true, "descent then any index"},
		{"$..a[*]", loc("x", "a"), false, "descent then any index needs the index"},
		{`$."a b"`, loc("a b"), true, "quoted name"},
		{`$..""`, loc("x", ""), true, "descent to the empty name"},
		{"header:Date", loc("Date"), false, "header paths match no body location"},
		{"header:Date", loc(), false, "header paths do not match the root"},
	}
	for _, tt := range tests {
		p := MustParse(tt.path)
		if got := p.Matches(tt.loc); got != tt.want {
			t.Errorf("%s Matches %s = %v, want %v (%s)", tt.path, Format(tt.loc), got, tt.want, tt.reason)
		}
		if got := NewSet(p).Match(tt.loc); got != tt.want {
			t.Errorf("Set{%s}.Match(%s) = %v, want %v (%s)", tt.path, Format(tt.loc), got, tt.want, tt.reason)
		}
	}
}

func TestSetFind(t *testing.T) {
	set := NewSet(MustParse("header:Date"), MustParse("$.a[*]"), MustParse("$..b"), MustParse("$.a[2]"))
	tests := []struct {
		loc    []Step
		want   int
		reason string
	}{
		{loc("a", 2), 1, "the first matching path wins over a later exact one"},
		{loc("a", 0, "b"), 2, "recursive descent"},
		{loc("a"), -1, "no path matches"},
		{loc("Date"), -1, "header paths never match"},
	}
	for _, tt := range tests {
		if got := set.Find(tt.loc); got != tt.want {
			t.Errorf("Find(%s) = %d, want %d (%s)", Format(tt.loc), got, tt.want, tt.reason)
		}
	}
	if set.Len() != 4 {
		t.Errorf("Len() = %d, want 4", set.Len())
	}
	var empty Set
	if empty.Match(loc()) || empty.Find(loc("a")) != -1 {
		t.Error("the zero Set matched a location")
	}
}

// matchesReference is an obviously correct, exponential matcher used to
// check the linear one.
func matchesReference(elems []elem, l []Step) bool {
	if len(elems) == 0 {
		return len(l) == 0
	}
	if elems[0].kind == elemAnySteps {
		for skip := 0; skip <= len(l); skip++ {
			if matchesReference(elems[1:], l[skip:]) {
				return true
			}
		}
		return false
	}
	return len(l) > 0 && elems[0].matches(l[0]) && matchesReference(elems[1:], l[1:])
}

// TestMatchesAgainstReference is a property: on random paths and
// locations over a small alphabet, Matches agrees with matchesReference.
func TestMatchesAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pathParts := []string{".a", ".b", "..a", "..b", "[*]", "[0]", "[1]"}
	steps := []Step{Key("a"), Key("b"), Index(0), Index(1)}
	matched := 0
	for range 20000 {
		text := "$"
		for range rng.IntN(5) {
			text += pathParts[rng.IntN(len(pathParts))]
		}
		p := MustParse(text)
		l := make([]Step, rng.IntN(7))
		for i := range l {
			l[i] = steps[rng.IntN(len(steps))]
		}
		want := matchesReference(p.elems, l)
		if got := p.Matches(l); got != want {
			t.Fatalf("%s Matches %s = %v, reference says %v", text, Format(l), got, want)
		}
		if want {
			matched++
		}
	}
	if matched < 500 {
		t.Fatalf("only %d of 20000 random cases matched: the generator does not exercise matching", matched)
	}
}
