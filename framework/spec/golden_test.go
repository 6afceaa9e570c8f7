package spec

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want.txt golden files of testdata/bad")

// TestBadSpecs loads each testdata/bad/<case> directory and compares the
// error, exactly as the CLI prints it, with the case's want.txt.
func TestBadSpecs(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "bad", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/bad: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			plan, err := Load(dir, Options{})
			if err == nil {
				t.Fatalf("Load(%s) = %d endpoints, want an error", dir, len(plan.Endpoints))
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error is a %T, want *Error", err)
			}
			got := err.Error() + "\n"
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("error output differs from %s\ngot:\n%swant:\n%s", wantFile, got, want)
			}
			for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
				if strings.Contains(line, "goroutine") || strings.Contains(line, "panic") {
					t.Errorf("output looks like a crash: %s", line)
				}
			}
		})
	}
}
