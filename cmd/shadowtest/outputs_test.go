//go:build !windows

package main

import (
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// TestOutputsNotWrittenExitTwo asks run, demo and merge for each output at
// a path that cannot be written: every such run ends with exit 2, naming
// the flag, the path and the reason, whatever the verdict would have been.
func TestOutputsNotWrittenExitTwo(t *testing.T) {
	prod, shadow := startDemo(t, false)
	_, regressed := startDemo(t, true)
	dir := t.TempDir()
	good := shadowtest(t, "run", "specs/demo", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", filepath.Join(dir, "good.xml"), "--results", filepath.Join(dir, "good.json"))
	if good.code != exitPass {
		t.Fatalf("reference run: exit %d\n%s%s", good.code, good.stdout, good.stderr)
	}
	const nowhere = "/proc/nope/out" // mkdir fails, even for root
	tests := []struct {
		name   string
		args   []string
		flag   string
		reason string // what stderr must say
		why    string
	}{
		{"run --junit", []string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + shadow, "--junit", nowhere}, "--junit " + nowhere, "mkdir /proc/nope", "the issue's example: was three errors and exit 0"},
		{"run --results", []string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + shadow, "--junit", "none", "--results", nowhere}, "--results " + nowhere, "mkdir /proc/nope", ""},
		{"run --html", []string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + shadow, "--junit", "none", "--html", nowhere}, "--html " + nowhere, "mkdir /proc/nope", ""},
		{"run --log", []string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + shadow, "--junit", "none", "--log", nowhere}, "--log " + nowhere, "mkdir /proc/nope", ""},
		{"demo --junit", []string{"demo", "--junit", nowhere}, "--junit " + nowhere, "mkdir /proc/nope", ""},
		{"merge --junit", []string{"merge", filepath.Join(dir, "good.json"), "--junit", nowhere}, "--junit " + nowhere, "mkdir /proc/nope", ""},
		{"merge --html", []string{"merge", filepath.Join(dir, "good.json"), "--junit", "none", "--html", nowhere}, "--html " + nowhere, "mkdir /proc/nope", ""},
		{"a directory", []string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + shadow, "--junit", dir}, "--junit " + dir, "it is a directory", ""},
		// /dev/full opens but every write fails: the failure comes after
		// the verdict, and exit 2 wins over it.
		{"passed, JUnit lost", []string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + shadow, "--junit", "/dev/full"}, "--junit /dev/full not written", "no space left on device", "a green gate without its evidence"},
		{"failed, results lost", []string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + regressed, "--junit", "none", "--results", "/dev/full"}, "--results /dev/full not written", "no space left on device", "exit 2 wins over 1"},
		{"aborted, JUnit lost", []string{"run", "specs/demo", "-t", "prod=" + closedPort(t), "-t", "shadow=" + shadow, "--junit", "/dev/full"}, "--junit /dev/full not written", "no space left on device", "exit 2 wins over 3"},
		{"merge, log lost", []string{"merge", filepath.Join(dir, "good.json"), "--junit", "/dev/full"}, "--junit /dev/full not written", "no space left on device", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := shadowtest(t, tt.args...)
			if r.code != exitInvalid {
				t.Fatalf("exit %d, want 2 (%s)\nstdout:\n%s\nstderr:\n%s", r.code, tt.why, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.flag) || !strings.Contains(r.stderr, tt.reason) {
				t.Errorf("stderr does not say %q and %q:\n%s", tt.flag, tt.reason, r.stderr)
			}
		})
	}
}

