//go:build !windows

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// slowSpec writes a spec directory replaying 400 requests to prod and to a
// shadow that takes 300ms per answer, so that a run lasts about a minute
// unless something stops it. It returns the directory and the number of
// requests the shadow has received so far.
func slowSpec(t *testing.T) (string, func() int64) {
	t.Helper()
	answer := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}
	prod := httptest.NewServer(http.HandlerFunc(answer))
	t.Cleanup(prod.Close)
	var received atomic.Int64
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		select {
		case <-time.After(300 * time.Millisecond):
			answer(w, r)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(shadow.Close)
	dir := t.TempDir()
	var traffic strings.Builder
	for i := range 400 {
		fmt.Fprintf(&traffic, `{"request":{"method":"GET","url":"/items/%d"}}`+"\n", i)
	}
	os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(traffic.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(fmt.Sprintf(`package shadow

targets: {
	prod: url:   %q
	shadow: url: %q
}
traffic: [{jsonl: "t.jsonl"}]
mirror: concurrency: 2
endpoints: items: path: "/items/{id}"
`, prod.URL, shadow.URL)), 0o644)
	return dir, received.Load
}

// interruptRun starts a run of a slow spec, calls stop once the shadow has
// received a few requests, and returns the exit code, output and JUnit.
func interruptRun(t *testing.T, stop func(p *os.Process, dir string), extra ...string) (result, junitFile) {
	t.Helper()
	dir, received := slowSpec(t)
	junit := filepath.Join(dir, "junit.xml")
	cmd := exec.Command(binary, append([]string{"run", dir, "--junit", junit}, extra...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); received() < 4; {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the run never reached the shadow")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop(cmd.Process, dir)
	var err error
	select {
	case err = <-exited:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running a minute after the signal\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	}
	r := result{code, stdout.String(), stderr.String()}
	j := readJUnit(t, junit)
	data, _ := os.ReadFile(junit)
	for _, internal := range []string{".go:", "goroutine ", "/pkg/mod/"} {
		if bytes.Contains(data, []byte(internal)) {
			t.Errorf("the JUnit holds %q (internal source or a goroutine dump):\n%s", internal, data)
		}
	}
	// Ginkgo says "Interrupted by User" of SIGTERM too: a cancelled CI job
	// is no user. The JUnit and the summary name the signal.
	if bytes.Contains(data, []byte("by User")) || strings.Contains(r.stdout, "by User") || strings.Contains(r.stderr, "by User") {
		t.Errorf("Ginkgo's \"Interrupted by User\" in the JUnit or the summary:\n%s\nstdout:\n%s", data, r.stdout)
	}
	if m := regexp.MustCompile(`shadowtest: (SIG[A-Z]+) received`).FindStringSubmatch(r.stderr); m != nil {
		sig := m[1]
		if !bytes.Contains(data, []byte("Interrupted by "+sig)) || !strings.Contains(r.stdout, "Interrupted by "+sig) {
			t.Errorf("the JUnit or the summary does not say \"Interrupted by %s\":\n%s\nstdout:\n%s", sig, data, r.stdout)
		}
	}
	return r, j
}

func TestSignalsWritePartialResultsAndExitThree(t *testing.T) {
	signal := func(sigs ...os.Signal) func(p *os.Process, dir string) {
		return func(p *os.Process, dir string) {
			for _, s := range sigs {
				p.Signal(s)
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	tests := []struct {
		name   string
		stop   func(p *os.Process, dir string)
		file   bool   // stop by creating the --kill-file instead
		stderr string // what stderr must say
		run    string // what the run test case's failure must say, "" when Ginkgo interrupts it
		reason string
	}{
		{"SIGTERM", signal(syscall.SIGTERM), false, "SIGTERM received", "", "a CI job cancelled or timed out"},
		{"SIGINT", signal(os.Interrupt), false, "SIGINT received", "", "Ctrl-C"},
		{"SIGINT twice", signal(os.Interrupt, os.Interrupt), false, "SIGINT received", "", "an impatient second Ctrl-C still gets the partial results"},
		{"SIGUSR1", signal(syscall.SIGUSR1), false, "kill switch tripped by signal", "kill switch tripped by signal", "the external kill switch"},
		{"kill file", nil, true, "kill switch tripped by kill file", "kill switch tripped by kill file", "the kill file appears"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := tt.stop
			var flags []string
			if tt.file {
				killFile := filepath.Join(t.TempDir(), "shadow.off")
				flags = []string{"--kill-file", killFile}
				stop = func(p *os.Process, dir string) { os.WriteFile(killFile, nil, 0o644) }
			}
			r, j := interruptRun(t, stop, flags...)
			if r.code != 3 {
				t.Fatalf("exit %d, want 3 (%s)\nstdout:\n%s\nstderr:\n%s", r.code, tt.reason, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, r.stderr)
			}
			if !strings.Contains(r.stdout, "ENDPOINT") || !strings.Contains(r.stdout, "items") {
				t.Errorf("no summary on stdout:\n%s", r.stdout)
			}
			assertQuiet(t, r)
			cases := j.cases()
			if len(cases) == 0 {
				t.Fatal("the JUnit has no test case")
			}
			// The thresholds the run ended before are not judged, and not
			// by the spec's policy: the summary and the JUnit said
			// "skipped" with no reason, under "by the spec's own policy".
			if strings.Contains(r.stdout, "spec's own policy") {
				t.Errorf("the summary puts the thresholds left unjudged under the spec's own policy:\n%s", r.stdout)
			}
			for name, c := range cases {
				if c.Skipped != nil && !strings.Contains(c.Skipped.Message, "the run ended") {
					t.Errorf("%s: skipped with message %q, want one saying the run ended before it was judged", name, c.Skipped.Message)
				}
			}
			if tt.run != "" {
				c := cases["shadowtest.run/run: replays all traffic"]
				if c.Failure != nil || c.Error == nil || !strings.Contains(c.Error.Message, tt.run) {
					t.Errorf("run test case is not an <error> saying %q: %+v", tt.run, c)
				}
			}
		})
	}
}

// TestGuardedSpecDeclaresEveryThreshold runs specs/guarded against the live
// demo services and checks the threshold test cases it declares. Only the
// error-rate, monitored-p99 and match-rate cases must pass: the latency
// bounds depend on this machine's load, so their outcome is not asserted.
func TestGuardedSpecDeclaresEveryThreshold(t *testing.T) {
	prod, shadow := startDemo(t, false)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := shadowtest(t, "run", "specs/guarded", "-t", "prod="+prod, "-t", "shadow="+shadow, "--junit", junit, "--quiet")
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit %d, want 0 or 1 (a latency bound may fail on a loaded machine)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cases := readJUnit(t, junit).cases()
	mustPass := []string{
		"shadowtest.get-user/get-user: match rate >= 0.99 (min 20 pairs)",
		"shadowtest.get-user/get-user: shadow error rate <= prod's + 0.01",
		"shadowtest.health/health: shadow p99 latency (monitored)",
	}
	declared := []string{
		"shadowtest.get-order/get-order: shadow p50 latency <= 3 x prod's",
		"shadowtest.get-order/get-order: shadow p99 latency <= 500ms",
	}
	for _, name := range append(mustPass, declared...) {
		if _, ok := cases[name]; !ok {
			t.Errorf("no test case %q", name)
		}
	}
	for _, name := range mustPass {
		if c := cases[name]; c.Failure != nil || c.Error != nil || c.Skipped != nil {
			t.Errorf("%s did not pass: %+v", name, c)
		}
	}
}

// TestAReaderLeavingStdoutLeavesTheOtherOutputs: `run --log - | head`
// closed the pipe after a few lines and SIGPIPE ended the run at once:
// exit 141, no message, and the JUnit asked for never written. The log is
// now reported as not written (exit 2) and the JUnit is written.
func TestAReaderLeavingStdoutLeavesTheOtherOutputs(t *testing.T) {
	prod, shadow := startDemo(t, false)
	dir := t.TempDir()
	junit := filepath.Join(dir, "junit.xml")
	har, _ := filepath.Abs("../../fixtures/traffic/demo.har")
	// No ignore rule: every pair differs (requestId), a log line each.
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\n\ntraffic: [{har: \""+har+"\"}]\n"+
		"endpoints: users: path: \"/users/{id}\"\nendpoints: orders: path: \"/orders/{id}\"\n"), 0o644)
	cmd := exec.Command(binary, "run", dir, "-t", "prod="+prod, "-t", "shadow="+shadow,
		"--log", "-", "--junit", junit, "--quiet")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 100) // what `head -c 100` reads before it leaves
	if _, err := io.ReadFull(out, first); err != nil {
		t.Fatal(err)
	}
	out.Close()
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInvalid || !strings.Contains(stderr.String(), "--log - not written") {
		t.Fatalf("run whose --log - reader left: %v, want exit 2 saying the log was not written\nstderr:\n%s", err, stderr.String())
	}
	if _, err := os.Stat(junit); err != nil {
		t.Errorf("the JUnit was not written: %v\nstderr:\n%s", err, stderr.String())
	}
}
