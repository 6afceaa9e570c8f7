package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestMergeChecksTheShardSet runs the demo traffic as three --shard slices
// and merges them as a CI fan-out does: a complete set is judged; a
// missing, repeated or foreign shard is refused with exit 2 and a message
// that says which; --allow-partial judges what is there, with a test case
// saying what was missing, and exits 3.
func TestMergeChecksTheShardSet(t *testing.T) {
	prod, shadow := startDemo(t, false)
	specs := specDirWithTraffic(t, demoTraffic(t))
	out := t.TempDir()
	run := func(name, specDir string, extra ...string) string {
		results := filepath.Join(out, name+".json")
		args := append([]string{"run", specDir, "-t", "prod=" + prod, "-t", "shadow=" + shadow, "--junit", "none", "--results", results}, extra...)
		if r := shadowtest(t, args...); r.code != exitPass && r.code != exitFail {
			t.Fatalf("%s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		return results
	}
	s1, s2, s3 := run("s1", specs, "--shard", "1/3"), run("s2", specs, "--shard", "2/3"), run("s3", specs, "--shard", "3/3")
	again2 := run("again2", specs, "--shard", "2/3")
	sampled3 := run("sampled3", specs, "--shard", "3/3", "--mode", "sampled", "--rate", "0.5")
	other := specDirWithTraffic(t, demoTraffic(t))
	shadowCue := filepath.Join(other, "shadow.cue")
	data, _ := os.ReadFile(shadowCue)
	os.WriteFile(shadowCue, []byte(strings.Replace(string(data), "matchRate:  0.99", "matchRate:  0.95", 1)), 0o644)
	otherSpec3 := run("other3", other, "--shard", "3/3")

	r1, err := observe.ReadFile(s1)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Shard == nil || r1.Shard.String() != "1/3" || !strings.HasPrefix(r1.SpecDigest, "sha256:") || !strings.HasPrefix(r1.TrafficDigest, "sha256:") ||
		!strings.HasPrefix(r1.Tool, "shadowtest ") || len(r1.RunIDs) != 1 {
		t.Errorf("shard results do not record their origin: %+v", r1.Origin)
	}
	validateResults(t, s1)

	merge := func(args ...string) result {
		return shadowtest(t, append([]string{"merge", "--junit", "none"}, args...)...)
	}
	for _, tc := range []struct {
		reason string
		files  []string
		want   string
	}{
		{"a shard missing", []string{s1, s3}, "shard 2/3 missing"},
		{"the same file twice", []string{s1, s2, s2, s3}, "shard 2/3 given twice"},
		{"a shard's job run twice", []string{s1, s2, again2, s3}, "shard 2/3 given twice"},
		{"another traffic selection", []string{s1, s2, sampled3}, "the results come from different traffic"},
		{"another spec", []string{s1, s2, otherSpec3}, "the results come from different specs"},
		{"a results file of format 1", []string{"framework/observe/testdata/results-v1.json"}, "has no shard or digest"},
	} {
		r := merge(tc.files...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.reason, r.code, r.stderr, tc.want)
		}
	}

	if r := merge(s3, s1, s2); r.code != exitPass {
		t.Errorf("a complete set: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}

	junit, merged := filepath.Join(out, "partial.xml"), filepath.Join(out, "partial.json")
	r := shadowtest(t, "merge", s1, s3, "--allow-partial", "--junit", junit, "--results", merged)
	if r.code != exitAborted || !strings.Contains(r.stderr, "shard 2/3 missing") {
		t.Fatalf("--allow-partial: exit %d, want 3 naming the missing shard\n%s%s", r.code, r.stdout, r.stderr)
	}
	c, ok := readJUnit(t, junit).cases()["shadowtest.run/run: replays all traffic"]
	if !ok {
		t.Fatal("--allow-partial: no run test case")
	}
	if c.Error == nil || !strings.Contains(c.Error.Message, "shard 2/3 missing") {
		t.Errorf("the run test case is not in error saying what was missing: %+v", c)
	}
	partial, err := observe.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(partial.Missing, ";") != "shard 2/3 missing" || partial.Runs() != 2 || len(partial.RunIDs) != 2 || partial.SpecDigest != r1.SpecDigest {
		t.Errorf("partial merged results: %+v", partial.Origin)
	}
	validateResults(t, merged)
	if r := merge("framework/observe/testdata/results-v1.json", "--allow-partial"); r.code != exitAborted {
		t.Errorf("--allow-partial over a format 1 file: exit %d, want 3\n%s", r.code, r.stderr)
	}
}

// TestResultsMatchTheSchema validates the results of real runs (a spec
// using every rule kind against a regressed shadow, noise learning, a
// demo run) against schemas/results.schema.json with a JSON Schema
// validator, and checks that the schema rejects a format 1 file.
func TestResultsMatchTheSchema(t *testing.T) {
	t.Setenv("SHADOW_TOKEN", "tok-schema")
	prod, _ := startDemo(t, false)
	_, regressed := startDemo(t, true)
	out := t.TempDir()
	secrets := specDirWithTraffic(t, demoTraffic(t)[:60])
	os.WriteFile(filepath.Join(secrets, "report.cue"), []byte("package shadow\n\nreport: secrets: {names: [\"x-trace\"], allow: [\"token_type\"]}\n"), 0o644)
	for _, tc := range []struct{ name, specs string }{{"features", "specs/features"}, {"learned", "specs/learned"}, {"demo", "specs/demo"}, {"secrets", secrets}} {
		results := filepath.Join(out, tc.name+".json")
		r := shadowtest(t, "run", tc.specs, "-t", "prod="+prod, "-t", "shadow="+regressed, "--junit", "none", "--results", results)
		if r.code != exitFail {
			t.Fatalf("%s: exit %d, want 1\n%s%s", tc.name, r.code, r.stdout, r.stderr)
		}
		validateResults(t, results)
	}
	if err := resultsSchema(t).Validate(readJSON(t, "../../framework/observe/testdata/results-v1.json")); err == nil {
		t.Error("the version 2 schema accepts a version 1 file")
	}
	published, _ := os.ReadFile("../../schemas/results.schema.json")
	if r := shadowtest(t, "schema", "results"); r.code != exitPass || r.stdout != string(published) {
		t.Errorf("shadowtest schema results: exit %d, does not print schemas/results.schema.json", r.code)
	}
}

func resultsSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	s, err := c.Compile("../../schemas/results.schema.json")
	if err != nil {
		t.Fatalf("schemas/results.schema.json: %v", err)
	}
	return s
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// validateResults checks a results file against the published schema.
func validateResults(t *testing.T, path string) {
	t.Helper()
	if err := resultsSchema(t).Validate(readJSON(t, path)); err != nil {
		t.Errorf("%s does not match schemas/results.schema.json:\n%v", filepath.Base(path), err)
	}
}
