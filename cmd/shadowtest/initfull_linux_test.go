package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// initWithNoRoom runs `shadowtest init ARGS` in dir with a file size limit
// of 0 (ulimit -f 0, SIGXFSZ ignored), so that every file write fails
// with EFBIG as on a full disk, also for root, whom a read-only directory
// does not stop. It returns the exit code and stderr.
func initWithNoRoom(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"-c", `ulimit -f 0 && trap '' XFSZ && exec "$0" init "$@"`, binary}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("bash: %v", err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// listTree lists the files and directories under dir, relative to it.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if path != dir {
			rel, _ := filepath.Rel(dir, path)
			names = append(names, rel)
		}
		return err
	})
	return names
}

// TestInitOnAFullDiskLeavesNothing checks that init writes its files
// beside the spec directory and moves them in at the end: on a full disk
// it left a partial spec (a complete shadow.cue, an empty endpoint file),
// which a second init refused without --force; now a failed init leaves
// the tree as it was, old specs under --force included.
func TestInitOnAFullDiskLeavesNothing(t *testing.T) {
	recording, err := filepath.Abs("../../fixtures/traffic/demo.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(recording)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("new directory", func(t *testing.T) {
		work := t.TempDir()
		code, stderr := initWithNoRoom(t, work, "--from", recording, "specs/users")
		if code != 2 || !strings.Contains(stderr, "file too large") || !strings.Contains(stderr, "specs/users/shadow.cue") {
			t.Errorf("exit %d, stderr %q; want 2 naming specs/users/shadow.cue and the reason", code, stderr)
		}
		if got := listTree(t, work); len(got) != 0 {
			t.Errorf("a failed init left %v", got)
		}
		// Nothing to --force: the same command, with room, writes the spec.
		r := shadowtest(t, "init", "--from", recording, filepath.Join(work, "specs", "users"))
		if r.code != 0 {
			t.Fatalf("init with room: exit %d\n%s", r.code, r.stderr)
		}
		// The directory's mode is what mkdir gives (the temporary one is 0700).
		probe := filepath.Join(t.TempDir(), "probe")
		os.Mkdir(probe, 0o755)
		want, _ := os.Stat(probe)
		if info, err := os.Stat(filepath.Join(work, "specs", "users")); err != nil || info.Mode() != want.Mode() {
			t.Errorf("spec directory: %v %v, want mode %v", info, err, want.Mode())
		}
		if r := shadowtest(t, "vet", filepath.Join(work, "specs", "users")); r.code != 0 {
			t.Errorf("vet of the written spec: exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("existing directory with --force", func(t *testing.T) {
		work := t.TempDir()
		dir := filepath.Join(work, "users")
		old := "package shadow\n\n// my edits\n"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "demo.jsonl"), data, 0o644)
		os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(old), 0o644)
		before := listTree(t, work)
		code, stderr := initWithNoRoom(t, work, "--force", "--from", "users/demo.jsonl", "users")
		if code != 2 || !strings.Contains(stderr, "file too large") {
			t.Errorf("exit %d, stderr %q; want 2 with the reason", code, stderr)
		}
		if got := listTree(t, work); !reflect.DeepEqual(got, before) {
			t.Errorf("a failed init changed the tree: %v, was %v", got, before)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "shadow.cue")); string(got) != old {
			t.Errorf("a failed init --force overwrote shadow.cue: %q", got)
		}
	})
}
