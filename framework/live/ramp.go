package live

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// TriggerRamp is the kill switch trigger of a ramp whose step failed.
const TriggerRamp = "ramp"

// Ramp failure policies, as mirror.ramp.onFailure names them.
const (
	RampStepBack = "step back"
	RampKill     = "kill"
)

// errorRateSlackEpsilon absorbs float rounding when two error rates are
// equal, as the suite's error-rate threshold does.
const errorRateSlackEpsilon = 1e-12

// RampControl is what a ramp drives: the sampling rate and the kill
// switch of a live session. ControlOf adapts a Shadow.
type RampControl interface {
	// SetRate sets the fraction of matched requests mirrored.
	SetRate(rate float64) error
	// Trip stops mirroring, naming the trigger and why.
	Trip(trigger, detail string) bool
	// Killed reports whether mirroring is stopped.
	Killed() bool
}

// ControlOf returns the RampControl of a live session.
func ControlOf(s *Shadow) RampControl { return shadowControl{s} }

type shadowControl struct{ s *Shadow }

func (c shadowControl) SetRate(rate float64) error       { return c.s.SetRate(rate) }
func (c shadowControl) Trip(trigger, detail string) bool { return c.s.Switch().Trip(trigger, detail) }
func (c shadowControl) Killed() bool                     { return c.s.Switch().Killed() }

// Ramp is mirror.ramp at work: it sets the sampling rate to the first
// step, judges the pairs compared at the current step (fed by Observe)
// each time Check runs, advances when the step has lasted MinDuration
// with MinPairs pairs and every threshold holding, and on a failing
// threshold steps back and holds there (at the first step, or with
// onFailure "kill", it trips the kill switch). At the last step, and
// while held, each passing judgement starts a fresh window, so that a
// late failure is not diluted by hours of good pairs. While the kill
// switch is tripped by anything else, the ramp waits, and starts the
// step afresh once mirroring resumes.
type Ramp struct {
	spec      framework.Ramp
	endpoints []framework.Endpoint
	ctl       RampControl
	now       func() time.Time
	log       io.Writer

	mu        sync.Mutex
	step      int
	held      bool // stepped back: no more advancing
	over      bool // the ramp tripped the kill switch
	paused    bool // the kill switch was tripped by something else
	since     time.Time
	results   *observe.Results
	last      string
	lastAt    time.Time
	judgement string
	judgedAt  time.Time

	// transitions count the moves by direction (RampUp, ...).
	transitions [len(rampDirections)]atomic.Int64
}

// Directions of a ramp's moves, as the direction label of
// shadowtest_ramp_transitions_total shows them.
const (
	RampUp      = "up"      // the step held: the next, higher rate
	RampDown    = "down"    // a threshold failed: the step before, held there
	RampKilled  = "kill"    // a threshold failed at the first step or with onFailure "kill"
	RampRestart = "restart" // mirroring resumed after a trip: the step starts afresh
)

var rampDirections = [...]string{RampUp, RampDown, RampKilled, RampRestart}

func (r *Ramp) count(direction string) {
	for i, d := range rampDirections {
		if d == direction {
			r.transitions[i].Add(1)
		}
	}
}

// RampStatus is a ramp's state.
type RampStatus struct {
	// Step is the current step, from 1, of Steps.
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// Rate is the current step's sampling rate.
	Rate float64 `json:"rate"`
	// Held is true once the ramp stepped back: it no longer advances.
	Held bool `json:"held"`
	// Over is true once the ramp tripped the kill switch.
	Over bool `json:"over"`
	// Since is when the current step (or judging window) started.
	Since time.Time `json:"since"`
	// Pairs is how many pairs the current window holds.
	Pairs int64 `json:"pairs"`
	// Last says what the ramp last did and why; LastAt is when.
	Last   string    `json:"last,omitempty"`
	LastAt time.Time `json:"lastAt"`
	// Judgement is the outcome of the latest judgement (every second):
	// why the ramp waits, holds or moved; JudgedAt is when.
	Judgement string    `json:"judgement,omitempty"`
	JudgedAt  time.Time `json:"judgedAt"`
}

