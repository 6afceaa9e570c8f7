// Package runner wires the stages of a run together: it streams the plan's
// traffic, selects each request's endpoint, applies the write policy, mirrors
// the request to prod and the shadow, compares the two responses under the
// endpoint's rules and adds the outcome to the aggregates.
//
// It holds no traffic in memory: a bounded channel feeds a fixed pool of
// workers, paced by the plan's rate limit. A kill switch (the shadow's error
// rate or latency over a sliding window, a file, an external signal) and the
// caller's context end a run by cancelling the requests in flight; the
// results gathered until then stay valid. It does not decide verdicts or
// write reports.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/mirror"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/selector"
)

// InputError is a problem with the run's input (a traffic file that cannot
// be read, a malformed record): the run stops and nothing is judged.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// AbortError says why a run stopped before the end of its traffic (prod
// unreachable, kill switch, interrupted). The results gathered until then
// are valid.
type AbortError struct {
	Reason string
	// Trip is set when the kill switch stopped the run.
	Trip *Trip
}

func (e *AbortError) Error() string { return "run aborted: " + e.Reason }

// unreachableAfter is how many consecutive prod transport failures, with
// no prod answer at all so far, end a run as "prod unreachable".
const unreachableAfter = 20

// Observer is told about every compared pair, for discrepancy logs and
// progress. It must be safe for concurrent use. The pair's response bodies
// are valid only during the call (the runner reads the next pair's bodies
// into their memory, see mirror.Sender): copy what must be kept.
type Observer func(pair *framework.Pair, diffs []framework.Diff)

// Options tune a run beyond what the plan says.
type Options struct {
	// Observe, when set, is called for every compared pair.
	Observe Observer
	// Feed selects this process's part of the traffic (shard, bad records).
	Feed FeedOptions
	// Kill trips the kill switch when it receives a value, which names
	// the external source (for example "SIGUSR1"). May be nil.
	Kill <-chan string
	// Seen, when set, is called with every exchange before it is sent,
	// so that its secrets are known to the outputs' scrubber before any
	// answer to it can be written. It must be safe for concurrent use.
	Seen func(*framework.Exchange)
}

type job struct {
	endpoint int
	exchange framework.Exchange
}

// Run replays the plan's traffic and adds every outcome to results. It
// returns an *InputError for unreadable traffic, an *AbortError when the run
// stopped early (results then hold what was gathered), or nil.
func Run(ctx context.Context, plan *framework.Plan, results *observe.Results, opt Options) error {
	comparators, err := Comparators(plan)
	if err != nil {
		return &InputError{Err: err}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	m := mirror.New(plan)
	rpcs, err := mirror.NewRPC(ctx, plan)
	var unreachable *mirror.UnreachableError
	switch {
	case errors.As(err, &unreachable):
		return &AbortError{Reason: "prod unreachable: " + err.Error()}
	case err != nil:
		return &InputError{Err: err}
	}
	if rpcs != nil {
		defer rpcs.Close()
		m.UseRPC(rpcs)
		opt.Feed.prepare = rpcs.Descriptors.PrepareRequest
		if plan.Prod.Recorded { // the recorded answers are compared: ready them too
			opt.Feed.prepare = rpcs.Descriptors.Prepare
		}
	}
	sel := selector.New(plan.Endpoints)
	jobs := make(chan job, plan.Mirror.Concurrency)
	var prodAnswers, prodFailStreak atomic.Int64

	// The kill switch ends the run through the context, which cancels the
	// requests in flight: shadow traffic stops at once, not at the end of
	// the queue.
	var tripOnce sync.Once
	trip := func(trigger, detail string) {
		tripOnce.Do(func() {
			t := &Trip{Trigger: trigger, Detail: detail, At: time.Now()}
			cancel(&AbortError{Reason: t.String(), Trip: t})
		})
	}
	done := make(chan struct{})
	defer close(done)
	if plan.Mirror.KillSwitch.File != "" {
		go watchFile(plan.Mirror.KillSwitch.File, done, trip)
	}
	if opt.Kill != nil {
		go func() {
			select {
			case source := <-opt.Kill:
				trip("signal", source+" received")
			case <-done:
			}
		}()
	}
	killWindow := newWindow(plan.Mirror.KillSwitch)

	var limiter *rate.Limiter
	if plan.Mirror.RPS > 0 {
		limiter = rate.NewLimiter(rate.Limit(plan.Mirror.RPS), 1)
	}

	var wg sync.WaitGroup
	for range max(plan.Mirror.Concurrency, 1) {
		wg.Go(func() {
			sender := m.Sender()
			defer sender.Close()
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				if limiter != nil && limiter.Wait(ctx) != nil {
					continue
				}
				if opt.Seen != nil {
					opt.Seen(&j.exchange)
				}
				endpoint := &plan.Endpoints[j.endpoint]
				pair := framework.Pair{Endpoint: endpoint.Name, Exchange: j.exchange}
				pair.Prod, pair.Shadow = sender.SendExchange(ctx, &j.exchange)
				if ctx.Err() != nil && (pair.Prod.ErrKind == "canceled" || pair.Shadow.ErrKind == "canceled") {
					continue // cut short by the end of the run: neither side's fault
				}
				if pair.Prod.Failed() {
					if prodAnswers.Load() == 0 && prodFailStreak.Add(1) >= unreachableAfter {
						cancel(&AbortError{Reason: fmt.Sprintf("prod unreachable at %s: %d requests in a row failed (%s), none answered", DisplayURL(plan.Prod.URL), unreachableAfter, pair.Prod.Err)})
					}
				} else {
					prodAnswers.Add(1)
					prodFailStreak.Store(0)
				}
				if killWindow.enabled() {
					if trigger, detail := killWindow.add(&pair.Shadow); trigger != "" {
						trip(trigger, detail)
					}
				}
				diffs, more := comparators[j.endpoint].CompareCounting(&pair.Prod, &pair.Shadow)
				pair.MoreDiffs = more
				probeNoise(ctx, m.ProbeDo, plan, endpoint, comparators[j.endpoint], &j.exchange, &pair.Prod, results)
				results.Add(&pair, diffs)
				if opt.Observe != nil {
					opt.Observe(&pair, diffs)
				}
			}
		})
	}

	sent, err := feed(ctx, plan, sel, results, jobs, opt.Feed)
	close(jobs)
	wg.Wait()
	results.ApplyNoise() // every pair is in: noise paths are known now

	if err != nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil {
		var abort *AbortError
		if !errors.As(cause, &abort) {
			abort = &AbortError{Reason: cause.Error()}
		}
		results.Snapshot(func(r *observe.Results) { r.Aborted = abort.Reason })
		return abort
	}
	if sent > 0 && prodAnswers.Load() == 0 {
		abort := &AbortError{Reason: fmt.Sprintf("prod unreachable at %s: none of %d requests was answered", DisplayURL(plan.Prod.URL), sent)}
		results.Snapshot(func(r *observe.Results) { r.Aborted = abort.Reason })
		return abort
	}
	return nil
}

// DisplayURL is a target URL as messages show it: without credentials,
// query or fragment, which may hold secrets (see scrub.URL).
func DisplayURL(raw string) string { return scrub.URL(raw) }
