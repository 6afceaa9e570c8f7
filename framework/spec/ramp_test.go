package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMirrorRamp(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.jsonl"), nil, 0o644)
	write := func(ramp string) {
		os.WriteFile(filepath.Join(dir, "spec.cue"), []byte("package shadow\n\ntraffic: [{jsonl: \"t.jsonl\"}]\n"+ramp+"\nendpoints: a: path: \"/a\"\n"), 0o644)
	}

	write("")
	plan, err := Load(dir, Options{})
	if err != nil || plan.Mirror.Ramp != nil {
		t.Fatalf("no ramp in the spec: %v, %+v", err, plan.Mirror.Ramp)
	}

	write(`mirror: ramp: steps: [0.01, 0.05, 0.25, 1.0]`)
	plan, err = Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := plan.Mirror.Ramp
	if r == nil || !slices.Equal(r.Steps, []float64{0.01, 0.05, 0.25, 1}) || r.MinDuration != 5*time.Minute || r.MinPairs != 200 || r.OnFailure != "step back" || r.Pos.Line != 4 {
		t.Errorf("ramp with defaults: %+v", r)
	}

	write(`mirror: ramp: {steps: [0.1, 1], minDuration: "90s", minPairs: 50, onFailure: "kill"}`)
	if plan, err = Load(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if r := plan.Mirror.Ramp; r.MinDuration != 90*time.Second || r.MinPairs != 50 || r.OnFailure != "kill" {
		t.Errorf("ramp: %+v", r)
	}

	for _, tc := range []struct{ ramp, want string }{
		{`mirror: ramp: steps: [0.5, 0.25]`, `:4:28: mirror.ramp.steps[1]: ramp steps must increase: step 2 (0.25) is not above step 1 (0.5)`},
		{`mirror: ramp: steps: []`, `mirror.ramp.steps`},
		{`mirror: ramp: steps: [0, 1]`, `mirror.ramp.steps`},
		{`mirror: ramp: {steps: [1], onFailure: "panic"}`, `mirror.ramp.onFailure`},
		{`mirror: ramp: {steps: [1], minDuration: "0s"}`, `mirror.ramp.minDuration: duration must be greater than zero`},
	} {
		write(tc.ramp)
		if _, err := Load(dir, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.ramp, err, tc.want)
		}
	}
}
