package spec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree writes files (path: content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestParentDirectoryFilesLeftOut checks that, inside a CUE module, a spec
// directory is its own files: cue/load also unifies the files of the same
// package in parent directories up to the module root, so `run specs/users`
// read another spec's endpoints from specs/*.cue, and its traffic paths,
// written relative to specs/, were resolved against specs/users (traffic
// file not found, or the wrong file). Plan.LeftOut names those files.
func TestParentDirectoryFilesLeftOut(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"cue.mod/module.cue":            "module: \"example.com/shop@v0\"\nlanguage: version: \"v0.12.0\"\n",
		"specs/orders.cue":              "package shadow\n\ntraffic: [{jsonl: \"data/orders.jsonl\"}]\n\nendpoints: orders: {method: \"GET\", path: \"/orders/{id}\"}\n",
		"specs/data/orders.jsonl":       "",
		"specs/users/users.cue":         "package shadow\n\ntraffic: [{jsonl: \"users.jsonl\"}]\n\nendpoints: users: {method: \"GET\", path: \"/users/{id}\"}\n",
		"specs/users/users.jsonl":       "",
		"specs/users/data/orders.jsonl": "", // the wrong file the parent's path would have named
	})
	t.Chdir(root)
	dir := filepath.Join("specs", "users")
	plan, err := Load(dir, Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := endpointNames(plan); !reflect.DeepEqual(got, []string{"users"}) {
		t.Errorf("endpoints = %v, want the directory's own [users]", got)
	}
	if len(plan.Traffic) != 1 || plan.Traffic[0].Path != "users.jsonl" {
		t.Errorf("traffic = %+v, want users.jsonl alone", plan.Traffic)
	}
	if want := []string{filepath.Join("specs", "orders.cue")}; !reflect.DeepEqual(plan.LeftOut, want) {
		t.Errorf("LeftOut = %v, want %v", plan.LeftOut, want)
	}

	// The parent directory is a spec of its own, and loads as one.
	parent, err := Load("specs", Options{})
	if err != nil {
		t.Fatalf("Load(specs): %v", err)
	}
	if got := endpointNames(parent); !reflect.DeepEqual(got, []string{"orders"}) || len(parent.LeftOut) != 0 {
		t.Errorf("specs: endpoints %v, left out %v; want [orders] and nothing", got, parent.LeftOut)
	}

	// A spec that needs the parent's fields fails on its own files, at
	// file:line:col with the CUE path; a mistake in the parent is not its.
	writeTree(t, root, map[string]string{
		"specs/orders.cue":      "package shadow\n\ntargets: prod: url: \"http://127.0.0.1:1\"\nbogus: 1\n",
		"specs/users/users.cue": "package shadow\n\ntraffic: [{jsonl: \"users.jsonl\"}]\n\nendpoints: users: {method: \"GET\", path: \"/users/{id}\", tolerence: 1}\n",
	})
	_, err = Load(dir, Options{})
	var specErr *Error
	if !errors.As(err, &specErr) {
		t.Fatalf("err = %v, want an *Error", err)
	}
	text := err.Error()
	if !strings.Contains(text, filepath.Join("specs", "users", "users.cue")+":5:") || !strings.Contains(text, "endpoints.users.tolerence") {
		t.Errorf("error does not name users.cue:5 and the path:\n%s", text)
	}
	if strings.Contains(text, "bogus") || strings.Contains(text, root) {
		t.Errorf("error reads the parent's file or prints an absolute path:\n%s", text)
	}
}
