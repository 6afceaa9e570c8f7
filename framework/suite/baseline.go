package suite

import (
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// Baseline test case names.
const (
	// NoNewCategoryName fails when a discrepancy category appears that the
	// baseline run did not have.
	NoNewCategoryName = "no new discrepancy category since the baseline"
)

// MatchRateBaselineName is the test case name of the match-rate-drop check.
func MatchRateBaselineName(margin float64) string {
	return fmt.Sprintf("match rate not more than %g below the baseline", margin)
}

// declareBaselines adds, to every endpoint's group, the two tests against
// an earlier run: no new discrepancy category, and no match-rate drop of
// more than the margin. An endpoint the baseline does not know is skipped.
func declareBaselines(cfg Config) {
	if cfg.Baseline == nil {
		return
	}
	for i := range cfg.Plan.Endpoints {
		e := &cfg.Plan.Endpoints[i]
		ginkgo.Describe(e.Name, func() {
			ginkgo.It(NoNewCategoryName, location(e.Pos), func() {
				skipWithheld(cfg.Results.Endpoint(e.Name))
				before := cfg.Baseline.Endpoint(e.Name)
				if before == nil {
					ginkgo.Skip(e.Name + ": not in the baseline results")
				}
				if msg := NewCategories(cfg.Results.Endpoint(e.Name), before); msg != "" {
					ginkgo.Fail(msg)
				}
			})
			ginkgo.It(MatchRateBaselineName(cfg.BaselineMargin), location(e.Pos), func() {
				skipWithheld(cfg.Results.Endpoint(e.Name))
				before := cfg.Baseline.Endpoint(e.Name)
				if before == nil {
					ginkgo.Skip(e.Name + ": not in the baseline results")
				}
				if msg := MatchRateDrop(cfg.Results.Endpoint(e.Name), before, cfg.BaselineMargin); msg != "" {
					ginkgo.Fail(msg)
				}
			})
		})
	}
}

// NewCategories describes the discrepancy categories of now that before
// did not have, most frequent first with an example each; "" when none.
func NewCategories(now, before *observe.Endpoint) string {
	var fresh []*observe.Category
	for _, c := range now.TopCategories(0) {
		if before.Categories[c.Name] == nil && !folded(c.Name, before) {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d new discrepancy categor%s since the baseline", now.Name, len(fresh), map[bool]string{true: "y", false: "ies"}[len(fresh) == 1])
	for _, c := range fresh {
		fmt.Fprintf(&b, "\n  %s: %s pairs, e.g. %s: prod %s, shadow %s", c.Name, count(c.Count), c.Example.Path, display(c.Example.Prod), display(c.Example.Shadow))
	}
	return b.String()
}

// folded reports whether a category of one run may be a category of
// before under another name: folding keeps the first member names it
// meets (observe.FoldAfter) and the first observe.MaxCategories
// categories, and which come first depends on the order pairs arrive,
// which concurrency changes from run to run. A category the baseline
// has folded ("value $.users.*.name" for "value $.users.u7.name", or
// the other way), or may have counted as observe.OtherCategory, is not
// new.
func folded(name string, before *observe.Endpoint) bool {
	if name != observe.OtherCategory && before.Categories[observe.OtherCategory] != nil {
		return true
	}
	kind, path, ok := strings.Cut(name, " ")
	if !ok || !strings.HasPrefix(path, "$") {
		return false
	}
	for other := range before.Categories {
		if k, p, ok := strings.Cut(other, " "); ok && k == kind && fieldpath.Overlap(path, p) {
			return true
		}
	}
	return false
}

// MatchRateDrop describes a match-rate drop of more than margin from
// before to now; "" when the rate held (or either run compared no pairs).
func MatchRateDrop(now, before *observe.Endpoint, margin float64) string {
	if now.Pairs == 0 || before.Pairs == 0 {
		return ""
	}
	drop := before.MatchRate() - now.MatchRate()
	if drop <= margin+1e-12 {
		return ""
	}
	return fmt.Sprintf("%s: match rate %.4f over %s pairs, baseline %.4f over %s pairs: dropped %.4f, more than the margin %g",
		now.Name, now.MatchRate(), count(now.Pairs), before.MatchRate(), count(before.Pairs), drop, margin)
}
