package ci

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/shadowtest/shadowtest/fixtures/demo"
)

// template is one pipeline file and the shell commands it runs, in order.
type template struct {
	file     string
	commands []string
}

func readYAML(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s does not parse as YAML: %v", file, err)
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", file)
	}
	return docs
}

// shellKeys are the keys whose values the CI systems run as shell
// commands: GitHub's run, GitLab's script, a Kubernetes container's args.
var shellKeys = map[string]bool{"run": true, "script": true, "args": true}

// shellLines walks any YAML value and collects the shell commands that run
// shadowtest, in pipeline order.
func shellLines(v any, inShell bool, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		// YAML maps decode unordered; the keys that hold commands are
		// visited in a fixed order that matches the templates' layout.
		for _, key := range orderedKeys(v) {
			shellLines(v[key], shellKeys[key], out)
		}
	case []any:
		for _, e := range v {
			shellLines(e, inShell, out)
		}
	case string:
		if !inShell {
			return
		}
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "shadowtest ") {
				*out = append(*out, line)
			}
		}
	}
}

// orderedKeys sorts a map's keys so that jobs come in pipeline order:
// shard jobs before merge jobs, steps in their list order (lists keep order).
func orderedKeys(m map[string]any) []string {
	rank := map[string]int{"shard": 0, "shadow": 0, "merge": 1, "gate": 1}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			ri, rj := rank[keys[i]], rank[keys[j]]
			if rj < ri || (ri == rj && keys[j] < keys[i]) {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

var jenkinsSh = regexp.MustCompile(`sh '([^']*)'`)

func templates(t *testing.T) []template {
	t.Helper()
	var out []template
	for _, file := range []string{"github/shadowtest.yml", "github/shadowtest-sharded.yml", "gitlab/.gitlab-ci.yml", "kubernetes/shadowtest-job.yaml"} {
		var commands []string
		for _, doc := range readYAML(t, file) {
			shellLines(doc, false, &commands)
		}
		out = append(out, template{file, commands})
	}
	data, err := os.ReadFile("jenkins/Jenkinsfile")
	if err != nil {
		t.Fatal(err)
	}
	var commands []string
	for _, m := range jenkinsSh.FindAllStringSubmatch(string(data), -1) {
		if strings.HasPrefix(m[1], "shadowtest ") {
			commands = append(commands, m[1])
		}
	}
	out = append(out, template{"jenkins/Jenkinsfile", commands})
	for _, tpl := range out {
		if len(tpl.commands) == 0 {
			t.Fatalf("%s: no shadowtest command found", tpl.file)
		}
	}
	return out
}

func TestGitHubWorkflowsPassActionlint(t *testing.T) {
	files, _ := filepath.Glob("github/*.yml")
	cmd := exec.Command("go", append([]string{"tool", "actionlint"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

// TestTemplateCommandsRunAgainstTheDemo executes every shadowtest command
// of every template, in order, with the built binary against the demo
// services: a healthy shadow must pass each pipeline, and a shadow with the
// demo's regression must fail its gate with exit 1. In the sharded
// templates, a shard job that left no results fails the gate with exit 3
// and a JUnit that names the missing shard.
func TestTemplateCommandsRunAgainstTheDemo(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "shadowtest"), "../cmd/shadowtest")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building shadowtest: %v\n%s", err, out)
	}
	specs, err := filepath.Abs("../specs/demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, scenario := range []struct {
		regression bool
		lostShard  string // a shard job that writes nothing
		gate       int
	}{{false, "", 0}, {true, "", 1}, {false, "3", 3}} {
		regression := scenario.regression
		prod, err := demo.Start(demo.V1, demo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		shadow, err := demo.Start(demo.V2, demo.Options{Regression: regression})
		if err != nil {
			t.Fatal(err)
		}
		for _, tpl := range templates(t) {
			if scenario.lostShard != "" && !strings.Contains(strings.Join(tpl.commands, "\n"), "--shard") {
				continue
			}
			t.Run(tpl.file, func(t *testing.T) {
				work := t.TempDir()
				env := append(os.Environ(),
					"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
					"NO_COLOR=1", "SPECS="+specs, "PROD_URL="+prod.URL, "SHADOW_URL="+shadow.URL,
					"SHARDS=4", "CI_NODE_TOTAL=4")
				gateCode := 0
				for _, command := range tpl.commands {
					command = strings.ReplaceAll(command, "/results/", filepath.Join(work, "results")+"/")
					runs := []string{""}
					if strings.Contains(command, "--shard") {
						runs = []string{"1", "2", "3", "4"}
					}
					for _, shard := range runs {
						if shard != "" && shard == scenario.lostShard {
							continue
						}
						cmd := exec.Command("bash", "-c", "mkdir -p out results && "+command)
						cmd.Dir = work
						cmd.Env = append(env, "SHARD="+shard, "CI_NODE_INDEX="+shard, "JOB_COMPLETION_INDEX="+zeroBased(shard))
						out, err := cmd.CombinedOutput()
						code := exitCode(t, err)
						sharded := shard != ""
						switch {
						case sharded && code != 0:
							t.Errorf("%s (shard %s): exit %d\n%s", command, shard, code, tail(out))
						case !sharded && strings.HasPrefix(command, "shadowtest vet") && code != 0:
							t.Errorf("%s: exit %d\n%s", command, code, tail(out))
						case !sharded && !strings.HasPrefix(command, "shadowtest vet"):
							gateCode = code
							if code != scenario.gate && code != 0 && code != 1 {
								t.Errorf("%s: exit %d\n%s", command, code, tail(out))
							}
						}
					}
				}
				if gateCode != scenario.gate {
					t.Errorf("regression=%v, shard lost %q: the gate exited %d, want %d", regression, scenario.lostShard, gateCode, scenario.gate)
				}
				junits, _ := filepath.Glob(filepath.Join(work, "*", "junit*.xml"))
				if len(junits) == 0 {
					t.Errorf("no JUnit file written")
				}
				if scenario.lostShard != "" {
					gate, _ := filepath.Glob(filepath.Join(work, "*", "junit.xml"))
					data := []byte{}
					if len(gate) == 1 {
						data, _ = os.ReadFile(gate[0])
					}
					if !strings.Contains(string(data), "shard 3/4 missing") {
						t.Errorf("the gate's JUnit does not name the missing shard: %v", gate)
					}
				}
			})
		}
		prod.Close()
		shadow.Close()
	}
}

func zeroBased(shard string) string {
	if shard == "" {
		return ""
	}
	return string(rune(shard[0] - 1))
}

func exitCode(t *testing.T, err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func tail(out []byte) string {
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return string(out)
}
