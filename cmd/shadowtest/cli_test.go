package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
)

// shadowtestEnv runs the built binary from the repository root with env
// added to a copy of the environment without NO_COLOR and FORCE_COLOR.
func shadowtestEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = "../.."
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "FORCE_COLOR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// TestHelpOnStdoutWithTheExamplesDashes: every command's --help goes to
// stdout (so `| less` shows it), exits 0, and spells its flags as the
// examples do: --junit, not -junit.
func TestHelpOnStdoutWithTheExamplesDashes(t *testing.T) {
	for _, c := range commands() {
		args := []string{c.name, "--help"}
		if c.name == "traffic" {
			args = []string{"traffic", "convert", "--help"}
		}
		r := shadowtest(t, args...)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage: shadowtest "+strings.Join(args[:len(args)-1], " ")) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want the usage on stdout, exit 0", args, r.code, r.stdout, r.stderr)
		}
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") && !strings.HasPrefix(line, "  -t ") {
				t.Errorf("%v: flag shown with one dash: %q", args, line)
			}
		}
	}
	r := shadowtest(t, "run", "--help")
	for _, want := range []string{"  --junit FILE", "  --junit-annotations", "  -t ", "Examples:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("run --help lacks %q:\n%s", want, r.stdout)
		}
	}
	r = shadowtest(t, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "completion") || !strings.Contains(r.stdout, "--no-color") {
		t.Errorf("--help: exit %d\n%s", r.code, r.stdout)
	}
}

func TestVersionFlag(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := shadowtest(t, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "shadowtest ") || !strings.Contains(r.stdout, "commit") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestMistakesAreOneLineWithASuggestion: an unknown flag or command is a
// short error with the nearest name and a pointer to --help, not a usage
// dump.
func TestMistakesAreOneLineWithASuggestion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"run", "specs/demo", "--junt", "x.xml"}, []string{"shadowtest run: unknown flag --junt (did you mean --junit?)", "shadowtest run --help"}},
		{[]string{"demo", "--with-regresion"}, []string{"unknown flag --with-regresion (did you mean --with-regression?)"}},
		{[]string{"run", "specs/demo", "--timeout"}, []string{"flag needs an argument: --timeout"}},
		{[]string{"rn", "specs/demo"}, []string{`unknown command "rn" (did you mean run?)`, "shadowtest --help"}},
		{[]string{"completion", "bsh"}, []string{"(did you mean bash?)"}},
	}
	for _, tt := range tests {
		r := shadowtest(t, tt.args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, r.code)
		}
		if n := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; n > 2 {
			t.Errorf("%v: %d lines on stderr, want at most 2:\n%s", tt.args, n, r.stderr)
		}
		for _, want := range tt.want {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, want, r.stderr)
			}
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tt.args, r.stdout)
		}
	}
}

