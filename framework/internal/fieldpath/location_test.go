package fieldpath

import (
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		reason, path string
		want         []Step
		ok           bool
	}{
		{"root", "$", []Step{}, true},
		{"members and indices", "$.a.b[3]", []Step{Key("a"), Key("b"), Index(3)}, true},
		{"quoted name with dots and escapes", `$."a.b\"c"[0]`, []Step{Key(`a.b"c`), Index(0)}, true},
		{"keyed element", `$.users[id=7].password`, []Step{Key("users"), {Index: -1, IsIndex: true, Label: "id=7"}, Key("password")}, true},
		{"keyed by a string", `$.lines[sku="A-1"]`, []Step{Key("lines"), {Index: -1, IsIndex: true, Label: `sku="A-1"`}}, true},
		{"header path", "header:Date", nil, false},
		{"status", "status", nil, false},
		{"wildcard is a pattern, not a location", "$.a[*]", nil, false},
		{"recursive descent is a pattern", "$..a", nil, false},
		{"unterminated quote", `$."abc`, nil, false},
	} {
		got, ok := ParseLocation(tc.path)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%s: ParseLocation(%q) = %v, %v; want %v, %v", tc.reason, tc.path, got, ok, tc.want, tc.ok)
		}
	}
	loc, _ := ParseLocation("$.users[id=7].password")
	for _, pattern := range []string{"$.users[id=7].password", "$.users[*].password", "$..password"} {
		if !MustParse(pattern).Matches(loc) {
			t.Errorf("%s does not match the keyed location", pattern)
		}
	}
	if MustParse("$.users[0].password").Matches(loc) || MustParse("$.users[id=8].password").Matches(loc) {
		t.Error("an index or another key matches a keyed location")
	}
}

func TestFoldIndices(t *testing.T) {
	for in, want := range map[string]string{
		"$.items[3].price":       "$.items[*].price",
		"$.orders[id=7].total":   "$.orders[*].total",
		`$.lines[sku="A-]1"][2]`: "$.lines[*][*]",
		`$."a[1]"`:               `$."a[1]"`,
		"$.a.b":                  "$.a.b",
		"status":                 "status",
		"header:X-Items[3]":      "header:X-Items[3]",
		"body":                   "body",
		`$."odd key"[10]`:        `$."odd key"[*]`,
		"$.already[*].folded[4]": "$.already[*].folded[*]",
	} {
		if got := FoldIndices(in); got != want {
			t.Errorf("FoldIndices(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyedBy(t *testing.T) {
	for _, tc := range []struct {
		step         Step
		field, value string
		isString, ok bool
	}{
		{KeyedIndex(2, "id", "7", false), "id", "7", false, true},
		{KeyedIndex(0, "sku", `A-"1"`, true), "sku", `A-"1"`, true, true},
		{Index(3), "", "", false, false},
		{Key("x"), "", "", false, false},
	} {
		f, v, s, ok := tc.step.KeyedBy()
		if f != tc.field || v != tc.value || s != tc.isString || ok != tc.ok {
			t.Errorf("%+v.KeyedBy() = %q %q %v %v", tc.step, f, v, s, ok)
		}
	}
}

// FuzzLocation checks that every location Format writes parses back with
// ParseLocation, and that FoldIndices accepts it.
func FuzzLocation(f *testing.F) {
	f.Add("a", 3, "b c")
	f.Add(`we"ird`, 0, "\x00")
	f.Fuzz(func(t *testing.T, a string, i int, b string) {
		if i < 0 {
			i = -i
		}
		if i < 0 {
			return
		}
		loc := []Step{Key(a), Index(i), Key(b)}
		path := Format(loc)
		got, ok := ParseLocation(path)
		if !ok || !reflect.DeepEqual(got, loc) {
			if !utf8.ValidString(a) || !utf8.ValidString(b) {
				return // invalid UTF-8 names are written as U+FFFD
			}
			t.Fatalf("ParseLocation(Format(%v)) = %q → %v, %v", loc, path, got, ok)
		}
		folded, ok := ParseLocation(FoldIndices(path))
		if ok || !MustParse(FoldIndices(path)).Matches(loc) {
			t.Fatalf("FoldIndices(%q) = %q: a pattern matching the location is expected (%v)", path, FoldIndices(path), folded)
		}
	})
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"$.users.u7.name", "$.users.*.name", true},
		{"$.users.*.name", "$.users.u7.name", true},
		{"$.users.u7.name", "$.users.u8.name", false},
		{"$.items[*].price", "$.items[3].price", true},
		{"$.items[*].price", "$.items[*].cost", false},
		{"$.a", "$.a.b", false},
		{"$.*", "$.*", true},
		{"header:Date", "header:Date", true},
		{"header:Date", "$.Date", false},
		{"$..a", "$.x.a", false},
	} {
		if got := Overlap(tc.a, tc.b); got != tc.want {
			t.Errorf("Overlap(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
