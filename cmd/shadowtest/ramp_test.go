//go:build !windows

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startRamp starts a proxy session whose spec has the given mirror.ramp,
// with prod and shadow answering the given prices.
func startRamp(t *testing.T, prodPrice, shadowPrice, ramp string) *liveSession {
	t.Helper()
	s := &liveSession{t: t, dir: t.TempDir(), exited: make(chan error, 1)}
	answer := func(price string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"path":%q,"price":%s}`, r.URL.Path, price)
		}
	}
	prod := httptest.NewServer(answer(prodPrice))
	t.Cleanup(prod.Close)
	shadow := httptest.NewServer(answer(shadowPrice))
	t.Cleanup(shadow.Close)
	spec := fmt.Sprintf(`package shadow

targets: {
	prod: url:   %q
	shadow: url: %q
}
mirror: concurrency: 4
mirror: ramp: %s
endpoints: items: {path: "/items/{id}", thresholds: minSamples: 5}
`, prod.URL, shadow.URL, ramp)
	if err := os.WriteFile(filepath.Join(s.dir, "shadow.cue"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start(nil)
	return s
}

// drive sends distinct requests through the proxy until cond holds.
func (s *liveSession) drive(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := 1; !cond(); i++ {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s after %d requests:\n%s\n/status: %s", what, i, s.stderr.String(), s.adminGet("/status"))
		}
		s.get(fmt.Sprintf("/items/%d", i))
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProxyRampAdvancesWhileThresholdsHold(t *testing.T) {
	s := startRamp(t, "1", "1", `{steps: [0.5, 1.0], minDuration: "1s", minPairs: 5}`)
	if !strings.Contains(s.stderr.String(), "ramp: step 1 of 2, sampling rate 0.5") {
		t.Errorf("no first step in the log:\n%s", s.stderr.String())
	}
	if status := s.adminGet("/status"); !strings.Contains(status, `"samplingRate": 0.5`) {
		t.Fatalf("/status at the first step: %s", status)
	}
	s.drive("the second step", func() bool { return strings.Contains(s.adminGet("/status"), `"samplingRate": 1`) })
	// The log line follows the rate change through a pipe: wait for it.
	waitFor(t, "the move in the log", func() bool { return strings.Contains(s.stderr.String(), "ramp: step 1 held over") })
	if status := s.adminGet("/status"); !strings.Contains(status, `"ramp": {`) || !strings.Contains(status, `"step": 2`) || !strings.Contains(status, `"judgement": "`) {
		t.Errorf("/status does not show the ramp's state: %s", status)
	}
	if metrics := s.adminGet("/metrics"); !strings.Contains(metrics, "\nshadowtest_ramp_step 2\n") || !strings.Contains(metrics, `shadowtest_ramp_transitions_total{direction="up"} 1`) {
		t.Errorf("/metrics does not show the ramp's state:\n%s", metrics)
	}
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d:\n%s", code, s.stderr.String())
	}
}

func TestProxyRampTripsTheKillSwitchWhenTheFirstStepFails(t *testing.T) {
	s := startRamp(t, "1", "2", `{steps: [0.5, 1.0], minDuration: "1h", minPairs: 5}`)
	s.drive("the ramp's trip", func() bool { return strings.Contains(s.adminGet("/status"), `"killed": true`) })
	status := s.adminGet("/status")
	if !strings.Contains(status, "kill switch tripped by ramp") || !strings.Contains(status, "ramp step 1 (sampling rate 0.5) failed over") || !strings.Contains(status, "items: match rate 0.000") {
		t.Errorf("/status does not say the ramp tripped and why: %s", status)
	}
	if code := s.stop(syscall.SIGTERM); code != exitAborted && code != 1 {
		t.Errorf("exit %d, want the session judged as failed or aborted:\n%s", code, s.stderr.String())
	}
}

func TestProxySIGHUPKeepsTheRampsRate(t *testing.T) {
	s := startRamp(t, "1", "1", `{steps: [0.25, 1.0], minDuration: "1h"}`)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool { return strings.Contains(s.stderr.String(), "SIGHUP: spec reloaded") })
	if status := s.adminGet("/status"); !strings.Contains(status, `"samplingRate": 0.25`) || !strings.Contains(status, `"mode": "sampled"`) {
		t.Fatalf("/status after SIGHUP lost the ramp's rate: %s", status)
	}
	s.stop(syscall.SIGTERM)
}
