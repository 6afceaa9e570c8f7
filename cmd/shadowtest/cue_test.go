package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock returns the lines of the first ```sh block after marker in
// the README.
func readmeBlock(t *testing.T, marker string) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), marker)
	if !ok {
		t.Fatalf("README.md lacks %q", marker)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("README.md has no ```sh block after %q", marker)
	}
	return strings.Split(strings.TrimSpace(block), "\n")
}

// TestReadmeCueCommands runs the README's cue commands exactly as written,
// one shell line at a time, from a project directory that holds specs/
// (the example that imports the schema), with shadowtest and the real cue
// command (go.mod's tool) on the PATH and no CUE_REGISTRY.
func TestReadmeCueCommands(t *testing.T) {
	lines := readmeBlock(t, "From the directory that holds `specs/`")
	cue, err := exec.Command("go", "tool", "-n", "cue").Output()
	if err != nil {
		t.Fatalf("building the cue tool: %v", err)
	}
	bin := t.TempDir()
	for name, target := range map[string]string{"cue": strings.TrimSpace(string(cue)), "shadowtest": binary} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	project := t.TempDir()
	src, err := os.ReadFile("../../specs/imported/shop.cue")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(project, "specs"), 0o755)
	if err := os.WriteFile(filepath.Join(project, "specs", "shop.cue"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUE_REGISTRY=") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	sh := func(line string) (string, error) {
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = project
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	outputs := map[string]string{}
	for _, line := range lines {
		out, err := sh(line)
		if err != nil {
			t.Fatalf("README command %q: %v\n%s", line, err, out)
		}
		outputs[strings.Fields(line)[1]] = out
	}
	if out := outputs["export"]; !strings.Contains(out, `"url": "http://10.0.0.6:8080"`) || !strings.Contains(out, `"jsonl":`) {
		t.Errorf("cue export output lacks the -t url or the traffic:\n%s", out)
	}
	// The same commands catch a careless spec author.
	os.WriteFile(filepath.Join(project, "specs", "shop.cue"), []byte(strings.Replace(string(src), "tolerance:", "tolerence:", 1)), 0o644)
	if out, err := sh(lines[1]); err == nil || !strings.Contains(out, "tolerence") {
		t.Errorf("%q accepted a misspelt field: %v\n%s", lines[1], err, out)
	}
}

// TestVetTags checks vet's -t: a CUE tag the spec declares is injected, an
// undeclared one is an error, as in cue export.
func TestVetTags(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.jsonl"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "spec.cue"), []byte(`package shadow

_env: "dev" | "staging" @tag(env)

traffic: [{jsonl: "t.jsonl"}]
targets: shadow: headers: "X-Env": _env
endpoints: a: path: "/a"
`), 0o644)
	if r := shadowtest(t, "vet", "-t", "env=staging", dir); r.code != 0 {
		t.Errorf("vet -t env=staging: exit %d\n%s", r.code, r.stderr)
	}
	if r := shadowtest(t, "vet", dir); r.code != 2 || !strings.Contains(r.stderr, "X-Env") {
		t.Errorf("vet without -t env: exit %d, want 2 with the incomplete header\n%s", r.code, r.stderr)
	}
	if r := shadowtest(t, "vet", "-t", "region=eu", dir); r.code != 2 || !strings.Contains(r.stderr, "@tag(region)") {
		t.Errorf("vet -t region=eu: exit %d\n%s", r.code, r.stderr)
	}
}
