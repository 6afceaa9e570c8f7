package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary spec files to Load: it must return a plan or an
// *Error whose problems point into the spec directory, and never panic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "*.cue"))
	for _, seed := range seeds {
		if text, err := os.ReadFile(seed); err == nil {
			f.Add(string(text))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		plan, err := Load(dir, Options{})
		if err == nil {
			if len(plan.Endpoints) == 0 {
				t.Fatal("a plan without endpoints")
			}
			return
		}
		var specErr *Error
		if !errors.As(err, &specErr) || len(specErr.Problems) == 0 {
			t.Fatalf("error %T %v, want *Error with problems", err, err)
		}
		for _, p := range specErr.Problems {
			if strings.Contains(p.Message, "internal error") {
				t.Fatalf("CUE panicked: %s", p)
			}
			if p.Pos.File != "" && !strings.HasPrefix(p.Pos.File, dir) {
				t.Errorf("problem outside the spec directory: %s", p)
			}
		}
	})
}
