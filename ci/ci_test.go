package ci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/shadowtest/shadowtest/fixtures/demo"
)

// template is one pipeline file, the script that installs shadowtest (none
// for Kubernetes, which uses the release image), and the shadowtest commands
// it runs, in order.
type template struct {
	file     string
	install  string
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
// commands: GitHub's run, GitLab's script and before_script, a Kubernetes
// container's args.
var shellKeys = map[string]bool{"run": true, "script": true, "before_script": true, "args": true}

// shellLines walks any YAML value and collects the shell commands that run
// shadowtest, in pipeline order, and the scripts that install it (those
// that use SHADOWTEST_VERSION). A container that runs the release image
// without a command runs shadowtest with its args (exec form, $(VAR)
// expanded by Kubernetes).
func shellLines(v any, inShell bool, out, installs *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if image, _ := v["image"].(string); strings.HasPrefix(image, releaseImage+":") && v["command"] == nil {
			args, _ := v["args"].([]any)
			words := []string{"shadowtest"}
			for _, a := range args {
				words = append(words, `"`+kubeVar.ReplaceAllString(fmt.Sprint(a), "$${$1}")+`"`)
			}
			*out = append(*out, strings.Join(words, " "))
			return
		}
		// YAML maps decode unordered; the keys that hold commands are
		// visited in a fixed order that matches the templates' layout.
		for _, key := range orderedKeys(v) {
			shellLines(v[key], shellKeys[key], out, installs)
		}
	case []any:
		for _, e := range v {
			shellLines(e, inShell, out, installs)
		}
	case string:
		if !inShell {
			return
		}
		if strings.Contains(v, "SHADOWTEST_VERSION") {
			*installs = append(*installs, v)
			return
		}
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "shadowtest ") {
				*out = append(*out, line)
			}
		}
	}
}

// releaseImage is the image GoReleaser publishes (.goreleaser.yaml).
const releaseImage = "ghcr.io/shadowtest/shadowtest"

