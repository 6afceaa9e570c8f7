package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
)

// TestJUnitNamesUniqueNoiseAndSecrets checks what the CI UIs rely on: no
// two test cases share a name anywhere in the file, noise paths are
// properties and in system-out, and no secret reaches the file.
func TestJUnitNamesUniqueNoiseAndSecrets(t *testing.T) {
	p := plan()
	results := observe.NewResults(p.Endpoints)
	results.Redact = redact.Default().Value
	out := mustRun(t, Config{Plan: p, Results: results, NoColor: true, Replay: func(context.Context) error {
		for i := range 10 {
			results.Add(pair("get-user", i), []framework.Diff{{Path: "header:Authorization", Kind: framework.KindHeader, Prod: "Bearer SECRET", Shadow: "Bearer OTHER"}})
			uuid := func(n int) string { return fmt.Sprintf(`"%08x-0000-4000-8000-000000000000"`, n) }
			results.Add(pair("get-order", i), []framework.Diff{{Path: "$.items[2].requestId", Kind: framework.KindValue, Prod: uuid(i), Shadow: uuid(100 + i)}})
			if i < 5 {
				results.AddNoise("get-order", []framework.Diff{{Path: "$.items[2].requestId", Kind: framework.KindValue, Prod: uuid(i), Shadow: uuid(200 + i)}})
			}
		}
		results.ApplyNoise()
		return nil
	}})
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, out.Report, p, results); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Errorf("a secret reached the JUnit:\n%s", buf.String())
	}
	var parsed xmlSuites
	if err := xml.Unmarshal(buf.Bytes(), &parsed); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range parsed.Suites {
		for _, c := range s.Cases {
			if seen[c.Name] {
				t.Errorf("test case name %q appears twice", c.Name)
			}
			seen[c.Name] = true
			if c.Time == "" {
				t.Errorf("%s: no time", c.Name)
			}
		}
		if s.Name != "shadowtest.get-order" {
			continue
		}
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if props["noisePaths"] != "$.items[*].requestId" || props["noiseProbes"] != "5" {
			t.Errorf("noise properties %v", props)
		}
		if !strings.Contains(s.SystemOut, `noise $.items[*].requestId: changed in 5 of 5 prod probes, hidden as noise: shape uuid`) ||
			!strings.Contains(s.SystemOut, `endpoints: "get-order": shape: {"$.items[*].requestId": "uuid"}`) {
			t.Errorf("system-out lacks the noise path:\n%s", s.SystemOut)
		}
	}
}

// junitOf runs a suite over plan() with the given replay and returns the
// JUnit it writes with opt.
func junitOf(t *testing.T, opt JUnitOptions, replay func(results *observe.Results) error) []byte {
	t.Helper()
	p := plan()
	p.Traffic = []framework.TrafficSource{{Format: "har", Path: "t.har", Pos: framework.Position{File: "specs/shadow.cue", Line: 4, Col: 2}}}
	results := observe.NewResults(p.Endpoints)
	results.Redact = redact.Default().Value
	out := mustRun(t, Config{Plan: p, Results: results, NoColor: true,
		Replay:  func(context.Context) error { return replay(results) },
		IsAbort: func(err error) bool { return strings.HasPrefix(err.Error(), "aborted") },
	})
	var buf bytes.Buffer
	if err := WriteJUnitWith(&buf, out.Report, p, results, opt); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestJUnitValidatesAgainstJenkinsSchema writes the JUnit of every kind of
// outcome and validates each against junit-10.xsd with xmllint, as the
// Jenkins xUnit plugin does (it skips a file that fails).
func TestJUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	outcomes := []struct {
		name   string
		replay func(results *observe.Results) error
	}{
		{"passed and failed thresholds", func(results *observe.Results) error {
			for i := range 10 {
				results.Add(pair("get-user", i), nil)
				results.Add(pair("get-order", i), []framework.Diff{{Path: "$.total", Kind: framework.KindValue, Prod: "1", Shadow: "2"}})
			}
			results.AddNoise("get-order", []framework.Diff{{Path: "$.requestId", Kind: framework.KindValue}})
			return nil
		}},
		{"aborted run", func(results *observe.Results) error {
			results.Add(pair("get-user", 1), nil)
			return errors.New("aborted: prod unreachable")
		}},
		{"input error", func(results *observe.Results) error {
			return errors.New("t.har: entry 3: request.method: missing")
		}},
		{"hostile text", func(results *observe.Results) error {
			for i := range 10 {
				results.Add(pair("get-order", i), []framework.Diff{{Path: "$.note", Kind: framework.KindValue, Prod: "\"]]>\x00\xff<x>\"", Shadow: "\"--><!--\""}})
			}
			return nil
		}},
	}
	for _, o := range outcomes {
		t.Run(o.name, func(t *testing.T) {
			data := junitOf(t, JUnitOptions{}, o.replay)
			if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
				t.Errorf("no XML declaration:\n%.200s", data)
			}
			testenv.ValidateJUnitBytes(t, data)
		})
	}
}

