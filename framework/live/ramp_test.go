package live

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shadowtest/shadowtest/framework"
)

// fakeControl records what the ramp does to a session.
type fakeControl struct {
	mu     sync.Mutex
	rates  []float64
	trips  []string
	killed bool
}

func (c *fakeControl) SetRate(rate float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rates = append(c.rates, rate)
	return nil
}

func (c *fakeControl) Trip(trigger, detail string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.killed {
		return false
	}
	c.killed = true
	c.trips = append(c.trips, trigger+": "+detail)
	return true
}

func (c *fakeControl) Killed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killed
}

func (c *fakeControl) rate() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rates[len(c.rates)-1]
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)} }
func rampPlan(onFailure string) *framework.Plan {
	th := framework.Thresholds{MatchRate: 0.99, MinSamples: 10, ErrorRate: true}
	return &framework.Plan{
		Endpoints: []framework.Endpoint{{Name: "get-user", Method: "GET", Path: "/users/{id}", Thresholds: th},
			{Name: "get-order", Method: "GET", Path: "/orders/{id}", Thresholds: th}},
		Mirror: framework.Mirror{Ramp: &framework.Ramp{Steps: []float64{0.01, 0.05, 0.25, 1}, MinDuration: 5 * time.Minute, MinPairs: 200, OnFailure: onFailure}},
	}
}

// feed observes n pairs of the endpoint: matching ones, differing ones,
// or ones the shadow did not answer.
func feed(r *Ramp, endpoint string, n int, outcome string) {
	for range n {
		pair := &framework.Pair{Endpoint: endpoint, Prod: framework.Response{Status: 200, Latency: time.Millisecond}, Shadow: framework.Response{Status: 200, Latency: time.Millisecond}}
		var diffs []framework.Diff
		switch outcome {
		case "differ":
			diffs = []framework.Diff{{Path: "$.currency", Kind: framework.KindMissing, Prod: `"EUR"`}}
		case "refused":
			pair.Shadow = framework.Response{Err: errors.New("connection refused"), ErrKind: "refused"}
		}
		r.Observe(pair, diffs)
	}
}