// TestCompletionScripts checks the scripts with the shells themselves:
// bash completes commands, flags and subcommands through compgen; zsh and
// fish (installed like the other Debian packages) parse their scripts.
func TestCompletionScripts(t *testing.T) {
	dir := t.TempDir()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := shadowtest(t, "completion", shell)
		if r.code != 0 || r.stdout == "" {
			t.Fatalf("completion %s: exit %d\n%s", shell, r.code, r.stderr)
		}
		os.WriteFile(filepath.Join(dir, shell), []byte(r.stdout), 0o644)
	}
	script := filepath.Join(dir, "bash")
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	complete := func(words ...string) string {
		t.Helper()
		probe := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _shadowtest; echo "${COMPREPLY[*]}"`
		out, err := exec.Command("bash", append([]string{"-c", probe, "probe", script}, words...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("completing %q: %v\n%s", words, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"shadowtest", "r"}, "run report"},
		{[]string{"shadowtest", "co"}, "completion"},
		{[]string{"shadowtest", "run", "specs/", "--junit-"}, "--junit-annotations"},
		{[]string{"shadowtest", "merge", "--allow"}, "--allow-partial"},
		{[]string{"shadowtest", "traffic", "c"}, "convert"},
		{[]string{"shadowtest", "traffic", "convert", "--sk"}, "--skip-bad-records"},
		{[]string{"shadowtest", "completion", "f"}, "fish"},
		{[]string{"shadowtest", "run", "sp"}, ""}, // files: left to bash's default
	} {
		if got := complete(tt.words...); got != tt.want {
			t.Errorf("completing %q: %q, want %q", tt.words, got, tt.want)
		}
	}

	testenv.Require(t, "/usr/bin/zsh", "zsh")
	if out, err := exec.Command("/usr/bin/zsh", "-n", filepath.Join(dir, "zsh")).CombinedOutput(); err != nil {
		t.Errorf("zsh -n: %v\n%s", err, out)
	}
	testenv.Require(t, "/usr/bin/fish", "fish")
	if out, err := exec.Command("/usr/bin/fish", "--no-execute", filepath.Join(dir, "fish")).CombinedOutput(); err != nil {
		t.Errorf("fish --no-execute: %v\n%s", err, out)
	}
	// fish loads the script and completes a flag from it.
	out, err := exec.Command("/usr/bin/fish", "-c", "source "+filepath.Join(dir, "fish")+"; complete -C 'shadowtest merge --allow'").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--allow-partial") {
		t.Errorf("fish does not complete --allow-partial: %v\n%s", err, out)
	}
}

// TestColorSwitches: FORCE_COLOR colours a summary that is not on a
// terminal; NO_COLOR and --no-color win over it.
func TestColorSwitches(t *testing.T) {
	tests := []struct {
		env   []string
		args  []string
		color bool
	}{
		{nil, nil, false}, // not a terminal
		{[]string{"FORCE_COLOR=1"}, nil, true},
		{[]string{"FORCE_COLOR=1", "NO_COLOR=1"}, nil, false},
		{[]string{"FORCE_COLOR=1"}, []string{"--no-color"}, false},
		{[]string{"FORCE_COLOR=0"}, nil, false},
	}
	for _, tt := range tests {
		junit := filepath.Join(t.TempDir(), "junit.xml")
		r := shadowtestEnv(t, tt.env, append([]string{"demo", "--with-regression", "--junit", junit}, tt.args...)...)
		if r.code != 1 {
			t.Fatalf("%v %v: exit %d\n%s", tt.env, tt.args, r.code, r.stderr)
		}
		if got := strings.Contains(r.stdout, "\x1b["); got != tt.color {
			t.Errorf("%v %v: colours %v, want %v", tt.env, tt.args, got, tt.color)
		}
	}
}

// TestSpecDirectoryMistakes: each mistake about the spec directory says
// what is wrong and what to do.
func TestSpecDirectoryMistakes(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(t.TempDir(), "shop.cue")
	os.WriteFile(file, []byte("package shadow\n"), 0o644)
	parent := t.TempDir() // like this repository's specs/: spec directories inside
	os.MkdirAll(filepath.Join(parent, "shop"), 0o755)
	os.WriteFile(filepath.Join(parent, "shop", "shop.cue"), []byte("package shadow\n"), 0o644)
	tests := []struct {
		dir  string
		want []string
	}{
		{empty, []string{"no .cue files in the spec directory", "shadowtest init --from TRAFFIC DIR"}},
		{parent, []string{"no .cue files in the spec directory, but its subdirectories hold specs: give one of them (" + filepath.Join(parent, "shop") + ")"}},
		{file, []string{"is a file, not a directory", filepath.Dir(file)}},
		{filepath.Join(empty, "nowhere"), []string{"spec directory not found"}},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"vet", "run"} {
			r := shadowtest(t, cmd, tt.dir)
			if r.code != 2 {
				t.Errorf("%s %s: exit %d, want 2", cmd, tt.dir, r.code)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("%s %s: stderr lacks %q:\n%s", cmd, tt.dir, want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "matched no packages") {
				t.Errorf("%s %s: cue's own message:\n%s", cmd, tt.dir, r.stderr)
			}
		}
	}
}

// TestSpecsInASubdirectoryAreNamed: endpoints written in specs/users/ are
// not part of `specs/` (CUE loads one directory), and vet said "ok" and
// run passed without them; both now name the subdirectory. cue.mod and
// hidden directories are not named.
func TestSpecsInASubdirectoryAreNamed(t *testing.T) {
	prod, shadow := startDemo(t, false)
	dir := t.TempDir()
	for name, text := range map[string]string{
		"shadow.cue":                  "package shadow\n\ntraffic: [{synthetic: requests: [{url: \"/health\"}]}]\nendpoints: health: path: \"/health\"\n",
		"users/users.cue":             "package shadow\n\nendpoints: \"get-user\": path: \"/users/{id}\"\n",
		"cue.mod/module.cue":          "module: \"example.com/shop@v0\"\nlanguage: version: \"v0.9.0\"\n",
		".history/shadow.cue":         "package shadow\n",
		"traffic/not-a-spec.har.json": "{}",
	} {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	users := filepath.Join(dir, "users")
	r := shadowtest(t, "vet", dir)
	if r.code != 0 || !strings.Contains(r.stdout, users+": not part of the spec "+dir) {
		t.Errorf("vet: exit %d, want 0 naming %s:\n%s%s", r.code, users, r.stdout, r.stderr)
	}
	r = shadowtest(t, "run", dir, "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", "none")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: "+users+": not part of the spec") {
		t.Errorf("run: exit %d, want 0 with a warning naming %s:\n%s%s", r.code, users, r.stdout, r.stderr)
	}
	for _, out := range []string{r.stdout + r.stderr} {
		if strings.Contains(out, "cue.mod:") || strings.Contains(out, ".history") || strings.Contains(out, "traffic:") {
			t.Errorf("a directory without specs is named:\n%s", out)
		}
	}
}

// TestAbortMessageRedactsQueryByName: when prod is unreachable, the
// message names the request that failed with its ordinary query
// parameters, and masks only the secret ones.
func TestAbortMessageRedactsQueryByName(t *testing.T) {
	dir := t.TempDir()
	var traffic strings.Builder
	for range 25 {
		traffic.WriteString(`{"request":{"method":"GET","url":"/products?category=books&api_key=SECRET-KEY-123456"}}` + "\n")
	}
	os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(traffic.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\n\ntraffic: [{jsonl: \"t.jsonl\"}]\nendpoints: products: path: \"/products\"\n"), 0o644)
	junit := filepath.Join(dir, "junit.xml")
	r := shadowtest(t, "run", dir, "-t", "prod="+closedPort(t), "-t", "shadow="+closedPort(t), "--junit", junit)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	data, _ := os.ReadFile(junit)
	for name, out := range map[string]string{"stderr": r.stderr, "JUnit": string(data)} {
		if !strings.Contains(out, "/products?category=books&") || !strings.Contains(out, "api_key=") {
			t.Errorf("%s does not name the request with its query:\n%s", name, out)
		}
		if strings.Contains(out, "SECRET-KEY") || strings.Contains(out, "?<redacted>") {
			t.Errorf("%s: the api_key leaks, or the whole query is hidden:\n%s", name, out)
		}
	}
}

// TestVetJSON: vet --json prints one JSON object per problem, with the
// position and CUE path an editor needs, and nothing for a valid spec.
func TestVetJSON(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.cue"), []byte("package shadow\n\nmirror: writes: \"all\"\nendpoints: x: {path: \"/x\", cache: 1}\n"), 0o644)
	r := shadowtest(t, "vet", "--json", dir)
	if r.code != 2 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 2 and JSON on stdout", r.code, r.stderr)
	}
	type problem struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Col     int    `json:"col"`
		Path    string `json:"path"`
		Message string `json:"message"`
	}
	var got []problem
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var p problem
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		got = append(got, p)
	}
	want := []problem{
		{File: filepath.Join(dir, "s.cue"), Line: 3, Col: 17, Path: "mirror.writes"},
		{File: filepath.Join(dir, "s.cue"), Line: 4, Col: 28, Path: "endpoints.x.cache"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(got), len(want), r.stdout)
	}
	for i := range want {
		g := got[i]
		if g.File != want[i].File || g.Line != want[i].Line || g.Col != want[i].Col || g.Path != want[i].Path || g.Message == "" {
			t.Errorf("problem %d: %+v, want %+v with a message", i, g, want[i])
		}
	}
	r = shadowtest(t, "vet", "--json", "specs/demo")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("valid spec: exit %d, stdout %q; want 0 and nothing", r.code, r.stdout)
	}
}
