package runner

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// shadowClock records when the shadow's handlers start and finish, to tell
// when shadow traffic stopped.
type shadowClock struct {
	started, lastStart, lastEnd atomic.Int64 // unix nanoseconds
}

// handler answers after delay, or as soon as the client goes away, with
// status.
func (c *shadowClock) handler(delay time.Duration, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.started.Add(1)
		c.lastStart.Store(time.Now().UnixNano())
		defer func() { c.lastEnd.Store(time.Now().UnixNano()) }()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
	}
}

// last is when shadow traffic last happened: the latest handler start or
// end.
func (c *shadowClock) last() time.Time {
	return time.Unix(0, max(c.lastStart.Load(), c.lastEnd.Load()))
}

// killRun replays a long run against a shadow timed by clock and returns
// the abort; fire, when set, is called once the run is under way and
// returns when it tripped the switch.
func killRun(t *testing.T, clock *shadowClock, shadow http.Handler, ks framework.KillSwitch, kill <-chan string) (*AbortError, *observe.Results) {
	t.Helper()
	prod, _ := serve(t, http.HandlerFunc(item))
	srv, _ := serve(t, shadow)
	plan := testPlan(t, prod.URL, srv.URL, 100000)
	plan.Mirror.KillSwitch = ks
	results := observe.NewResults(plan.Endpoints)
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), plan, results, Options{Kill: kill}) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the kill switch never stopped the run")
	}
	var abort *AbortError
	if !errors.As(err, &abort) || abort.Trip == nil {
		t.Fatalf("run returned %v, want an abort by the kill switch", err)
	}
	if results.Aborted != abort.Reason {
		t.Errorf("results.Aborted = %q, want %q", results.Aborted, abort.Reason)
	}
	if e := results.Endpoint("items"); e.Requests == 0 || e.Requests >= 100000 {
		t.Errorf("%d requests recorded: want the partial results gathered before the trip", e.Requests)
	}
	return abort, results
}

// stopBound is how long shadow traffic may go on after the switch trips.
// The requirement is one second; the bound is generous so that a loaded CI
// machine cannot make the test flaky, and the measured figure is logged
// (well under a millisecond for in-band triggers, about one poll interval
// for the kill file).
const stopBound = 5 * time.Second

func TestKillSwitchTriggers(t *testing.T) {
	t.Run("shadow error rate", func(t *testing.T) {
		var clock shadowClock
		abort, results := killRun(t, &clock, clock.handler(0, 503), framework.KillSwitch{ShadowErrorRate: 0.5, Window: 20}, nil)
		if abort.Trip.Trigger != "shadow error rate" {
			t.Errorf("trigger %q", abort.Trip.Trigger)
		}
		if n := results.Endpoint("items").Requests; n < 10 {
			t.Errorf("tripped after %d requests: more than half of a window of 20 must fail first", n)
		}
		stopped(t, &clock, abort.Trip.At)
	})
	t.Run("shadow latency", func(t *testing.T) {
		var clock shadowClock
		abort, _ := killRun(t, &clock, clock.handler(300*time.Millisecond, 200), framework.KillSwitch{ShadowLatency: 50 * time.Millisecond, Window: 8}, nil)
		if abort.Trip.Trigger != "shadow latency" {
			t.Errorf("trigger %q", abort.Trip.Trigger)
		}
		stopped(t, &clock, abort.Trip.At)
	})
	t.Run("kill file", func(t *testing.T) {
		var clock shadowClock
		file := filepath.Join(t.TempDir(), "shadow.off")
		var created atomic.Int64
		go func() {
			for clock.started.Load() < 8 {
				time.Sleep(10 * time.Millisecond)
			}
			created.Store(time.Now().UnixNano())
			os.WriteFile(file, nil, 0o644)
		}()
		// The shadow answers slowly, so requests are in flight when the
		// file appears: they must be cancelled, not waited for.
		abort, _ := killRun(t, &clock, clock.handler(2*time.Second, 200), framework.KillSwitch{File: file}, nil)
		if abort.Trip.Trigger != "kill file" {
			t.Errorf("trigger %q", abort.Trip.Trigger)
		}
		stopped(t, &clock, time.Unix(0, created.Load()))
	})
	t.Run("signal", func(t *testing.T) {
		var clock shadowClock
		kill := make(chan string, 1)
		go func() {
			for clock.started.Load() < 8 {
				time.Sleep(10 * time.Millisecond)
			}
			kill <- "SIGUSR1"
		}()
		abort, _ := killRun(t, &clock, clock.handler(20*time.Millisecond, 200), framework.KillSwitch{}, kill)
		if abort.Trip.Trigger != "signal" || abort.Trip.Detail != "SIGUSR1 received" {
			t.Errorf("trip %+v", abort.Trip)
		}
		stopped(t, &clock, abort.Trip.At)
	})
}

