package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFeaturesSpecRunsAgainstTheDemo runs specs/features (sampling, header
// rewrites, dry-run writes, predicates, masks, skew, keyed sets, errors.by,
// digestAbove, known, redaction, the example cap) against the demo: it
// passes against v2 and fails only on the orders endpoint against the
// regression, and the shadow's token never reaches an output.
func TestFeaturesSpecRunsAgainstTheDemo(t *testing.T) {
	t.Setenv("SHADOW_TOKEN", "tok-3f9a-never-written")
	out := t.TempDir()
	prod, shadow := startDemo(t, false)
	junit, log := filepath.Join(out, "ok.xml"), filepath.Join(out, "ok.jsonl")
	r := shadowtest(t, "run", "specs/features", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit, "--log", log)
	if r.code != exitPass {
		t.Fatalf("specs/features against v2: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "sampled out by the mirror mode") {
		t.Errorf("the sampled mode's skipped requests are not counted in the summary:\n%s", r.stdout)
	}
	cases := readJUnit(t, junit).cases()
	if _, ok := cases["shadowtest.list-products-by-category/list-products-by-category: match rate >= 0.99 (min 5 pairs)"]; !ok {
		t.Errorf("the query predicate's endpoint has no match-rate case: %v", keys(cases))
	}

	_, regressed := startDemo(t, true)
	junit, log = filepath.Join(out, "bad.xml"), filepath.Join(out, "bad.jsonl")
	r = shadowtest(t, "run", "specs/features", "-t", "prod="+prod, "-t", "shadow="+regressed, "--junit", junit, "--log", log, "--html", filepath.Join(out, "bad.html"))
	if r.code != exitFail || !strings.Contains(r.stdout, "missing $.currency") {
		t.Fatalf("specs/features against the regression: exit %d, want 1 naming $.currency\n%s%s", r.code, r.stdout, r.stderr)
	}
	j := readJUnit(t, junit)
	if j.Failures != 1 {
		t.Errorf("%d failures, want only get-order's match rate", j.Failures)
	}
	for _, f := range []string{junit, log, filepath.Join(out, "bad.html")} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "tok-3f9a-never-written") {
			t.Errorf("%s contains the shadow's token", f)
		}
	}
}
