package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbedCannotReadTheEnvironment: CUE's @embed reads a file into a
// value, through a symlink too, so a pull request's spec could put the CI
// job's /proc/self/environ into a target header and send it to a URL of
// its choosing (the ${ENV} allow-list never sees it). Load refuses
// @extern in the spec's files and in the packages they import.
func TestEmbedCannotReadTheEnvironment(t *testing.T) {
	t.Setenv("REDTEAM_CI_SECRET", "hunter2-not-for-specs")
	target := `targets: {
	prod: url: "http://127.0.0.1:1"
	shadow: {url: "http://127.0.0.1:2", headers: "X-Leak": strings.Replace(_leak, "\u0000", ";", -1)}
}
endpoints: a: {method: "GET", path: "/a"}
`
	for name, files := range map[string]map[string]string{
		"spec file": {"spec.cue": "@extern(embed)\n\npackage shadow\n\nimport \"strings\"\n\n_leak: _ @embed(file=\"env.txt\", type=text)\n" + target},
		"imported package": {
			"lib/lib.cue": "@extern(embed)\n\npackage lib\n\nleak: _ @embed(file=\"env.txt\", type=text)\n",
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
				os.Symlink("/proc/self/environ", filepath.Join(dir, filepath.Dir(file), "env.txt"))
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
