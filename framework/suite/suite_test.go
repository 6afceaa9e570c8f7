package suite

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

type xmlSuites struct {
	Suites []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Data    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
		SystemOut string `xml:"system-out"`
	} `xml:"testsuite"`
}

func plan() *framework.Plan {
	return &framework.Plan{Endpoints: []framework.Endpoint{
		{Name: "get-user", Method: "GET", Path: "/users/{id}", Thresholds: framework.Thresholds{MatchRate: 0.9, MinSamples: 5, MatchRatePos: framework.Position{File: "specs/users.cue", Line: 7, Col: 3}}},
		{Name: "get-order", Method: "GET", Path: "/orders/{id}", Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 5, MatchRatePos: framework.Position{File: "specs/orders.cue", Line: 12, Col: 5}}},
		{Name: "health", Method: "GET", Path: "/health", Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 5}},
	}}
}

func pair(endpoint string, i int) *framework.Pair {
	return &framework.Pair{
		Endpoint: endpoint,
		Exchange: framework.Exchange{Origin: "t.har: entry " + string(rune('0'+i))},
		Prod:     framework.Response{Status: 200, Latency: time.Millisecond},
		Shadow:   framework.Response{Status: 200, Latency: 2 * time.Millisecond},
	}
}

func runSuite(t *testing.T, replay func(results *observe.Results) error) (Outcome, xmlSuites) {
	t.Helper()
	p := plan()
	results := observe.NewResults(p.Endpoints)
	outcome := mustRun(t, Config{
		Plan:    p,
		Results: results,
		Replay:  func(ctx context.Context) error { return replay(results) },
		IsAbort: func(err error) bool { return strings.HasPrefix(err.Error(), "aborted") },
		NoColor: true,
	})
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, outcome.Report, p, results); err != nil {
		t.Fatal(err)
	}
	var parsed xmlSuites
	if err := xml.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, buf.String())
	}
	return outcome, parsed
}

func TestJUnitLayoutAndFailureMessage(t *testing.T) {
	outcome, parsed := runSuite(t, func(results *observe.Results) error {
		for i := range 10 {
			results.Add(pair("get-user", i), nil)
			var diffs []framework.Diff
			if i%4 == 0 {
				diffs = []framework.Diff{{Path: "$.items[3].quantity", Kind: framework.KindValue, Prod: "2", Shadow: "0"}}
			}
			results.Add(pair("get-order", i), diffs)
		}
		return nil
	})
	if outcome.Passed {
		t.Fatal("suite passed although get-order matched 7 of 10 pairs against 0.99")
	}
	var names []string
	for _, s := range parsed.Suites {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "shadowtest.get-user,shadowtest.get-order,shadowtest.health,shadowtest.run" {
		t.Fatalf("suites %s: want one per endpoint in spec order, then run", got)
	}
	user, order, health := parsed.Suites[0], parsed.Suites[1], parsed.Suites[2]
	if len(user.Cases) != 1 || user.Cases[0].Classname != "shadowtest.get-user" || user.Cases[0].Failure != nil {
		t.Errorf("get-user: %+v", user.Cases)
	}
	if user.Cases[0].Name != "get-user: match rate >= 0.9 (min 5 pairs)" || user.Cases[0].Time == "" {
		t.Errorf("get-user case name/time: %q %q", user.Cases[0].Name, user.Cases[0].Time)
	}
	f := order.Cases[0].Failure
	if f == nil || order.Failures != 1 {
		t.Fatalf("get-order did not fail: %+v", order)
	}
	if want := "get-order: match rate 0.700 < 0.990 over 10 pairs (3 differ)"; f.Message != want {
		t.Errorf("failure message %q, want %q", f.Message, want)
	}
	for _, want := range []string{"get-order: match rate 0.700 < 0.990 over 10 pairs (3 differ)", "value $.items[*].quantity: 3 pairs, e.g. $.items[3].quantity: prod 2, shadow 0", "threshold declared at specs/orders.cue:12"} {
		if !strings.Contains(f.Data, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Data)
		}
	}
	props := map[string]string{}
	for _, p := range order.Properties {
		props[p.Name] = p.Value
	}
	if props["pairs"] != "10" || props["matchRate"] != "0.7000" || props["prodP50Ms"] == "" {
		t.Errorf("properties %v", props)
	}
	if !strings.Contains(order.SystemOut, "category value $.items[*].quantity: 3 pairs") {
		t.Errorf("system-out lacks the categories: %q", order.SystemOut)
	}
	if health.Cases[0].Failure == nil || !strings.Contains(health.Cases[0].Failure.Data, "insufficient traffic: 0 pairs compared, minSamples is 5") {
		t.Errorf("an endpoint without traffic must fail as insufficient traffic: %+v", health.Cases[0].Failure)
	}
}

