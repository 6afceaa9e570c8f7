package suite

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

// topCategoriesInMessage is how many discrepancy categories a failure
// message lists, each with its count and one example.
const topCategoriesInMessage = 5

// HoldMatchRate succeeds when an endpoint's aggregates have at least
// th.MinSamples pairs and a match rate of at least th.MatchRate. Its failure
// message is enough on its own: the measured rate over how many pairs, then
// the most frequent discrepancy categories with an example each.
func HoldMatchRate(th framework.Thresholds) types.GomegaMatcher {
	enough := func(e *observe.Endpoint) bool { return e.Pairs >= int64(max(th.MinSamples, 1)) }
	return endpointMatcher("HoldMatchRate",
		func(e *observe.Endpoint) bool { return enough(e) && e.MatchRate() >= th.MatchRate },
		func(e *observe.Endpoint) string {
			var b strings.Builder
			if !enough(e) {
				fmt.Fprintf(&b, "%s: insufficient traffic: %s pairs compared, minSamples is %s", e.Name, count(e.Pairs), count(int64(th.MinSamples)))
				if e.Requests > e.Pairs {
					fmt.Fprintf(&b, " (%s requests got no prod answer)", count(e.Requests-e.Pairs))
				}
				if n, why := e.Withheld(); n > 0 {
					fmt.Fprintf(&b, " (%s)", why)
				}
				return b.String()
			}
			fmt.Fprintf(&b, "%s: match rate %.3f < %.3f over %s pairs (%s differ)", e.Name, e.MatchRate(), th.MatchRate, count(e.Pairs), count(e.Pairs-e.Matches))
			for _, c := range e.TopCategories(topCategoriesInMessage) {
				fmt.Fprintf(&b, "\n  %s: %s pairs, e.g. %s: prod %s, shadow %s", scrub.Line(c.Name), count(c.Count), scrub.Line(c.Example.Path), display(c.Example.Prod), display(c.Example.Shadow))
			}
			if n := len(e.Categories); n > topCategoriesInMessage {
				fmt.Fprintf(&b, "\n  and %d more categories", n-topCategoriesInMessage)
			}
			return b.String()
		},
		func(e *observe.Endpoint) string {
			return fmt.Sprintf("match rate %.3f over %s pairs was expected to be below %.3f", e.MatchRate(), count(e.Pairs), th.MatchRate)
		})
}

// endpointMatcher builds a Gomega matcher over an *observe.Endpoint with
// gcustom: holds says whether the threshold holds, failure and negated
// explain a result that was not expected.
func endpointMatcher(name string, holds func(*observe.Endpoint) bool, failure, negated func(*observe.Endpoint) string) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		e, ok := actual.(*observe.Endpoint)
		if !ok || e == nil {
			return false, fmt.Errorf("%s expects *observe.Endpoint, got %T", name, actual)
		}
		return holds(e), nil
	}).WithPrecompiledTemplate(messageTemplate, messages{Failure: failure, Negated: negated})
}

// messages are an endpoint matcher's two explanations, for messageTemplate.
type messages struct {
	Failure, Negated func(*observe.Endpoint) string
}

var messageTemplate = template.Must(gcustom.ParseTemplate(
	`{{if .Failure}}{{call .Data.Failure .Actual}}{{else}}{{call .Data.Negated .Actual}}{{end}}`))

// display shows an untrusted value on one line, control characters and
// bidi overrides escaped.
func display(v string) string {
	if v == "" {
		return "(none)"
	}
	return scrub.Line(v)
}

// count formats n with thousands separators: 1234 → "1,234".
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
