//go:build !windows

package main

import (
	"bytes"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestProxyRecordingHoldsNoMultipartSecret: a login form posted as
// multipart/form-data (what curl -F and browsers with a file input send)
// is recorded with its secret fields masked, a JSON part masked by name,
// and the other fields kept; the secrets are not in the recording, nor in
// any other output of the session.
func TestProxyRecordingHoldsNoMultipartSecret(t *testing.T) {
	s := secrets{}
	password, jsonToken, auth := s.new("multipart password"), s.new("multipart JSON part token"), s.new("Authorization")
	live := recordingProxy(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}, `login: {method: "POST", path: "/login", thresholds: minSamples: 1}`)

	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("user", "ada")
	w.WriteField("password", password)
	part, _ := w.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="profile"`}, "Content-Type": {"application/json"}})
	fmt.Fprintf(part, `{"nick":"ada","token":%q}`, jsonToken)
	w.Close()
	req, _ := http.NewRequest("POST", live.front+"/login", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	recording := live.finish()
	if !strings.Contains(live.stderr.String(), "recorded 1 exchange(s)") || !bytes.Contains(recording, []byte(`name=\"user\"\r\n\r\nada`)) {
		t.Fatalf("the exchange should be recorded with its other fields kept:\n%s\n%s", recording, live.stderr.String())
	}
	assertNoSecret(t, live.outputs(recording), s)
}

// recordingSession is a proxy session that records to rec and writes its
// log, HTML report and results to the files of files.
type recordingSession struct {
	*liveSession
	rec   string
	files map[string]string
}

// recordingProxy starts a recording proxy session (writes isolated) in
// front of a prod and a shadow that both answer with answer; endpoints
// is the CUE value of the spec's endpoints field.
func recordingProxy(t *testing.T, answer http.HandlerFunc, endpoints string) *recordingSession {
	t.Helper()
	prod := httptest.NewServer(answer)
	t.Cleanup(prod.Close)
	shadow := httptest.NewServer(answer)
	t.Cleanup(shadow.Close)
	live := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	os.WriteFile(filepath.Join(live.dir, "shadow.cue"), []byte(fmt.Sprintf(`package shadow

targets: {
	prod: url:   %q
	shadow: url: %q
}
mirror: writes: "isolated"
endpoints: `+endpoints+`
`, prod.URL, shadow.URL)), 0o644)
	r := &recordingSession{liveSession: live, rec: filepath.Join(live.dir, "live.jsonl"),
		files: map[string]string{"log": filepath.Join(live.dir, "log.jsonl"), "html": filepath.Join(live.dir, "report.html"), "results": filepath.Join(live.dir, "results.json")}}
	live.start([]string{"--record", r.rec, "--log", r.files["log"], "--html", r.files["html"], "--results", r.files["results"]})
	return r
}

// finish stops the session, which must pass, and returns its recording.
func (r *recordingSession) finish() []byte {
	r.t.Helper()
	if code := r.stop(syscall.SIGTERM); code != exitPass {
		r.t.Fatalf("proxy exit %d: %s", code, r.stderr.String())
	}
	recording, err := os.ReadFile(r.rec)
	if err != nil {
		r.t.Fatal(err)
	}
	return recording
}

// outputs is every output of the finished session, its recording's too.
func (r *recordingSession) outputs(recording []byte) map[string][]byte {
	all := map[string][]byte{"recording": recording, "stderr": []byte(r.stderr.String()), "stdout": r.stdout.Bytes()}
	for name, path := range r.files {
		all[name], _ = os.ReadFile(path)
	}
	return all
}

