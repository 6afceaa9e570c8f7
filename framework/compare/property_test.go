package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
)

// keyPool mixes identifiers, names that need quoting and names that the
// rule pool below targets.
var keyPool = []string{"id", "price", "items", "requestId", "a", "b", "first name", "", "x.y", "é", `q"`, "0"}

// randomValue builds a random decoded JSON value (the shapes encoding/json
// produces with UseNumber).
func randomValue(rng *rand.Rand, depth int) any {
	n := 7
	if depth <= 0 {
		n = 5 // leaves only
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return []string{"", "x", "héllo", "a\"b", "\n", "12"}[rng.IntN(6)]
	case 3, 4:
		return json.Number([]string{"0", "-1", "7", "12.5", "0.25", "1e3", "-3.75E-2", "9007199254740993", "123456789012345678901234567890"}[rng.IntN(9)])
	case 5:
		arr := make([]any, rng.IntN(4))
		for i := range arr {
			arr[i] = randomValue(rng, depth-1)
		}
		return arr
	default:
		obj := map[string]any{}
		for range rng.IntN(5) {
			obj[keyPool[rng.IntN(len(keyPool))]] = randomValue(rng, depth-1)
		}
		return obj
	}
}

// writeJSON writes v as JSON text. When vary is set it shuffles member
// order, adds whitespace and rewrites numbers in equivalent forms, so the
// text differs while the value does not.
func writeJSON(b *bytes.Buffer, rng *rand.Rand, v any, vary bool) {
	space := func() {
		if vary && rng.IntN(3) == 0 {
			b.WriteString([]string{" ", "\n", "\t ", "\r\n  "}[rng.IntN(4)])
		}
	}
	space()
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		enc, _ := json.Marshal(v)
		b.Write(enc)
	case json.Number:
		b.WriteString(equivalentNumber(rng, string(v), vary))
	case []any:
		b.WriteByte('[')
		for i, elem := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, rng, elem, vary)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		if vary {
			rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		} else {
			sortStrings(keys)
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			enc, _ := json.Marshal(k)
			b.Write(enc)
			space()
			b.WriteByte(':')
			writeJSON(b, rng, v[k], vary)
		}
		b.WriteByte('}')
	}
	space()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// equivalentNumber returns a different spelling of the same value.
func equivalentNumber(rng *rand.Rand, n string, vary bool) string {
	if !vary || strings.ContainsAny(n, "eE") {
		return n
	}
	forms := []string{n, n + "e0", n + "E+0"}
	if !strings.Contains(n, ".") {
		forms = append(forms, n+".0", n+".000e0")
		if strings.TrimPrefix(n, "-") != "0" {
			forms = append(forms, n+"0e-1") // 00e-1 would not be JSON
		}
	} else {
		forms = append(forms, n+"00")
	}
	return forms[rng.IntN(len(forms))]
}

// randomRules draws rules from a pool that targets keyPool.
func randomRules(rng *rand.Rand) framework.Rules {
	pool := []string{"$.id", "$..requestId", "$.items[*].price", "$[0]", "$..a", `$."first name"`, "$.b[*]", "header:Date", `$.."é"`}
	var rules framework.Rules
	for range rng.IntN(4) {
		rules.Ignore = append(rules.Ignore, pool[rng.IntN(len(pool))])
	}
	if rng.IntN(2) == 0 {
		rules.Tolerance = map[string]framework.Tolerance{"$..price": {Abs: 0.5}, "$[*]": {Rel: 0.1}, "$..id": {Skew: time.Second}}
	}
	// The rules of issue 3: sets, keyed sets, masks, errors.by.
	if rng.IntN(2) == 0 {
		rules.Unordered = []framework.Unordered{{Path: "$..items"}, {Path: "$.b", Key: "id"}, {Path: "$[*]", Key: "a"}}
	}
	if rng.IntN(2) == 0 {
		rules.Masks = []framework.Mask{{Pattern: "[0-9]+"}, {Path: "$..a", Pattern: "é"}}
	}
	if rng.IntN(3) == 0 {
		rules.ErrorsBy = "$.a"
	}
	return rules
}

