package report

import (
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

func summaryResults() *observe.Results {
	r := observe.NewResults([]framework.Endpoint{{Name: "get-order"}, {Name: "health"}})
	for i := range 10 {
		p := &framework.Pair{Endpoint: "get-order", Prod: framework.Response{Status: 200, Latency: time.Millisecond}, Shadow: framework.Response{Status: 200, Latency: 2 * time.Millisecond}}
		var diffs []framework.Diff
		if i < 3 {
			diffs = []framework.Diff{{Path: "$.currency", Kind: framework.KindMissing, Prod: `"EUR"`}}
		}
		r.Add(p, diffs)
		r.Add(&framework.Pair{Endpoint: "health", Prod: framework.Response{Status: 200}, Shadow: framework.Response{Status: 200}}, nil)
	}
	return r
}

func TestSummary(t *testing.T) {
	verdicts := []framework.Verdict{
		{Endpoint: "get-order", Threshold: "match rate >= 0.99", State: "failed", Message: "get-order: match rate 0.700 < 0.990 over 10 pairs", Location: "specs/o.cue:3"},
		{Endpoint: "health", Threshold: "match rate >= 0.99", State: "passed"},
	}
	for _, tc := range []struct {
		reason string
		color  bool
	}{{"plain when not a terminal", false}, {"coloured on a terminal", true}} {
		var b strings.Builder
		s := Summary{Results: summaryResults(), Verdicts: verdicts, Files: []string{"junit: junit.xml", "html: report.html"}, Color: tc.color}
		if err := s.Write(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "\x1b[") != tc.color {
			t.Errorf("%s: colour codes present = %v:\n%s", tc.reason, !tc.color, out)
		}
		plain := stripANSI(out)
		for _, want := range []string{
			"ENDPOINT   PAIRS  MATCH   THRESHOLDS",
			"get-order  10     0.7000  0/1 passed",
			"health     10     1.0000  1/1 passed",
			`get-order  missing $.currency: 3 pairs (30.0%), e.g. $.currency: prod "EUR", shadow (none)`,
			"1 threshold(s) failed:",
			"get-order / match rate >= 0.99 [failed] (specs/o.cue:3)",
			"written:\n  junit: junit.xml\n  html: report.html",
		} {
			if !strings.Contains(plain, want) {
				t.Errorf("%s: summary lacks %q:\n%s", tc.reason, want, plain)
			}
		}
	}
}

func stripANSI(s string) string {
	for _, code := range []string{red, green, yellow, reset} {
		s = strings.ReplaceAll(s, code, "")
	}
	return s
}

// TestSummarySkipped: thresholds the spec's own policy left without
// traffic are listed as skipped with the reason, neither passed nor
// failed.
func TestSummarySkipped(t *testing.T) {
	r := observe.NewResults([]framework.Endpoint{{Name: "create-user"}, {Name: "health"}})
	for range 12 {
		r.AddSkipped("create-user")
	}
	r.Add(&framework.Pair{Endpoint: "health", Prod: framework.Response{Status: 200}, Shadow: framework.Response{Status: 200}}, nil)
	verdicts := []framework.Verdict{
		{Endpoint: "create-user", Threshold: "match rate >= 0.99", State: "skipped", Message: "skipped: 12 requests not sent under writes: skip"},
		{Endpoint: "create-user", Threshold: "error rate", State: "skipped", Message: "skipped: 12 requests not sent under writes: skip"},
		{Endpoint: "health", Threshold: "match rate >= 0.99", State: "passed"},
	}
	var b strings.Builder
	if err := (&Summary{Results: r, Verdicts: verdicts}).Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"NOT SENT",
		"create-user  0      -       2 skipped   - / -", // no answer: no latency, not 0.0ms
		"health       1      1.0000  1/1 passed",
		"not judged, by the spec's own policy:\n  create-user: 2 threshold(s) skipped: 12 requests not sent under writes: skip",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "failed") {
		t.Errorf("a skipped threshold is not a failure:\n%s", out)
	}
}