func TestRampAdvancesOnlyAfterMinDurationAndMinPairs(t *testing.T) {
	clock, ctl := newClock(), &fakeControl{}
	r, err := NewRamp(rampPlan(""), ctl, clock.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ctl.rate(); got != 0.01 {
		t.Fatalf("first rate %g, want 0.01", got)
	}
	feed(r, "get-user", 150, "match")
	clock.add(10 * time.Minute)
	if st := r.Check(); st.Step != 1 {
		t.Fatalf("advanced with 150 pairs < minPairs 200: %+v", st)
	}
	feed(r, "get-order", 60, "match")
	clock.add(-6 * time.Minute) // 4 minutes into the step
	if st := r.Check(); st.Step != 1 {
		t.Fatalf("advanced after 4m < minDuration 5m: %+v", st)
	}
	clock.add(time.Minute)
	if st := r.Check(); st.Step != 2 || ctl.rate() != 0.05 || st.Pairs != 0 {
		t.Fatalf("did not advance to step 2 with a fresh window after 5m and 210 good pairs: %+v, rates %v", st, ctl.rates)
	}
	for step, rate := range []float64{0.25, 1} {
		feed(r, "get-user", 200, "match")
		clock.add(5 * time.Minute)
		if st := r.Check(); st.Step != step+3 || ctl.rate() != rate {
			t.Fatalf("step %d: %+v, rates %v", step+3, st, ctl.rates)
		}
	}
	// At the last step, a good window starts a new one; nothing moves.
	feed(r, "get-user", 200, "match")
	clock.add(5 * time.Minute)
	if st := r.Check(); st.Step != 4 || st.Pairs != 0 || len(ctl.rates) != 4 || len(ctl.trips) != 0 {
		t.Fatalf("last step: %+v, rates %v, trips %v", st, ctl.rates, ctl.trips)
	}
}

func TestRampStepsBackAndHoldsWhenAThresholdFails(t *testing.T) {
	clock, ctl := newClock(), &fakeControl{}
	r, err := NewRamp(rampPlan(RampStepBack), ctl, clock.now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		feed(r, "get-user", 200, "match")
		clock.add(5 * time.Minute)
		r.Check()
	}
	if st := r.Status(); st.Step != 3 {
		t.Fatalf("not at step 3: %+v", st)
	}
	// At step 3, a quarter of the orders lose their currency: the step
	// fails as soon as it has its pairs, before minDuration.
	feed(r, "get-user", 150, "match")
	feed(r, "get-order", 40, "match")
	feed(r, "get-order", 10, "differ")
	clock.add(time.Second)
	st := r.Check()
	if st.Step != 2 || !st.Held || ctl.rate() != 0.05 {
		t.Fatalf("did not step back to step 2 and hold: %+v, rates %v", st, ctl.rates)
	}
	if !strings.Contains(st.Last, "get-order: match rate 0.800 < 0.99 over 50 pairs") || strings.Contains(st.Last, "get-user:") {
		t.Errorf("the step back does not name the failing threshold alone: %s", st.Last)
	}
	// Held: good windows do not advance it again.
	feed(r, "get-user", 300, "match")
	clock.add(time.Hour)
	if st := r.Check(); st.Step != 2 || st.Pairs != 0 {
		t.Fatalf("a held ramp advanced: %+v", st)
	}
	if len(ctl.trips) != 0 {
		t.Fatalf("tripped: %v", ctl.trips)
	}
}

func TestRampTripsTheKillSwitch(t *testing.T) {
	t.Run("first step fails", func(t *testing.T) {
		clock, ctl := newClock(), &fakeControl{}
		r, _ := NewRamp(rampPlan(RampStepBack), ctl, clock.now, nil)
		feed(r, "get-user", 190, "match")
		feed(r, "get-user", 10, "refused") // shadow errors, prod answered: error rate 0.05 > 0
		st := r.Check()
		if !st.Over || len(ctl.trips) != 1 || !strings.HasPrefix(ctl.trips[0], TriggerRamp+": ramp step 1 (sampling rate 0.01) failed over 200 pairs: get-user: shadow error rate 0.050 > prod's 0.000") {
			t.Fatalf("first step failing did not trip the switch: %+v %v", st, ctl.trips)
		}
		// Over: even once resumed, the ramp does nothing more.
		ctl.killed = false
		clock.add(time.Hour)
		feed(r, "get-user", 300, "match")
		if st := r.Check(); st.Step != 1 || len(ctl.rates) != 1 {
			t.Fatalf("the ramp moved after tripping: %+v %v", st, ctl.rates)
		}
	})
	t.Run("onFailure kill", func(t *testing.T) {
		clock, ctl := newClock(), &fakeControl{}
		r, _ := NewRamp(rampPlan(RampKill), ctl, clock.now, nil)
		feed(r, "get-user", 200, "match")
		clock.add(5 * time.Minute)
		r.Check()
		feed(r, "get-order", 200, "differ")
		st := r.Check()
		if !st.Over || st.Step != 2 || len(ctl.trips) != 1 || !strings.Contains(ctl.trips[0], "ramp step 2 (sampling rate 0.05) failed") {
			t.Fatalf("onFailure kill at step 2: %+v %v", st, ctl.trips)
		}
	})
}

func TestRampWaitsWhileKilledAndRestartsTheStep(t *testing.T) {
	clock, ctl := newClock(), &fakeControl{}
	r, _ := NewRamp(rampPlan(""), ctl, clock.now, nil)
	feed(r, "get-user", 200, "match")
	clock.add(5 * time.Minute)
	r.Check() // step 2
	feed(r, "get-user", 500, "match")
	ctl.Trip(TriggerAdmin, "POST /kill")
	clock.add(time.Hour)
	if st := r.Check(); st.Step != 2 {
		t.Fatalf("advanced while the kill switch was tripped: %+v", st)
	}
	ctl.killed = false
	ctl.rates = append(ctl.rates, 0.5) // an operator changed the rate meanwhile
	st := r.Check()
	if st.Step != 2 || st.Pairs != 0 || ctl.rate() != 0.05 || !st.Since.Equal(clock.now()) {
		t.Fatalf("after resume the step did not restart at its rate: %+v, rates %v", st, ctl.rates)
	}
	clock.add(4 * time.Minute)
	feed(r, "get-user", 200, "match")
	if st := r.Check(); st.Step != 2 {
		t.Fatalf("advanced 4m after the restart: %+v", st)
	}
}

func TestRampKeepsTheSessionsCategoryNames(t *testing.T) {
	clock, ctl := newClock(), &fakeControl{}
	r, _ := NewRamp(rampPlan(""), ctl, clock.now, nil)
	pair := &framework.Pair{Endpoint: "get-order", Prod: framework.Response{Status: 200}, Shadow: framework.Response{Status: 200}, Categories: []string{"session's name"}}
	r.Observe(pair, []framework.Diff{{Path: "$.currency", Kind: framework.KindMissing}})
	if len(pair.Categories) != 1 || pair.Categories[0] != "session's name" {
		t.Fatalf("Observe changed the pair's categories: %v", pair.Categories)
	}
}

func TestNewRampNeedsSteps(t *testing.T) {
	if _, err := NewRamp(&framework.Plan{}, &fakeControl{}, time.Now, nil); err == nil {
		t.Fatal("a plan without a ramp gave a ramp")
	}
}
