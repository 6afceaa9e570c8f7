package suite

import (
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega/types"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// KnownName is the test case name of an endpoint's "no category outside
// known" threshold, declared when the spec lists known categories.
const KnownName = "no discrepancy category outside known"

// HoldKnownCategories succeeds when every discrepancy category of an
// endpoint's aggregates is one of the known ones. Its failure message names
// each unknown category with its count and an example, then the known ones
// with their reasons, so a new kind of difference fails the gate even while
// the match rate holds.
func HoldKnownCategories(known []framework.KnownCategory) types.GomegaMatcher {
	isKnown := map[string]bool{}
	for _, k := range known {
		isKnown[k.Category] = true
	}
	unknown := func(e *observe.Endpoint) []*observe.Category {
		var out []*observe.Category
		for _, c := range e.TopCategories(0) {
			if !isKnown[c.Name] {
				out = append(out, c)
			}
		}
		return out
	}
	return endpointMatcher("HoldKnownCategories",
		func(e *observe.Endpoint) bool { return len(unknown(e)) == 0 },
		func(e *observe.Endpoint) string {
			unknown := unknown(e)
			var b strings.Builder
			fmt.Fprintf(&b, "%s: %d discrepancy categor%s outside known over %s pairs", e.Name, len(unknown), plural(len(unknown), "y", "ies"), count(e.Pairs))
			for i, c := range unknown {
				if i == topCategoriesInMessage {
					fmt.Fprintf(&b, "\n  and %d more", len(unknown)-i)
					break
				}
				fmt.Fprintf(&b, "\n  %s: %s pairs, e.g. %s: prod %s, shadow %s", c.Name, count(c.Count), c.Example.Path, display(c.Example.Prod), display(c.Example.Shadow))
			}
			if len(known) == 0 {
				b.WriteString("\n  known: (none declared)")
			}
			for _, k := range known {
				fmt.Fprintf(&b, "\n  known: %s (%s)", k.Category, k.Reason)
			}
			return b.String()
		},
		func(e *observe.Endpoint) string {
			return fmt.Sprintf("%s: expected a discrepancy category outside known, found none", e.Name)
		})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// reportNoise adds one JUnit property per noise path of the endpoint: how
// often the two prod answers differed there, and whether the differences
// from the shadow were hidden as noise or still counted.
func reportNoise(e *observe.Endpoint) {
	if e == nil || e.Probes == 0 {
		return
	}
	ginkgo.AddReportEntry("noise probes", fmt.Sprint(e.Probes), ginkgo.ReportEntryVisibilityFailureOrVerbose)
	for _, n := range e.NoisePaths() {
		ginkgo.AddReportEntry("noise "+n.Path, noiseNote(e, n), ginkgo.ReportEntryVisibilityFailureOrVerbose)
	}
}

// noiseNote says how often a noise path changed between two prod answers,
// what was decided there and why.
func noiseNote(e *observe.Endpoint, n *observe.NoisePath) string {
	note := fmt.Sprintf("changed in %d of %d prod probes, ", n.Count, e.Probes)
	switch n.Decision {
	case "":
		return note + "not decided yet"
	case observe.NoiseHidden:
		return note + fmt.Sprintf("hidden as noise: shape %s, %d shadow values outside it", n.Shape, n.Misfit)
	}
	return note + n.Decision + ": " + n.Reason
}
