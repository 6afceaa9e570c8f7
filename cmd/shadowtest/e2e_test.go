package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shadowtest/shadowtest/fixtures/demo"
	"github.com/shadowtest/shadowtest/fixtures/testenv"
)

// binary is the shadowtest binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shadowtest-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "shadowtest")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building shadowtest: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// shadowtest runs the built binary from the repository root.
func shadowtest(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

type junitCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Data    string `xml:",chardata"`
	} `xml:"failure"`
	Error *struct {
		Message string `xml:"message,attr"`
	} `xml:"error"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
}

type junitFile struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name  string      `xml:"name,attr"`
		Cases []junitCase `xml:"testcase"`
	} `xml:"testsuite"`
}

// readJUnit reads a JUnit file the binary wrote, after validating it
// against junit-10.xsd (the schema of the Jenkins xUnit plugin).
func readJUnit(t *testing.T, path string) junitFile {
	t.Helper()
	testenv.ValidateJUnit(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no JUnit written: %v", err)
	}
	var j junitFile
	if err := xml.Unmarshal(data, &j); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	return j
}

// cases maps "classname/name" to the test case.
func (j junitFile) cases() map[string]junitCase {
	out := map[string]junitCase{}
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			out[c.Classname+"/"+c.Name] = c
		}
	}
	return out
}

var demoEndpoints = []string{"get-user", "list-products", "get-product", "get-order", "health"}

func TestDemoPasses(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := shadowtest(t, "demo", "--junit", junit)
	if r.code != 0 {
		t.Fatalf("demo exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	j := readJUnit(t, junit)
	const perEndpoint = 3 // match rate, shadow error rate, shadow p99 (monitored)
	if j.Failures != 0 || j.Tests != perEndpoint*len(demoEndpoints)+1 {
		t.Errorf("JUnit: %d tests, %d failures; want %d and 0", j.Tests, j.Failures, perEndpoint*len(demoEndpoints)+1)
	}
	cases := j.cases()
	for _, e := range demoEndpoints {
		c, ok := cases["shadowtest."+e+"/"+e+": match rate >= 0.99 (min 20 pairs)"]
		if !ok || c.Failure != nil || c.Skipped != nil {
			t.Errorf("%s: match-rate case missing or not passed: %+v", e, c)
		}
		if !strings.Contains(r.stdout, e) {
			t.Errorf("summary does not list %s", e)
		}
	}
	if !strings.Contains(r.stdout, "junit: "+junit) {
		t.Errorf("summary does not name the JUnit file:\n%s", r.stdout)
	}
}

func TestDemoWithRegressionFailsOnOrders(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := shadowtest(t, "demo", "--with-regression", "--junit", junit)
	if r.code != 1 {
		t.Fatalf("demo --with-regression exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	j := readJUnit(t, junit)
	if j.Failures != 1 {
		t.Errorf("%d failures, want only the orders endpoint to fail", j.Failures)
	}
	c := j.cases()["shadowtest.get-order/get-order: match rate >= 0.99 (min 20 pairs)"]
	if c.Failure == nil {
		t.Fatalf("get-order did not fail: %+v", c)
	}
	for _, want := range []string{"threshold declared at specs/demo/shadow.cue:39", "endpoint GET /orders/{id} declared at specs/demo/orders.cue:3", "get-order: match rate 0.728 < 0.990 over 81 pairs (22 differ)", "missing $.currency: 22 pairs", `prod "EUR"`} {
		if !strings.Contains(c.Failure.Data, want) {
			t.Errorf("failure text lacks %q:\n%s", want, c.Failure.Data)
		}
	}
	if !strings.Contains(r.stdout, "get-order") || !strings.Contains(r.stdout, "0.7284") {
		t.Errorf("summary lacks the failing endpoint and its rate:\n%s", r.stdout)
	}
	assertQuiet(t, r)
	if n := strings.Count(r.stdout, "get-order: match rate 0.728 < 0.990"); n != 1 {
		t.Errorf("the failure is printed %d times, want once (in our summary):\n%s", n, r.stdout)
	}
}

// assertQuiet checks that a run printed only shadowtest's own report: no
// Ginkgo banner or progress dots, no position in Go source, no goroutine
// dump.
func assertQuiet(t *testing.T, r result) {
	t.Helper()
	out := r.stdout + r.stderr
	for _, noise := range []string{"[1] shadowtest", "specs •", "•", "Ran 16 of", "Summarizing", "[FAILED]", "[It]", ".go:", "goroutine ", "/pkg/mod/", "Ginkgo", "ginkgo"} {
		if strings.Contains(out, noise) {
			t.Errorf("the output holds %q (Ginkgo's report or internal source):\n%s", noise, out)
		}
	}
}

// startDemo starts the two demo services in-process, as live targets.
func startDemo(t *testing.T, regression bool) (prod, shadow string) {
	t.Helper()
	p, err := demo.Start("v1", demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, err := demo.Start("v2", demo.Options{Regression: regression})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return p.URL, s.URL
}

func closedPort(t *testing.T) string {
	// A socket bound to the port but not listening: connecting is refused,
	// and no other test's listener can take the port while the test runs
	// (a listener closed at once left the port free for reuse).
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}

func TestRunAgainstLiveServices(t *testing.T) {
	prod, shadow := startDemo(t, true)
	junit := filepath.Join(t.TempDir(), "out", "results.xml")
	r := shadowtest(t, "run", "specs/demo", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit)
	if r.code != 1 {
		t.Fatalf("run exit %d, want 1 (regression)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if c := readJUnit(t, junit).cases()["shadowtest.get-order/get-order: match rate >= 0.99 (min 20 pairs)"]; c.Failure == nil {
		t.Error("get-order passed against a shadow with the regression")
	}
}

func TestRunProdUnreachableAborts(t *testing.T) {
	_, shadow := startDemo(t, false)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := shadowtest(t, "run", "specs/demo", "-t", "prod="+closedPort(t), "-t", "shadow="+shadow, "--junit", junit)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "prod unreachable") {
		t.Errorf("stderr does not say prod is unreachable:\n%s", r.stderr)
	}
	c := readJUnit(t, junit).cases()["shadowtest.run/run: replays all traffic"]
	if c.Failure != nil || c.Error == nil || !strings.Contains(c.Error.Message, "prod unreachable") {
		t.Errorf("JUnit run case: %+v; want an <error> saying prod is unreachable", c)
	}
}

func TestRunShadowUnreachableCountsShadowErrors(t *testing.T) {
	prod, _ := startDemo(t, false)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := shadowtest(t, "run", "specs/demo", "-t", "prod="+prod, "-t", "shadow="+closedPort(t), "--junit", junit)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (every threshold fails, the run itself completes)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	c := readJUnit(t, junit).cases()["shadowtest.get-user/get-user: match rate >= 0.99 (min 20 pairs)"]
	if c.Failure == nil || !strings.Contains(c.Failure.Data, "error response: 75 pairs") || !strings.Contains(c.Failure.Data, "refused") {
		t.Errorf("get-user failure should count refused shadow connections: %+v", c.Failure)
	}
	if strings.Contains(r.stderr, "panic") {
		t.Errorf("panic:\n%s", r.stderr)
	}
}

func TestBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.har"), []byte(`{"log":{"entries":[{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"GET","url":"http://x/health","headers":[]},"response":{"status":200,"headers":[],"content":{"text":"ok"}}},{"request":{"url":"http://x/health"}}]}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\n\ntraffic: [{har: \"bad.har\"}]\nendpoints: health: path: \"/health\"\n"), 0o644)
	prod, shadow := startDemo(t, false)
	r := shadowtest(t, "run", dir, "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", filepath.Join(dir, "junit.xml"))
	if r.code != 2 || !strings.Contains(r.stderr, "bad.har: entry 2") {
		t.Errorf("malformed HAR: exit %d, stderr %q; want 2 naming the entry", r.code, r.stderr)
	}

	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\n\ntraffic: [{har: \"bad.har\"}]\nendpoints: health: {path: \"/health\", thresholds: matchRate: 1.5}\n"), 0o644)
	r = shadowtest(t, "vet", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "shadow.cue:4:") || !strings.Contains(r.stderr, "matchRate") {
		t.Errorf("vet: exit %d, stderr %q; want 2 with file:line:col and the path", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine") {
		t.Errorf("stack trace in vet output:\n%s", r.stderr)
	}

	r = shadowtest(t, "run", "specs/demo", "-t", "staging=http://127.0.0.1:1")
	if r.code != 2 {
		t.Errorf("bad -t flag: exit %d, want 2", r.code)
	}
}

func TestVetAndSchema(t *testing.T) {
	r := shadowtest(t, "vet", "specs/demo")
	if r.code != 0 || !strings.Contains(r.stdout, "ok (5 endpoints)") {
		t.Errorf("vet specs/demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = shadowtest(t, "schema")
	if r.code != 0 || !strings.Contains(r.stdout, "#Spec: {") || !strings.Contains(r.stdout, "// matchRate is") {
		t.Errorf("schema: exit %d, output lacks the documented schema", r.code)
	}
	r = shadowtest(t, "run", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
		t.Errorf("run --help: exit %d\n%s", r.code, r.stderr)
	}
}
