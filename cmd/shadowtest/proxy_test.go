//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/runner"
)

// liveSession is a `shadowtest proxy` process in front of two loopback
// services.
type liveSession struct {
	t                    *testing.T
	dir                  string
	cmd                  *exec.Cmd
	stdout               bytes.Buffer
	stderr               syncBuffer
	front, admin         string
	shadowHits, prodHits atomic.Int64
	exited               chan error
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startLive writes a spec for prod and shadow answering with the given
// prices and starts a proxy session on free ports.
func startLive(t *testing.T, prodPrice, shadowPrice string, extra ...string) *liveSession {
	t.Helper()
	s := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	answer := func(price string, hits *atomic.Int64) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"path":%q,"price":%s}`, r.URL.Path, price)
		}
	}
	prod := httptest.NewServer(answer(prodPrice, &s.prodHits))
	t.Cleanup(prod.Close)
	shadow := httptest.NewServer(answer(shadowPrice, &s.shadowHits))
	t.Cleanup(shadow.Close)
	os.WriteFile(filepath.Join(s.dir, "shadow.cue"), []byte(fmt.Sprintf(`package shadow

targets: {
	prod: url:   %q
	shadow: url: %q
}
mirror: concurrency: 4
endpoints: items: {path: "/items/{id}", thresholds: minSamples: 5}
`, prod.URL, shadow.URL)), 0o644)
	args := append([]string{"--results", filepath.Join(s.dir, "results.json")}, extra...)
	s.start(args, "SHADOWTEST_ADMIN_TOKEN=admin-secret-token")
	return s
}

// start runs the proxy on s.dir's spec on free ports, with --junit in s.dir
// and the extra flags and environment, and waits until it listens.
func (s *liveSession) start(extra []string, env ...string) {
	t := s.t
	t.Helper()
	args := append([]string{"proxy", s.dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--junit", filepath.Join(s.dir, "junit.xml")}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	s.cmd.Stdout = &s.stdout
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { s.cmd.Process.Kill() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.Write([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(line, "shadowtest: proxying "); ok {
				fields := strings.Fields(rest)
				s.front, s.admin = "http://"+fields[0], "http://"+fields[len(fields)-1]
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("the proxy did not start: %s", s.stderr.String())
	}
}

func (s *liveSession) get(path string) string {
	s.t.Helper()
	resp, err := http.Get(s.front + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// stop sends sig and returns the exit code.
func (s *liveSession) stop(sig os.Signal) int {
	s.t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("the session did not end: %s", s.stderr.String())
	}
	return s.cmd.ProcessState.ExitCode()
}

func TestProxySessionIsJudgedOnSIGTERM(t *testing.T) {
	for _, tc := range []struct {
		name, shadowPrice string
		code              int
	}{
		{"matching shadow passes", "12.5", exitPass},
		{"differing shadow fails", "13", exitFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startLive(t, "12.5", tc.shadowPrice)
			for i := range 10 {
				if got, want := s.get(fmt.Sprintf("/items/%d", i)), fmt.Sprintf(`{"path":"/items/%d","price":12.5}`, i); got != want {
					t.Fatalf("client got %q, want prod's %q", got, want)
				}
			}
			for deadline := time.Now().Add(10 * time.Second); s.shadowHits.Load() < 10 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if code := s.stop(syscall.SIGTERM); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, s.stdout.String(), s.stderr.String())
			}
			results, err := observe.ReadFile(filepath.Join(s.dir, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if e := results.Endpoint("items"); e.Pairs != 10 {
				t.Fatalf("pairs %d, want 10", e.Pairs)
			}
			junit, err := os.ReadFile(filepath.Join(s.dir, "junit.xml"))
			if err != nil || !bytes.Contains(junit, []byte("match rate")) {
				t.Fatalf("junit: %v %s", err, junit)
			}
			if !strings.Contains(s.stderr.String(), "kill switch self-test: mirroring stopped") {
				t.Fatalf("no self-test line: %s", s.stderr.String())
			}
		})
	}
}

func TestProxySessionEndsAfterDuration(t *testing.T) {
	s := startLive(t, "1", "1", "--duration", "2s")
	for i := range 6 {
		s.get(fmt.Sprintf("/items/%d", i))
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("--duration did not end the session")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != exitPass {
		t.Fatalf("exit %d\n%s", code, s.stderr.String())
	}
}

func TestProxySignalsDriveTheKillSwitch(t *testing.T) {
	s := startLive(t, "1", "1")
	s.get("/items/1")
	waitFor(t, "the first copy", func() bool { return s.shadowHits.Load() == 1 })
	s.cmd.Process.Signal(syscall.SIGUSR1)
	waitFor(t, "the trip", func() bool { return strings.Contains(s.stderr.String(), "kill switch tripped by signal") })
	for i := range 5 {
		if got := s.get(fmt.Sprintf("/items/%d", i)); !strings.Contains(got, `"price":1`) {
			t.Fatalf("client got %q while the switch was tripped", got)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := s.shadowHits.Load(); n != 1 {
		t.Fatalf("the shadow got %d requests, want none after SIGUSR1", n)
	}
	status := s.adminGet("/status")
	if !strings.Contains(status, `"killed": true`) || !strings.Contains(status, "SIGUSR1 received") {
		t.Fatalf("/status: %s", status)
	}
	s.cmd.Process.Signal(syscall.SIGUSR2)
	waitFor(t, "the reset", func() bool { return strings.Contains(s.stderr.String(), "kill switch reset") })
	for i := range 5 {
		s.get(fmt.Sprintf("/items/%d", i))
	}
	waitFor(t, "mirroring again", func() bool { return s.shadowHits.Load() == 6 })
	if code := s.stop(syscall.SIGTERM); code != exitPass {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
	if strings.Contains(s.stderr.String()+s.stdout.String(), "admin-secret-token") {
		t.Fatal("the admin token reached the output")
	}
}

func TestProxySIGHUPKeepsTheOldSpecOnError(t *testing.T) {
	s := startLive(t, "1", "1")
	specFile := filepath.Join(s.dir, "shadow.cue")
	good, _ := os.ReadFile(specFile)
	os.WriteFile(specFile, append(good, []byte("mirror: bogus: 1\n")...), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the refusal", func() bool {
		return strings.Contains(s.stderr.String(), "spec not reloaded, the old one stays in force")
	})
	s.get("/items/1")
	waitFor(t, "the old spec mirroring", func() bool { return s.shadowHits.Load() == 1 })

	// A valid change (sampling rate) is taken.
	os.WriteFile(specFile, append(good, []byte("mirror: {mode: \"sampled\", rate: 0.5}\n")...), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool { return strings.Contains(s.stderr.String(), "SIGHUP: spec reloaded") })
	if status := s.adminGet("/status"); !strings.Contains(status, `"samplingRate": 0.5`) {
		t.Fatalf("/status after reload: %s", status)
	}
	s.stop(syscall.SIGTERM)
}

func (s *liveSession) adminGet(path string) string {
	s.t.Helper()
	resp, err := http.Get(s.admin + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestProxyRecordingRoundTrip(t *testing.T) {
	const token, apiKey, cookie = "sk-live-4f9a8b7c6d5e4f3a", "key-0a1b2c3d4e5f", "sess-9z8y7x6w5v"
	rec := filepath.Join(t.TempDir(), "live.jsonl.gz")
	s := startLive(t, "12.5", "12.5", "--record", rec)
	for i := range 12 {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/items/%d?api_key=%s", s.front, i, apiKey), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Cookie", "session="+cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s.get("/nowhere") // not an endpoint of the spec: not recorded
	if code := s.stop(syscall.SIGTERM); code != exitPass {
		t.Fatalf("proxy exit %d: %s", code, s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "recorded 12 exchange(s)") {
		t.Fatalf("recorder count: %s", s.stderr.String())
	}
	f, err := os.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	f.Close()
	for _, secret := range []string{token, apiKey, cookie} {
		if bytes.Contains(plain, []byte(secret)) {
			t.Fatalf("the recording holds a secret %q:\n%s", secret, plain)
		}
	}
	t.Logf("first line: %s", bytes.SplitN(plain, []byte("\n"), 2)[0])
	if n := bytes.Count(plain, []byte("\n")); n != 12 {
		t.Fatalf("%d lines recorded, want 12", n)
	}

	// init --from reads the recording, run replays it against the same
	// services.
	specs := filepath.Join(t.TempDir(), "specs")
	if r := shadowtest(t, "init", "--from", rec, specs); r.code != exitPass {
		t.Fatalf("init: %d %s %s", r.code, r.stdout, r.stderr)
	}
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"price":12.5}`, r.URL.Path)
	}))
	defer prod.Close()
	r := shadowtest(t, "run", specs, "-t", "prod="+prod.URL, "-t", "shadow="+prod.URL, "--junit", filepath.Join(specs, "junit.xml"))
	t.Logf("run: %s", r.stdout)
	if r.code != exitPass || !strings.Contains(r.stdout, "12") {
		t.Fatalf("run over the recording: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestProxyTunesTheCollector: the proxy runs with runner.GCPercent and a
// memory limit unless GOGC and GOMEMLIMIT say otherwise, as its own
// /metrics shows.
func TestProxyTunesTheCollector(t *testing.T) {
	gc := func() (gogc, limit float64) {
		s := startLive(t, "1", "1")
		families, err := testenv.ScrapeMetrics(s.admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		value := func(name string) float64 {
			if f := families[name]; f != nil && len(f.Metric) == 1 && f.Metric[0].Gauge != nil {
				return f.Metric[0].Gauge.GetValue()
			}
			t.Fatalf("no %s in the proxy's /metrics", name)
			return 0
		}
		gogc, limit = value("go_gc_gogc_percent"), value("go_gc_gomemlimit_bytes")
		s.stop(syscall.SIGTERM)
		return gogc, limit
	}
	if gogc, limit := gc(); gogc != runner.GCPercent || limit <= 0 || limit >= math.MaxInt64 {
		t.Errorf("by default: GOGC %v, memory limit %v; want %d and a limit", gogc, limit, runner.GCPercent)
	}
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "1GiB")
	if gogc, limit := gc(); gogc != 100 || limit != 1<<30 {
		t.Errorf("with GOGC=100 GOMEMLIMIT=1GiB: %v, %v", gogc, limit)
	}
}

// TestProxyStartsWithTheKillFilePresent: an operator's kill file in place
// when the proxy (re)starts stops mirroring, never prod's traffic: the
// proxy serves prod and sends the shadow nothing; the session is aborted
// (exit 3) as any session still tripped at its end (redteam6).
func TestProxyStartsWithTheKillFilePresent(t *testing.T) {
	killFile := filepath.Join(t.TempDir(), "shadow.off")
	os.WriteFile(killFile, nil, 0o644)
	s := startLive(t, "1", "1", "--kill-file", killFile)
	for i := range 3 {
		if got := s.get(fmt.Sprintf("/items/%d", i)); !strings.Contains(got, `"price":1`) {
			t.Fatalf("client got %q", got)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n, p := s.shadowHits.Load(), s.prodHits.Load(); n != 0 || p != 3 {
		t.Fatalf("prod got %d requests and the shadow %d, want 3 and none", p, n)
	}
	if code := s.stop(syscall.SIGTERM); code != exitAborted || !strings.Contains(s.stderr.String(), "mirroring starts stopped") {
		t.Fatalf("exit %d, want 3 with the switch tripped from the start:\n%s", code, s.stderr.String())
	}
}
