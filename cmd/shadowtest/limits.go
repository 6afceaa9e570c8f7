package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/progress"
	"github.com/shadowtest/shadowtest/framework/report"
	"github.com/shadowtest/shadowtest/framework/runner"
)

// limitOptions are the flags that override the spec's mirror limits and
// control progress output.
type limitOptions struct {
	concurrency int
	rps         float64
	killFile    string
	quiet       bool
}

func (o *limitOptions) register(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.IntVar(&o.concurrency, "concurrency", 0, "requests in flight at once (0: the spec's mirror.concurrency)")
	fs.Float64Var(&o.rps, "rps", 0, "cap the requests per second sent to each target (0: the spec's mirror.rps, else no cap)")
	fs.StringVar(&o.killFile, "kill-file", "", "stop shadow traffic and abort (exit 3) when `FILE` appears (overrides mirror.killSwitch.file)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output (otherwise a live line on a terminal, a log line every 5s elsewhere)")
}

// maxConcurrency is mirror.concurrency's upper bound in the schema: a
// larger --concurrency allocated its workers' queue at once (2,000,000,000
// crashed run and proxy out of memory with a Go stack trace).
const maxConcurrency = 1024

// minRPS is the smallest --rps, as the schema's for mirror.rps.
const minRPS = 0.01

// apply writes the flags that were set over the plan's settings, or
// says which flag is out of range (a negative or NaN value was ignored
// before, silently running with the spec's setting).
func (o *limitOptions) apply(plan *framework.Plan) error {
	if o.concurrency < 0 || o.concurrency > maxConcurrency {
		return fmt.Errorf("--concurrency %d: want a number of requests from 1 to %d, mirror.concurrency's range (0: the spec's mirror.concurrency)", o.concurrency, maxConcurrency)
	}
	if !(o.rps == 0 || o.rps >= minRPS) || math.IsInf(o.rps, 0) {
		return fmt.Errorf("--rps %v: want requests per second of at least %v (one every 100 s; a smaller rate waits for ever), or 0 for the spec's mirror.rps", o.rps, minRPS)
	}
	if o.concurrency > 0 {
		plan.Mirror.Concurrency = o.concurrency
	}
	if o.rps > 0 {
		plan.Mirror.RPS = o.rps
	}
	if o.killFile != "" {
		plan.Mirror.KillSwitch.File = o.killFile
	}
	return nil
}

// signals holds the process's signal handling for one run.
type signals struct {
	// kill receives "SIGUSR1" when the kill switch is tripped from outside.
	kill  chan string
	stops []chan os.Signal
	// interrupts receives SIGINT and SIGTERM; interrupted drains it.
	interrupts chan os.Signal
	// received names the first SIGINT or SIGTERM received, if any.
	received string
}

// catchSignals keeps SIGINT and SIGTERM from killing the process outside
// the suite, so that a cancelled run always writes its partial JUnit and
// summary and exits 3. While the suite runs, Ginkgo's own handler, which
// treats SIGTERM like SIGINT, cancels the replay's context: the first
// signal cancels the requests in flight and skips the remaining threshold
// tests, a second skips cleanup, a third stops waiting for the reporting
// nodes. SIGUSR1 trips the kill switch.
func catchSignals() *signals {
	s := &signals{kill: make(chan string, 1)}
	interrupts := make(chan os.Signal, 4)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	usr1 := make(chan os.Signal, 1)
	notifySignals(usr1, killSignal)
	s.stops = []chan os.Signal{interrupts, usr1}
	s.interrupts = interrupts
	go func() {
		for range usr1 {
			select {
			case s.kill <- "SIGUSR1":
			default:
			}
		}
	}()
	return s
}

// interrupted returns "SIGINT" or "SIGTERM" when one was received, else "".
// It reads the channel itself rather than from a goroutine: the signal is
// queued on it before Ginkgo's handler (notified at the same time) ends the
// suite, so it is there to be read when the suite returns.
func (s *signals) interrupted() string {
	for s.received == "" {
		select {
		case sig, ok := <-s.interrupts:
			if !ok {
				return ""
			}
			s.received = signalName(sig)
		default:
			return ""
		}
	}
	return s.received
}

// notifySignals relays the given signals to c, leaving out those the
// platform does not have (nil).
func notifySignals(c chan<- os.Signal, sigs ...os.Signal) {
	var have []os.Signal
	for _, sig := range sigs {
		if sig != nil {
			have = append(have, sig)
		}
	}
	if len(have) > 0 {
		signal.Notify(c, have...)
	}
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// stop restores the default handling; closing the channels (no signal is
// delivered to them once Stop returns) ends the goroutines reading them.
func (s *signals) stop() {
	for _, c := range s.stops {
		signal.Stop(c)
		close(c)
	}
}

// startProgress shows the run's progress on stderr unless quiet: a live
// line on a terminal, a log line every few seconds elsewhere. The total
// comes from a separate read of the traffic, so the first lines have none.
func startProgress(ctx context.Context, plan *framework.Plan, results *observe.Results, quiet bool, stderr io.Writer) *progress.Reporter {
	mode := progress.ModeFor(os.Stderr, quiet)
	var total atomic.Int64
	if mode != progress.Off {
		go func() {
			if n, err := runner.Count(ctx, plan); err == nil {
				total.Store(n)
			}
		}()
	}
	return progress.Start(stderr, progress.Options{Mode: mode, Color: report.UseColor(os.Stderr)}, func() progress.Stats {
		st := progress.Stats{Total: total.Load()}
		results.Snapshot(func(r *observe.Results) {
			for _, e := range r.Endpoints {
				st.Done += e.Requests + e.Skipped
				st.Compared += e.Pairs
				st.Matched += e.Matches
			}
			for _, n := range r.Unmatched {
				st.Done += n
			}
		})
		return st
	})
}

// tuneCollector sets the garbage collector for a run or a session: the
// GC target runner.GCPercent (a small live heap allocated anew for every
// pair or request, so a higher target saves CPU) and the soft memory limit
// limit, which caps what that headroom may cost. GOGC and GOMEMLIMIT, when
// set, override them.
func tuneCollector(limit int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(runner.GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}
