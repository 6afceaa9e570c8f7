package suite

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// endpointWith builds an endpoint's aggregates from n pairs; shadowFails of
// them get a refused shadow, prodFails a 503 from prod.
func endpointWith(n, prodFails, shadowFails int, prodLatency, shadowLatency time.Duration) *observe.Endpoint {
	r := observe.NewResults([]framework.Endpoint{{Name: "get-user"}})
	for i := range n {
		p := &framework.Pair{Endpoint: "get-user",
			Prod:   framework.Response{Status: 200, Latency: prodLatency},
			Shadow: framework.Response{Status: 200, Latency: shadowLatency}}
		if i < prodFails {
			p.Prod.Status = 503
		}
		if i < shadowFails {
			p.Shadow = framework.Response{Err: errors.New("connection refused"), ErrKind: "refused"}
		}
		r.Add(p, nil)
	}
	return r.Endpoint("get-user")
}

func TestLatencyAndErrorRateMatchers(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		matcher types.GomegaMatcher
		e       *observe.Endpoint
		pass    bool
		message string // part of the failure message
		reason  string
	}{
		{"error rate equal", HoldErrorRate(framework.Thresholds{}), endpointWith(100, 2, 2, ms, ms), true, "", "as many shadow errors as prod's"},
		{"error rate over", HoldErrorRate(framework.Thresholds{}), endpointWith(100, 2, 5, ms, ms), false,
			"get-user: shadow error rate 0.0500 > prod's 0.0200 + slack 0 over 100 requests\n  shadow errors: refused 5\n  prod errors: 5xx 2", "three more failures than prod"},
		{"error rate within slack", HoldErrorRate(framework.Thresholds{ErrorRateSlack: 0.05}), endpointWith(100, 0, 5, ms, ms), true, "", "five points of slack"},
		{"p50 within ratio", HoldLatencyP50Ratio(framework.Thresholds{LatencyP50Ratio: 2}), endpointWith(10, 0, 0, 10*ms, 19*ms), true, "", "1.9x"},
		{"p50 over ratio", HoldLatencyP50Ratio(framework.Thresholds{LatencyP50Ratio: 2}), endpointWith(10, 0, 0, 10*ms, 30*ms), false,
			"> 2 x prod's 10.", "3x against a bound of 2x"},
		{"p50 without shadow answers", HoldLatencyP50Ratio(framework.Thresholds{LatencyP50Ratio: 2}), endpointWith(10, 0, 10, 10*ms, 0), false,
			"get-user: no shadow latency sample: the shadow answered none of 10 requests (errors: refused 10)", "a shadow that never answers is not fast"},
		{"p99 under bound", HoldLatencyP99(framework.Thresholds{LatencyP99: 100 * ms}), endpointWith(10, 0, 0, 10*ms, 90*ms), true, "", "90ms < 100ms"},
		{"p99 over bound", HoldLatencyP99(framework.Thresholds{LatencyP99: 100 * ms}), endpointWith(10, 0, 0, 10*ms, 150*ms), false,
			"> 100ms over 10 shadow answers (prod's p99 10.", "150ms > 100ms"},
	}
	for _, tt := range tests {
		ok, err := tt.matcher.Match(tt.e)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if ok != tt.pass {
			t.Errorf("%s: passed = %v, want %v (%s)", tt.name, ok, tt.pass, tt.reason)
			continue
		}
		if !ok && !strings.Contains(tt.matcher.FailureMessage(tt.e), tt.message) {
			t.Errorf("%s: failure message\n%s\nwant it to contain\n%s", tt.name, tt.matcher.FailureMessage(tt.e), tt.message)
		}
	}
	if _, err := HoldErrorRate(framework.Thresholds{}).Match("not an endpoint"); err == nil {
		t.Error("a matcher accepted a string")
	}
}

// TestMatchersInGomega runs the threshold matchers through Gomega itself,
// as a team's suite does: a failure and a negated failure carry the
// matcher's own message, and a wrong actual is an error naming the matcher.
func TestMatchersInGomega(t *testing.T) {
	var messages []string
	g := gomega.NewGomega(func(message string, _ ...int) { messages = append(messages, message) })
	ms := time.Millisecond
	e := endpointWith(100, 0, 5, ms, ms)
	g.Expect(e).To(HoldErrorRate(framework.Thresholds{}))
	g.Expect(e).NotTo(HoldMatchRate(framework.Thresholds{MatchRate: 0.5, MinSamples: 1}))
	g.Expect("get-user").To(HoldLatencyP99(framework.Thresholds{LatencyP99: ms}))
	want := []string{
		"get-user: shadow error rate 0.0500 > prod's 0.0000",
		"match rate 1.000 over 100 pairs was expected to be below 0.500",
		"HoldLatencyP99 expects *observe.Endpoint, got string",
	}
	if len(messages) != len(want) {
		t.Fatalf("messages %q, want %d", messages, len(want))
	}
	for i, w := range want {
		if !strings.Contains(messages[i], w) {
			t.Errorf("message %d = %q, want %q", i, messages[i], w)
		}
	}
}
