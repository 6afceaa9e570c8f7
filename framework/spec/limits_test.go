package spec

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

func TestLimitsAndLatencyThresholds(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.jsonl"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow

traffic: [{jsonl: "t.jsonl"}]
mirror: {
	rps: 250
	killSwitch: {shadowErrorRate: 0.5, shadowLatency: "2s", window: 40, file: "shadow.off"}
}
defaults: thresholds: {errorRateSlack: 0.01, latencyP50Ratio: 2}
endpoints: {
	a: path: "/a"
	b: {path: "/b", thresholds: {errorRate: "off", latencyP99: "750ms", latencyP50Ratio: 1.5}}
}
`), 0o644)
	plan, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantKill := framework.KillSwitch{ShadowErrorRate: 0.5, ShadowLatency: 2 * time.Second, Window: 40, File: "shadow.off"}
	if plan.Mirror.RPS != 250 || plan.Mirror.KillSwitch != wantKill {
		t.Errorf("mirror rps %v, kill switch %+v; want 250 and %+v", plan.Mirror.RPS, plan.Mirror.KillSwitch, wantKill)
	}
	a, b := plan.Endpoints[0].Thresholds, plan.Endpoints[1].Thresholds
	tests := []struct {
		name   string
		got    any
		want   any
		reason string
	}{
		{"a error rate", [2]any{a.ErrorRate, a.ErrorRateSlack}, [2]any{true, 0.01}, "inherited: on by default, slack from defaults"},
		{"b error rate", b.ErrorRate, false, `"off" drops the test`},
		{"a p50", a.LatencyP50Ratio, 2.0, "inherited from defaults"},
		{"b p50", b.LatencyP50Ratio, 1.5, "the endpoint's own value wins"},
		{"a p99", [2]any{a.LatencyP99, a.LatencyP99Monitored}, [2]any{time.Duration(0), true}, `the schema default is "monitored"`},
		{"b p99", [2]any{b.LatencyP99, b.LatencyP99Monitored}, [2]any{750 * time.Millisecond, false}, "a bound"},
		{"a p50 position", a.LatencyP50Pos.Line, 8, "declared in defaults"},
		{"b p99 position", b.LatencyP99Pos.Line, 11, "declared on the endpoint"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v (%s)", tt.name, tt.got, tt.want, tt.reason)
		}
	}

	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte("package shadow\n\ntraffic: [{jsonl: \"t.jsonl\"}]\nmirror: killSwitch: shadowLatency: \"0s\"\nendpoints: a: path: \"/a\"\n"), 0o644)
	if _, err := Load(dir, Options{}); err == nil || err.Error() != filepath.Join(dir, "spec.cue")+":4:21: mirror.killSwitch.shadowLatency: duration must be greater than zero, got \"0s\"" {
		t.Errorf("zero kill-switch latency: %v", err)
	}
}
