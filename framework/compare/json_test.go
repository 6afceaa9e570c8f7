package compare

import (
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// jsonCase builds a compare case over two JSON bodies.
func jsonCase(name, prod, shadow string, rules framework.Rules, reason string, want ...framework.Diff) compareCase {
	return compareCase{name: name, rules: rules, prod: jsonResponse(prod), shadow: jsonResponse(shadow), want: want, reason: reason}
}

var noRules framework.Rules

func TestCompareJSONStructure(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: the cut falls inside a rune
	runCompareCases(t, []compareCase{
		jsonCase("key order", `{"a":1,"b":{"c":2,"d":3}}`, `{"b":{"d":3,"c":2},"a":1}`, noRules,
			"objects are compared by key; order and whitespace do not count"),
		jsonCase("number formatting", `[1,100,0.5,-0,12.50]`, `[1.0,1e2,5E-1,0,1.25e1]`, noRules,
			"numbers compare by value: 1 == 1.0, 100 == 1e2, -0 == 0"),
		jsonCase("big integers", `{"id":9007199254740993}`, `{"id":9007199254740992}`, noRules,
			"integers beyond float64 precision still differ",
			d(kValue, "$.id", "9007199254740993", "9007199254740992")),
		jsonCase("long decimals", `{"x":0.10000000000000000001}`, `{"x":0.1}`, noRules,
			"decimals are exact, not rounded to float64",
			d(kValue, "$.x", "0.10000000000000000001", "0.1")),
		jsonCase("string value", `{"name":"Ada"}`, `{"name":"ada"}`, noRules,
			"strings compare exactly and show as JSON",
			d(kValue, "$.name", `"Ada"`, `"ada"`)),
		jsonCase("bool value", `{"ok":true}`, `{"ok":false}`, noRules,
			"booleans", d(kValue, "$.ok", "true", "false")),
		jsonCase("type change", `{"n":1}`, `{"n":"1"}`, noRules,
			"a number that became a string is a type diff",
			d(kType, "$.n", "1", `"1"`)),
		jsonCase("null versus zero", `{"n":null}`, `{"n":0}`, noRules,
			"null is its own type", d(kType, "$.n", "null", "0")),
		jsonCase("null versus missing", `{"a":null}`, `{}`, noRules,
			"a null member is present: losing it is a missing diff",
			d(kMissing, "$.a", "null", "")),
		jsonCase("extra member", `{}`, `{"a":[1]}`, noRules,
			"a member only the shadow has is extra", d(kExtra, "$.a", "", "[1]")),
		jsonCase("missing subtree reported once", `{"user":{"name":"a","roles":["x"]}}`, `{}`, noRules,
			"a missing object is one diff, not one per leaf",
			d(kMissing, "$.user", `{"name":"a","roles":["x"]}`, "")),
		jsonCase("object versus array", `{"a":{}}`, `{"a":[]}`, noRules,
			"containers of different types are a type diff", d(kType, "$.a", "{}", "[]")),
		jsonCase("root type", `{}`, `[]`, noRules,
			"the root has path $", d(kType, "$", "{}", "[]")),
		jsonCase("nested path", `{"items":[{"price":1},{"price":2}]}`, `{"items":[{"price":1},{"price":3}]}`, noRules,
			"the concrete path names the index",
			d(kValue, "$.items[1].price", "2", "3")),
		jsonCase("quoted member", `{"first name":"a","x.y":1}`, `{"first name":"b","x.y":2}`, noRules,
			"names that are not identifiers are quoted in paths",
			d(kValue, `$."first name"`, `"a"`, `"b"`),
			d(kValue, `$."x.y"`, "1", "2")),
		jsonCase("array longer", `{"a":[1,2]}`, `{"a":[1,2,3]}`, noRules,
			"a longer array is one size diff, no diff per extra element",
			d(kSize, "$.a", "2 elements", "3 elements")),
		jsonCase("array shorter with a change", `{"a":[1,2,3]}`, `{"a":[9,2]}`, noRules,
			"a size diff first, then diffs over the common prefix",
			d(kSize, "$.a", "3 elements", "2 elements"),
			d(kValue, "$.a[0]", "1", "9")),
		jsonCase("array order", `[1,2]`, `[2,1]`, noRules,
			"arrays are compared by index",
			d(kValue, "$[0]", "1", "2"), d(kValue, "$[1]", "2", "1")),
		jsonCase("diff order", `{"b":1,"a":{"z":1,"y":1},"c":1}`, `{"c":2,"b":2,"a":{"y":2,"z":2}}`, noRules,
			"diffs come depth-first with members in name order",
			d(kValue, "$.a.y", "1", "2"), d(kValue, "$.a.z", "1", "2"),
			d(kValue, "$.b", "1", "2"), d(kValue, "$.c", "1", "2")),
		jsonCase("long value cut", `{"s":"`+long+`"}`, `{"s":"x"}`, noRules,
			"long values are cut at a rune boundary with an ellipsis",
			d(kValue, "$.s", `"`+strings.Repeat("é", 59)+"…", `"x"`)),
		jsonCase("escaped display", `{"s":"a\"b\n<"}`, `{"s":"a"}`, noRules,
			"strings show as JSON with escapes, without HTML escaping",
			d(kValue, "$.s", `"a\"b\n<"`, `"a"`)),
	})
}

func TestCompareJSONIgnore(t *testing.T) {
	ignore := func(paths ...string) framework.Rules { return framework.Rules{Ignore: paths} }
	runCompareCases(t, []compareCase{
		jsonCase("plain", `{"requestId":"1","a":1}`, `{"requestId":"2","a":2}`, ignore("$.requestId"),
			"an ignored member is skipped; other diffs are still reported",
			d(kValue, "$.a", "1", "2")),
		jsonCase("missing member ignored", `{"lastLogin":"x","a":1}`, `{"a":1}`, ignore("$.lastLogin"),
			"ignore covers a member missing on one side"),
		jsonCase("extra member ignored", `{"a":1}`, `{"a":1,"debug":{}}`, ignore("$.debug"),
			"ignore covers a member only the shadow has"),
		jsonCase("subtree", `{"meta":{"a":1,"b":[1,2]}}`, `{"meta":{"a":2,"b":[3],"c":0}}`, ignore("$.meta"),
			"ignoring an object skips everything below it"),
		jsonCase("any index", `{"items":[{"id":"a","p":1},{"id":"b","p":2}]}`, `{"items":[{"id":"x","p":1},{"id":"y","p":5}]}`,
			ignore("$.items[*].id"),
			"[*] ignores the member in every element, not the element's other members",
			d(kValue, "$.items[1].p", "2", "5")),
		jsonCase("one index", `[1,2,3]`, `[0,2,0]`, ignore("$[0]"),
			"[N] ignores one element only", d(kValue, "$[2]", "3", "0")),
		jsonCase("recursive", `{"requestId":1,"a":{"requestId":2,"b":[{"requestId":3,"v":1}]}}`,
			`{"requestId":9,"a":{"requestId":8,"b":[{"requestId":7,"v":2}]}}`, ignore("$..requestId"),
			"..name ignores the name at every depth, through arrays",
			d(kValue, "$.a.b[0].v", "1", "2")),
		jsonCase("recursive matches whole names", `{"requestIds":[1]}`, `{"requestIds":[2]}`, ignore("$..requestId"),
			"..requestId does not cover requestIds", d(kValue, "$.requestIds[0]", "1", "2")),
		jsonCase("ignored elements keep the size diff", `{"a":[1,2]}`, `{"a":[3]}`, ignore("$.a[*]"),
			"ignoring the elements does not ignore the array's length",
			d(kSize, "$.a", "2 elements", "1 element")),
		jsonCase("ignore the array", `{"a":[1,2]}`, `{"a":[3]}`, ignore("$.a"),
			"ignoring the array itself covers its length too"),
		jsonCase("root", `{"a":1}`, `[]`, ignore("$"), "ignoring $ ignores the body"),
		jsonCase("header path does not touch body", `{"Date":1}`, `{"Date":2}`, ignore("header:Date"),
			"a header ignore rule is not a body rule", d(kValue, "$.Date", "1", "2")),
	})
}

func TestCompareJSONTolerance(t *testing.T) {
	tol := func(path string, abs, rel float64) framework.Rules {
		return framework.Rules{Tolerance: map[string]framework.Tolerance{path: {Abs: abs, Rel: rel}}}
	}
	runCompareCases(t, []compareCase{
		jsonCase("abs at the boundary", `{"balance":10.00}`, `{"balance":10.01}`, tol("$.balance", 0.01, 0),
			"a difference equal to abs is inside (exact decimals: float64 would say 0.0099999…)"),
		jsonCase("abs just outside", `{"balance":10.00}`, `{"balance":10.0101}`, tol("$.balance", 0.01, 0),
			"a difference just over abs is a value diff", d(kValue, "$.balance", "10.00", "10.0101")),
		jsonCase("abs where float64 rounds up", `{"x":0.1}`, `{"x":0.4}`, tol("$.x", 0.3, 0),
			"0.4-0.1 is 0.30000000000000004 in float64 but exactly 0.3 in decimal: inside"),
		jsonCase("abs on large values", `{"x":1000000.01}`, `{"x":1000000.02}`, tol("$.x", 0.01, 0),
			"exact arithmetic also holds where float64 cancellation errs"),
		jsonCase("abs negative side", `{"x":-5}`, `{"x":-5.5}`, tol("$.x", 0.5, 0),
			"the difference is absolute"),
		jsonCase("rel at the boundary", `{"x":200}`, `{"x":202}`, tol("$.x", 0, 0.01),
			"|p-s| = rel×|p| is inside"),
		jsonCase("rel just outside", `{"x":200}`, `{"x":202.01}`, tol("$.x", 0, 0.01),
			"just over rel×|p| is outside", d(kValue, "$.x", "200", "202.01")),
		jsonCase("rel is relative to prod", `{"x":-100}`, `{"x":-101}`, tol("$.x", 0, 0.01),
			"rel uses |prod|, so negative values work"),
		jsonCase("rel with prod zero", `{"x":0}`, `{"x":0.0001}`, tol("$.x", 0, 0.5),
			"rel×0 allows nothing", d(kValue, "$.x", "0", "0.0001")),
		jsonCase("abs or rel", `{"x":1}`, `{"x":1.5}`, tol("$.x", 0.5, 0.01),
			"either bound is enough"),
		jsonCase("any index", `{"items":[{"price":1},{"price":2}]}`, `{"items":[{"price":1.4},{"price":3}]}`,
			tol("$.items[*].price", 0.5, 0),
			"tolerance through [*] applies to each element",
			d(kValue, "$.items[1].price", "2", "3")),
		jsonCase("recursive", `{"a":{"price":1},"b":[{"price":2}]}`, `{"a":{"price":1.1},"b":[{"price":2.1}]}`,
			tol("$..price", 0.1, 0), "tolerance through ..name"),
		jsonCase("other paths exact", `{"balance":1,"other":1}`, `{"balance":1.001,"other":1.001}`, tol("$.balance", 0.01, 0),
			"tolerance applies only at its path", d(kValue, "$.other", "1", "1.001")),
		jsonCase("not below the path", `{"a":{"b":1}}`, `{"a":{"b":1.001}}`, tol("$.a", 0.01, 0),
			"tolerance applies to the number at its path, not to numbers below it",
			d(kValue, "$.a.b", "1", "1.001")),
		jsonCase("not for strings", `{"x":"1.00"}`, `{"x":"1.01"}`, tol("$.x", 1, 0),
			"numbers in strings are strings", d(kValue, "$.x", `"1.00"`, `"1.01"`)),
		jsonCase("not across types", `{"x":1}`, `{"x":"1"}`, tol("$.x", 1, 0),
			"tolerance does not hide a type change", d(kType, "$.x", "1", `"1"`)),
		jsonCase("huge exponents", `{"x":1e999999}`, `{"x":2e999999}`, tol("$.x", 1e308, 1),
			"numbers too large for cheap exact arithmetic match only when equal",
			d(kValue, "$.x", "1e999999", "2e999999")),
	})
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		rules  framework.Rules
		want   string
		reason string
	}{
		{framework.Rules{Ignore: []string{"$.ok", "$.a[x]"}}, "compare: ignore: fieldpath: $.a[x]: expected index or * at offset 4",
			"a bad ignore path is named with the offset"},
		{framework.Rules{Headers: []string{"Content Type"}}, `compare: headers: "Content Type" is not a header name`,
			"header names must be tokens"},
		{framework.Rules{Headers: []string{"header:Date"}}, `compare: headers: "header:Date" is not a header name`,
			"headers are plain names, not header paths"},
		{framework.Rules{Tolerance: map[string]framework.Tolerance{"$.": {Abs: 1}}}, "compare: tolerance: fieldpath: $.: expected name",
			"a bad tolerance path"},
		{framework.Rules{Tolerance: map[string]framework.Tolerance{"header:Age": {Abs: 1}}}, "compare: tolerance header:Age: tolerance applies to body paths",
			"no tolerance on headers"},
		{framework.Rules{Tolerance: map[string]framework.Tolerance{"$.a": {Abs: -1}}}, "compare: tolerance $.a: abs and rel must be finite and >= 0, got abs -1 rel 0",
			"negative slack"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.rules)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Compile(%+v) error %v, want prefix %q (%s)", tt.rules, err, tt.want, tt.reason)
		}
	}
}

func TestZeroComparator(t *testing.T) {
	var c Comparator
	got := c.Compare(jsonResponse(`{"a":1,"b":2}`), jsonResponse(`{"a":1.0,"b":3}`))
	want := []framework.Diff{d(kValue, "$.b", "2", "3")}
	if !diffsEqual(got, want) {
		t.Errorf("zero Comparator\ngot:\n%swant:\n%s", formatDiffs(got), formatDiffs(want))
	}
}
