package rpc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
	"github.com/shadowtest/shadowtest/framework"
)

// TestSpecFilesMustBeRegular: a careless or hostile spec names /dev/zero
// (directly or through a symlink in its directory), a FIFO or a /proc
// file as its descriptor set, a .proto or a CA file. Each is a clear
// error at once: before, /dev/zero was read until the process ran out of
// memory and a FIFO blocked it.
func TestSpecFilesMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	os.Symlink("/dev/zero", filepath.Join(dir, "zero.binpb"))
	os.Symlink("/dev/zero", filepath.Join(dir, "zero.proto"))
	os.Symlink("/proc/self/environ", filepath.Join(dir, "environ.proto"))
	testenv.MakeFIFO(t, filepath.Join(dir, "fifo.proto"))
	os.WriteFile(filepath.Join(dir, "imports.proto"), []byte("syntax = \"proto3\";\nimport \"zero.proto\";\n"), 0o644)
	check := func(what string, f func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			// Confined .proto files (TestProtosStayInTheRepository) are
			// refused for leading out of the spec's directory first.
			if err == nil || !strings.Contains(err.Error(), "not a regular file") && !strings.Contains(err.Error(), "outside the spec's repository") {
				t.Errorf("%s: %v, want a not-a-regular-file or outside error", what, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: still reading after 20s", what)
		}
	}
	for _, path := range []string{"/dev/zero", filepath.Join(dir, "zero.binpb"), filepath.Join(dir, "fifo.proto"), "/proc/self/environ"} {
		check("descriptorSet "+path, func() error { _, err := ReadDescriptorSet(path); return err })
		check("tls.ca "+path, func() error {
			_, err := NewClient(framework.Target{Name: "shadow", URL: "grpcs://127.0.0.1:1", TLS: framework.TLS{CA: path}}, dir, nil, 0)
			return err
		})
	}
	for _, protos := range [][]string{{"zero.proto"}, {"fifo.proto"}, {"environ.proto"}, {"imports.proto"}} {
		check("protos "+protos[0], func() error { _, err := Compile(context.Background(), dir, protos, nil); return err })
	}
	check("importPaths /dev", func() error {
		_, err := Compile(context.Background(), dir, []string{"/dev/zero"}, []string{"/dev"})
		return err
	})
}

// TestProtosStayInTheRepository: a spec's .proto files, import paths,
// imports and symlinks may not lead out of the spec's repository (the
// nearest directory above the spec with .git or cue.mod), but specs of one
// repository share its proto tree.
func TestProtosStayInTheRepository(t *testing.T) {
	repo := t.TempDir()
	outside := t.TempDir()
	write := func(path, text string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(repo, ".git"), 0o755)
	write(filepath.Join(outside, "secret.proto"), "syntax = \"proto3\";\nmessage Secret { string key = 1; }\n")
	write(filepath.Join(repo, "proto", "shared.proto"), "syntax = \"proto3\";\nmessage Shared { string id = 1; }\n")
	spec := filepath.Join(repo, "specs", "users")
	write(filepath.Join(spec, "users.proto"), "syntax = \"proto3\";\nimport \"shared.proto\";\nmessage User { Shared s = 1; }\n")
	rel, _ := filepath.Rel(filepath.Join(repo, "proto"), filepath.Join(outside, "secret.proto"))
	write(filepath.Join(spec, "escape.proto"), "syntax = \"proto3\";\nimport \""+filepath.ToSlash(rel)+"\";\n")
	os.Symlink(outside, filepath.Join(spec, "linked"))

	// Shared protos of the repository are fine.
	if _, err := Compile(context.Background(), spec, []string{"users.proto", "../../proto/shared.proto"}, []string{".", "../../proto"}); err != nil {
		t.Fatalf("protos inside the repository: %v", err)
	}
	for _, c := range []struct {
		reason              string
		protos, importPaths []string
	}{
		{"a relative path out of the repository", []string{filepath.Join("..", "..", "..", filepath.Base(outside), "secret.proto")}, nil},
		{"an absolute path", []string{filepath.Join(outside, "secret.proto")}, []string{outside}},
		{"an import path out of the repository", []string{"users.proto"}, []string{".", "../../.."}},
		{"an import that climbs out", []string{"escape.proto"}, []string{".", "../../proto"}},
		{"a symlink to a directory outside", []string{"linked/secret.proto"}, nil},
	} {
		_, err := Compile(context.Background(), spec, c.protos, c.importPaths)
		if err == nil || !strings.Contains(err.Error(), "outside the spec's repository") {
			t.Errorf("%s: %v, want an outside-the-repository error", c.reason, err)
		}
	}
	// Without .git or cue.mod above it, the spec directory is the limit.
	lone := filepath.Join(outside, "spec")
	write(filepath.Join(lone, "a.proto"), "syntax = \"proto3\";\n")
	if SourceRoot(lone) != lone {
		t.Errorf("SourceRoot(%s) = %s, want the spec directory", lone, SourceRoot(lone))
	}
	if _, err := Compile(context.Background(), lone, []string{"../secret.proto"}, []string{".."}); err == nil {
		t.Error("a spec without a repository read a .proto above its directory")
	}
}
