package live

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shadowtest/shadowtest/framework"
)

// A rate change (POST /rate, the ramp) copied the config in force and
// stored its copy: a reload (SIGHUP) stored in between was overwritten,
// its endpoints gone although it was reported done (redteam6). Each
// reload's endpoints must be in force once it returns, whatever rate
// changes run beside it.
func TestARateChangeNeverUndoesAReload(t *testing.T) {
	shadow := serve(t, item("12.5"))
	plan := testPlan("http://prod.invalid", shadow.URL)
	s, _ := session(t, plan, Options{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s.SetRate(0.5 + float64(i%2)/2)
			}
		}()
	}
	lost := 0
	for i := range 300 {
		next := *plan
		next.Endpoints = append(slices.Clone(plan.Endpoints), framework.Endpoint{Name: fmt.Sprintf("added-%d", i), Method: "GET", Path: fmt.Sprintf("/added/%d", i), Thresholds: framework.Thresholds{MatchRate: 1}})
		if _, err := s.Reload(&next); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(s.Plan().Endpoints, func(e framework.Endpoint) bool { return e.Name == fmt.Sprintf("added-%d", i) }) {
			lost++
		}
	}
	close(stop)
	wg.Wait()
	if lost > 0 {
		t.Fatalf("%d of 300 reloads were undone by a rate change running beside them", lost)
	}
}

// A reload that changes what the session fixed at its start (the
// targets, the workers, the body cap) said "spec reloaded" and nothing
// more: the operator believed a new mirror.concurrency in force (redteam6).
// The reload names them as not applied until a restart.
func TestAReloadNamesWhatOnlyARestartApplies(t *testing.T) {
	shadow := serve(t, item("12.5"))
	plan := testPlan("http://prod.invalid", shadow.URL)
	s, _ := session(t, plan, Options{})
	same := *plan
	if changes, err := s.Reload(&same); err != nil || len(changes.Fixed) != 0 {
		t.Fatalf("the same spec: %v, %+v", err, changes)
	}
	next := *plan
	next.Mirror.Concurrency, next.Mirror.MaxBodyBytes = 64, 1<<10
	next.Shadow.URL = "http://127.0.0.1:1"
	changes, err := s.Reload(&next)
	if err != nil {
		t.Fatal(err)
	}
	want := "not applied until a restart: targets.shadow.url, mirror.concurrency, mirror.maxBodyBytes"
	if !strings.Contains(changes.String(), want) {
		t.Fatalf("reload says %q, want it to name %q", changes, want)
	}
}
