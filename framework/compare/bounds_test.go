package compare

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
	"github.com/shadowtest/shadowtest/framework/redact"
)

// denseArray is a JSON array of n numbers, each the index plus offset.
func denseArray(n, offset int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i + offset))
	}
	b.WriteByte(']')
	return b.String()
}

// TestDiffsPerPairAreCapped: a pair differing at every element of a large
// array keeps the first MaxDiffs differences, in order, and counts the
// rest exactly.
func TestDiffsPerPairAreCapped(t *testing.T) {
	c, err := Compile(framework.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		prod, shadow   string
		kept, wantMore int
		first          string
	}{
		{"every element differs", denseArray(5000, 0), denseArray(5000, 1), MaxDiffs, 5000 - MaxDiffs, "$[0]"},
		{"length and every element differ", denseArray(5000, 0), denseArray(4000, 1), MaxDiffs, 4000 + 1 - MaxDiffs, "$"},
		{"under the cap", denseArray(50, 0), denseArray(50, 1), 50, 0, "$[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs, more := c.CompareCounting(jsonResponse(tt.prod), jsonResponse(tt.shadow))
			if len(diffs) != tt.kept || more != tt.wantMore {
				t.Fatalf("kept %d diffs and %d more, want %d and %d", len(diffs), more, tt.kept, tt.wantMore)
			}
			if diffs[0].Path != tt.first {
				t.Errorf("first diff at %s, want %s (the first ones in comparison order)", diffs[0].Path, tt.first)
			}
			if got := c.Compare(jsonResponse(tt.prod), jsonResponse(tt.shadow)); len(got) != tt.kept {
				t.Errorf("Compare kept %d, want %d", len(got), tt.kept)
			}
		})
	}
}

// TestTooManyJSONValues: a body with more than MaxJSONValues values is
// compared by digest, still exactly: equal bodies match, different ones
// differ, and the tape never grows past the limit.
func TestTooManyJSONValues(t *testing.T) {
	c, err := Compile(framework.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	big := denseArray(MaxJSONValues+10, 0)
	other := denseArray(MaxJSONValues+10, 1)
	if diffs := c.Compare(jsonResponse(big), jsonResponse(big)); len(diffs) != 0 {
		t.Errorf("equal bodies: %v, want a match", diffs)
	}
	diffs, more := c.CompareCounting(jsonResponse(big), jsonResponse(other))
	if len(diffs) != 1 || more != 0 || diffs[0].Path != "body" || !strings.Contains(diffs[0].Shadow, "compared by digest") {
		t.Fatalf("different bodies: %v (+%d), want one digest diff at body", diffs, more)
	}
	// One side small: still one diff, whichever side is large.
	if diffs := c.Compare(jsonResponse(`[1]`), jsonResponse(big)); len(diffs) != 1 || diffs[0].Kind != framework.KindSize {
		t.Errorf("small prod, large shadow: %v, want one size diff", diffs)
	} else if strings.Contains(diffs[0].Prod, "JSON values") || !strings.Contains(diffs[0].Shadow, "JSON values") {
		// "prod 3 bytes (over 524288 JSON values)" said the wrong side.
		t.Errorf("small prod, large shadow: only the large side is over the limit: %+v", diffs[0])
	}
	if diffs := c.Compare(jsonResponse(big), jsonResponse(`[1]`)); len(diffs) != 1 || strings.Contains(diffs[0].Shadow, "JSON values") || !strings.Contains(diffs[0].Prod, "JSON values") {
		t.Errorf("large prod, small shadow: only the large side is over the limit: %+v", diffs)
	}
	// The tape stops at the limit instead of holding every value.
	huge := denseArray(4*MaxJSONValues, 0)
	if _, err := parseTape([]byte(huge)); err != errTooManyValues {
		t.Fatalf("parsing %d values: %v, want errTooManyValues", 4*MaxJSONValues, err)
	}
}

// TestOverValuesAgreesWithTheTape: overValues, which decides without a
// tape, says "over" exactly where parseTape stops at MaxJSONValues, on
// bodies just under and over the limit, nested, with commas and brackets
// inside strings, and broken before or after the limit.
func TestOverValuesAgreesWithTheTape(t *testing.T) {
	nested := func(n int) string { // [[0],[1],...]: 2n+1 values
		var b strings.Builder
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("[" + strconv.Itoa(i) + "]")
		}
		return b.String() + "]"
	}
	strs := `[` + strings.Repeat(`"a,b,[{\",",`, MaxJSONValues/2) + `"end"]` // commas inside strings
	bodies := map[string]string{
		"limit values":           denseArray(MaxJSONValues-1, 0),
		"one over":               denseArray(MaxJSONValues, 0),
		"far over":               denseArray(2*MaxJSONValues, 0),
		"nested under":           nested(MaxJSONValues/2 - 1),
		"nested over":            nested(MaxJSONValues / 2),
		"objects over":           `[` + strings.Repeat(`{"a":1,"b":[]},`, MaxJSONValues/3) + `{}]`,
		"strings under":          strs,
		"broken before":          `[1,}` + denseArray(MaxJSONValues, 0),
		"broken after":           denseArray(MaxJSONValues, 0)[:MaxJSONValues*6] + `}`,
		"cut":                    denseArray(MaxJSONValues, 0)[:MaxJSONValues*6],
		"trailing data":          denseArray(MaxJSONValues-1, 0) + " 1",
		"empty containers under": `[` + strings.Repeat(`[],`, MaxJSONValues/2-1) + `[]]`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			tp, err := parseTape([]byte(body))
			if tp != nil {
				tp.put()
			}
			if got, want := overValues([]byte(body)), err == errTooManyValues; got != want {
				t.Errorf("overValues = %v, parseTape err = %v", got, err)
			}
		})
	}
}

