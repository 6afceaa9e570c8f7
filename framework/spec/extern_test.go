package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
)

// TestEmbedCannotReadTheEnvironment: CUE's @embed reads a file into a
// value, through a symlink too, so a pull request's spec could put the CI
// job's /proc/self/environ or any file of the runner into a target header and send it to a URL of
// its choosing (the ${ENV} allow-list never sees it). Load refuses
// @extern in the spec's files and in the packages they import.
func TestEmbedCannotReadTheEnvironment(t *testing.T) {
	// A file outside the spec (the CI runner's ~/.docker/config.json, say);
	// /proc/self/environ is refused by TestSpecDirectoryHoldsFilesOnly.
	elsewhere := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(elsewhere, []byte("hunter2-not-for-specs"), 0o600)
	target := `targets: {
	prod: url: "http://127.0.0.1:1"
	shadow: {url: "http://127.0.0.1:2", headers: "X-Leak": strings.Replace(_leak, "\u0000", ";", -1)}
}
endpoints: a: {method: "GET", path: "/a"}
`
	for name, files := range map[string]map[string]string{
		"spec file": {"spec.cue": "@extern(embed)\n\npackage shadow\n\nimport \"strings\"\n\n_leak: _ @embed(file=\"data/env.txt\", type=text)\n" + target},
		"imported package": {
			"lib/lib.cue": "@extern(embed)\n\npackage lib\n\nleak: _ @embed(file=\"data/env.txt\", type=text)\n",
			"spec.cue":    "package shadow\n\nimport (\n\t\"strings\"\n\t\"shadowtest.local/spec/lib\"\n)\n\n_leak: lib.leak\n" + target,
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for file, text := range files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, file)), 0o755)
				if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				os.MkdirAll(filepath.Join(dir, filepath.Dir(file), "data"), 0o755)
				os.Symlink(elsewhere, filepath.Join(dir, filepath.Dir(file), "data", "env.txt"))
			}
			plan, err := Load(dir, Options{Live: true})
			if err == nil {
				t.Fatalf("a spec with @extern(embed) loaded; shadow headers: %.200q", plan.Shadow.Headers)
			}
			if !strings.Contains(err.Error(), "@extern(embed): a spec may not read files") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error: %v", err)
			}
		})
	}
}

// TestSpecDirectoryHoldsFilesOnly: cue/load opens the files of the spec
// directory, so a FIFO there blocked Load for ever and a symlink to
// /dev/zero (which a pull request can add) read until memory ran out.
// Load refuses them, naming the entry, at once.
func TestSpecDirectoryHoldsFilesOnly(t *testing.T) {
	for name, create := range map[string]func(t *testing.T, path string) error{
		"fifo":      func(t *testing.T, path string) error { testenv.MakeFIFO(t, path); return nil },
		"dev zero":  func(_ *testing.T, path string) error { return os.Symlink("/dev/zero", path) },
		"proc file": func(_ *testing.T, path string) error { return os.Symlink("/proc/self/environ", path) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "spec.cue"), []byte("package shadow\nendpoints: a: {method: \"GET\", path: \"/a\"}\n"), 0o644)
			os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
			if err := create(t, filepath.Join(dir, "x.cue")); err != nil {
				t.Fatal(err)
			}
			create(t, filepath.Join(dir, "lib", "y.cue"))
			done := make(chan error, 1)
			go func() { _, err := Load(dir, Options{Live: true}); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "x.cue: not a regular file") || !strings.Contains(err.Error(), filepath.Join("lib", "y.cue")+": not a regular file") {
					t.Errorf("Load: %v, want x.cue and lib/y.cue refused", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Load still running after 20s")
			}
		})
	}
}
