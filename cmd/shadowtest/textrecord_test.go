//go:build !windows

package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestProxyRecordingHoldsNoTextOrTupleSecret: a proxied plain-text
// request (password: ...), plain-text answers (token=..., Authorization:
// Bearer ...) and a JSON answer with a header list written as tuples are
// recorded with those values masked and the rest kept; no output of the
// session shows them.
func TestProxyRecordingHoldsNoTextOrTupleSecret(t *testing.T) {
	s := secrets{}
	password, token, bearer, tuple := s.new("text request password"), s.new("text answer token"), s.new("text answer Bearer"), s.new("tuple answer X-Api-Key")
	answer := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tuple" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"headers":[["Accept","*/*"],["X-Api-Key",%q]]}`, tuple)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "status=ok token=%s\nAuthorization: Bearer %s\n", token, bearer)
	}
	prod := httptest.NewServer(http.HandlerFunc(answer))
	t.Cleanup(prod.Close)
	shadow := httptest.NewServer(http.HandlerFunc(answer))
	t.Cleanup(shadow.Close)
	live := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	os.WriteFile(filepath.Join(live.dir, "shadow.cue"), []byte(fmt.Sprintf(`package shadow

targets: {
	prod: url:   %q
	shadow: url: %q
}
mirror: writes: "isolated"
endpoints: {
	login: {method: "POST", path: "/login", thresholds: minSamples: 1}
	tuple: {method: "GET", path: "/tuple", thresholds: minSamples: 1}
}
`, prod.URL, shadow.URL)), 0o644)
	rec := filepath.Join(live.dir, "live.jsonl")
	outputs := map[string]string{"log": filepath.Join(live.dir, "log.jsonl"), "html": filepath.Join(live.dir, "report.html"), "results": filepath.Join(live.dir, "results.json")}
	live.start([]string{"--record", rec, "--log", outputs["log"], "--html", outputs["html"], "--results", outputs["results"]})
	resp, err := http.Post(live.front+"/login", "text/plain", strings.NewReader("user: ada\npassword: "+password+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	live.get("/tuple")
	if code := live.stop(syscall.SIGTERM); code != exitPass {
		t.Fatalf("proxy exit %d: %s", code, live.stderr.String())
	}
	recording, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, kept := range []string{`user: ada`, `status=ok token=[REDACTED]`, `Authorization: [REDACTED]`, `[\"X-Api-Key\",\"[REDACTED]\"]`} {
		if !bytes.Contains(recording, []byte(kept)) {
			t.Errorf("the recording should hold %s:\n%s", kept, recording)
		}
	}
	all := map[string][]byte{"recording": recording, "stderr": []byte(live.stderr.String()), "stdout": live.stdout.Bytes()}
	for name, path := range outputs {
		all[name], _ = os.ReadFile(path)
	}
	assertNoSecret(t, all, s)
}
