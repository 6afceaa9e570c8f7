package specs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/selector"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// specDirs lists every directory under specs/ that holds .cue files.
func specDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "cue.mod" {
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".cue") {
			if dir := filepath.Dir(path); !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dirs, "demo") {
		t.Fatalf("spec directories %q do not include demo", dirs)
	}
	return dirs
}

// TestSpecsVetClean loads every example spec directory with the real loader,
// as `shadowtest vet` does, and reads every record of its traffic.
func TestSpecsVetClean(t *testing.T) {
	for _, dir := range specDirs(t) {
		t.Run(dir, func(t *testing.T) {
			plan, err := spec.Load(dir, spec.Options{})
			if err != nil {
				t.Fatalf("vet %s:\n%v", dir, err)
			}
			if len(plan.Endpoints) == 0 {
				t.Error("no endpoints")
			}
			for _, src := range plan.Traffic {
				if n := readAll(t, src, plan.Dir); n == 0 {
					t.Errorf("traffic %s %s: no records", src.Format, src.Path)
				}
			}
		})
	}
}

// readAll reads every record of a traffic source and returns how many
// there were; a malformed record fails the test.
func readAll(t *testing.T, src framework.TrafficSource, dir string) int {
	t.Helper()
	reader, err := traffic.Open(src, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	n := 0
	for {
		_, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func loadDemo(t *testing.T, targets map[string]string) *framework.Plan {
	t.Helper()
	plan, err := spec.Load("demo", spec.Options{Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestDemoTargets checks the demo's default URLs and their -t overrides.
func TestDemoTargets(t *testing.T) {
	for _, tc := range []struct {
		reason       string
		targets      map[string]string
		prod, shadow string
	}{
		{"spec defaults", nil, "http://127.0.0.1:8081", "http://127.0.0.1:8082"},
		{"-t overrides", map[string]string{"prod": "http://127.0.0.1:9001", "shadow": "http://127.0.0.1:9002"}, "http://127.0.0.1:9001", "http://127.0.0.1:9002"},
	} {
		plan := loadDemo(t, tc.targets)
		if plan.Prod.URL != tc.prod || plan.Shadow.URL != tc.shadow {
			t.Errorf("%s: prod %q shadow %q, want %q %q", tc.reason, plan.Prod.URL, plan.Shadow.URL, tc.prod, tc.shadow)
		}
	}
}

// TestDemoRulesHandleDifferences checks that the demo spec has the rule for
// each difference listed in fixtures/DIFFERENCES.md, and nothing that would
// hide the regression.
func TestDemoRulesHandleDifferences(t *testing.T) {
	plan := loadDemo(t, nil)
	want := map[string]struct {
		ignore    []string
		tolerance map[string]framework.Tolerance
	}{
		"get-user":      {ignore: []string{"$..requestId", "$.links"}},
		"list-products": {ignore: []string{"$..requestId"}},
		"get-product":   {ignore: []string{"$..requestId"}},
		"get-order":     {ignore: []string{"$..requestId"}, tolerance: map[string]framework.Tolerance{"$.total": {Abs: 0.01}}},
		"health":        {ignore: []string{"$..requestId"}},
	}
	if len(plan.Endpoints) != len(want) {
		t.Errorf("%d endpoints, want %d", len(plan.Endpoints), len(want))
	}
	for _, e := range plan.Endpoints {
		w, ok := want[e.Name]
		if !ok {
			t.Errorf("unexpected endpoint %s", e.Name)
			continue
		}
		if !slices.Equal(e.Rules.Headers, []string{"Content-Type"}) {
			t.Errorf("%s: compared headers %q, want only Content-Type (Date and X-Request-Id are noise)", e.Name, e.Rules.Headers)
		}
		if !slices.Equal(e.Rules.Ignore, w.ignore) {
			t.Errorf("%s: ignore %q, want %q", e.Name, e.Rules.Ignore, w.ignore)
		}
		if len(e.Rules.Tolerance) != len(w.tolerance) || e.Rules.Tolerance["$.total"] != w.tolerance["$.total"] {
			t.Errorf("%s: tolerance %v, want %v", e.Name, e.Rules.Tolerance, w.tolerance)
		}
		if e.Thresholds.MatchRate < 0.9 {
			t.Errorf("%s: match rate threshold %v, want at least 0.9 so that the regression fails", e.Name, e.Thresholds.MatchRate)
		}
	}
}

// TestDemoTrafficCovered reads the demo traffic with the real reader and
// selector: every request goes to an endpoint, and each endpoint gets at
// least its minimum sample count.
func TestDemoTrafficCovered(t *testing.T) {
	plan := loadDemo(t, nil)
	sel := selector.New(plan.Endpoints)
	counts := map[string]int{}
	for _, src := range plan.Traffic {
		reader, err := traffic.Open(src, plan.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for {
			ex, err := reader.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			i := sel.Match(&ex.Request)
			if i < 0 {
				t.Errorf("%s: %s %s matches no endpoint", ex.Origin, ex.Request.Method, ex.Request.URL)
				continue
			}
			counts[plan.Endpoints[i].Name]++
		}
		reader.Close()
	}
	for _, e := range plan.Endpoints {
		if counts[e.Name] < e.Thresholds.MinSamples {
			t.Errorf("%s: %d requests in the traffic, below minSamples %d", e.Name, counts[e.Name], e.Thresholds.MinSamples)
		}
	}
}

// TestImportedSpecPassesRealCueVet vendors the schema the way
// `shadowtest schema vendor` does and runs the real cue command (the
// version in go.mod's tool block, the same as the library's) on the
// example that imports the schema; a typo must make it fail.
func TestImportedSpecPassesRealCueVet(t *testing.T) {
	cue := cueBinary(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("imported", "shop.cue"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("shop.cue", string(src))
	if _, err := spec.Vendor(dir); err != nil {
		t.Fatal(err)
	}
	vet := func() (string, error) {
		cmd := exec.Command(cue, "vet", "-c=false", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CUE_REGISTRY=none")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := vet(); err != nil {
		t.Fatalf("cue vet on specs/imported: %v\n%s", err, out)
	}
	write("shop.cue", strings.Replace(string(src), "tolerance:", "tolerence:", 1))
	out, err := vet()
	if err == nil || !strings.Contains(out, "tolerence: field not allowed") {
		t.Errorf("cue vet accepted a misspelt field: %v\n%s", err, out)
	}
}

// cueBinary builds the cue command pinned in go.mod's tool block.
func cueBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "-n", "cue").Output()
	if err != nil {
		t.Fatalf("building the cue tool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestCueFmtCanonical runs the real `cue fmt --check` on every example spec
// directory and on the schema: what users copy is what cue fmt writes.
func TestCueFmtCanonical(t *testing.T) {
	cue := cueBinary(t)
	files, err := filepath.Glob(filepath.Join("..", "schemas", "*.cue"))
	files = append(files, filepath.Join("..", "schemas", "cue.mod", "module.cue"))
	if err != nil || len(files) == 0 {
		t.Fatalf("schema files: %v %v", files, err)
	}
	for _, dir := range specDirs(t) {
		dirFiles, _ := filepath.Glob(filepath.Join(dir, "*.cue"))
		files = append(files, dirFiles...)
	}
	out, err := exec.Command(cue, append([]string{"fmt", "--check"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("cue fmt --check: %v; files to reformat with `go tool cue fmt`:\n%s", err, out)
	}
}