// TestOutputsReplaceWholeFiles checks that outputs replace an earlier file
// in one step and leave no temporary file behind, and that a run that
// cannot write one output leaves the earlier file of another untouched.
func TestOutputsReplaceWholeFiles(t *testing.T) {
	prod, shadow := startDemo(t, false)
	dir := t.TempDir()
	junit := filepath.Join(dir, "junit.xml")
	results := filepath.Join(dir, "results.json")
	os.WriteFile(junit, []byte("earlier"), 0o644)
	os.WriteFile(results, []byte("earlier"), 0o644)
	r := shadowtest(t, "run", "specs/demo", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit, "--results", results, "--html", "/proc/nope/r.html")
	if r.code != exitInvalid {
		t.Fatalf("exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{junit, results} {
		if data, _ := os.ReadFile(p); string(data) != "earlier" {
			t.Errorf("%s was changed by a run that stopped: %q", p, data)
		}
	}
	r = shadowtest(t, "run", "specs/demo", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit, "--results", results)
	if r.code != exitPass {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	readJUnit(t, junit)
	if _, err := observe.ReadFile(results); err != nil {
		t.Error(err)
	}
	// Modes as os.Create gives them (0666 less the umask), not a
	// temporary file's 0600: CI artifacts are read by other users.
	probe := filepath.Join(t.TempDir(), "probe")
	f, _ := os.Create(probe)
	f.Close()
	want, _ := os.Stat(probe)
	for _, p := range []string{junit, results} {
		if info, err := os.Stat(p); err != nil || info.Mode() != want.Mode() {
			t.Errorf("%s: mode %v, want %v like os.Create", p, info.Mode(), want.Mode())
		}
	}
	// A symlink keeps pointing where it did; its target is replaced.
	elsewhere := filepath.Join(t.TempDir(), "real.xml")
	os.WriteFile(elsewhere, []byte("earlier"), 0o644)
	link := filepath.Join(t.TempDir(), "link.xml")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	if r := shadowtest(t, "run", "specs/demo", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", link); r.code != exitPass {
		t.Fatalf("--junit LINK: exit %d\n%s", r.code, r.stderr)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced by a file")
	}
	readJUnit(t, elsewhere)
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the output folder: %v, want only junit.xml and results.json", names)
	}
}

// TestInterruptedRunRenamesItsLog streams the discrepancy log to a
// temporary file while the run goes on (the log's name does not exist
// yet), and puts it in place when a signal ends the run.
func TestInterruptedRunRenamesItsLog(t *testing.T) {
	out := t.TempDir()
	log := filepath.Join(out, "discrepancies.jsonl")
	var during []string
	stop := func(p *os.Process, _ string) {
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			during = append(during, e.Name())
		}
		p.Signal(os.Interrupt)
	}
	r, _ := interruptRun(t, stop, "--log", log)
	if r.code != exitAborted {
		t.Fatalf("exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	if len(during) != 1 || !strings.HasPrefix(during[0], ".discrepancies.jsonl") {
		t.Errorf("during the run the folder held %v, want only a hidden temporary file", during)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("the interrupted run did not put its log in place: %v", err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Fatalf("log line %d is not JSON: %q", i+1, line)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

// TestOutputsOnStdoutAndOff writes each of --junit, --results and --log to
// stdout ("-"): stdout then holds exactly that document and the summary
// goes to stderr. "none" writes no file; an empty name and two outputs on
// stdout are errors.
func TestOutputsOnStdoutAndOff(t *testing.T) {
	prod, shadow := startDemo(t, true)
	run := func(args ...string) result {
		return shadowtest(t, append([]string{"run", "specs/demo", "-t", "prod=" + prod, "-t", "shadow=" + shadow}, args...)...)
	}
	r := run("--junit", "-")
	if r.code != exitFail {
		t.Fatalf("--junit -: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	var j junitFile
	if err := xml.Unmarshal([]byte(r.stdout), &j); err != nil || j.Tests == 0 || j.Failures != 1 {
		t.Errorf("stdout is not the JUnit alone (%v, %d tests):\n%s", err, j.Tests, r.stdout)
	}
	if !strings.Contains(r.stderr, "ENDPOINT") || !strings.Contains(r.stderr, "junit: stdout") {
		t.Errorf("the summary is not on stderr:\n%s", r.stderr)
	}

	r = run("--junit", "none", "--results", "-")
	if r.code != exitFail {
		t.Fatalf("--results -: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	res, err := observe.Decode(strings.NewReader(r.stdout))
	if err != nil || len(res.Endpoints) != len(demoEndpoints) {
		t.Errorf("stdout is not the results alone: %v\n%s", err, r.stdout)
	}

	r = run("--junit", "none", "--log", "-")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != exitFail || len(lines) < 22 {
		t.Fatalf("--log -: exit %d, %d lines\n%s%s", r.code, len(lines), r.stdout, r.stderr)
	}
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Fatalf("stdout line %d is not a log line: %q", i+1, line)
		}
	}

	cwd := t.TempDir()
	cmd := exec.Command(binary, "run", mustAbs(t, "../../specs/demo"), "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", "none")
	cmd.Dir = cwd
	if out, err := cmd.CombinedOutput(); err == nil || strings.Contains(string(out), "junit:") {
		t.Errorf("--junit none: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("--junit none wrote %v", entries)
	}

	for _, args := range [][]string{{"--junit", ""}, {"--results", ""}, {"--log="}, {"--junit", "-", "--results", "-"}, {"--results", "junit.xml"}, {"--junit", "x/a.json", "--html", "x/../x/a.json"}} {
		started := time.Now()
		r := run(args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, "--") || time.Since(started) > 20*time.Second {
			t.Errorf("%q: exit %d, want 2 at once\n%s", args, r.code, r.stderr)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestTrafficConvertInPlace converts a JSONL file onto itself: OUT is
// written beside and renamed at the end, so IN is read whole first; a
// conversion that fails leaves OUT as it was.
func TestTrafficConvertInPlace(t *testing.T) {
	dir := t.TempDir()
	lines := demoTraffic(t)[:30]
	path := filepath.Join(dir, "t.jsonl")
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	r := shadowtest(t, "traffic", "convert", path, path)
	if r.code != exitPass || !strings.Contains(r.stdout, "30 exchanges written") {
		t.Fatalf("convert in place: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	before, _ := os.ReadFile(path)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(lines[0]+"\n{\"request\":{}}\n"), 0o644)
	if r := shadowtest(t, "traffic", "convert", bad, path); r.code != exitInvalid {
		t.Fatalf("a malformed record: exit %d, want 2\n%s", r.code, r.stderr)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) || len(strings.Split(strings.TrimSpace(string(after)), "\n")) != 30 {
		t.Errorf("a failed conversion changed OUT")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("files left: %v", entries)
	}
}

// TestOutputFlagsOneFileByLink: two outputs that reach one file through a
// symlink (or a hard link, or a folder's symlink) would overwrite each
// other, leaving the log where the CI reads the JUnit: refused like two
// outputs given the same name.
func TestOutputFlagsOneFileByLink(t *testing.T) {
	dir := t.TempDir()
	junit := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(junit, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(junit, filepath.Join(dir, "link.xml"))
	os.Link(junit, filepath.Join(dir, "hard.xml"))
	os.Symlink(dir, filepath.Join(dir, "again"))
	for _, other := range []string{"link.xml", "hard.xml", "again/junit.xml", "again/new.jsonl", "./again/../junit.xml"} {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.String("junit", "", "")
		fs.String("log", "", "")
		fs.Parse([]string{"--junit", junit, "--log", filepath.Join(dir, other)})
		err := checkOutputFlags(fs, "junit", "log")
		if other == "again/new.jsonl" {
			if err != nil {
				t.Errorf("%s: %v", other, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "both write") {
			t.Errorf("--junit %s --log %s: %v, want both write", junit, other, err)
		}
	}
}