// kubeVar is Kubernetes' $(VAR) reference in a container's args.
var kubeVar = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// orderedKeys sorts a map's keys so that jobs come in pipeline order:
// shard jobs before merge jobs, steps in their list order (lists keep order).
func orderedKeys(m map[string]any) []string {
	rank := map[string]int{"vet": -1, "shard": 0, "shadow": 0, "merge": 1, "gate": 1}
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

var (
	jenkinsSh       = regexp.MustCompile(`sh '([^']*)'`)
	jenkinsShScript = regexp.MustCompile(`(?s)sh '''\n(.*?)'''`)
)

// yamlTemplates are the pipelines written in YAML; the Jenkinsfile is read
// apart.
var yamlTemplates = []string{"github/shadowtest.yml", "github/shadowtest-sharded.yml", "gitlab/.gitlab-ci.yml", "kubernetes/shadowtest-job.yaml", "kubernetes/shadowtest-sharded.yaml"}

func templates(t *testing.T) []template {
	t.Helper()
	var out []template
	for _, file := range yamlTemplates {
		var commands, installs []string
		for _, doc := range readYAML(t, file) {
			shellLines(doc, false, &commands, &installs)
		}
		out = append(out, template{file, strings.Join(dedupe(installs), "\n"), commands})
	}
	data, err := os.ReadFile("jenkins/Jenkinsfile")
	if err != nil {
		t.Fatal(err)
	}
	jenkins := template{file: "jenkins/Jenkinsfile"}
	for _, m := range jenkinsSh.FindAllStringSubmatch(string(data), -1) {
		if strings.HasPrefix(m[1], "shadowtest ") {
			jenkins.commands = append(jenkins.commands, m[1])
		}
	}
	for _, m := range jenkinsShScript.FindAllStringSubmatch(string(data), -1) {
		if strings.Contains(m[1], "SHADOWTEST_VERSION") {
			// Groovy's ''' strings turn \\ into \.
			jenkins.install = strings.ReplaceAll(m[1], `\\`, `\`)
		}
	}
	out = append(out, jenkins)
	for _, tpl := range out {
		if len(tpl.commands) == 0 {
			t.Fatalf("%s: no shadowtest command found", tpl.file)
		}
		if tpl.install == "" && !strings.HasPrefix(tpl.file, "kubernetes/") {
			t.Fatalf("%s: no install script (a script using SHADOWTEST_VERSION) found", tpl.file)
		}
	}
	return out
}

// dedupe drops repeated install scripts: each job of a sharded pipeline
// installs the same way.
func dedupe(scripts []string) []string {
	var out []string
	for _, s := range scripts {
		if !slices.Contains(out, s) {
			out = append(out, s)
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

// TestTemplateCommandsRunAgainstTheDemo runs every template as its CI
// system would: the install script fetches the pinned release archive (from
// a loopback server laid out like the GitHub release, holding a static
// binary built from this checkout) and checks its checksum; then every
// shadowtest command runs, in order, with the installed binary against the
// demo services. A healthy shadow must pass each pipeline, and a shadow with
// the demo's regression must fail its gate with exit 1. In the sharded
// templates, a shard job that left no results fails the gate with exit 3
// and a JUnit that names the missing shard. Kubernetes runs the release
// image, so its commands use the built binary directly.
func TestTemplateCommandsRunAgainstTheDemo(t *testing.T) {
	binary := staticBinary(t)
	bin := filepath.Dir(binary)
	version := pinnedVersion(t)
	releases := serveRelease(t, binary, version, false)
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
				env := append(withoutPath(os.Environ()),
					"NO_COLOR=1", "SPECS="+specs, "PROD_URL="+prod.URL, "SHADOW_URL="+shadow.URL,
					"SHARDS=4", "CI_NODE_TOTAL=4",
					"HOME="+work, "WORKSPACE="+work, "GITHUB_PATH="+filepath.Join(work, "github-path"),
					"SHADOWTEST_VERSION="+version, "SHADOWTEST_RELEASES="+releases)
				path := installed(t, tpl, work, env)
				if path == "" {
					path = bin + string(os.PathListSeparator) + os.Getenv("PATH")
				}
				env = append(env, "PATH="+path)
				gateCode := 0
				for _, command := range tpl.commands {
					command = strings.ReplaceAll(command, "/results/", filepath.Join(work, "results")+"/")
					command = strings.ReplaceAll(command, "/tmp/junit.xml", filepath.Join(work, "out", "junit.xml"))
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

// installed runs the template's install script the way its CI system runs
// it (Jenkins' sh is a POSIX sh with -e, the others bash with -e), checks
// that it put shadowtest on the template's PATH, and returns that PATH; ""
// for a template without an install script.
func installed(t *testing.T, tpl template, work string, env []string) string {
	t.Helper()
	if tpl.install == "" {
		return ""
	}
	shell := []string{"bash", "-e", "-o", "pipefail", "-c"}
	if strings.HasPrefix(tpl.file, "jenkins/") {
		shell = []string{"sh", "-e", "-c"}
	}
	cmd := exec.Command(shell[0], append(shell[1:], tpl.install)...)
	cmd.Dir = work
	cmd.Env = append(env, "PATH="+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: the install script failed: %v\n%s", tpl.file, err, out)
	}
	// Where each system puts it: GitHub adds $HOME/.local/bin through
	// $GITHUB_PATH, GitLab exports it in before_script, Jenkins prepends
	// $WORKSPACE/.bin with withEnv.
	dirs := []string{filepath.Join(work, ".local", "bin"), filepath.Join(work, ".bin")}
	if data, err := os.ReadFile(filepath.Join(work, "github-path")); err == nil {
		dirs = append(strings.Fields(string(data)), dirs...)
	}
	path := strings.Join(append(dirs, os.Getenv("PATH")), string(os.PathListSeparator))
	where := exec.Command("sh", "-c", "command -v shadowtest")
	where.Env = append(env, "PATH="+path)
	out, err := where.Output()
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), work+string(os.PathSeparator)) {
		t.Fatalf("%s: after the install script, shadowtest on PATH is %q, want the installed one under %s", tpl.file, out, work)
	}
	return path
}

// TestInstallRefusesABadChecksum serves an archive whose checksum does not
// match: every install script must fail and install nothing.
func TestInstallRefusesABadChecksum(t *testing.T) {
	version := pinnedVersion(t)
	releases := serveRelease(t, staticBinary(t), version, true)
	for _, tpl := range templates(t) {
		if tpl.install == "" {
			continue
		}
		work := t.TempDir()
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", tpl.install)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+work, "WORKSPACE="+work, "GITHUB_PATH="+filepath.Join(work, "github-path"),
			"SHADOWTEST_VERSION="+version, "SHADOWTEST_RELEASES="+releases)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%s: the install script accepted an archive with a wrong checksum\n%s", tpl.file, out)
		}
		for _, dir := range []string{".local/bin", ".bin"} {
			if _, err := os.Stat(filepath.Join(work, dir, "shadowtest")); err == nil {
				t.Errorf("%s: a binary with a wrong checksum was installed in %s", tpl.file, dir)
			}
		}
	}
}

// TestTemplatesPinOneRelease checks that every template installs the same
// pinned release (a version, never latest) and that the Kubernetes images
// carry the same tag.
func TestTemplatesPinOneRelease(t *testing.T) {
	version := pinnedVersion(t)
	files := append(slices.Clone(yamlTemplates), "jenkins/Jenkinsfile", "github/shadowtest-report.yml")
	image := regexp.MustCompile(`shadowtest:(\S+)`)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.Contains(text, "@latest") || strings.Contains(text, ":latest") {
			t.Errorf("%s: unpinned (@latest or :latest)", file)
		}
		for _, m := range pinRE.FindAllStringSubmatch(text, -1) {
			if m[1] != version {
				t.Errorf("%s pins SHADOWTEST_VERSION %s, other templates %s", file, m[1], version)
			}
		}
		for _, m := range image.FindAllStringSubmatch(text, -1) {
			if m[1] != version {
				t.Errorf("%s uses the image tag %s, want %s like SHADOWTEST_VERSION", file, m[1], version)
			}
		}
	}
}

var pinRE = regexp.MustCompile(`SHADOWTEST_VERSION\s*[:=]\s*'?(v[0-9]+\.[0-9]+\.[0-9]+)`)

// pinnedVersion is the SHADOWTEST_VERSION the GitHub template pins.
func pinnedVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("github/shadowtest.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := pinRE.FindStringSubmatch(string(data))
	if m == nil {
		t.Fatal("github/shadowtest.yml pins no SHADOWTEST_VERSION")
	}
	return m[1]
}

var (
	buildOnce  sync.Once
	builtPath  string
	buildError error
)

// staticBinary builds shadowtest once per test binary, as the release does
// (.goreleaser.yaml: static, trimmed paths), and returns its path.
func staticBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "shadowtest-ci-")
		if err != nil {
			buildError = err
			return
		}
		builtPath = filepath.Join(dir, "shadowtest")
		build := exec.Command("go", "build", "-trimpath", "-o", builtPath, "../cmd/shadowtest")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			buildError = fmt.Errorf("building shadowtest: %v\n%s", err, out)
		}
	})
	if buildError != nil {
		t.Fatal(buildError)
	}
	return builtPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtPath != "" {
		os.RemoveAll(filepath.Dir(builtPath))
	}
	os.Exit(code)
}

// serveRelease serves, on loopback, what a GitHub release of version holds
// for this machine: /vX.Y.Z/shadowtest_X.Y.Z_linux_ARCH.tar.gz and
// /vX.Y.Z/checksums.txt, named as .goreleaser.yaml names them. With
// tamper, the checksum is wrong. It returns the base URL, the value of
// SHADOWTEST_RELEASES.
func serveRelease(t *testing.T, binary, version string, tamper bool) string {
	t.Helper()
	v := strings.TrimPrefix(version, "v")
	archive := fmt.Sprintf("shadowtest_%s_linux_%s.tar.gz", v, runtime.GOARCH)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"README.md", 0o644, []byte("# shadowtest\n")}, {"shadowtest", 0o755, data}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if tamper {
		sum[0] ^= 0xff
	}
	files := map[string][]byte{
		"/" + version + "/" + archive:    buf.Bytes(),
		"/" + version + "/checksums.txt": []byte(fmt.Sprintf("%x  %s\n%x  shadowtest_%s_darwin_arm64.tar.gz\n", sum, archive, sha256.Sum256(nil), v)),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func withoutPath(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "PATH=") {
			out = append(out, e)
		}
	}
	return out
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
