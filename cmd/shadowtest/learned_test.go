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
	dir := t.TempDir()
	junit, noiseRules := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "noise.cue")
	r := shadowtest(t, "run", "specs/learned", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit, "--write-noise", noiseRules)
	if r.code != 0 {
		t.Fatalf("run exit %d, want 0: noise learning should hide the random requestId\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"Noise learned from prod",
		"get-user $.requestId: noise, shape uuid: prod differed in",
		"--write-noise FILE",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// The written rules are reviewable CUE of the spec's package that vet
	// accepts next to the spec, and with them the run passes on its own.
	written, err := os.ReadFile(noiseRules)
	if err != nil || !strings.Contains(string(written), "package shadow\n") ||
		!regexp.MustCompile(`endpoints: "get-user": shape: \{\n\t"\$\.requestId": "uuid" // prod differed in \d+ of \d+ probes\n\}`).Match(written) {
		t.Fatalf("--write-noise file (%v):\n%s", err, written)
	}
	specDir := t.TempDir()
	shop, err := os.ReadFile("../../specs/learned/shop.cue")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../../fixtures/traffic/demo.har")
	shop = []byte(strings.Replace(string(shop), `"../../fixtures/traffic/demo.har"`, `"`+abs+`"`, 1))
	shop = []byte(strings.Replace(string(shop), "noise: probe: 0.3", "// no probe: the written rules say it all", 1))
	for name, data := range map[string][]byte{"shop.cue": shop, "noise.cue": written} {
		if err := os.WriteFile(filepath.Join(specDir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if v := shadowtest(t, "vet", specDir); v.code != 0 {
		t.Fatalf("vet rejects the written noise rules: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	if again := shadowtest(t, "run", specDir, "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", filepath.Join(dir, "again.xml")); again.code != 0 {
		t.Fatalf("with the written shape rules and no probe the run must pass: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	cases := readJUnit(t, junit).cases()
	if _, ok := cases["shadowtest.get-order/get-order: no discrepancy category outside known"]; !ok {
		t.Errorf("no known test case in the JUnit: %v", keys(cases))
	}
	if xml, err := os.ReadFile(junit); err != nil || !regexp.MustCompile(`<property name="noise \$\.requestId" value="changed in \d+ of \d+ prod probes, hidden as noise: shape uuid`).Match(xml) {
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

// TestWriteNoiseKeepsOtherFiles: --write-noise given a spec file (a typo,
// or the spec's own shadow.cue) replaced it with the rules, exit 0; it is
// refused before the run, and the file is left as it was. A file that
// --write-noise wrote before is replaced (TestNoiseLearnedFromProd).
func TestWriteNoiseKeepsOtherFiles(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "shadow.cue")
	const mine = "package shadow\n\ntargets: prod: url: \"http://127.0.0.1:1\"\n"
	if err := os.WriteFile(spec, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	r := shadowtest(t, "run", "specs/demo", "-t", "prod=http://127.0.0.1:1", "--junit", "none", "--write-noise", spec)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "not written by --write-noise") {
		t.Errorf("exit %d, want 2 with the reason\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(spec); string(got) != mine {
		t.Errorf("the spec file was replaced:\n%s", got)
	}
}
