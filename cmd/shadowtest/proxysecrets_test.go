//go:build !windows

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestProxyScrubsProdSecretsTheShadowEchoes: prod's answer sets a
// session cookie and the shadow shows the same value in its body (a
// plain word, which no rule masks by its name or shape). A proxy
// session learns prod's answer when it sends the copy (live.Options.Seen)
// and the shadow's when the pair is observed; the value never reaches
// the discrepancy log, the results, the HTML report or the JUnit.
func TestProxyScrubsProdSecretsTheShadowEchoes(t *testing.T) {
	const secret = "purplewhale"
	prod := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "sid="+secret+"; Path=/; HttpOnly")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"note":"elsewhere"}`, r.URL.Path)
	}))
	defer prod.Close()
	var shadowHits atomic.Int64
	shadow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shadowHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"note":"tracking %s"}`, r.URL.Path, secret)
	}))
	defer shadow.Close()
	s := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	os.WriteFile(filepath.Join(s.dir, "shadow.cue"), []byte(fmt.Sprintf(`package shadow

targets: {
	prod: url:   %q
	shadow: url: %q
}
mirror: concurrency: 2
endpoints: items: {path: "/items/{id}", thresholds: minSamples: 1}
`, prod.URL, shadow.URL)), 0o644)
	out := func(name string) string { return filepath.Join(s.dir, name) }
	s.start([]string{"--log", out("log.jsonl"), "--results", out("results.json"), "--html", out("report.html")})
	for i := range 6 {
		if got := s.get(fmt.Sprintf("/items/%d", i)); !strings.Contains(got, "elsewhere") {
			t.Fatalf("client got %q, not prod's answer", got)
		}
	}
	waitFor(t, "the shadow's answers", func() bool { return shadowHits.Load() >= 6 })
	if code := s.stop(syscall.SIGTERM); code != exitFail {
		t.Fatalf("exit %d, want %d (the bodies differ)\n%s", code, exitFail, s.stderr.String())
	}
	log, err := os.ReadFile(out("log.jsonl"))
	if err != nil || !strings.Contains(string(log), "note") {
		t.Fatalf("the log shows no difference in $.note: %v\n%s", err, log)
	}
	for _, name := range []string{"log.jsonl", "results.json", "report.html", "junit.xml"} {
		data, err := os.ReadFile(out(name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), secret) {
			t.Errorf("%s shows the secret prod set as a cookie:\n%s", name, data)
		}
	}
	if strings.Contains(s.stdout.String()+s.stderr.String(), secret) {
		t.Errorf("the output shows the secret:\n%s\n%s", s.stdout.String(), s.stderr.String())
	}
}