// NewRamp starts plan.Mirror.Ramp on ctl: it sets the first step's rate.
// now is the clock (time.Now outside tests); log receives a line per
// move, nil discards them.
func NewRamp(plan *framework.Plan, ctl RampControl, now func() time.Time, log io.Writer) (*Ramp, error) {
	spec := plan.Mirror.Ramp
	if spec == nil || len(spec.Steps) == 0 {
		return nil, fmt.Errorf("the spec has no mirror.ramp steps")
	}
	if log == nil {
		log = io.Discard
	}
	r := &Ramp{spec: *spec, endpoints: plan.Endpoints, ctl: ctl, now: now, log: log}
	if r.spec.OnFailure == "" {
		r.spec.OnFailure = RampStepBack
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.enter(0, fmt.Sprintf("ramp: step 1 of %d, sampling rate %g", len(spec.Steps), spec.Steps[0])); err != nil {
		return nil, err
	}
	return r, nil
}

// enter moves to step i with a fresh window. r.mu is held.
func (r *Ramp) enter(i int, why string) error {
	if err := r.ctl.SetRate(r.spec.Steps[i]); err != nil {
		return fmt.Errorf("ramp step %d: %w", i+1, err)
	}
	r.step = i
	r.fresh()
	r.note(why)
	return nil
}

// fresh starts a new judging window. r.mu is held.
func (r *Ramp) fresh() {
	r.since = r.now()
	r.results = observe.NewResults(r.endpoints)
}

func (r *Ramp) note(line string) {
	r.last, r.lastAt = line, r.now()
	fmt.Fprintf(r.log, "shadowtest: %s\n", line)
}

// judged notes the outcome of a judgement. r.mu is held.
func (r *Ramp) judged(format string, args ...any) {
	r.judgement, r.judgedAt = fmt.Sprintf(format, args...), r.now()
}

// Observe adds a compared pair to the current step's window. It has the
// signature of Options.Observe and is safe for concurrent use.
func (r *Ramp) Observe(pair *framework.Pair, diffs []framework.Diff) {
	r.mu.Lock()
	results := r.results
	r.mu.Unlock()
	// Add names the categories for its own results, in place: keep the
	// session's names for the observers that follow.
	categories := pair.Categories
	pair.Categories = nil
	results.Add(pair, diffs)
	pair.Categories = categories
}

// Run calls Check every interval until ctx ends.
func (r *Ramp) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Check()
		}
	}
}

// Check judges the current window and moves the ramp if it must; it
// returns the state after the move.
func (r *Ramp) Check() RampStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.over:
		r.judged("over: the ramp tripped the kill switch")
		return r.status()
	case r.ctl.Killed():
		r.paused = true
		r.judged("waiting: the kill switch is tripped")
		return r.status()
	case r.paused:
		// Mirroring resumed: the step starts afresh, at its own rate
		// (the operator may have changed it while stopped).
		r.paused = false
		r.count(RampRestart)
		r.judged("mirroring resumed: step %d starts again", r.step+1)
		if err := r.enter(r.step, fmt.Sprintf("ramp: mirroring resumed, step %d of %d starts again at sampling rate %g", r.step+1, len(r.spec.Steps), r.spec.Steps[r.step])); err != nil {
			r.note(err.Error())
		}
		return r.status()
	}
	pairs, failures := r.judge()
	if pairs < int64(r.spec.MinPairs) {
		r.judged("waiting: %d of %d pairs at step %d", pairs, r.spec.MinPairs, r.step+1)
		return r.status()
	}
	rate := r.spec.Steps[r.step]
	if len(failures) > 0 {
		why := strings.Join(failures, "; ")
		r.judged("failed over %d pairs: %s", pairs, why)
		if r.spec.OnFailure == RampKill || r.step == 0 {
			r.over = true
			r.count(RampKilled)
			detail := fmt.Sprintf("ramp step %d (sampling rate %g) failed over %d pairs: %s", r.step+1, rate, pairs, why)
			r.ctl.Trip(TriggerRamp, detail)
			r.note(detail + "; kill switch tripped")
			return r.status()
		}
		r.held = true
		r.count(RampDown)
		if err := r.enter(r.step-1, fmt.Sprintf("ramp: step %d (sampling rate %g) failed over %d pairs: %s; stepped back to step %d (sampling rate %g) and held there",
			r.step+1, rate, pairs, why, r.step, r.spec.Steps[r.step-1])); err != nil {
			r.note(err.Error())
		}
		return r.status()
	}
	if age := r.now().Sub(r.since); age < r.spec.MinDuration {
		r.judged("waiting: thresholds hold over %d pairs; step %d has run %s of its %s", pairs, r.step+1, age.Round(time.Second), r.spec.MinDuration)
		return r.status()
	}
	if r.held || r.step == len(r.spec.Steps)-1 {
		why := "the last step"
		if r.held {
			why = "held after stepping back"
		}
		r.judged("holding (%s): thresholds hold over %d pairs; a new window starts", why, pairs)
		r.fresh() // judged and fine: a new window
		return r.status()
	}
	r.judged("advancing: thresholds hold over %d pairs for %s", pairs, r.spec.MinDuration)
	r.count(RampUp)
	if err := r.enter(r.step+1, fmt.Sprintf("ramp: step %d held over %d pairs; step %d of %d, sampling rate %g",
		r.step+1, pairs, r.step+2, len(r.spec.Steps), r.spec.Steps[r.step+1])); err != nil {
		r.note(err.Error())
	}
	return r.status()
}

// Status returns the ramp's state.
func (r *Ramp) Status() RampStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status()
}

func (r *Ramp) status() RampStatus {
	var pairs int64
	r.results.Snapshot(func(res *observe.Results) {
		for _, e := range res.Endpoints {
			pairs += e.Requests
		}
	})
	return RampStatus{Step: r.step + 1, Steps: len(r.spec.Steps), Rate: r.spec.Steps[r.step], Held: r.held, Over: r.over, Since: r.since, Pairs: pairs,
		Last: r.last, LastAt: r.lastAt, Judgement: r.judgement, JudgedAt: r.judgedAt}
}

