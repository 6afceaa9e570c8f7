package suite

import (
	"fmt"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// errorRateEpsilon absorbs float rounding when two rates are equal.
const errorRateEpsilon = 1e-12

// ErrorRateName is the test case name of an endpoint's error-rate threshold.
func ErrorRateName(th framework.Thresholds) string {
	if th.ErrorRateSlack > 0 {
		return fmt.Sprintf("shadow error rate <= prod's + %g", th.ErrorRateSlack)
	}
	return "shadow error rate <= prod's"
}

// LatencyP50Name is the test case name of an endpoint's median-latency
// threshold.
func LatencyP50Name(th framework.Thresholds) string {
	return fmt.Sprintf("shadow p50 latency <= %g x prod's", th.LatencyP50Ratio)
}

// LatencyP99Name is the test case name of an endpoint's p99 threshold.
func LatencyP99Name(th framework.Thresholds) string {
	if th.LatencyP99 > 0 {
		return fmt.Sprintf("shadow p99 latency <= %s", th.LatencyP99)
	}
	return "shadow p99 latency (monitored)"
}

// HoldErrorRate succeeds when the shadow's error rate (transport failures
// and 5xx over requests sent) is at most prod's plus th.ErrorRateSlack. Its
// failure message gives both rates with their counts by kind.
func HoldErrorRate(th framework.Thresholds) types.GomegaMatcher {
	return endpointMatcher("HoldErrorRate",
		func(e *observe.Endpoint) bool {
			return e.ShadowErrorRate() <= e.ProdErrorRate()+th.ErrorRateSlack+errorRateEpsilon
		},
		func(e *observe.Endpoint) string {
			return fmt.Sprintf("%s: shadow error rate %.4f > prod's %.4f + slack %g over %s requests\n  shadow errors: %s\n  prod errors: %s",
				e.Name, e.ShadowErrorRate(), e.ProdErrorRate(), th.ErrorRateSlack, count(e.Requests),
				observe.ErrorKinds(e.ShadowErrors), observe.ErrorKinds(e.ProdErrors))
		},
		func(e *observe.Endpoint) string {
			return fmt.Sprintf("%s: shadow error rate %.4f was expected to exceed prod's %.4f + slack %g", e.Name, e.ShadowErrorRate(), e.ProdErrorRate(), th.ErrorRateSlack)
		})
}

// HoldLatencyP50Ratio succeeds when the shadow's median latency is at most
// th.LatencyP50Ratio times prod's. It fails when either side has no
// latency sample: a shadow that never answered is not fast.
func HoldLatencyP50Ratio(th framework.Thresholds) types.GomegaMatcher {
	return endpointMatcher("HoldLatencyP50Ratio",
		func(e *observe.Endpoint) bool {
			if e.ProdLatency.Count() == 0 || e.ShadowLatency.Count() == 0 {
				return false
			}
			return float64(e.ShadowLatency.Quantile(0.5)) <= th.LatencyP50Ratio*float64(e.ProdLatency.Quantile(0.5))
		},
		func(e *observe.Endpoint) string {
			if msg := noLatency(e); msg != "" {
				return msg
			}
			prod, shadow := e.ProdLatency.Quantile(0.5), e.ShadowLatency.Quantile(0.5)
			return fmt.Sprintf("%s: shadow p50 latency %s > %g x prod's %s (ratio %.2f) over %s prod and %s shadow answers",
				e.Name, ms(shadow), th.LatencyP50Ratio, ms(prod), float64(shadow)/float64(max(prod, 1)), count(e.ProdLatency.Count()), count(e.ShadowLatency.Count()))
		},
		func(e *observe.Endpoint) string {
			return fmt.Sprintf("%s: shadow p50 latency %s was expected to exceed %g x prod's %s", e.Name, ms(e.ShadowLatency.Quantile(0.5)), th.LatencyP50Ratio, ms(e.ProdLatency.Quantile(0.5)))
		})
}

// HoldLatencyP99 succeeds when the shadow's p99 latency is at most
// th.LatencyP99. It fails when the shadow has no latency sample.
func HoldLatencyP99(th framework.Thresholds) types.GomegaMatcher {
	return endpointMatcher("HoldLatencyP99",
		func(e *observe.Endpoint) bool {
			return e.ShadowLatency.Count() > 0 && e.ShadowLatency.Quantile(0.99) <= th.LatencyP99
		},
		func(e *observe.Endpoint) string {
			if e.ShadowLatency.Count() == 0 {
				return noLatency(e)
			}
			return fmt.Sprintf("%s: shadow p99 latency %s > %s over %s shadow answers (prod's p99 %s)",
				e.Name, ms(e.ShadowLatency.Quantile(0.99)), th.LatencyP99, count(e.ShadowLatency.Count()), ms(e.ProdLatency.Quantile(0.99)))
		},
		func(e *observe.Endpoint) string {
			return fmt.Sprintf("%s: shadow p99 latency %s was expected to exceed %s", e.Name, ms(e.ShadowLatency.Quantile(0.99)), th.LatencyP99)
		})
}

// noLatency explains a missing latency sample, "" when both sides have one.
func noLatency(e *observe.Endpoint) string {
	switch {
	case e.ProdLatency.Count() == 0:
		return fmt.Sprintf("%s: no prod latency sample: prod answered none of %s requests (errors: %s)", e.Name, count(e.Requests), observe.ErrorKinds(e.ProdErrors))
	case e.ShadowLatency.Count() == 0:
		return fmt.Sprintf("%s: no shadow latency sample: the shadow answered none of %s requests (errors: %s)", e.Name, count(e.Requests), observe.ErrorKinds(e.ShadowErrors))
	}
	return ""
}

// ms formats a latency in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
