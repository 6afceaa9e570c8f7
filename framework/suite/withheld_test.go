package suite

import (
	"bytes"
	"context"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestWithheldTrafficIsSkippedNotFailed: an endpoint whose every request
// the spec's own policy withheld is skipped, with the policy and count, in
// every threshold; an endpoint whose requests were simply not there (or
// could not be sent) still fails as insufficient traffic.
func TestWithheldTrafficIsSkippedNotFailed(t *testing.T) {
	p := &framework.Plan{Endpoints: []framework.Endpoint{
		{Name: "get-user", Method: "GET", Path: "/users/{id}", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 5}},
		{Name: "create-user", Method: "POST", Path: "/users", Known: []framework.KnownCategory{},
			Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 5, ErrorRate: true, LatencyP50Ratio: 2}},
		{Name: "export", Method: "POST", Path: "/export", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 5}},
		{Name: "sampled", Method: "GET", Path: "/s", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 1}},
		{Name: "absent", Method: "GET", Path: "/absent", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 5}},
		{Name: "unrecorded", Method: "GET", Path: "/unrecorded", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 5}},
	}}
	results := observe.NewResults(p.Endpoints)
	outcome := mustRun(t, Config{Plan: p, Results: results, NoColor: true, Replay: func(context.Context) error {
		for i := range 6 {
			results.Add(pair("get-user", i), nil)
		}
		for range 12 {
			results.AddSkipped("create-user")
		}
		results.AddRecordedOnly("export")
		results.AddFiltered("sampled", "sampled out")
		results.AddFiltered("sampled", "sampled out")
		for range 3 {
			results.AddNoRecording("unrecorded")
		}
		return nil
	}})
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, outcome.Report, p, results); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		suite, skipped, failed string // the message every case must have
		cases                  int
		reason                 string
	}{
		{suite: "shadowtest.create-user", cases: 4, skipped: "skipped: 12 requests not sent under writes: skip",
			reason: "writes: skip sent none of the POSTs: every threshold is skipped with the policy and count"},
		{suite: "shadowtest.export", cases: 1, skipped: "skipped: 1 request not sent under writes: record-only",
			reason: "record-only is the spec's policy too"},
		{suite: "shadowtest.sampled", cases: 1, skipped: "skipped: 2 requests not sent under mode: sampled",
			reason: "the sampled mode chose not to send them"},
		{suite: "shadowtest.absent", cases: 1, failed: "absent: insufficient traffic: 0 pairs compared, minSamples is 5",
			reason: "requests that were not in the traffic still fail the threshold"},
		{suite: "shadowtest.unrecorded", cases: 1, failed: "unrecorded: insufficient traffic: 0 pairs compared, minSamples is 5",
			reason: "requests without a recorded response are not withheld by policy"},
	}
	for _, tt := range tests {
		found := false
		for _, s := range parsed.Suites {
			if s.Name != tt.suite {
				continue
			}
			found = true
			if len(s.Cases) != tt.cases {
				t.Errorf("%s: %d cases, want %d", tt.suite, len(s.Cases), tt.cases)
			}
			for _, c := range s.Cases {
				switch {
				case tt.skipped != "" && (c.Skipped == nil || c.Skipped.Message != tt.skipped || c.Failure != nil):
					t.Errorf("%s\n%s: skipped %+v failure %+v, want skipped %q", tt.reason, c.Name, c.Skipped, c.Failure, tt.skipped)
				case tt.failed != "" && (c.Failure == nil || !strings.HasPrefix(c.Failure.Message, tt.failed)):
					t.Errorf("%s\n%s: failure %+v, want %q", tt.reason, c.Name, c.Failure, tt.failed)
				}
			}
		}
		if !found {
			t.Errorf("no suite %s in\n%s", tt.suite, buf.String())
		}
	}
	if outcome.Passed {
		t.Error("the run passed although two endpoints had no traffic that the spec did not withhold")
	}
}

// TestARunThatComparedNothingGatesNothing: when every endpoint had all its
// requests withheld by a policy (each endpoint's thresholds rightly
// skipped), the run passed with zero pairs compared in the whole run, as
// with `run --mode sampled --rate 0.000001` or a spec of writes under
// writes: skip. The run's own test case fails saying so; one compared pair
// anywhere is enough for it to pass.
func TestARunThatComparedNothingGatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compared bool
	}{{"nothing compared", false}, {"one pair compared", true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := &framework.Plan{Endpoints: []framework.Endpoint{
				{Name: "create-user", Method: "POST", Path: "/users", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 1}},
				{Name: "get-user", Method: "GET", Path: "/users/{id}", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 1}},
			}}
			results := observe.NewResults(p.Endpoints)
			outcome := mustRun(t, Config{Plan: p, Results: results, NoColor: true, Replay: func(context.Context) error {
				results.AddSkipped("create-user")
				results.AddFiltered("get-user", "sampled out")
				if tc.compared {
					results.Add(pair("get-user", 0), nil)
				}
				return nil
			}})
			var run *framework.Verdict
			for _, v := range Verdicts(outcome.Report) {
				if v.Endpoint == RunGroup {
					run = &v
				}
			}
			switch {
			case run == nil:
				t.Fatal("no run test case")
			case !tc.compared && (outcome.Passed || run.Passed() || !strings.Contains(run.Message, "no pair was compared in the whole run") ||
				!strings.Contains(run.Message, "create-user: 1 request not sent under writes: skip")):
				t.Errorf("nothing compared: passed %v, run case %+v, want it failed saying nothing was compared and why", outcome.Passed, *run)
			case tc.compared && !run.Passed():
				t.Errorf("one pair compared: run case %+v, want it passed", *run)
			}
		})
	}
}