// stopped asserts that shadow traffic ended within stopBound of from, once
// the run has returned, and logs the measured delay.
func stopped(t *testing.T, clock *shadowClock, from time.Time) {
	t.Helper()
	time.Sleep(50 * time.Millisecond) // let cancelled handlers record their end
	delay := clock.last().Sub(from)
	if delay > stopBound {
		t.Errorf("shadow traffic went on %v after the trigger, want under %v", delay, stopBound)
	}
	t.Logf("shadow traffic stopped %v after the trigger", delay.Round(time.Microsecond))
}

func TestRPSCapsTheRate(t *testing.T) {
	prod, _ := serve(t, http.HandlerFunc(item))
	shadow, _ := serve(t, http.HandlerFunc(item))
	plan := testPlan(t, prod.URL, shadow.URL, 21)
	plan.Mirror.RPS = 50
	start := time.Now()
	if err := Run(context.Background(), plan, observe.NewResults(plan.Endpoints), Options{}); err != nil {
		t.Fatal(err)
	}
	// 21 requests at 50 per second cannot take less than 20 intervals of
	// 20 ms, however fast the machine: a lower bound only.
	if elapsed := time.Since(start); elapsed < 400*time.Millisecond {
		t.Errorf("21 requests at rps 50 took %v, want at least 400ms", elapsed)
	}
}

func TestCancelledRunKeepsPartialResults(t *testing.T) {
	var clock shadowClock
	prod, _ := serve(t, http.HandlerFunc(item))
	shadow, _ := serve(t, clock.handler(5*time.Second, 200))
	plan := testPlan(t, prod.URL, shadow.URL, 1000)
	results := observe.NewResults(plan.Endpoints)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		for clock.started.Load() < 4 {
			time.Sleep(10 * time.Millisecond)
		}
		cancel(errors.New("interrupted"))
	}()
	err := Run(ctx, plan, results, Options{})
	var abort *AbortError
	if !errors.As(err, &abort) || abort.Reason != "interrupted" || abort.Trip != nil {
		t.Fatalf("run returned %v, want an abort saying interrupted", err)
	}
	e := results.Endpoint("items")
	if e.ShadowErrors["canceled"] != 0 || e.ProdErrors["canceled"] != 0 {
		t.Errorf("requests cut short by the cancellation were counted as failures: %v %v", e.ProdErrors, e.ShadowErrors)
	}
	if results.Aborted != "interrupted" {
		t.Errorf("results.Aborted = %q", results.Aborted)
	}
}

func TestWindow(t *testing.T) {
	ok := framework.Response{Status: 200, Latency: time.Millisecond}
	failed := framework.Response{Err: errors.New("refused"), ErrKind: "refused"}
	slow := framework.Response{Status: 200, Latency: time.Second}
	tests := []struct {
		name      string
		cfg       framework.KillSwitch
		responses []framework.Response
		want      string
		reason    string
	}{
		{"rate crossed", framework.KillSwitch{ShadowErrorRate: 0.5, Window: 4}, []framework.Response{failed, failed, failed}, "shadow error rate", "3 of a window of 4 is over half"},
		{"rate at the bound", framework.KillSwitch{ShadowErrorRate: 0.5, Window: 4}, []framework.Response{failed, failed, ok, ok, ok}, "", "2 of 4 is not more than half"},
		{"old failures leave the window", framework.KillSwitch{ShadowErrorRate: 0.5, Window: 4}, []framework.Response{failed, failed, ok, ok, ok, ok, failed, failed}, "", "the window slides"},
		{"5xx counts", framework.KillSwitch{ShadowErrorRate: 0.1, Window: 10}, []framework.Response{{Status: 502}, {Status: 500}}, "shadow error rate", "server errors are shadow errors"},
		{"slow majority", framework.KillSwitch{ShadowLatency: 100 * time.Millisecond, Window: 4}, []framework.Response{slow, ok, slow, slow}, "shadow latency", "3 of 4 slower than the bound"},
		{"slow minority", framework.KillSwitch{ShadowLatency: 100 * time.Millisecond, Window: 4}, []framework.Response{slow, ok, slow, ok, ok, ok}, "", "half is not more than half"},
		{"failures are not slow", framework.KillSwitch{ShadowLatency: 100 * time.Millisecond, Window: 2}, []framework.Response{failed, failed}, "", "a refused connection is fast, counted by the error rate"},
	}
	for _, tt := range tests {
		w := newWindow(tt.cfg)
		got := ""
		for i := range tt.responses {
			if trigger, _ := w.add(&tt.responses[i]); trigger != "" {
				got = trigger
				break
			}
		}
		if got != tt.want {
			t.Errorf("%s: trigger %q, want %q (%s)", tt.name, got, tt.want, tt.reason)
		}
	}
}
