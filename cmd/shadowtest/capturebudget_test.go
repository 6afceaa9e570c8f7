//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestProxyCaptureBudget: --capture-budget sets the budget of captures in
// flight the metrics show, and a value that is not a size is refused.
func TestProxyCaptureBudget(t *testing.T) {
	s := liveWithSpec(t, recordSpec, "--capture-budget", "3MiB")
	s.get("/items/1")
	if m := s.adminGet("/metrics"); !strings.Contains(m, "shadowtest_live_capture_budget_bytes 3.145728e+06") || !strings.Contains(m, "shadowtest_live_capture_bytes_in_flight ") {
		t.Errorf("/metrics lacks the budget of 3MiB:\n%s", m)
	}
	s.stop(syscall.SIGTERM)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "shadow.cue"), []byte("package shadow\ntargets: {prod: url: \"http://127.0.0.1:1\", shadow: url: \"http://127.0.0.1:2\"}\nendpoints: a: path: \"/a\"\n"), 0o644)
	for _, v := range []string{"lots", "10", "-1MiB"} {
		r := shadowtest(t, "proxy", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--capture-budget", v)
		if r.code != exitInvalid || !strings.Contains(r.stderr, "--capture-budget \""+v+"\": want a size of at least 1KiB") {
			t.Errorf("--capture-budget %s: exit %d, stderr %s", v, r.code, r.stderr)
		}
	}
}

// TestProxyProdClient: --prod-client net/http sends prod's traffic
// through net/http's Transport, and the session says so.
func TestProxyProdClient(t *testing.T) {
	s := liveWithSpec(t, recordSpec, "--prod-client", "net/http")
	if body := s.get("/items/1"); !strings.Contains(body, `"path":"/items/1"`) {
		t.Errorf("through --prod-client net/http: %q", body)
	}
	s.stop(syscall.SIGTERM)
	if !strings.Contains(s.stderr.String(), "(--prod-client net/http)") {
		t.Errorf("the session does not say which prod client it uses:\n%s", s.stderr.String())
	}
}
