package rpc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.proto"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "imports.proto"), []byte("syntax = \"proto3\";\nimport \"zero.proto\";\n"), 0o644)
	check := func(what string, f func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: %v, want a not-a-regular-file error", what, err)
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
