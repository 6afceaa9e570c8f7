package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestNoiseFileIsCueFmtCanonical: the rules --write-noise writes are what
// `cue fmt` writes (keys of different lengths aligned, as the real cue
// command aligns them), so a repository that checks `cue fmt --check`
// accepts the file as written.
func TestNoiseFileIsCueFmtCanonical(t *testing.T) {
	plan := &framework.Plan{Package: "shadow", Endpoints: []framework.Endpoint{{Name: "get-item"}}}
	results := observe.NewResults(plan.Endpoints)
	e := results.Endpoints[0]
	e.Probes = 30
	e.Noise = map[string]*observe.NoisePath{}
	for path, rule := range map[string]string{"$.id": `"uuid"`, "$.createdAt": `"rfc3339"`, "$.origin": `{pattern: "^[0-9.]+:[0-9]{1,5}$"}`} {
		e.Noise[path] = &observe.NoisePath{Path: path, Count: 30, Rule: rule, Writable: true, Decision: observe.NoiseHidden}
	}
	e.Noise["body:1:2"] = &observe.NoisePath{Path: "body:1:2", Count: 30, Shape: "uuid", Decision: observe.NoiseHidden}
	written := noiseFile(plan, results)
	if !strings.HasPrefix(string(written), noiseHeader) {
		t.Fatalf("the file no longer starts with the header checkNoiseTarget looks for:\n%s", written)
	}
	file := filepath.Join(t.TempDir(), "noise.cue")
	if err := os.WriteFile(file, written, 0o644); err != nil {
		t.Fatal(err)
	}
	cue, err := exec.Command("go", "tool", "-n", "cue").Output()
	if err != nil {
		t.Fatalf("building the cue tool: %v", err)
	}
	if out, err := exec.Command(strings.TrimSpace(string(cue)), "fmt", "--check", file).CombinedOutput(); err != nil {
		t.Errorf("cue fmt --check on what --write-noise writes: %v\n%s\n%s", err, out, written)
	}
}