// TestSelfCompareMatches is a property: any JSON value, written two
// different ways, matches itself under any rules.
func TestSelfCompareMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	differentText := 0
	for i := range 3000 {
		v := randomValue(rng, 4)
		var prod, shadow bytes.Buffer
		writeJSON(&prod, rng, v, false)
		writeJSON(&shadow, rng, v, true)
		if !bytes.Equal(prod.Bytes(), shadow.Bytes()) {
			differentText++
		}
		rules := randomRules(rng)
		c := mustCompile(t, rules)
		if diffs := c.Compare(jsonResponse(prod.String()), jsonResponse(shadow.String())); len(diffs) != 0 {
			t.Fatalf("case %d: %s\nversus %s\nunder %+v:\n%s", i, prod.String(), shadow.String(), rules, formatDiffs(diffs))
		}
	}
	if differentText < 2000 {
		t.Fatalf("only %d of 3000 pairs differed in text: the property is not exercised", differentText)
	}
}

// leaf is a scalar, or empty container, in a value and where it is.
type leaf struct {
	loc []fieldpath.Step
	set func(any) // replaces the leaf in its parent
	val any
}

func leaves(v any, loc []fieldpath.Step, set func(any), out []leaf) []leaf {
	here := append([]fieldpath.Step(nil), loc...)
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			break
		}
		for k := range v {
			out = leaves(v[k], append(here, fieldpath.Key(k)), func(n any) { v[k] = n }, out)
		}
		return out
	case []any:
		if len(v) == 0 {
			break
		}
		for i := range v {
			out = leaves(v[i], append(here, fieldpath.Index(i)), func(n any) { v[i] = n }, out)
		}
		return out
	}
	return append(out, leaf{loc: here, set: set, val: v})
}

// changed returns a value that differs from v, and the kind of diff the
// change is.
func changed(rng *rand.Rand, v any) (any, framework.DiffKind) {
	if rng.IntN(4) == 0 {
		if _, isString := v.(string); isString {
			return json.Number("1"), framework.KindType
		}
		return "changed", framework.KindType
	}
	switch v := v.(type) {
	case bool:
		return !v, framework.KindValue
	case string:
		return v + "!", framework.KindValue
	case json.Number:
		if decimalEqual(string(v), "4242.5") {
			return json.Number("1"), framework.KindValue
		}
		return json.Number("4242.5"), framework.KindValue
	case map[string]any:
		return []any{}, framework.KindType
	case []any:
		return map[string]any{}, framework.KindType
	}
	return false, framework.KindType // null
}

// TestSingleChangeReportedOnce is a property: changing one leaf of a value
// gives exactly one diff, at that leaf's path, of the expected kind; and
// ignoring that path removes it.
func TestSingleChangeReportedOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	c := mustCompile(t, framework.Rules{})
	for i := range 3000 {
		root := map[string]any{"root": randomValue(rng, 4)}
		var prod bytes.Buffer
		writeJSON(&prod, rng, root, false)
		ls := leaves(root, nil, nil, nil)
		l := ls[rng.IntN(len(ls))]
		newValue, kind := changed(rng, l.val)
		l.set(newValue)
		var shadow bytes.Buffer
		writeJSON(&shadow, rng, root, true)

		path := fieldpath.Format(l.loc)
		diffs := c.Compare(jsonResponse(prod.String()), jsonResponse(shadow.String()))
		if len(diffs) != 1 || diffs[0].Path != path || diffs[0].Kind != kind {
			t.Fatalf("case %d: changed %s (%v -> %v)\nprod   %s\nshadow %s\ngot:\n%swant one %s diff at %s",
				i, path, l.val, newValue, prod.String(), shadow.String(), formatDiffs(diffs), kind, path)
		}
		ignoring := mustCompile(t, framework.Rules{Ignore: []string{path}})
		if diffs := ignoring.Compare(jsonResponse(prod.String()), jsonResponse(shadow.String())); len(diffs) != 0 {
			t.Fatalf("case %d: ignoring %s still gives:\n%s", i, path, formatDiffs(diffs))
		}
	}
}

func TestDisplayIsBoundedValidUTF8(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for range 2000 {
		v := randomValue(rng, 5)
		got := display(v)
		if !utf8ValidString(got) || len(got) > displayLimit+len(ellipsis) {
			t.Fatalf("display(%v) = %q: %d bytes or invalid UTF-8", v, got, len(got))
		}
		full, _ := json.Marshal(v)
		if len(full) <= displayLimit && !jsonEqualText(got, full) {
			t.Fatalf("display(%v) = %s, want the JSON text %s", v, got, full)
		}
	}
}

// jsonEqualText reports whether two JSON texts decode to the same value.
func jsonEqualText(a string, b []byte) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}
