package shape

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		value  string
		best   string
		reason string
	}{
		{"6f1c2a34-8a5e-4b1f-9d2c-0e4a7b9c1d2e", "uuid", "8-4-4-4-12 hex digits"},
		{"6F1C2A34-8A5E-4B1F-9D2C-0E4A7B9C1D2E", "uuid", "either case"},
		{"2026-11-30T01:02:03Z", "rfc3339", "RFC 3339 without fraction"},
		{"2026-11-30T01:02:03.123456789+01:00", "rfc3339", "with fraction and offset"},
		{"2026-11-30 01:02:03Z", "rfc3339", "RFC 3339 allows a space for T"},
		{"Mon, 30 Nov 2026 02:30:05 GMT", "httpdate", "HTTP date (IMF-fixdate)"},
		{"Monday, 30-Nov-26 02:30:05 GMT", "httpdate", "obsolete RFC 850 HTTP date"},
		{"Mon Nov 30 02:30:05 2026", "httpdate", "asctime HTTP date"},
		{"Mon, 30 Nov 2026 02:30:05 +0100", "httpdate", "RFC 1123 with a numeric zone"},
		{"Mon, 30 Nov 2026", "", "a date alone is no HTTP date"},
		{"127.0.0.1:40224", "ipport", "IPv4 with a port"},
		{"[::1]:8080", "ipport", "IPv6 with a port"},
		{"127.0.0.1", "ip", "IPv4 without a port"},
		{"::1", "ip", "IPv6"},
		{"-42", "integer", "integer text"},
		{"3.25e-2", "decimal", "decimal text"},
		{"00ff", "hex", "hex (integer would need only digits)"},
		{"aGVsbG8gd29ybGQ=", "base64", "padded base64"},
		{"hello world", "", "words"},
		{"", "", "empty"},
		{"127.0.0.1:99999", "", "port out of range"},
	}
	if Formats("2026-11-30")&RFC3339 != 0 {
		t.Errorf("a date alone is no RFC 3339 date-time")
	}
	for _, tt := range tests {
		if got := Formats(tt.value).String(); got != tt.best {
			t.Errorf("Formats(%q) = %q, want %q (%s)", tt.value, got, tt.best, tt.reason)
		}
	}
}

func TestLearnedShapes(t *testing.T) {
	learn := func(values ...string) Shape {
		var l Learner
		for _, v := range values {
			l.Add(Value{Kind: String, Text: v})
		}
		return l.Shape(true)
	}
	tests := []struct {
		values []string
		want   string
		rule   string
		reason string
	}{
		{[]string{"127.0.0.1:40224", "127.0.0.1:40230"}, "ipport", `"ipport"`, "a recognised format beats a template"},
		{[]string{"req-1234", "req-9876", "req-55555"}, `"req-" + [0-9]{1,7}`, `{pattern: "^req-[0-9]{1,7}$"}`, "prefix, classes and length range of the varying part (from 1 to half as long again as the longest seen)"},
		{[]string{"a.json", "bb.json"}, `[a-z]{1,3} + ".json"`, `{pattern: "^[a-z]{1,3}\\.json$"}`, "a fixed suffix"},
		{[]string{"ab", "aab"}, `"a" + [a-z]{0,2} + "b"`, `{pattern: "^a[a-z]{0,2}b$"}`, "prefix and suffix never overlap"},
		{[]string{"hit", "miss"}, `[a-z]{1,6}`, `{pattern: "^[a-z]{1,6}$"}`, "short words are not hex or base64 by chance"},
	}
	for _, tt := range tests {
		s := learn(tt.values...)
		rule, ok := s.Rule()
		if s.String() != tt.want || !ok || rule != tt.rule {
			t.Errorf("learn(%q) = %s, rule %s (%v); want %s, %s (%s)", tt.values, s, rule, ok, tt.want, tt.rule, tt.reason)
		}
		for _, v := range tt.values {
			if !s.Fits(Value{Kind: String, Text: v}) {
				t.Errorf("learn(%q) does not fit its own value %q", tt.values, v)
			}
		}
	}
}

// TestLearnedLengthIsNotASample: a length range learned exactly from the
// values seen is a sample's range: another sample of the same generator
// falls outside it now and then (a shorter random number), which made a
// shadow identical to prod fail with a "shape" difference in some runs.
func TestLearnedLengthIsNotASample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	generators := map[string]func() string{
		"base36 without padding": func() string { return "sess-" + strconv.FormatUint(rng.Uint64()>>rng.IntN(40), 36) },
		"hex of a uint32":        func() string { return fmt.Sprintf("id-%x", rng.Uint32()) },
		"a shifted number":       func() string { return fmt.Sprintf("x%d", rng.IntN(100000)>>rng.IntN(12)) },
	}
	for name, next := range generators {
		for run := range 20 {
			var l Learner
			for range 30 {
				l.Add(Value{Kind: String, Text: next()})
			}
			s := l.Shape(true)
			misfits := 0
			for range 30 {
				if !s.Fits(Value{Kind: String, Text: next()}) {
					misfits++
				}
			}
			if misfits > 0 {
				t.Errorf("%s, run %d: %d of 30 values of the same generator do not fit the learned %s", name, run, misfits, s)
				break
			}
		}
	}
}

