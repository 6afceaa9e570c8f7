package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/fixtures/demo"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// specDirWithTraffic copies the demo specs into a new directory whose
// traffic is the given JSONL lines.
func specDirWithTraffic(t *testing.T, lines []string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../specs/demo/*.cue")
	if err != nil || len(files) == 0 {
		t.Fatalf("demo specs: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(data), `traffic: [{har: "../../fixtures/traffic/demo.har"}]`, `traffic: [{jsonl: "traffic.jsonl"}]`, 1)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "traffic.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func demoTraffic(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../fixtures/traffic/demo.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

// figures are the aggregates that must not depend on how traffic was
// split: everything but the latency values (measured anew by every run;
// the sketches' merge is proven exact in framework/observe).
type figures struct {
	Requests, Pairs, Matches, Skipped, LatencySamples int64
	Categories, ProdErrors, ShadowErrors              map[string]int64
}

func figuresOf(r *observe.Results) map[string]figures {
	out := map[string]figures{}
	for _, e := range r.Endpoints {
		f := figures{Requests: e.Requests, Pairs: e.Pairs, Matches: e.Matches, Skipped: e.Skipped, LatencySamples: e.ProdLatency.Count(),
			Categories: map[string]int64{}, ProdErrors: e.ProdErrors, ShadowErrors: e.ShadowErrors}
		for name, c := range e.Categories {
			f.Categories[name] = c.Count
		}
		out[e.Name] = f
	}
	return out
}

func verdictStates(t *testing.T, junit string) []string {
	t.Helper()
	var out []string
	for key, c := range readJUnit(t, junit).cases() {
		state := "passed"
		switch {
		case c.Failure != nil:
			state = "failed: " + c.Failure.Message
		case c.Error != nil:
			state = "error: " + c.Error.Message
		case c.Skipped != nil:
			state = "skipped"
		}
		out = append(out, key+" → "+state)
	}
	sort.Strings(out)
	return out
}

// TestMergeOfShardsEqualsWholeRun splits the demo traffic in two, runs each
// half and the whole against the same prod and shadow, merges the halves'
// results, and requires the same verdicts (JUnit cases, states and failure
// messages), the same figures and the same exit code as the whole run.
func TestMergeOfShardsEqualsWholeRun(t *testing.T) {
	prod, err := demo.Start("v1", demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	shadow, err := demo.Start("v2", demo.Options{Regression: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shadow.Close()
	lines := demoTraffic(t)
	var even, odd []string
	for i, l := range lines {
		if i%2 == 0 {
			even = append(even, l)
		} else {
			odd = append(odd, l)
		}
	}
	out := t.TempDir()
	targets := []string{"-t", "prod=" + prod.URL, "-t", "shadow=" + shadow.URL}
	// One spec directory for all runs (positions in the results name its
	// files, and shards must agree on their specs), fed different traffic.
	specs := specDirWithTraffic(t, nil)
	run := func(name string, traffic []string, extra ...string) result {
		if err := os.WriteFile(filepath.Join(specs, "traffic.jsonl"), []byte(strings.Join(traffic, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"run", specs,
			"--junit", filepath.Join(out, name+".xml"), "--results", filepath.Join(out, name+".json"), "--log", filepath.Join(out, name+".jsonl")}, targets...)
		return shadowtest(t, append(args, extra...)...)
	}
	whole := run("whole", lines)
	if whole.code != exitFail {
		t.Fatalf("whole run exit %d, want 1 (the regression fails get-order)\n%s%s", whole.code, whole.stdout, whole.stderr)
	}
	for _, part := range []struct {
		name    string
		traffic []string
	}{{"shard1", even}, {"shard2", odd}} {
		if r := run(part.name, part.traffic); r.code != exitFail && r.code != exitPass {
			t.Fatalf("%s exit %d\n%s%s", part.name, r.code, r.stdout, r.stderr)
		}
	}
	merged := shadowtest(t, "merge", filepath.Join(out, "shard1.json"), filepath.Join(out, "shard2.json"),
		"--junit", filepath.Join(out, "merged.xml"), "--results", filepath.Join(out, "merged.json"), "--html", filepath.Join(out, "merged.html"))
	if merged.code != whole.code {
		t.Fatalf("merge exit %d, whole run %d\n%s%s", merged.code, whole.code, merged.stdout, merged.stderr)
	}
	// Whole runs of one traffic selection (here the same file name with
	// other content) merge, with a note that counts double if they are
	// the same recordings.
	if !strings.Contains(merged.stderr, "are whole runs of the same traffic selection") {
		t.Errorf("no note about whole runs of one selection:\n%s", merged.stderr)
	}
	if got, want := verdictStates(t, filepath.Join(out, "merged.xml")), verdictStates(t, filepath.Join(out, "whole.xml")); !reflect.DeepEqual(got, want) {
		t.Errorf("verdicts differ:\nmerged %s\nwhole  %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
	withSpecs := shadowtest(t, "merge", filepath.Join(out, "shard1.json"), filepath.Join(out, "shard2.json"), "--specs", specs, "--junit", filepath.Join(out, "specs.xml"))
	if withSpecs.code != whole.code {
		t.Fatalf("merge --specs exit %d, whole run %d\n%s%s", withSpecs.code, whole.code, withSpecs.stdout, withSpecs.stderr)
	}
	if got, want := verdictStates(t, filepath.Join(out, "specs.xml")), verdictStates(t, filepath.Join(out, "whole.xml")); !reflect.DeepEqual(got, want) {
		t.Errorf("merge --specs verdicts differ:\nmerged %s\nwhole  %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
	wholeResults, err := observe.ReadFile(filepath.Join(out, "whole.json"))
	if err != nil {
		t.Fatal(err)
	}
	mergedResults, err := observe.ReadFile(filepath.Join(out, "merged.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := figuresOf(mergedResults), figuresOf(wholeResults); !reflect.DeepEqual(got, want) {
		t.Errorf("figures differ:\nmerged %+v\nwhole  %+v", got, want)
	}
	if mergedResults.Runs() != 2 || !strings.Contains(merged.stdout, "merged 2 results files (2 runs)") {
		t.Errorf("merged runs %d; stdout:\n%s", mergedResults.Runs(), merged.stdout)
	}
	for _, want := range []string{"get-order: match rate 0.728 < 0.990 over 81 pairs (22 differ)", "html: "} {
		if !strings.Contains(merged.stdout, want) {
			t.Errorf("merge summary lacks %q:\n%s", want, merged.stdout)
		}
	}

	// The same with run --shard K/2 over all the traffic, as a CI fan-out
	// does it.
	for k := 1; k <= 2; k++ {
		name := fmt.Sprintf("slice%d", k)
		if r := run(name, lines, "--shard", fmt.Sprintf("%d/2", k)); r.code != exitFail && r.code != exitPass {
			t.Fatalf("%s exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
	}
	sliced := shadowtest(t, "merge", filepath.Join(out, "slice1.json"), filepath.Join(out, "slice2.json"),
		"--junit", filepath.Join(out, "sliced.xml"), "--results", filepath.Join(out, "sliced.json"))
	if sliced.code != whole.code {
		t.Fatalf("merge of --shard runs exit %d, whole run %d\n%s%s", sliced.code, whole.code, sliced.stdout, sliced.stderr)
	}
	if got, want := verdictStates(t, filepath.Join(out, "sliced.xml")), verdictStates(t, filepath.Join(out, "whole.xml")); !reflect.DeepEqual(got, want) {
		t.Errorf("--shard verdicts differ:\nmerged %s\nwhole  %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
	}
	slicedResults, err := observe.ReadFile(filepath.Join(out, "sliced.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := figuresOf(slicedResults), figuresOf(wholeResults); !reflect.DeepEqual(got, want) {
		t.Errorf("--shard figures differ:\nmerged %+v\nwhole  %+v", got, want)
	}

	// The log has one line per differing pair and the counts of the rest.
	pairs, examples := 0, 0
	var category disclog.Entry
	f, err := os.Open(filepath.Join(out, "whole.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := disclog.Read(f, "whole.jsonl", func(e disclog.Entry) error {
		switch e.Type {
		case disclog.TypePair:
			pairs++
			if e.Example {
				examples++
			}
		case disclog.TypeCategory:
			category = e
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pairs != 22 || examples != 5 || category.Category != "missing $.currency" || category.Pairs != 22 || category.Omitted != 17 {
		t.Errorf("log: %d pair lines, %d examples, last category line %+v; want 22, 5 and 22 = 5 + 17 omitted", pairs, examples, category)
	}

	// report rebuilds the HTML from the results and the log.
	report := shadowtest(t, "report", filepath.Join(out, "whole.json"), "--log", filepath.Join(out, "whole.jsonl"), "--html", filepath.Join(out, "report.html"))
	if report.code != exitPass {
		t.Fatalf("report exit %d: %s", report.code, report.stderr)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"get-order", "missing $.currency", "FAILED: 1 of", "class=\"line diff\""} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

func TestBaseline(t *testing.T) {
	out := t.TempDir()
	base := filepath.Join(out, "base.json")
	if r := shadowtest(t, "demo", "--junit", filepath.Join(out, "base.xml"), "--results", base); r.code != exitPass {
		t.Fatalf("baseline run exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	same := shadowtest(t, "demo", "--junit", filepath.Join(out, "same.xml"), "--baseline", base)
	if same.code != exitPass {
		t.Fatalf("a run like its baseline exits %d, want 0\n%s%s", same.code, same.stdout, same.stderr)
	}
	if c, ok := readJUnit(t, filepath.Join(out, "same.xml")).cases()["shadowtest.get-order/get-order: no new discrepancy category since the baseline"]; !ok || c.Failure != nil {
		t.Errorf("baseline case missing or failed: %+v", c)
	}
	worse := shadowtest(t, "demo", "--with-regression", "--junit", filepath.Join(out, "worse.xml"), "--baseline", base)
	if worse.code != exitFail {
		t.Fatalf("a regression against the baseline exits %d, want 1", worse.code)
	}
	cases := readJUnit(t, filepath.Join(out, "worse.xml")).cases()
	for name, want := range map[string]string{
		"shadowtest.get-order/get-order: no new discrepancy category since the baseline":    "get-order: 1 new discrepancy category since the baseline\n  missing $.currency: 22 pairs",
		"shadowtest.get-order/get-order: match rate not more than 0.001 below the baseline": "get-order: match rate 0.7284 over 81 pairs, baseline 1.0000 over 81 pairs: dropped 0.2716, more than the margin 0.001",
	} {
		c := cases[name]
		if c.Failure == nil || !strings.Contains(c.Failure.Data, want) {
			t.Errorf("%s: failure %+v, want it to contain %q", name, c.Failure, want)
		}
	}
	if c := cases["shadowtest.get-user/get-user: no new discrepancy category since the baseline"]; c.Failure != nil {
		t.Errorf("get-user did not change: %+v", c.Failure)
	}
	if r := shadowtest(t, "demo", "--baseline", filepath.Join(out, "missing.json")); r.code != exitInvalid || !strings.Contains(r.stderr, "--baseline") {
		t.Errorf("a missing baseline exits %d (%s), want 2 naming --baseline", r.code, r.stderr)
	}
	// Another spec's results: every baseline test was skipped ("not in the
	// baseline results") and the baseline gate passed on nothing.
	prod, shadow := startDemo(t, false)
	other := filepath.Join(out, "other")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "shadow.cue"), []byte("package shadow\n\ntraffic: [{synthetic: requests: [{url: \"/health\"}]}]\nendpoints: ping: path: \"/health\"\n"), 0o644)
	otherResults := filepath.Join(out, "other.json")
	if r := shadowtest(t, "run", other, "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", "none", "--results", otherResults); r.code != exitPass {
		t.Fatalf("the other spec's run exits %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := shadowtest(t, "demo", "--junit", "none", "--baseline", otherResults); r.code != exitInvalid ||
		!strings.Contains(r.stderr, "--baseline "+otherResults+": it knows none of the spec's 5 endpoints (it has 1: \"ping\")") {
		t.Errorf("a baseline of another spec exits %d, want 2 saying it shares no endpoint\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestMergeAndReportInputErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"format":"something-else"}`), 0o644)
	for _, tc := range []struct {
		reason string
		args   []string
		want   string
	}{
		{"no files", []string{"merge"}, "want one or more results files"},
		{"not results", []string{"merge", bad}, "bad.json: not a shadowtest results file"},
		{"missing file", []string{"merge", bad + ".nope"}, "no such file"},
		{"report without results", []string{"report"}, "want one results file"},
		{"report of a bad file", []string{"report", bad}, "not a shadowtest results file"},
	} {
		r := shadowtest(t, tc.args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.reason, r.code, r.stderr, tc.want)
		}
	}
}

// TestMergeHTMLCarriesShardExamples: merge --log takes each shard's
// discrepancy log, so the merged HTML report shows example pairs side by
// side (the request of an example only appears through the logs), capped
// per category over all the shards.
func TestMergeHTMLCarriesShardExamples(t *testing.T) {
	prod, shadow := startDemo(t, true)
	work := t.TempDir()
	var resultFiles []string
	var args []string
	for _, shard := range []string{"1", "2"} {
		results := filepath.Join(work, "results-"+shard+".json")
		logFile := filepath.Join(work, "log-"+shard+".jsonl")
		r := shadowtest(t, "run", "specs/demo", "-t", "prod="+prod, "-t", "shadow="+shadow, "--shard", shard+"/2",
			"--results", results, "--log", logFile, "--junit", filepath.Join(work, "junit-"+shard+".xml"))
		if r.code != 0 && r.code != 1 {
			t.Fatalf("shard %s: exit %d\n%s", shard, r.code, r.stderr)
		}
		resultFiles = append(resultFiles, results)
		args = append(args, "--log", logFile)
	}
	html := filepath.Join(work, "report.html")
	without := filepath.Join(work, "without.html")
	r := shadowtest(t, append(append([]string{"merge"}, resultFiles...), "--junit", filepath.Join(work, "junit.xml"), "--html", without)...)
	if r.code != 1 {
		t.Fatalf("merge without logs: exit %d, want 1\n%s", r.code, r.stderr)
	}
	r = shadowtest(t, append(append(append([]string{"merge"}, resultFiles...), args...), "--junit", filepath.Join(work, "junit.xml"), "--html", html)...)
	if r.code != 1 {
		t.Fatalf("merge with logs: exit %d, want 1\n%s", r.code, r.stderr)
	}
	withLogs, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	withoutLogs, err := os.ReadFile(without)
	if err != nil {
		t.Fatal(err)
	}
	// An example pair shows its request line: GET /orders/N.
	if strings.Count(string(withLogs), "GET /orders/") <= strings.Count(string(withoutLogs), "GET /orders/") {
		t.Errorf("the merged report with --log shows no more example requests than without: the shards' example pairs are missing")
	}
	r = shadowtest(t, "merge", resultFiles[0], resultFiles[1], "--log", filepath.Join(work, "missing.jsonl"), "--html", html, "--junit", filepath.Join(work, "junit.xml"))
	if r.code != 2 || !strings.Contains(r.stderr, "missing.jsonl") {
		t.Errorf("a missing log: exit %d, stderr %q; want 2 naming the file", r.code, r.stderr)
	}
}
