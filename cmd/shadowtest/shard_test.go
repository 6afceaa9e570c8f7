package main

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestShardsOfTheBinary runs the demo traffic (plus unmatched requests and
// writes) whole and as three --shard slices against the same services: the
// slices' counts add up to the whole run's, endpoint by endpoint, so each
// request was sent (or counted) by exactly one shard.
func TestShardsOfTheBinary(t *testing.T) {
	prodURL, shadowURL := startDemo(t, false)
	lines := demoTraffic(t)
	for i := range 20 {
		lines = append(lines, fmt.Sprintf(`{"request":{"method":"GET","url":"/nowhere/%d"}}`, i))
	}
	specs := specDirWithTraffic(t, lines)
	out := t.TempDir()
	run := func(name string, extra ...string) *observe.Results {
		args := append([]string{"run", specs, "-t", "prod=" + prodURL, "-t", "shadow=" + shadowURL,
			"--junit", filepath.Join(out, name+".xml"), "--results", filepath.Join(out, name+".json")}, extra...)
		r := shadowtest(t, args...)
		// A shard may fail minSamples on its own; merge judges the union.
		if r.code != exitPass && (name == "whole" || r.code != exitFail) {
			t.Fatalf("%s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		results, err := observe.ReadFile(filepath.Join(out, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return results
	}
	whole := run("whole")
	type counts struct{ Requests, Pairs, Matches, Skipped int64 }
	sum := map[string]counts{}
	unmatched := map[string]int64{}
	for k := 1; k <= 3; k++ {
		part := run(fmt.Sprintf("shard%d", k), "--shard", fmt.Sprintf("%d/3", k))
		sent := int64(0)
		for _, e := range part.Endpoints {
			c := sum[e.Name]
			c.Requests += e.Requests
			c.Pairs += e.Pairs
			c.Matches += e.Matches
			c.Skipped += e.Skipped
			sum[e.Name] = c
			sent += e.Requests
		}
		if sent == 0 || sent > 200 {
			t.Errorf("shard %d/3 sent %d of 300 requests", k, sent)
		}
		for label, n := range part.Unmatched {
			unmatched[label] += n
		}
	}
	for _, e := range whole.Endpoints {
		want := counts{e.Requests, e.Pairs, e.Matches, e.Skipped}
		if sum[e.Name] != want {
			t.Errorf("%s: the shards add up to %+v, the whole run has %+v", e.Name, sum[e.Name], want)
		}
	}
	if !reflect.DeepEqual(unmatched, whole.Unmatched) || whole.Unmatched["GET /nowhere/{id}"] != 20 {
		t.Errorf("unmatched: shards %v, whole %v", unmatched, whole.Unmatched)
	}
}

func TestSkipBadRecordsOfTheBinary(t *testing.T) {
	prodURL, _ := startDemo(t, false)
	lines := demoTraffic(t)[:40]
	lines = append(lines[:10], append([]string{`{"request":{"method":"GET"}}`}, lines[10:]...)...)
	specs := specDirWithTraffic(t, lines)
	args := []string{"run", specs, "-t", "prod=" + prodURL, "-t", "shadow=" + prodURL, "--junit", filepath.Join(t.TempDir(), "j.xml")}
	r := shadowtest(t, args...)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "traffic.jsonl: line 11 (byte ") || !strings.Contains(r.stderr, "): request.url: missing") {
		t.Errorf("a malformed record: exit %d, stderr %s; want 2 naming the file and line", r.code, r.stderr)
	}
	r = shadowtest(t, append(args, "--skip-bad-records")...)
	if r.code == exitInvalid || !strings.Contains(r.stdout, "1 malformed traffic record(s) skipped") || !strings.Contains(r.stderr, "skipped bad record: ") {
		t.Errorf("--skip-bad-records: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestExampleSpecsOfThisIssue runs specs/recorded with prod on a closed
// port (recorded prod never calls it) and specs/synthetic against the demo
// services: both pass.
func TestExampleSpecsOfThisIssue(t *testing.T) {
	prodURL, shadowURL := startDemo(t, false)
	out := t.TempDir()
	r := shadowtest(t, "run", "specs/recorded", "-t", "prod="+closedPort(t), "-t", "shadow="+shadowURL, "--junit", filepath.Join(out, "r.xml"))
	if r.code != exitPass || !strings.Contains(r.stdout, "get-order") {
		t.Errorf("specs/recorded: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = shadowtest(t, "run", "specs/synthetic", "-t", "prod="+prodURL, "-t", "shadow="+shadowURL, "--junit", filepath.Join(out, "s.xml"))
	if r.code != exitPass {
		t.Errorf("specs/synthetic: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	_, regressedURL := startDemo(t, true)
	r = shadowtest(t, "run", "specs/recorded", "-t", "shadow="+regressedURL, "--junit", filepath.Join(out, "x.xml"))
	if r.code != exitFail || !strings.Contains(r.stdout, "missing $.currency") {
		t.Errorf("specs/recorded against the regression: exit %d, want 1 naming $.currency\n%s", r.code, r.stdout)
	}
}
