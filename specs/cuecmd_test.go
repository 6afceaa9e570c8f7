package specs

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework/spec"
)

// cueIn runs the real cue command in dir with the environment env added and
// returns its combined output.
func cueIn(t *testing.T, cue, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cue, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyCUE copies the .cue files of the example dir into to.
func copyCUE(t *testing.T, dir, to string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.cue"))
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCueExportEveryExample exports every example spec with the real
// `cue export`, from a project directory holding specs/ and the vendored
// schema, as a user runs it; the example that imports the schema must
// resolve #Traffic's disjunction and take -t.
func TestCueExportEveryExample(t *testing.T) {
	cue := cueBinary(t)
	project := t.TempDir()
	for _, dir := range specDirs(t) {
		copyCUE(t, dir, filepath.Join(project, "specs", dir))
	}
	if _, err := spec.Vendor(project); err != nil {
		t.Fatal(err)
	}
	for _, dir := range specDirs(t) {
		t.Run(dir, func(t *testing.T) {
			args := []string{"export", "./specs/" + dir + "/"}
			if dir == "imported" {
				args = append(args, "-t", "shadow=http://10.0.0.6:8080")
			}
			out, err := cueIn(t, cue, project, []string{"CUE_REGISTRY=none"}, args...)
			if err != nil {
				t.Fatalf("cue %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			var exported struct {
				Targets struct {
					Shadow struct{ URL string } `json:"shadow"`
				} `json:"targets"`
				Traffic   []map[string]any `json:"traffic"`
				Endpoints map[string]any   `json:"endpoints"`
			}
			if err := json.Unmarshal([]byte(out), &exported); err != nil {
				t.Fatalf("cue export output is not JSON: %v\n%s", err, out)
			}
			if len(exported.Endpoints) == 0 || len(exported.Traffic) == 0 {
				t.Errorf("export lacks endpoints or traffic:\n%s", out)
			}
			for i, tr := range exported.Traffic {
				if len(tr) != 1 {
					t.Errorf("traffic[%d] = %v, want exactly one format", i, tr)
				}
			}
			if dir == "imported" && exported.Targets.Shadow.URL != "http://10.0.0.6:8080" {
				t.Errorf("shadow url %q, want the -t value", exported.Targets.Shadow.URL)
			}
		})
	}
}

// startRegistry starts `cue mod registry` on a free loopback port and
// returns the CUE_REGISTRY value for it.
func startRegistry(t *testing.T, cue string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(cue, "mod", "registry", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cue mod registry did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr + "+insecure"
}

// TestSchemaModuleThroughRegistry publishes the schema module
// (schemas/cue.mod/module.cue) and a team's own module to a registry on
// loopback with `cue mod publish`, then uses them from a project that
// depends on both: the cue command and shadowtest's loader resolve the
// imports through CUE_REGISTRY, and the loader refuses without it.
func TestSchemaModuleThroughRegistry(t *testing.T) {
	cue := cueBinary(t)
	registry := startRegistry(t, cue)
	env := []string{"CUE_REGISTRY=" + registry, "CUE_CACHE_DIR=" + t.TempDir()}
	run := func(dir string, args ...string) string {
		t.Helper()
		out, err := cueIn(t, cue, dir, env, args...)
		if err != nil {
			t.Fatalf("cue %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
		return out
	}

	// The schema module as it is in the repository.
	schemaModule := t.TempDir()
	copyCUE(t, filepath.Join("..", "schemas"), schemaModule)
	copyCUE(t, filepath.Join("..", "schemas", "cue.mod"), filepath.Join(schemaModule, "cue.mod"))
	run(schemaModule, "mod", "publish", "v0.1.0")

	// A team's shared rules, in a module of its own.
	rules := writeTree(t, map[string]string{
		"rules.cue": "package rules\n\n#Ignore: [\"$..requestId\"]\n",
	})
	run(rules, "mod", "init", "example.com/rules@v0")
	run(rules, "mod", "edit", "--source", "self")
	run(rules, "mod", "publish", "v0.1.0")

	project := writeTree(t, map[string]string{
		"specs/t.jsonl": `{"request":{"method":"GET","url":"/users/1"}}` + "\n",
		"specs/shop.cue": `package shadow

import (
	"github.com/shadowtest/shadowtest/schemas:shadow"
	"example.com/rules"
)

shadow.#Spec

traffic: [{jsonl: "t.jsonl"}]
defaults: ignore: rules.#Ignore
endpoints: "get-user": path: "/users/{id}"
`,
	})
	run(project, "mod", "init", "example.com/shop@v0")
	run(project, "mod", "tidy")
	if mod, _ := os.ReadFile(filepath.Join(project, "cue.mod", "module.cue")); !strings.Contains(string(mod), spec.SchemaModulePath+"@v0") {
		t.Fatalf("cue mod tidy did not add the schema module:\n%s", mod)
	}
	run(project, "vet", "-c=false", "./specs/")
	out := run(project, "export", "-e", "defaults.ignore", "./specs/")
	if !strings.Contains(out, "$..requestId") {
		t.Errorf("cue export of the imported rules: %s", out)
	}

	// shadowtest's loader: the same module, the same registry.
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	plan, err := spec.Load(filepath.Join(project, "specs"), spec.Options{})
	if err != nil {
		t.Fatalf("Load with CUE_REGISTRY: %v", err)
	}
	if got := plan.Endpoints[0].Rules.Ignore; len(got) != 1 || got[0] != "$..requestId" {
		t.Errorf("ignore from the registry module = %q", got)
	}
	if _, err := spec.Vendor(project); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("vendoring next to a registry dependency: %v, want a refusal", err)
	}
	t.Setenv("CUE_REGISTRY", "")
	if _, err := spec.Load(filepath.Join(project, "specs"), spec.Options{}); err == nil || !strings.Contains(err.Error(), "CUE_REGISTRY") {
		t.Errorf("Load without CUE_REGISTRY: %v, want an error naming CUE_REGISTRY", err)
	}
}

// writeTree writes files (slash-separated names) into a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCueExportOfTheFilesIsWhatLoads checks what REFERENCE.md says of a
// spec directory below another one of the same package inside a CUE
// module: `cue export specs/users/*.cue` shows the endpoints shadowtest
// loads, and `cue export ./specs/users` also unifies specs/*.cue, which
// shadowtest leaves out and names (Plan.LeftOut).
func TestCueExportOfTheFilesIsWhatLoads(t *testing.T) {
	cue := cueBinary(t)
	project := t.TempDir()
	write := func(name, content string) {
		path := filepath.Join(project, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cue.mod/module.cue", "module: \"example.com/shop@v0\"\nlanguage: version: \"v0.12.0\"\n")
	write("specs/orders.cue", "package shadow\n\nendpoints: orders: {method: \"GET\", path: \"/orders/{id}\"}\n")
	write("specs/users/users.cue", "package shadow\n\nendpoints: users: {method: \"GET\", path: \"/users/{id}\"}\n")
	endpoints := func(args ...string) []string {
		out, err := cueIn(t, cue, project, nil, args...)
		if err != nil {
			t.Fatalf("cue %v: %v\n%s", args, err, out)
		}
		var v struct{ Endpoints map[string]any }
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("cue %v: %v\n%s", args, err, out)
		}
		var names []string
		for name := range v.Endpoints {
			names = append(names, name)
		}
		slices.Sort(names)
		return names
	}
	if got := endpoints("export", "./specs/users"); !slices.Equal(got, []string{"orders", "users"}) {
		t.Errorf("cue export ./specs/users: endpoints %v, want the parent's orders unified too", got)
	}
	if got := endpoints("export", "specs/users/users.cue"); !slices.Equal(got, []string{"users"}) {
		t.Errorf("cue export specs/users/users.cue: endpoints %v, want [users]", got)
	}
	plan, err := spec.Load(filepath.Join(project, "specs", "users"), spec.Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Endpoints) != 1 || plan.Endpoints[0].Name != "users" || len(plan.LeftOut) != 1 || filepath.Base(plan.LeftOut[0]) != "orders.cue" {
		t.Errorf("Load: endpoints %+v, left out %v; want users alone and orders.cue named", plan.Endpoints, plan.LeftOut)
	}
}
