package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

func TestReportSettings(t *testing.T) {
	for _, tc := range []struct {
		reason, cue string
		want        framework.ReportSettings
	}{
		{"schema defaults", ``, framework.ReportSettings{Redact: []string{}, Examples: 5, BaselineMargin: 0.001}},
		{"all set", `report: {redact: ["$.password", "$..token", "header:X-Session"], examples: 2, baselineMargin: 0.02}`,
			framework.ReportSettings{Redact: []string{"$.password", "$..token", "header:X-Session"}, Examples: 2, BaselineMargin: 0.02}},
	} {
		dir := t.TempDir()
		src := "package shadow\n\nendpoints: \"get-user\": path: \"/users/{id}\"\n" + tc.cue + "\n"
		if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		plan, err := Load(dir, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		got := plan.Report
		if len(got.Redact) == 0 && len(tc.want.Redact) == 0 {
			got.Redact, tc.want.Redact = nil, nil
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: report %+v, want %+v", tc.reason, got, tc.want)
		}
	}
}
