package report

import (
	"encoding/json"
	"strings"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// NoiseRule is the spec rule that makes an endpoint's learned noise
// explicit, ready to paste into the spec: one shape rule per noise path
// ("the value may differ, but must keep this shape"),
//
//	endpoints: "get-user": shape: {"$.requestId": "uuid", "$.at": "rfc3339"}
//
// CUE structs unify, so it adds to the rules the spec already has. It is ""
// when no noise path can be written as a shape rule. The terminal summary,
// the JUnit and the HTML report all print this one rule; run --write-noise
// writes the same rules to a file.
func NoiseRule(e *observe.Endpoint) string {
	if e == nil {
		return ""
	}
	var rules []string
	for _, n := range e.NoisePaths() {
		if WritableNoise(n) {
			rules = append(rules, CUEString(n.Path)+": "+n.Rule)
		}
	}
	if len(rules) == 0 {
		return ""
	}
	return "endpoints: " + CUEString(e.Name) + ": shape: {" + strings.Join(rules, ", ") + "}"
}

// WritableNoise reports whether a noise path is hidden as noise and can be
// written as a shape rule: a body path whose learned shape has a rule.
func WritableNoise(n *observe.NoisePath) bool {
	return n.Writable && n.Decision == observe.NoiseHidden && strings.HasPrefix(n.Path, "$")
}

// CUEString writes s as a JSON string, which is a CUE string literal too
// (strconv.Quote's \x escapes are not).
func CUEString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
