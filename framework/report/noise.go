package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// NoiseRule is the ignore rule that makes an endpoint's learned noise
// explicit, ready to paste into the spec:
//
//	endpoints: "get-user": ignore: ["header:Date", "$.requestId"]
//
// CUE lists do not merge, so it repeats the endpoint's current ignore list,
// which it replaces. It is "" when no noise path was hidden. The terminal
// summary, the JUnit and the HTML report all print this one rule.
func NoiseRule(e *observe.Endpoint) string {
	if e == nil || len(e.Noise) == 0 {
		return ""
	}
	var ignore []string
	if e.Spec != nil {
		ignore = slices.Clone(e.Spec.Rules.Ignore)
	}
	added := false
	for _, n := range e.NoisePaths() {
		if !n.Reported && !slices.Contains(ignore, n.Rule) {
			ignore = append(ignore, n.Rule)
			added = true
		}
	}
	if !added {
		return ""
	}
	quoted := make([]string, len(ignore))
	for i, p := range ignore {
		quoted[i] = strconv.Quote(p)
	}
	return "endpoints: " + strconv.Quote(e.Name) + ": ignore: [" + strings.Join(quoted, ", ") + "]"
}