// TestProxyRecordSharesNoFileWithAnotherOutput: --record naming the file
// of --results (or --junit, through a symlink too) let one output
// overwrite the other at the session's end while the summary listed both
// as written. It is refused before anything listens, as two outputs on
// one file are.
func TestProxyRecordSharesNoFileWithAnotherOutput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\ntargets: {prod: url: \"http://127.0.0.1:1\", shadow: url: \"http://127.0.0.1:2\"}\nendpoints: a: path: \"/a\"\n"), 0o644)
	junit := filepath.Join(dir, "junit.xml")
	os.WriteFile(junit, []byte("<testsuites/>"), 0o644)
	os.Symlink(junit, filepath.Join(dir, "link.jsonl"))
	for _, tc := range [][]string{
		{"--record", filepath.Join(dir, "live.json"), "--results", filepath.Join(dir, "live.json")},
		{"--record", filepath.Join(dir, "link.jsonl"), "--junit", junit},
	} {
		args := append([]string{"proxy", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--duration", "1s"}, tc...)
		r := shadowtest(t, args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, "both write") || strings.Contains(r.stderr, "proxying") {
			t.Errorf("%s: exit %d, want 2 before listening\n%s", strings.Join(tc, " "), r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "live.json")); err == nil {
		t.Errorf("live.json was written")
	}
}

// TestRateNaNIsRefused: --rate NaN passed the range check (every
// comparison with NaN is false) and the run panicked writing the traffic
// digest, printing a Go stack trace with our source paths. It is refused
// like any rate out of range, by run and by proxy.
func TestRateNaNIsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\ntargets: {prod: url: \"http://127.0.0.1:1\", shadow: url: \"http://127.0.0.1:2\"}\ntraffic: [{jsonl: \"t.jsonl\"}]\nendpoints: a: path: \"/a\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"), 0o644)
	for _, args := range [][]string{
		{"run", dir, "--junit", "none", "--rate", "NaN"},
		{"proxy", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--junit", "none", "--rate", "NaN"},
	} {
		r := shadowtest(t, args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, "--rate NaN: want 0 < rate <= 1") || strings.Contains(r.stderr, "panic") {
			t.Errorf("%s: exit %d, want 2 and the rate's range\n%s", args[0], r.code, r.stderr)
		}
	}
}

// TestFlagsOutOfRangeAreRefused: a negative --concurrency or --rps was
// silently ignored (the run went on with the spec's setting), a negative
// --duration ran the proxy until a signal, and --record - wrote a file
// named "-". Each is refused with exit 2 naming the flag.
func TestFlagsOutOfRangeAreRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\ntargets: {prod: url: \"http://127.0.0.1:1\", shadow: url: \"http://127.0.0.1:2\"}\ntraffic: [{jsonl: \"t.jsonl\"}]\nendpoints: a: path: \"/a\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"), 0o644)
	proxy := []string{"proxy", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--junit", "none"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", dir, "--junit", "none", "--concurrency", "-3"}, "--concurrency -3:"},
		{[]string{"run", dir, "--junit", "none", "--rps", "-1"}, "--rps -1:"},
		{[]string{"run", dir, "--junit", "none", "--rps", "NaN"}, "--rps NaN:"},
		{[]string{"run", dir, "--junit", "none", "--rps", "1e-300"}, "--rps 1e-300:"},
		{append(slices.Clone(proxy), "--concurrency", "-1"), "--concurrency -1:"},
		{append(slices.Clone(proxy), "--duration", "-1s"), "--duration -1s:"},
		{append(slices.Clone(proxy), "--queue", "-2"), "--queue -2:"},
		{append(slices.Clone(proxy), "--record", "-"), "--record -:"},
		{append(slices.Clone(proxy), "--prod-client", "curl"), "--prod-client \"curl\":"},
	} {
		r := shadowtest(t, tc.args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "proxying") {
			t.Errorf("%s: exit %d, want 2 naming %q\n%s", strings.Join(tc.args[2:], " "), r.code, tc.want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join("../..", "-")); err == nil {
		t.Errorf("a file named - was written")
	}
}

// TestSpecCannotReadTheAdminToken: SHADOWTEST_ADMIN_TOKEN passed the
// allow-list (SHADOWTEST_*), so a spec could send the proxy's kill-switch
// token to a target of its choosing. The default variable is withheld in
// every command, and the one --admin-token-env names in the proxy.
func TestSpecCannotReadTheAdminToken(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, tc := range []struct {
		variable string
		args     []string
	}{
		{"SHADOWTEST_ADMIN_TOKEN", []string{"run", ".", "--junit", "none"}},
		{"SHADOWTEST_ADMIN_TOKEN", []string{"proxy", ".", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--junit", "none"}},
		{"SHADOW_CONTROL", []string{"proxy", ".", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--junit", "none", "--admin-token-env", "SHADOW_CONTROL"}},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte(`package shadow
targets: prod: url: "`+srv.URL+`"
targets: shadow: {url: "`+srv.URL+`", headers: "X-Leak": "${`+tc.variable+`}"}
traffic: [{jsonl: "t.jsonl"}]
endpoints: a: path: "/a"
`), 0o644)
		cmd := exec.Command(binary, tc.args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), tc.variable+"=admin-s3cret-4242", "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitInvalid || !bytes.Contains(out, []byte("shadow.cue:3:")) ||
			!bytes.Contains(out, []byte("admin token")) || bytes.Contains(out, []byte("admin-s3cret-4242")) {
			t.Errorf("%s reading %s: %v, want exit 2 at shadow.cue:3 naming the admin token\n%s", tc.args[0], tc.variable, err, out)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests were sent by a spec reading the admin token", n)
	}
}

// TestFlagsAboveTheirRangeAreRefused: --concurrency and --queue size
// channels allocated at once; 2,000,000,000 crashed run and proxy with
// "fatal error: out of memory" and a Go stack trace (redteam5). Intervals
// below a second are refused too (redteam6).
func TestFlagsAboveTheirRangeAreRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\ntargets: {prod: url: \"http://127.0.0.1:1\", shadow: url: \"http://127.0.0.1:2\"}\ntraffic: [{jsonl: \"t.jsonl\"}]\nendpoints: a: path: \"/a\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(`{"request":{"method":"GET","url":"/a"}}`+"\n"), 0o644)
	proxy := []string{"proxy", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--junit", "none", "--duration", "1s"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", dir, "--junit", "none", "--concurrency", "2000000000"}, "--concurrency 2000000000:"},
		{append(slices.Clone(proxy), "--concurrency", "1025"), "--concurrency 1025:"},
		{append(slices.Clone(proxy), "--queue", "2000000000"), "--queue 2000000000:"},
		// Below a second they woke the proxy up without end: 1ns kept a
		// core busy while no request came.
		{append(slices.Clone(proxy), "--record", filepath.Join(dir, "rec")+"/", "--record-max-age", "1ns"), "--record-max-age 1ns:"},
		{append(slices.Clone(proxy), "--results", filepath.Join(dir, "r.json"), "--results-every", "1ns"), "--results-every 1ns:"},
		{append(slices.Clone(proxy), "--results-every", "-1s"), "--results-every -1s:"},
	} {
		r := shadowtest(t, tc.args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "proxying") {
			t.Errorf("%s: exit %d, want 2 naming %q\n%s", strings.Join(tc.args[2:], " "), r.code, tc.want, r.stderr)
		}
	}
}

// TestOutputsNeverOverwriteTheirInputs: a typo in an output flag replaced
// the spec or its traffic with a report (run --junit specs/shadow.cue
// wrote JUnit XML over the spec; --results over the recording) (redteam6).
// The run is refused and the inputs are left as they were, whatever name
// or link leads to them.
func TestOutputsNeverOverwriteTheirInputs(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "shadow.cue")
	specText := "package shadow\ntargets: {prod: url: \"http://127.0.0.1:1\", shadow: url: \"http://127.0.0.1:2\"}\ntraffic: [{jsonl: \"t.jsonl\"}]\nendpoints: a: path: \"/a\"\n"
	recording := filepath.Join(dir, "t.jsonl")
	recordingText := `{"request":{"method":"GET","url":"/a"}}` + "\n"
	os.WriteFile(spec, []byte(specText), 0o644)
	os.WriteFile(recording, []byte(recordingText), 0o644)
	link := filepath.Join(t.TempDir(), "report.xml")
	os.Symlink(spec, link)
	for _, args := range [][]string{
		{"run", dir, "--junit", spec},
		{"run", dir, "--junit", link},
		{"run", dir, "--junit", "none", "--results", recording},
		{"run", dir, "--junit", "none", "--html", spec},
		{"proxy", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--junit", "none", "--duration", "1s", "--record", spec},
	} {
		r := shadowtest(t, args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, "which the command reads") {
			t.Errorf("%s: exit %d, want 2 naming the input\n%s", strings.Join(args[2:], " "), r.code, r.stderr)
		}
		if got, _ := os.ReadFile(spec); string(got) != specText {
			t.Fatalf("%s: the spec was overwritten:\n%s", strings.Join(args[2:], " "), got)
		}
		if got, _ := os.ReadFile(recording); string(got) != recordingText {
			t.Fatalf("%s: the recording was overwritten:\n%s", strings.Join(args[2:], " "), got)
		}
	}
	// report and merge read results (and logs): report --html over its
	// results replaced them with the page.
	results := filepath.Join(t.TempDir(), "results.json")
	shadowtest(t, "run", dir, "--junit", "none", "--results", results)
	resultsText, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"report", results, "--html", results},
		{"merge", results, "--junit", results},
		{"merge", results, "--junit", "none", "--html", results},
	} {
		r := shadowtest(t, args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, "which the command reads") {
			t.Errorf("%s: exit %d, want 2 naming the input\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		if got, _ := os.ReadFile(results); string(got) != string(resultsText) {
			t.Fatalf("%s: the results were overwritten", strings.Join(args, " "))
		}
	}
}