// TestOverValuesBuildsNoTape: a pair of dense arrays over MaxJSONValues
// is compared by digest without allocating tapes (36 bytes a value, 18 MiB
// a side at the limit): the dense hostile shadow held them on top of its
// bodies, per pair in flight.
func TestOverValuesBuildsNoTape(t *testing.T) {
	c, err := Compile(framework.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	prod, shadow := jsonResponse(denseArray(2*MaxJSONValues, 0)), jsonResponse(denseArray(2*MaxJSONValues, 1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	diffs := c.Compare(prod, shadow)
	runtime.ReadMemStats(&after)
	if len(diffs) != 1 || !strings.Contains(diffs[0].Prod, "compared by digest") {
		t.Fatalf("diffs %v, want one digest diff", diffs)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("comparing allocated %d KiB, want under 1 MiB (no tape)", alloc>>10)
	}
}

// TestLongMemberNamesMakeShortPaths: a shadow answering with a new 200 KB
// member name each time made every category, example and metric label of
// the endpoint 200 KB long: 100 such answers through the proxy wrote a
// 26 MB JUnit, a 33 MB HTML report and a 6 MB /metrics (redteam6). A
// difference's path cuts long names to their ends, still a path that
// parses, and every category stays short.
func TestLongMemberNamesMakeShortPaths(t *testing.T) {
	c, err := Compile(framework.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 200000)
	categories := map[string]bool{}
	for _, shadow := range []string{
		`{"a":1,"k` + long + `1":2}`,
		`{"a":1,"k` + long + `2":2}`,
		`{"a":1,"o":{"q\"` + long + `":[{"z":1}]}}`,
	} {
		diffs := c.Compare(jsonResponse(`{"a":1,"o":{}}`), jsonResponse(shadow))
		if len(diffs) == 0 {
			t.Fatalf("%.40s…: no difference", shadow)
		}
		for _, d := range diffs {
			if len(d.Path) > 2*maxPathName+64 {
				t.Errorf("a path of %d bytes: %.60s…", len(d.Path), d.Path)
			}
			if _, err := fieldpath.Parse(d.Path); err != nil {
				t.Errorf("%.60s…: the shortened path does not parse: %v", d.Path, err)
			}
			categories[d.Category()] = true
		}
	}
	for category := range categories {
		if len(category) > maxPathName+64 {
			t.Errorf("a category of %d bytes: %.60s…", len(category), category)
		}
	}
	if got := fieldpath.Shorten(`$.items[3]."a b"`, 8, nil); got != `$.items[3]."a b"` {
		t.Errorf("a path within the bounds changed: %q", got)
	}
}

// TestShortenedPathsStaySecret: a long member name cut in a difference's
// path keeps its ends, so that a secret word there still masks the value
// the difference shows (a name cut to its start lost "_token").
func TestShortenedPathsStaySecret(t *testing.T) {
	c, err := Compile(framework.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 300)
	for _, name := range []string{long + "_token", "password_" + long, long + "_api_key_" + long, strings.Repeat(long, 5) + "_secret_" + long} {
		diffs := c.Compare(jsonResponse(`{}`), jsonResponse(`{"`+name+`":"Zk0123456789secret"}`))
		if len(diffs) != 1 {
			t.Fatalf("%d differences", len(diffs))
		}
		if got := redact.Default().Value(diffs[0].Path, diffs[0].Shadow); strings.Contains(got, "Zk0123456789secret") {
			t.Errorf("%.40s…: the value at the shortened path %q is shown: %s", name, diffs[0].Path, got)
		}
	}
}