func TestAbortKeepsVerdictsOnPartialResults(t *testing.T) {
	outcome, parsed := runSuite(t, func(results *observe.Results) error {
		for i := range 6 {
			results.Add(pair("get-user", i), nil)
		}
		return errors.New("aborted: kill switch")
	})
	if outcome.ReplayErr == nil || outcome.Passed {
		t.Fatalf("outcome %+v", outcome)
	}
	if parsed.Suites[0].Cases[0].Failure != nil {
		t.Errorf("get-user had enough matching pairs before the abort and must pass")
	}
	run := parsed.Suites[len(parsed.Suites)-1]
	if run.Name != "shadowtest.run" || run.Cases[0].Error == nil || !strings.Contains(run.Cases[0].Error.Message, "aborted: kill switch") {
		t.Errorf("the run case must be an error with the abort reason: %+v", run)
	}
}

func TestInputErrorFailsEveryCase(t *testing.T) {
	outcome, parsed := runSuite(t, func(results *observe.Results) error {
		return errors.New("t.har: entry 3: request.method: missing")
	})
	if outcome.Passed {
		t.Fatal("passed on an input error")
	}
	errored := 0
	for _, s := range parsed.Suites {
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				t.Errorf("%s / %s is a threshold failure; the replay failing is an error", s.Name, c.Name)
			case c.Error != nil:
				errored++
				if !strings.Contains(c.Error.Message, "entry 3: request.method: missing") {
					t.Errorf("error %q does not carry the input error", c.Error.Message)
				}
			case c.Skipped == nil:
				t.Errorf("%s / %s passed although the replay failed", s.Name, c.Name)
			case !strings.Contains(c.Skipped.Message, "the replay failed") || strings.Contains(c.Skipped.Message, "BeforeAll"):
				// Ginkgo's "Spec skipped because a BeforeAll node failed"
				// says nothing to a user; the summary listed it as skipped
				// "by the spec's own policy".
				t.Errorf("%s / %s: skipped with %q, want a reason that names the failed replay", s.Name, c.Name, c.Skipped.Message)
			}
		}
	}
	if errored != 1 {
		t.Errorf("%d cases in error, want the first one in error and the rest skipped", errored)
	}
}

func TestCleanMakesTextXMLSafe(t *testing.T) {
	got := clean("a\x00b\xffc\x1b]]>")
	if got != "a\uFFFDb\uFFFDc\uFFFD]]>" {
		t.Errorf("clean = %q", got)
	}
}

// mustRun runs a suite as the CLI does.
func mustRun(t *testing.T, cfg Config) Outcome {
	t.Helper()
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunContextReachesTheReplay checks that cancelling Run's context
// cancels the replay's, and that the thresholds are still asserted.
func TestRunContextReachesTheReplay(t *testing.T) {
	p := plan()
	ctx, cancel := context.WithCancel(context.Background())
	outcome, err := Run(ctx, Config{
		Plan:    p,
		Results: observe.NewResults(p.Endpoints),
		Replay: func(replayCtx context.Context) error {
			cancel()
			select {
			case <-replayCtx.Done():
				return replayCtx.Err()
			case <-time.After(30 * time.Second):
				return errors.New("the replay's context was not cancelled")
			}
		},
		IsAbort: func(err error) bool { return errors.Is(err, context.Canceled) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(outcome.ReplayErr, context.Canceled) || outcome.Passed {
		t.Errorf("ReplayErr %v, passed %v: want context.Canceled and a failed run", outcome.ReplayErr, outcome.Passed)
	}
	if len(Verdicts(outcome.Report)) < len(p.Endpoints) {
		t.Errorf("verdicts %v: the thresholds were not asserted", Verdicts(outcome.Report))
	}
}
