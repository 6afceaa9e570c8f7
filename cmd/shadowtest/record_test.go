//go:build !windows

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/live"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// liveWithSpec starts a proxy session on the spec text (with %[1]q and
// %[2]q standing for prod's and the shadow's URLs) in front of two
// services answering like startLive's.
func liveWithSpec(t *testing.T, spec string, extra ...string) *liveSession {
	t.Helper()
	s := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	answer := func(hits interface{ Add(int64) int64 }) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Set-Cookie", "session=resp-cookie-6c1d2e3f4a5b")
			fmt.Fprintf(w, `{"path":%q,"price":12.5,"note":%q}`, r.URL.Path, noteOf(r.URL.Path))
		}
	}
	prod := httptest.NewServer(answer(&s.prodHits))
	t.Cleanup(prod.Close)
	shadow := httptest.NewServer(answer(&s.shadowHits))
	t.Cleanup(shadow.Close)
	if err := os.WriteFile(filepath.Join(s.dir, "shadow.cue"), fmt.Appendf(nil, spec, prod.URL, shadow.URL), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start(append([]string{"--results", filepath.Join(s.dir, "results.json")}, extra...), "SHADOWTEST_ADMIN_TOKEN=admin-secret-token")
	return s
}

const recordSpec = `package shadow

targets: {
	prod: url:   %[1]q
	shadow: url: %[2]q
}
mirror: concurrency: 4
endpoints: {
	items: {path: "/items/{id}", thresholds: minSamples: 5}
	create: {method: "POST", path: "/items", thresholds: minSamples: 1}
}
`

