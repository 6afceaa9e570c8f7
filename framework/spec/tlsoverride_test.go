package spec

import (
	"testing"
)

// TestPlaintextOverrideLeavesTheTLSBlock: a spec written for an https
// target behind a private CA, run with -t pointing that target at a
// plaintext URL (a build started by the CI job), was refused: "tls applies
// to https:// and grpcs:// targets" (redteam9). The override wins; the
// tls block, which is for the spec's own URL, is left out, CA file and all.
func TestPlaintextOverrideLeavesTheTLSBlock(t *testing.T) {
	text := "package shadow\n\ntargets: shadow: {\n\turl: \"https://staging.example:8443\"\n\ttls: ca: \"ca.pem\"\n}\nendpoints: x: path: \"/x\"\n"
	dir := writeFiles(t, map[string]string{"shadow.cue": text}) // ca.pem exists only where the staging runs
	plan, err := Load(dir, Options{Targets: map[string]string{"shadow": "http://127.0.0.1:8082"}})
	if err != nil {
		t.Fatalf("-t shadow=http://127.0.0.1:8082: %v", err)
	}
	if plan.Shadow.URL != "http://127.0.0.1:8082" || plan.Shadow.TLS.CA != "" {
		t.Errorf("shadow %q with tls %+v, want the override without the spec's tls", plan.Shadow.URL, plan.Shadow.TLS)
	}
	// Without the override the block is the spec's own, and checked.
	if _, err := Load(dir, Options{}); err == nil {
		t.Error("a missing tls.ca was accepted")
	}
}
