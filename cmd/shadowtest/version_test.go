package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionLine(t *testing.T) {
	tests := []struct {
		info   *debug.BuildInfo
		want   string
		reason string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "shadowtest v1.2.0 (commit unknown, go1.26.8)", "a tagged go install has no commit stamp"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261125235339-c9115c2a1b2c"}}, "shadowtest v0.0.0-20261125235339-c9115c2a1b2c (commit c9115c2a1b2c, go1.26.8)", "go install module@commit: the pseudo-version holds the commit"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}, "shadowtest (devel) (commit abc123, modified, go1.26.8)", "a build in a checkout is stamped by the go command"},
	}
	for _, tt := range tests {
		if got := versionLine(tt.info); got != tt.want {
			t.Errorf("got %q, want %q (%s)", got, tt.want, tt.reason)
		}
	}
}

// TestVersionFromLinker builds the binary as a release does, with the
// version and commit set by -ldflags, and runs `shadowtest version`.
func TestVersionFromLinker(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "shadowtest")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X main.version=v1.4.2 -X main.commit=0123456789abcdef0123456789abcdef01234567", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("shadowtest version: %v\n%s", err, out)
	}
	want := "shadowtest v1.4.2 (commit 0123456789abcdef0123456789abcdef01234567, " + runtime.Version() + ")\n"
	if string(out) != want {
		t.Errorf("shadowtest version printed %q, want %q", out, want)
	}
}
