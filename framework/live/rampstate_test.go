package live

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// gather returns the value of every sample of the registry's metrics
// whose name starts with prefix, keyed "name{label=value}".
func gather(t *testing.T, s *Shadow, prefix string) map[string]float64 {
	t.Helper()
	families, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), prefix) {
			continue
		}
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += fmt.Sprintf("{%s=%s}", l.GetName(), l.GetValue())
			}
			out[key] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return -1
}

func TestRampStateIsInStatusAndMetrics(t *testing.T) {
	prod, shadow := serve(t, item("1")), serve(t, item("1"))
	plan := rampPlan("")
	plan.Prod = framework.Target{Name: "prod", URL: prod.URL, Timeout: 5 * time.Second}
	plan.Shadow = framework.Target{Name: "shadow", URL: shadow.URL, Timeout: 5 * time.Second}
	plan.Mirror.Mode, plan.Mirror.Concurrency, plan.Mirror.Writes = "full", 2, "skip"
	s, _ := session(t, plan, Options{})
	clock := newClock()
	r, err := NewRamp(plan, ControlOf(s), clock.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachRamp(r); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if st.Ramp == nil || st.Ramp.Step != 1 || st.Ramp.Rate != 0.01 || st.SamplingRate != 0.01 || !st.Ramp.Since.Equal(clock.now()) {
		t.Fatalf("/status at the start: %+v ramp %+v", st, st.Ramp)
	}
	feed(r, "get-user", 50, "match")
	r.Check()
	if st := s.Status().Ramp; st.Pairs != 50 || st.Judgement != "waiting: 50 of 200 pairs at step 1" {
		t.Fatalf("waiting: %+v", st)
	}
	feed(r, "get-user", 150, "match")
	clock.add(5 * time.Minute)
	r.Check()
	st = s.Status()
	if st.Ramp.Step != 2 || st.Ramp.Rate != 0.05 || st.SamplingRate != 0.05 || !strings.Contains(st.Ramp.Last, "step 1 held over 200 pairs; step 2 of 4") ||
		!strings.HasPrefix(st.Ramp.Judgement, "advancing: thresholds hold over 200 pairs") || !st.Ramp.LastAt.Equal(clock.now()) {
		t.Fatalf("after advancing: %+v", st.Ramp)
	}
	m := gather(t, s, "shadowtest_ramp_")
	for key, want := range map[string]float64{
		"shadowtest_ramp_step": 2, "shadowtest_ramp_steps": 4, "shadowtest_ramp_rate": 0.05, "shadowtest_ramp_step_pairs": 0, "shadowtest_ramp_held": 0,
		"shadowtest_ramp_transitions_total{direction=up}": 1, "shadowtest_ramp_transitions_total{direction=down}": 0,
		"shadowtest_ramp_step_start_seconds": float64(clock.now().Unix()),
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	// A failing step steps back: down is counted, held shows.
	feed(r, "get-user", 200, "differ")
	r.Check()
	m = gather(t, s, "shadowtest_ramp_")
	if m["shadowtest_ramp_transitions_total{direction=down}"] != 1 || m["shadowtest_ramp_held"] != 1 || m["shadowtest_ramp_step"] != 1 {
		t.Fatalf("after stepping back: %v", m)
	}
	if st := s.Status().Ramp; !st.Held || !strings.HasPrefix(st.Judgement, "failed over 200 pairs: get-user: match rate 0.000") {
		t.Fatalf("after stepping back: %+v", st)
	}
	if err := s.AttachRamp(r); err == nil {
		t.Fatal("a second ramp was attached")
	}
}

// selectivePlan mirrors only "items" among two GET endpoints.
func selectivePlan(prod, shadow string) *framework.Plan {
	plan := testPlan(prod, shadow)
	plan.Endpoints = append(plan.Endpoints, framework.Endpoint{Name: "other", Method: "GET", Path: "/other/{id}", Thresholds: framework.Thresholds{MatchRate: 1, MinSamples: 1}})
	plan.Mirror.Mode, plan.Mirror.Endpoints = "selective", []string{"items"}
	return plan
}

func TestRampRateAppliesOnTopOfSelectiveMode(t *testing.T) {
	prod := serve(t, item("1"))
	shadowHits := map[string]int{}
	var shadow *target
	shadow = serve(t, func(w http.ResponseWriter, r *http.Request) {
		shadow.mu.Lock()
		shadowHits[strings.Split(r.URL.Path, "/")[1]]++
		shadow.mu.Unlock()
		item("1")(w, r)
	})
	plan := selectivePlan(prod.URL, shadow.URL)
	plan.Mirror.Ramp = &framework.Ramp{Steps: []float64{0.25, 1}, MinDuration: time.Minute, MinPairs: 1}
	const n = 200
	var ramp atomic.Pointer[Ramp]
	s, front := session(t, plan, Options{QueueSize: 4 * n, Observe: func(p *framework.Pair, d []framework.Diff) {
		if r := ramp.Load(); r != nil {
			r.Observe(p, d)
		}
	}})
	clock := newClock()
	r, err := NewRamp(plan, ControlOf(s), clock.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ramp.Store(r)
	send := func(from int) {
		for i := range n {
			get(t, fmt.Sprintf("%s/items/%d", front.URL, from+i))
			get(t, fmt.Sprintf("%s/other/%d", front.URL, from+i))
		}
	}
	hits := func(name string) int {
		shadow.mu.Lock()
		defer shadow.mu.Unlock()
		return shadowHits[name]
	}
	send(0)
	if st := s.Status(); st.Mode != "selective" || st.SamplingRate != 0.25 {
		t.Fatalf("status at step 1: mode %q rate %v, want selective at 0.25", st.Mode, st.SamplingRate)
	}
	// The copy is handed over after the client has prod's answer: wait
	// for the last one.
	itemsCounts := func() (requests, sampledOut int64) {
		s.Results().Snapshot(func(r *observe.Results) {
			e := r.Endpoint("items")
			requests, sampledOut = e.Requests, e.Filtered["sampled out"]
		})
		return
	}
	eventually(t, "every items request mirrored or sampled out", func() bool {
		requests, out := itemsCounts()
		return requests+out == n && int64(hits("items")) == requests
	})
	if got := hits("items"); got < n/10 || got > n/2 {
		t.Fatalf("step 1 (rate 0.25): %d of %d items requests mirrored", got, n)
	}
	clock.add(time.Minute)
	if st := r.Check(); st.Step != 2 {
		t.Fatalf("the ramp did not advance: %+v", st)
	}
	before := hits("items")
	send(n)
	eventually(t, "every items request mirrored at rate 1", func() bool { return hits("items") == before+n })
	if got := hits("other"); got != 0 {
		t.Fatalf("the ramp widened the selection: %d requests of an endpoint selective mode leaves out reached the shadow", got)
	}
	if st := s.Status(); st.Mode != "selective" || st.SamplingRate != 1 {
		t.Fatalf("status at the last step: mode %q rate %v", st.Mode, st.SamplingRate)
	}
	// POST /rate follows the same rule.
	if err := s.SetRate(0.5); err != nil || s.Plan().Mirror.Mode != "selective" {
		t.Fatalf("SetRate in selective mode: %v, mode %q", err, s.Plan().Mirror.Mode)
	}
}

func TestRampJudgesEndpointsAddedByAReload(t *testing.T) {
	clock, ctl := newClock(), &fakeControl{}
	plan := rampPlan("")
	r, err := NewRamp(plan, ctl, clock.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := *plan
	next.Endpoints = append([]framework.Endpoint{}, plan.Endpoints...)
	next.Endpoints = append(next.Endpoints, framework.Endpoint{Name: "get-cart", Method: "GET", Path: "/carts/{id}", Thresholds: plan.Endpoints[0].Thresholds})
	r.Reload(&next)
	feed(r, "get-cart", 200, "differ")
	if st := r.Check(); !st.Over || !strings.Contains(st.Last, "get-cart: match rate 0.000") {
		t.Fatalf("the added endpoint's failing pairs were not judged: %+v", st)
	}
}