// sendWithSecrets sends n GETs and n POSTs carrying secrets in headers,
// query and body.
func sendWithSecrets(t *testing.T, front string, n int, secrets []string) {
	t.Helper()
	token, apiKey, cookie, password := secrets[0], secrets[1], secrets[2], secrets[3]
	for i := range n {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/items/%d?api_key=%s", front, i, apiKey), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Cookie", "session="+cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		post, _ := http.NewRequest("POST", front+"/items", strings.NewReader(fmt.Sprintf(`{"user":"u%d","password":%q}`, i, password)))
		post.Header.Set("Content-Type", "application/json")
		post.Header.Set("X-Api-Key", apiKey)
		resp, err = http.DefaultClient.Do(post)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// noteOf is 512 characters that do not compress, the same for a path on
// every service: recordings grow, and prod and shadow still agree.
func noteOf(path string) string {
	var b strings.Builder
	for i := range 8 {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s-%d", path, i))
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

var recordSecrets = []string{"sk-live-4f9a8b7c6d5e4f3a", "key-0a1b2c3d4e5f", "sess-9z8y7x6w5v", "hunter2-Pa55w0rd-x"}

// plainRecordings is the decompressed content of every finished file of
// dir, checking that each is a whole gzip stream.
func plainRecordings(t *testing.T, dir string) (files []string, plain []byte) {
	t.Helper()
	files, err := live.RecordFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s is not a whole gzip file: %v", f, err)
		}
		plain = append(plain, b...)
	}
	return files, plain
}

func TestProxyRecordsToARotatedDirectoryRoundTrip(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "recordings") + "/"
	s := liveWithSpec(t, recordSpec, "--record", rec, "--record-max-size", "2KiB", "--record-max-files", "0")
	sendWithSecrets(t, s.front, 40, recordSecrets)
	s.get("/nowhere") // not an endpoint of the spec: not recorded
	if metrics := s.adminGet("/metrics"); !strings.Contains(metrics, "shadowtest_live_record_files_total") {
		t.Fatalf("no recorder metrics:\n%s", metrics)
	}
	if code := s.stop(syscall.SIGTERM); code != exitPass {
		t.Fatalf("proxy exit %d: %s", code, s.stderr.String())
	}
	files, plain := plainRecordings(t, rec)
	if len(files) < 3 {
		t.Fatalf("%d files: want the 80 exchanges rotated over several files of 2 KiB", len(files))
	}
	if !strings.Contains(s.stderr.String(), fmt.Sprintf("recorded 80 exchange(s) to %d file(s) in %s", len(files), rec)) {
		t.Fatalf("recorder summary: %s", s.stderr.String())
	}
	// Writes are recorded too (the spec's write policy only keeps them
	// from the shadow); 40 GETs and 40 POSTs.
	if n := bytes.Count(plain, []byte("\n")); n != 80 {
		t.Fatalf("%d lines recorded, want 80", n)
	}
	for _, secret := range append(recordSecrets, "resp-cookie-6c1d2e3f4a5b", "admin-secret-token") {
		if bytes.Contains(plain, []byte(secret)) {
			t.Fatalf("the recording holds a secret %q", secret)
		}
	}

	// init --from DIR reads the directory; run replays it (the spec
	// names the directory) against the same kind of services.
	specs := filepath.Join(t.TempDir(), "specs")
	if r := shadowtest(t, "init", "--from", rec, specs); r.code != exitPass || !strings.Contains(r.stdout, "80 requests") {
		t.Fatalf("init --from DIR: %d %s %s", r.code, r.stdout, r.stderr)
	}
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"price":12.5,"note":%q}`, r.URL.Path, noteOf(r.URL.Path))
	}))
	defer service.Close()
	r := shadowtest(t, "run", specs, "-t", "prod="+service.URL, "-t", "shadow="+service.URL, "--junit", filepath.Join(specs, "junit.xml"))
	if r.code != exitPass || !strings.Contains(r.stdout, "40") {
		t.Fatalf("run over the recording directory: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// liveRecords reads a recording the way run does, cut tail included;
// -1 while there is nothing to read yet.
func liveRecords(path string) (n int) {
	r, err := traffic.Open(framework.TrafficSource{Format: "jsonl", Path: path}, "")
	if err != nil {
		return -1
	}
	defer r.Close()
	r = traffic.WarnCutShort(r, nil)
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}

// A proxy killed with SIGKILL leaves what it recorded up to about a second
// before, readable by init --from, run and traffic convert: the unfinished
// file is read up to its last flush, and the cut is said, naming the file
// and the line.
func TestProxyKilledWithSIGKILLKeepsItsRecording(t *testing.T) {
	for _, target := range []string{filepath.Join(t.TempDir(), "recordings") + "/", filepath.Join(t.TempDir(), "live.jsonl.gz")} {
		t.Run(filepath.Base(target), func(t *testing.T) {
			s := liveWithSpec(t, recordSpec, "--record", target, "--record-max-size", "8KiB")
			sendWithSecrets(t, s.front, 30, recordSecrets) // 60 exchanges
			sent := time.Now()
			path := strings.TrimSuffix(target, "/")
			for liveRecords(path) < 60 {
				if time.Since(sent) > 20*time.Second {
					t.Fatalf("after 20 s, %d of the 60 exchanges are readable from the live recording", liveRecords(path))
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("all 60 exchanges readable %s after the last request", time.Since(sent).Round(time.Millisecond))
			s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.exited

			specs := filepath.Join(t.TempDir(), "specs")
			r := shadowtest(t, "init", "--from", path, specs)
			if r.code != exitPass || !strings.Contains(r.stdout, "60 requests") {
				t.Fatalf("init --from the killed proxy's recording: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			// The cut is said, with the file and the line after the last
			// good record.
			if !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, ".jsonl.gz: line ") || !strings.Contains(r.stderr, "cut short") {
				t.Fatalf("init --from says nothing of the cut: %s", r.stderr)
			}
			service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"path":%q,"price":12.5,"note":%q}`, r.URL.Path, noteOf(r.URL.Path))
			}))
			defer service.Close()
			r = shadowtest(t, "run", specs, "-t", "prod="+service.URL, "-t", "shadow="+service.URL, "--junit", filepath.Join(specs, "junit.xml"), "--results", filepath.Join(specs, "results.json"))
			if r.code != exitPass || !strings.Contains(r.stderr, "cut short") {
				t.Fatalf("run over the killed proxy's recording: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			results, err := observe.ReadFile(filepath.Join(specs, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			pairs := int64(0)
			for _, e := range results.Endpoints {
				pairs += e.Pairs
			}
			if pairs != 30 { // the GETs; the POSTs are writes, skipped by the starter specs
				t.Fatalf("run compared %d pairs, want the 30 GETs recorded before the kill", pairs)
			}
			converted := filepath.Join(t.TempDir(), "out.jsonl")
			r = shadowtest(t, "traffic", "convert", path, converted)
			if r.code != exitPass || !strings.Contains(r.stdout, "60 exchanges written") || !strings.Contains(r.stderr, "cut short") {
				t.Fatalf("traffic convert: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			plain, _ := os.ReadFile(converted)
			for _, secret := range append(recordSecrets, "resp-cookie-6c1d2e3f4a5b", "admin-secret-token") {
				if bytes.Contains(plain, []byte(secret)) {
					t.Fatalf("the killed proxy's recording holds a secret %q", secret)
				}
			}
		})
	}
}

