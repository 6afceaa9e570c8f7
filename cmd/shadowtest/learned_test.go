package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoiseLearnedFromProd runs specs/learned, which has no ignore rule for
// the demo's random requestId, against the live demo services: noise
// learning must remove those false mismatches (exit 0, the ignore rule
// printed), and with the regression only get-order must fail, on its match
// rate and on "no category outside known".
func TestNoiseLearnedFromProd(t *testing.T) {
	prod, shadow := startDemo(t, false)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := shadowtest(t, "run", "specs/learned", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit)
	if r.code != 0 {
		t.Fatalf("run exit %d, want 0: noise learning should hide the random requestId\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"Noise learned from prod",
		"get-user: $.requestId changed in",
		`endpoints: "get-user": ignore: ["$.links", "$.requestId"]`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	cases := readJUnit(t, junit).cases()
	if _, ok := cases["shadowtest.get-order/get-order: no discrepancy category outside known"]; !ok {
		t.Errorf("no known test case in the JUnit: %v", keys(cases))
	}
	if xml, err := os.ReadFile(junit); err != nil || !regexp.MustCompile(`<property name="noise \$\.requestId" value="changed in \d+ of \d+ prod probes, hidden as noise">`).Match(xml) {
		t.Errorf("the JUnit does not list the noise path with how often it changed (%v)", err)
	}

	prod, shadow = startDemo(t, true)
	r = shadowtest(t, "run", "specs/learned", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit)
	if r.code != 1 {
		t.Fatalf("run exit %d, want 1: the regression must fail\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cases = readJUnit(t, junit).cases()
	for name, c := range cases {
		failed := c.Failure != nil
		wantFail := name == "shadowtest.get-order/get-order: match rate >= 0.99 (min 20 pairs)" ||
			name == "shadowtest.get-order/get-order: no discrepancy category outside known"
		if failed != wantFail {
			t.Errorf("%s: failed %v, want %v", name, failed, wantFail)
		}
		if wantFail && !strings.Contains(c.Failure.Data, "missing $.currency") {
			t.Errorf("%s: failure does not name the regression: %s", name, c.Failure.Data)
		}
		if failed && strings.Contains(c.Failure.Data, "requestId") {
			t.Errorf("%s: noise reported as a failure: %s", name, c.Failure.Data)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