// TestJUnitAbortIsAnErrorWithDetailsInTheCase checks what GitLab and
// Jenkins show for an aborted run and a failed threshold: the abort is an
// <error>, not a threshold failure, and each failing case carries its
// details in its own system-out (GitLab reads no other); the run suite has
// its properties.
func TestJUnitAbortIsAnErrorWithDetailsInTheCase(t *testing.T) {
	data := junitOf(t, JUnitOptions{}, func(results *observe.Results) error {
		for i := range 10 {
			results.Add(pair("get-order", i), []framework.Diff{{Path: "$.items[2].qty", Kind: framework.KindValue, Prod: "2", Shadow: "3"}})
		}
		return errors.New("aborted: kill switch tripped by signal")
	})
	var parsed struct {
		Suites []struct {
			Name       string `xml:"name,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Status  string `xml:"status,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
				Error *struct {
					Type    string `xml:"type,attr"`
					Message string `xml:"message,attr"`
				} `xml:"error"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &parsed); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, s := range parsed.Suites {
		for _, c := range s.Cases {
			if c.Status != "" {
				t.Errorf("%s: status attribute %q (junit-10.xsd forbids it)", c.Name, c.Status)
			}
			switch c.Name {
			case "run: replays all traffic":
				seen++
				if c.Failure != nil || c.Error == nil || c.Error.Type != "aborted" || !strings.Contains(c.Error.Message, "kill switch") {
					t.Errorf("the aborted run must be an <error type=aborted>: failure %+v, error %+v", c.Failure, c.Error)
				}
				props := map[string]string{}
				for _, p := range s.Properties {
					props[p.Name] = p.Value
				}
				if props["requests"] != "10" || props["pairs"] != "10" || props["aborted"] == "" && props["endpoints"] != "3" {
					t.Errorf("run suite properties %v", props)
				}
			case "get-order: match rate >= 0.99 (min 5 pairs)":
				seen++
				if c.Failure == nil || c.Failure.Type != "threshold" {
					t.Errorf("get-order must fail its threshold: %+v", c.Failure)
				}
				for _, want := range []string{"category value $.items[*].qty: 10 pairs", "prod 2, shadow 3", "latency p50/p99: prod"} {
					if !strings.Contains(c.SystemOut, want) {
						t.Errorf("the failing case's system-out lacks %q:\n%s", want, c.SystemOut)
					}
				}
			default:
				if c.Failure == nil && c.Error == nil && c.SystemOut != "" {
					t.Errorf("%s passed and has a system-out: %q", c.Name, c.SystemOut)
				}
			}
		}
	}
	if seen != 2 {
		t.Errorf("saw %d of the 2 cases checked", seen)
	}
}

// TestJUnitTimeIsSharedByEndpoint checks that the replay's time is spread
// over the endpoints by their share of the request time, instead of all
// sitting on the first test case.
func TestJUnitTimeIsSharedByEndpoint(t *testing.T) {
	data := junitOf(t, JUnitOptions{}, func(results *observe.Results) error {
		for i := range 10 {
			slow := pair("get-order", i)
			slow.Prod.Latency, slow.Shadow.Latency = 30*time.Millisecond, 30*time.Millisecond
			results.Add(pair("get-user", i), nil) // 1ms + 2ms
			results.Add(slow, nil)                // 30ms + 30ms: 20 times get-user's
		}
		time.Sleep(300 * time.Millisecond)
		return nil
	})
	var parsed struct {
		Time   float64 `xml:"time,attr"`
		Suites []struct {
			Name string  `xml:"name,attr"`
			Time float64 `xml:"time,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &parsed); err != nil {
		t.Fatal(err)
	}
	times := map[string]float64{}
	var sum float64
	for _, s := range parsed.Suites {
		times[s.Name] = s.Time
		sum += s.Time
	}
	user, order := times["shadowtest.get-user"], times["shadowtest.get-order"]
	if order < 0.2 || user > order/5 {
		t.Errorf("get-order (20 times get-user's request time) took %.3fs, get-user %.3fs: want get-order's share >= 0.2s and >= 5 times get-user's", order, user)
	}
	if sum < 0.3 || sum > parsed.Time+0.01 {
		t.Errorf("suite times add up to %.3fs; want the replay's 0.3s or more, at most the run's %.3fs", sum, parsed.Time)
	}
}

// TestJUnitAnnotationsForGitHub reads the JUnit written with Annotations
// through a real parser (Debian's python3-junitparser): every threshold
// case carries the file and line of its CUE declaration. Without the
// option, neither attribute is written.
func TestJUnitAnnotationsForGitHub(t *testing.T) {
	replay := func(results *observe.Results) error {
		for i := range 10 {
			results.Add(pair("get-order", i), []framework.Diff{{Path: "$.total", Kind: framework.KindValue, Prod: "1", Shadow: "2"}})
		}
		return nil
	}
	cases := junitParserCases(t, junitOf(t, JUnitOptions{Annotations: true}, replay))
	want := map[string]string{
		"get-user: match rate >= 0.9 (min 5 pairs)":   "specs/users.cue:7",
		"get-order: match rate >= 0.99 (min 5 pairs)": "specs/orders.cue:12",
		"run: replays all traffic":                    "specs/shadow.cue:4",
		"health: match rate >= 0.99 (min 5 pairs)":    "None:None", // no position known: no attributes
	}
	for name, at := range want {
		if got, ok := cases[name]; !ok || got != at {
			t.Errorf("%s: file:line %q, want %q (all: %v)", name, got, at, cases)
		}
	}
	for name, at := range junitParserCases(t, junitOf(t, JUnitOptions{}, replay)) {
		if at != "None:None" {
			t.Errorf("without annotations %s has file:line %s", name, at)
		}
	}
}

// junitParserCases parses a JUnit file with python3-junitparser and returns
// "file:line" (as junitparser reads the attributes) by test case name.
func junitParserCases(t *testing.T, data []byte) map[string]string {
	t.Helper()
	testenv.Require(t, "/usr/lib/python3/dist-packages/junitparser", "python3-junitparser")
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys
from junitparser import JUnitXml
out = {}
for suite in JUnitXml.fromfile(sys.argv[1]):
    for case in suite:
        out[case.name] = "%s:%s" % (case._elem.get("file"), case._elem.get("line"))
print(json.dumps(out))
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("junitparser: %v\n%s", err, stderr.String())
	}
	out := map[string]string{}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("junitparser output %q: %v", stdout, err)
	}
	return out
}

// TestEndpointSummaryShowsNothingMeasuredAsSuch: an endpoint without a
// single pair said "0 match (0.0000)" and "latency p50/p99: prod 0s/0s" in
// its JUnit system-out, read as a measured match rate and latency.
func TestEndpointSummaryShowsNothingMeasuredAsSuch(t *testing.T) {
	e := observe.NewResults([]framework.Endpoint{{Name: "get-user"}}).Endpoint("get-user")
	got := EndpointSummary(e)
	for _, want := range []string{"0 pairs, 0 match (-)", "latency p50/p99: prod -/-, shadow -/-"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
