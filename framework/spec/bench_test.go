package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSpec writes a spec with n endpoints split over two files.
func writeSpec(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	var a, b strings.Builder
	a.WriteString("package shadow\n\ndefaults: {\n\tignore: [\"header:Date\"]\n\tthresholds: minSamples: 10\n}\n")
	b.WriteString("package shadow\n")
	for i := range n {
		w := &a
		if i%2 == 1 {
			w = &b
		}
		fmt.Fprintf(w, "\nendpoints: \"endpoint-%03d\": {\n\tmethod: \"POST\"\n\tpath: \"/items/%d/{id}\"\n\tignore: [\"$.items[*].id\", \"$..requestId\"]\n\tthresholds: matchRate: 0.95\n}\n", i, i)
	}
	for name, text := range map[string]string{"a.cue": a.String(), "b.cue": b.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestGeneratedSpec(t *testing.T) {
	plan, err := Load(writeSpec(t, 200), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Endpoints) != 200 {
		t.Fatalf("%d endpoints, want 200", len(plan.Endpoints))
	}
	// a.cue holds the even endpoints and sorts first.
	if plan.Endpoints[0].Name != "endpoint-000" || plan.Endpoints[100].Name != "endpoint-001" {
		t.Errorf("order: %s, %s", plan.Endpoints[0].Name, plan.Endpoints[100].Name)
	}
	if th := plan.Endpoints[7].Thresholds; th.MatchRate != 0.95 || th.MinSamples != 10 {
		t.Errorf("thresholds = %+v", th)
	}
}

func BenchmarkLoad(b *testing.B) {
	dir := writeSpec(b, 200)
	for b.Loop() {
		if _, err := Load(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadSmall(b *testing.B) {
	dir := filepath.Join("testdata", "good", "full")
	for b.Loop() {
		if _, err := Load(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