// TestLearnerIgnoresOrder: the learned shape is the same in any order.
func TestLearnerIgnoresOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		values := randomValues(rng)
		var a, b Learner
		for _, v := range values {
			a.Add(v)
		}
		rng.Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
		half := len(values) / 2
		var left, right Learner
		for _, v := range values[:half] {
			left.Add(v)
		}
		for _, v := range values[half:] {
			right.Add(v)
		}
		b.Merge(right)
		b.Merge(left)
		if a != b {
			t.Fatalf("order changed what was learned from %v:\n%+v\n%+v", values, a, b)
		}
	}
}

// TestAdmitsAgreesWithFits: what noise learning keeps of a shadow value
// (its Fit against its own pair's prod value) admits every value that fits
// the learned shape: noise learning never turns a fitting value into a
// shape difference.
func TestAdmitsAgreesWithFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		prods := randomValues(rng)
		var l Learner
		for _, v := range prods {
			l.Add(v)
		}
		s := l.Shape(true)
		prod := prods[rng.IntN(len(prods))]
		shadow := randomValues(rng)[0]
		if rng.IntN(2) == 0 && prod.Kind == String {
			shadow = Value{Kind: String, Text: prod.Text[:rng.IntN(len(prod.Text)+1)] + shadow.Text}
		}
		if prod.Kind != String {
			continue // prod's value shares nothing with a string
		}
		if s.Fits(shadow) && !s.Admits(Relate(prod, shadow)) {
			t.Fatalf("shape %s (%+v), prod %q, shadow %q: fits but not admitted", s, s, prod.Text, shadow.Text)
		}
	}
}

func randomValues(rng *rand.Rand) []Value {
	gens := []func() string{
		func() string { return "127.0.0.1:" + strconv.Itoa(1024+rng.IntN(60000)) },
		func() string { return "req-" + strconv.Itoa(rng.IntN(100000)) },
		func() string { return strconv.Itoa(rng.IntN(1000)) + ".json" },
		func() string { return strings.Repeat("ab", rng.IntN(4)) + "X" },
		func() string { return strconv.FormatFloat(rng.Float64()*100, 'f', -1, 64) },
	}
	gen := gens[rng.IntN(len(gens))]
	out := make([]Value, 1+rng.IntN(6))
	for i := range out {
		if rng.IntN(8) == 0 {
			out[i] = Value{Kind: Number, Text: strconv.Itoa(rng.IntN(50))}
			continue
		}
		out[i] = Value{Kind: String, Text: gen()}
	}
	return out
}

// FuzzFromDisplay: reading any display never panics, and a JSON string's
// display reads back to the string.
func FuzzFromDisplay(f *testing.F) {
	for _, seed := range []string{`"a"`, `"\u00e9…`, "12", "null", "{", "[1]", `"a\"b"`, "header value…"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, display string) {
		FromDisplay(display, false)
		FromDisplay(display, true)
		v := FromDisplay(strconv.Quote(display), false)
		if strings.ToValidUTF8(display, "\uFFFD") == display && !strings.ContainsAny(display, "\x7f") && v.Text != display && !v.Clipped {
			t.Errorf("FromDisplay(%q) = %+v", strconv.Quote(display), v)
		}
	})
}

// TestHTTPDateIsAFormat: HTTP dates seen within one minute were learned
// as a template whose fixed prefix held that minute
// ("^Mon, 30 Nov 2026 02:30:[0-9A-Z\\s]{1,3} GMT$"), and --write-noise
// wrote it as a rule that every later run broke. They are a format.
func TestHTTPDateIsAFormat(t *testing.T) {
	var l Learner
	for _, v := range []string{"Mon, 30 Nov 2026 02:30:05 GMT", "Mon, 30 Nov 2026 02:30:06 GMT", "Mon, 30 Nov 2026 02:30:41 GMT"} {
		l.Add(Value{Kind: String, Text: v})
	}
	s := l.Shape(true)
	if rule, ok := s.Rule(); !ok || rule != `"httpdate"` {
		t.Fatalf("learned %s, rule %s; want the httpdate format", s, rule)
	}
	for v, want := range map[string]bool{"Tue, 01 Dec 2026 09:00:00 GMT": true, "2026-12-01T09:00:00Z": false, "Tue, 01 Dec 2026": false} {
		if got := s.Fits(Value{Kind: String, Text: v}); got != want {
			t.Errorf("%q fits %s: %v, want %v", v, s, got, want)
		}
	}
}