// A second proxy recording to the same directory or file would corrupt
// the first one's files: it stops at once, with exit 2, naming the
// first one's pid.
func TestASecondProxyCannotRecordToTheSameTarget(t *testing.T) {
	for _, target := range []string{filepath.Join(t.TempDir(), "recordings") + "/", filepath.Join(t.TempDir(), "live.jsonl.gz")} {
		first := liveWithSpec(t, recordSpec, "--record", target)
		first.get("/items/1")
		r := shadowtest(t, "proxy", first.dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--record", target, "--duration", "30s")
		want := fmt.Sprintf("another shadowtest proxy (pid %d) is recording to %s", first.cmd.Process.Pid, target)
		if r.code != exitInvalid || !strings.Contains(r.stderr, want) {
			t.Fatalf("%s: second proxy exit %d, want 2 and %q:\n%s", target, r.code, want, r.stderr)
		}
		if code := first.stop(syscall.SIGTERM); code == exitInvalid || code == exitAborted { // 1: too few pairs for the spec
			t.Fatalf("%s: the first proxy: exit %d\n%s", target, code, first.stderr.String())
		}
		if n := liveRecords(strings.TrimSuffix(target, "/")); n != 1 {
			t.Fatalf("%s: %d exchanges recorded, want the first proxy's one", target, n)
		}
	}
}

// A recording that fails mid-session (its directory removed and a file
// put in its place, or /dev/full) never touches prod's answers, is counted
// in the metrics while the session runs, is logged once, and the session
// does not end green: exit 2, an output not written.
func TestProxyRecordingThatFailsMidSessionIsNotGreen(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "recordings")
	targets := []string{rec + "/"}
	if _, err := os.Stat("/dev/full"); err == nil {
		targets = append(targets, "/dev/full")
	}
	for _, target := range targets {
		s := liveWithSpec(t, recordSpec, "--record", target)
		check := func(i int) {
			path := fmt.Sprintf("/items/%d", i)
			if got, want := s.get(path), fmt.Sprintf(`{"path":%q,"price":12.5,"note":%q}`, path, noteOf(path)); got != want {
				t.Fatalf("%s: client got %q, want prod's answer", target, got)
			}
		}
		for i := range 10 {
			check(i)
		}
		if target != "/dev/full" {
			waitFor(t, "the first exchanges flushed", func() bool { return liveRecords(rec) == 10 })
			if err := os.RemoveAll(rec); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(rec, []byte("not a directory"), 0o644)
		}
		for i := range 10 {
			check(10 + i)
		}
		failed := 0.0
		waitFor(t, "the lost exchanges in the metrics", func() bool {
			failed = 0
			families, err := testenv.ScrapeMetrics(s.admin + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range families["shadowtest_live_record_skipped_exchanges_total"].GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetValue() == live.RecordWriteFailed {
						failed = m.GetCounter().GetValue()
					}
				}
			}
			return failed == 20
		})
		code := s.stop(syscall.SIGTERM)
		log := s.stderr.String()
		if code != exitInvalid || !strings.Contains(log, "20 lost: write failed") || !strings.Contains(log, "--record "+target+" not written whole") {
			t.Fatalf("%s: exit %d, want 2 with the loss said:\n%s", target, code, log)
		}
		if n := strings.Count(log, "exchanges are dropped and counted"); n != 1 {
			t.Fatalf("%s: the failure logged %d times, want once:\n%s", target, n, log)
		}
		for _, secret := range []string{"admin-secret-token"} {
			if strings.Contains(log, secret) {
				t.Fatalf("the log holds a secret")
			}
		}
	}
}

func TestProxyRecordFlagsAreChecked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\ntargets: {prod: url: \"http://127.0.0.1:1\", shadow: url: \"http://127.0.0.1:2\"}\nendpoints: a: path: \"/a\"\n"), 0o644)
	for _, tc := range []struct{ args, want string }{
		{"--record-max-size 12XB", `--record-max-size "12XB": want a size of at least 1KiB`},
		{"--record-max-size 10", `--record-max-size "10": want a size of at least 1KiB`},
		{"--record-max-files -1", "--record-max-files -1: want 0 (keep all) or more"},
		{"--record-rate 2", "--record-rate 2: want 0 < rate <= 1"},
	} {
		args := append([]string{"proxy", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--record", filepath.Join(dir, "rec") + "/"}, strings.Fields(tc.args)...)
		if r := shadowtest(t, args...); r.code != exitInvalid || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %s", tc.args, r.code, r.stderr)
		}
	}
	if r := shadowtest(t, "proxy", dir, "--record", "/proc/nope/rec/"); r.code != exitInvalid || !strings.Contains(r.stderr, "--record /proc/nope/rec/ cannot be written") {
		t.Errorf("unwritable directory: exit %d, stderr %s", r.code, r.stderr)
	}
}

func TestProxyNeedsNoTrafficFile(t *testing.T) {
	spec := recordSpec + "traffic: [{jsonl: \"captures/missing.jsonl\"}]\n"
	s := liveWithSpec(t, spec)
	s.get("/items/1")
	waitFor(t, "the copy", func() bool { return s.shadowHits.Load() == 1 })
	if code := s.stop(syscall.SIGTERM); code == exitInvalid {
		t.Fatalf("proxy refused a spec whose traffic file is missing: %s", s.stderr.String())
	}
	// run still says where the missing file is named.
	r := shadowtest(t, "run", s.dir)
	if r.code != exitInvalid || !strings.Contains(r.stderr, "shadow.cue:12:11") || !strings.Contains(r.stderr, "traffic file not found: captures/missing.jsonl") {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
}