// judge returns the window's pairs (copies sent, answered or not) and
// the thresholds that fail on it, judged as the suite judges them, for
// every endpoint with pairs; an endpoint's match rate is judged once it
// has its minSamples pairs.
func (r *Ramp) judge() (pairs int64, failures []string) {
	r.results.Snapshot(func(res *observe.Results) {
		for _, e := range res.Endpoints {
			pairs += e.Requests
			if e.Requests == 0 || e.Spec == nil {
				continue
			}
			th := e.Spec.Thresholds
			if e.Pairs >= int64(max(th.MinSamples, 1)) && e.MatchRate() < th.MatchRate {
				failures = append(failures, fmt.Sprintf("%s: match rate %.3f < %g over %d pairs", e.Name, e.MatchRate(), th.MatchRate, e.Pairs))
			}
			if th.ErrorRate && e.ShadowErrorRate() > e.ProdErrorRate()+th.ErrorRateSlack+errorRateSlackEpsilon {
				failures = append(failures, fmt.Sprintf("%s: shadow error rate %.3f > prod's %.3f + %g", e.Name, e.ShadowErrorRate(), e.ProdErrorRate(), th.ErrorRateSlack))
			}
			if th.LatencyP50Ratio > 0 && e.ProdLatency.Count() > 0 && e.ShadowLatency.Count() > 0 {
				prod, shadow := e.ProdLatency.Quantile(0.5), e.ShadowLatency.Quantile(0.5)
				if float64(shadow) > th.LatencyP50Ratio*float64(prod) {
					failures = append(failures, fmt.Sprintf("%s: shadow p50 %s > %g x prod's %s", e.Name, shadow, th.LatencyP50Ratio, prod))
				}
			}
			if th.LatencyP99 > 0 && e.ShadowLatency.Count() > 0 {
				if p99 := e.ShadowLatency.Quantile(0.99); p99 > th.LatencyP99 {
					failures = append(failures, fmt.Sprintf("%s: shadow p99 %s > %s", e.Name, p99, th.LatencyP99))
				}
			}
		}
	})
	return pairs, failures
}

// Reload follows a spec reload's endpoints: pairs of an added endpoint
// count in the current window from now on, and every endpoint is judged
// by its latest thresholds. The steps stay those of the session's start.
func (r *Ramp) Reload(plan *framework.Plan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endpoints = plan.Endpoints
	for _, e := range plan.Endpoints {
		r.results.AddEndpoint(e)
	}
}

// Collectors returns the ramp's metrics: shadowtest_ramp_step (the
// current step, from 1), shadowtest_ramp_steps, shadowtest_ramp_rate (the
// step's sampling rate), shadowtest_ramp_step_pairs (pairs in the current
// window), shadowtest_ramp_step_start_seconds (when it began, Unix time),
// shadowtest_ramp_held (1 once stepped back or over) and
// shadowtest_ramp_transitions_total{direction="up|down|kill|restart"}.
func (r *Ramp) Collectors() []prometheus.Collector {
	gauge := func(name, help string, value func(RampStatus) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "shadowtest", Subsystem: "ramp", Name: name, Help: help},
			func() float64 { return value(r.Status()) })
	}
	cs := []prometheus.Collector{
		gauge("step", "The mirror.ramp step in force, from 1.", func(s RampStatus) float64 { return float64(s.Step) }),
		gauge("steps", "The number of mirror.ramp steps.", func(s RampStatus) float64 { return float64(s.Steps) }),
		gauge("rate", "The sampling rate of the ramp's step in force.", func(s RampStatus) float64 { return s.Rate }),
		gauge("step_pairs", "Pairs judged in the ramp's current window.", func(s RampStatus) float64 { return float64(s.Pairs) }),
		gauge("step_start_seconds", "When the ramp's current window began, in Unix seconds.", func(s RampStatus) float64 { return float64(s.Since.UnixNano()) / 1e9 }),
		gauge("held", "1 once the ramp stepped back (it no longer advances) or tripped the kill switch, else 0.", func(s RampStatus) float64 {
			if s.Held || s.Over {
				return 1
			}
			return 0
		}),
	}
	for i, d := range rampDirections {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "shadowtest", Subsystem: "ramp", Name: "transitions_total",
			Help: "The ramp's moves by direction: up (a step held), down (a threshold failed: stepped back), kill (a threshold failed: kill switch tripped), restart (mirroring resumed).", ConstLabels: prometheus.Labels{"direction": d}},
			func() float64 { return float64(r.transitions[i].Load()) }))
	}
	return cs
}

// AttachRamp shows r's state in the session's GET /status and its metrics
// on the session's registry. A session has at most one ramp.
func (s *Shadow) AttachRamp(r *Ramp) error {
	if !s.ramp.CompareAndSwap(nil, r) {
		return fmt.Errorf("the session already has a ramp")
	}
	for _, c := range r.Collectors() {
		if err := s.metrics.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}
