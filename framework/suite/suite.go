// Package suite turns a plan into Ginkgo specs and runs them: one Describe
// per endpoint, one It per threshold, asserted with Gomega matchers over the
// aggregates a replay produced, and writes the JUnit XML the CI UI shows.
//
// It is the only package that runs Ginkgo. It does not send traffic itself:
// the caller passes the replay, which runs once, inside the suite, with the
// suite's context so that an interrupt reaches in-flight requests.
//
// Two entry points: Run, for a program that owns the process's Ginkgo suite
// (the CLI), and Declare, for a team's own Ginkgo suite: call it at the top
// level of a test file or inside one of the suite's containers (not an
// Ordered one), and run the suite as usual.
package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/extensions/globals"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// RootName is the top-level container of every suite; JUnit class names
// start with it.
const RootName = "shadowtest"

// RunGroup is the name of the group holding the test that the replay itself
// completed.
const RunGroup = "run"

// AlsoGroup is the container, and the JUnit group, of the specs a team adds
// with Config.Also.
const AlsoGroup = "also"

// Config is what a suite run needs.
type Config struct {
	// Plan supplies the endpoints, thresholds and spec positions.
	Plan *framework.Plan
	// Results are the aggregates Replay fills in; the thresholds are
	// asserted on them once Replay returns.
	Results *observe.Results
	// Replay sends the traffic. It runs once, before any threshold is
	// asserted. An error that is not an abort fails every test case.
	Replay func(ctx context.Context) error
	// IsAbort tells an abort (results valid but partial) from an input
	// error (nothing to judge).
	IsAbort func(error) bool
	// Timeout bounds the whole suite; zero means no bound.
	Timeout time.Duration
	// NoColor turns off colour in Ginkgo's console output, which Run
	// silences; kept for library users that print Ginkgo's report.
	NoColor bool
	// Also, when set, declares more specs inside shadowtest's Ordered
	// container, in a Describe named AlsoGroup after the thresholds: they
	// run after the replay and may assert on Results with the same
	// matchers (library use). The JUnit groups them as AlsoGroup.
	Also func()
	// Baseline, when set, holds an earlier run's results: each endpoint
	// gets two more test cases, no new discrepancy category and no match
	// rate drop of more than BaselineMargin.
	Baseline *observe.Results
	// BaselineMargin is the match-rate drop the baseline test allows.
	BaselineMargin float64
}

// Outcome is what a suite run produced.
type Outcome struct {
	// Report is Ginkgo's report of every spec.
	Report types.Report
	// ReplayErr is what Replay returned.
	ReplayErr error
	// Passed reports whether every test case passed.
	Passed bool
}

type failRecorder struct{ failed bool }

func (f *failRecorder) Fail() { f.failed = true }

// ErrSuiteHasSpecs is Run's refusal to discard the specs a program (a test
// binary) declared in Ginkgo's global suite: such a program calls Declare
// inside its own suite instead.
var ErrSuiteHasSpecs = errors.New("suite.Run: this program's Ginkgo suite has specs of its own, which Run would discard; call suite.Declare inside that suite instead")

// runs serializes Run calls and remembers whether Run built the global
// suite last, in which case resetting it discards only Run's own specs.
var runs struct {
	sync.Mutex
	ran bool
}

// Run builds shadowtest's specs as the process's only Ginkgo suite and runs
// them, silently: Ginkgo's console reporter (progress dots, failure blocks
// pointing into Go source, progress reports with goroutine dumps on a
// signal) writes nowhere, because the caller prints its own summary from
// Outcome. Cancelling ctx cancels the replay's context; the thresholds are
// then asserted on what it gathered. Ginkgo has one global suite per
// process: Run starts it afresh, so it can be called again, and returns
// ErrSuiteHasSpecs rather than discard specs the program declared itself.
func Run(ctx context.Context, cfg Config) (Outcome, error) {
	runs.Lock()
	defer runs.Unlock()
	// Inside a running suite (a team's spec calling Run), or before Run
	// built the global suite, the specs there are not Run's to discard.
	if !ginkgo.CurrentSpecReport().StartTime.IsZero() || (!runs.ran && hasSpecs()) {
		return Outcome{}, ErrSuiteHasSpecs
	}
	runs.ran = true
	globals.Reset()
	gomega.RegisterFailHandler(ginkgo.Fail)

	var out Outcome
	replay := cfg.Replay
	cfg.Replay = func(specCtx context.Context) error {
		replayCtx, cancel := context.WithCancel(specCtx)
		defer cancel()
		defer context.AfterFunc(ctx, cancel)()
		return replay(replayCtx)
	}
	declared := Declare(cfg)
	ginkgo.ReportAfterSuite("shadowtest report", func(r ginkgo.Report) {
		out.Report = r
	})

	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	suiteConfig.RandomSeed = 1
	suiteConfig.Timeout = cfg.Timeout
	if suiteConfig.Timeout == 0 {
		suiteConfig.Timeout = 100 * 365 * 24 * time.Hour
	}
	reporterConfig.Succinct = true
	reporterConfig.SilenceSkips = true
	reporterConfig.NoColor = true
	// RunSpecs hands formatter.ColorableStdOut to its default reporter;
	// there is no other way to give it a writer.
	stdout, stderr := formatter.ColorableStdOut, formatter.ColorableStdErr
	formatter.ColorableStdOut, formatter.ColorableStdErr = io.Discard, io.Discard
	defer func() { formatter.ColorableStdOut, formatter.ColorableStdErr = stdout, stderr }()
	var t failRecorder
	out.Passed = ginkgo.RunSpecs(&t, "shadowtest", suiteConfig, reporterConfig) && !t.failed
	out.ReplayErr = declared.ReplayErr()
	return out, nil
}

// hasSpecs reports whether Ginkgo's global suite holds specs that Run did
// not declare, by walking its tree without running it.
func hasSpecs() bool {
	for _, spec := range ginkgo.PreviewSpecs(RootName).SpecReports {
		if spec.LeafNodeType == types.NodeTypeIt {
			return true
		}
	}
	return false
}

// replayTimeEntry is the report entry in which Declare records how long
// the replay took, so that WriteJUnit can share it out among the
// endpoints instead of charging it all to the first test case.
const replayTimeEntry = "shadowtest replay time"

// Declared is shadowtest's part of a Ginkgo suite, as Declare added it.
type Declared struct {
	mu        sync.Mutex
	replayErr error
}

// ReplayErr returns what Config.Replay returned; nil until it has run.
func (d *Declared) ReplayErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.replayErr
}

func (d *Declared) setReplayErr(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.replayErr = err
}

// Declare adds shadowtest's specs to the Ginkgo suite being built: an
// Ordered container named RootName whose BeforeAll runs cfg.Replay once,
// one Describe per endpoint with one It per threshold, the specs of
// cfg.Also in a Describe named AlsoGroup, and a RunGroup whose It fails
// when the replay did not complete. A team's suite calls it at the top
// level of a test file (var shadow = suite.Declare(cfg)) or inside one of
// its containers, but not inside an Ordered one: Ginkgo allows
// ContinueOnFailure only on the outermost Ordered container. The suite's
// other specs are left alone.
func Declare(cfg Config) *Declared {
	d := &Declared{}
	ginkgo.Describe(RootName, ginkgo.Ordered, ginkgo.ContinueOnFailure, func() {
		ginkgo.BeforeAll(func(ctx ginkgo.SpecContext) {
			start := time.Now()
			err := cfg.Replay(ctx)
			d.setReplayErr(err)
			ginkgo.AddReportEntry(replayTimeEntry, time.Since(start), ginkgo.ReportEntryVisibilityNever)
			if err != nil && (cfg.IsAbort == nil || !cfg.IsAbort(err)) {
				ginkgo.Fail("replay failed: " + err.Error())
			}
		})
		for i := range cfg.Plan.Endpoints {
			declareEndpoint(&cfg.Plan.Endpoints[i], cfg.Results)
		}
		declareBaselines(cfg)
		if cfg.Also != nil {
			ginkgo.Describe(AlsoGroup, cfg.Also)
		}
		ginkgo.Describe(RunGroup, func() {
			ginkgo.It("replays all traffic", trafficLocation(cfg.Plan), func() {
				if err := d.ReplayErr(); err != nil {
					ginkgo.Fail(err.Error())
				}
				if why := nothingCompared(cfg.Results); why != "" {
					ginkgo.Fail(why)
				}
			})
		})
	})
	return d
}

func declareEndpoint(e *framework.Endpoint, results *observe.Results) {
	th := e.Thresholds
	ginkgo.Describe(e.Name, func() {
		ginkgo.It(MatchRateName(th), location(th.MatchRatePos), func() {
			agg := results.Endpoint(e.Name)
			skipWithheld(agg)
			reportNoise(agg)
			gomega.Expect(agg).To(HoldMatchRate(th))
		})
		if e.Known != nil {
			ginkgo.It(KnownName, location(e.KnownPos), func() {
				skipWithheld(results.Endpoint(e.Name))
				gomega.Expect(results.Endpoint(e.Name)).To(HoldKnownCategories(e.Known))
			})
		}
		if th.ErrorRate {
			ginkgo.It(ErrorRateName(th), location(th.ErrorRatePos), func() {
				skipWithheld(results.Endpoint(e.Name))
				gomega.Expect(results.Endpoint(e.Name)).To(HoldErrorRate(th))
			})
		}
		if th.LatencyP50Ratio > 0 {
			ginkgo.It(LatencyP50Name(th), location(th.LatencyP50Pos), func() {
				skipWithheld(results.Endpoint(e.Name))
				gomega.Expect(results.Endpoint(e.Name)).To(HoldLatencyP50Ratio(th))
			})
		}
		if th.LatencyP99 > 0 || th.LatencyP99Monitored {
			ginkgo.It(LatencyP99Name(th), location(th.LatencyP99Pos), func() {
				agg := results.Endpoint(e.Name)
				skipWithheld(agg)
				// Reported either way, so a monitored p99 is visible in the
				// JUnit (as properties) without ever failing.
				ginkgo.AddReportEntry("prod p99", ms(agg.ProdLatency.Quantile(0.99)), ginkgo.ReportEntryVisibilityFailureOrVerbose)
				ginkgo.AddReportEntry("shadow p99", ms(agg.ShadowLatency.Quantile(0.99)), ginkgo.ReportEntryVisibilityFailureOrVerbose)
				if th.LatencyP99 > 0 {
					gomega.Expect(agg).To(HoldLatencyP99(th))
				}
			})
		}
	})
}

// skipWithheld skips a threshold of an endpoint none of whose requests
// were sent because the spec's own policy withheld them (writes: skip,
// record-only, the sampled or selective mode): there is nothing to judge,
// by the spec's choice. The reason says which policy and how many
// requests. An endpoint whose requests were simply not in the traffic is
// not skipped: its match rate fails as insufficient traffic.
func skipWithheld(agg *observe.Endpoint) {
	if agg == nil || !agg.OnlyWithheld() {
		return
	}
	_, why := agg.Withheld()
	ginkgo.Skip("skipped: " + why)
}

// nothingCompared says why a run that compared no pair at all gates
// nothing, when endpoints had every request withheld by a policy (their
// thresholds are skipped, each rightly): the run passed with exit 0 on
// zero pairs, as with `--mode sampled --rate 0.000001` or a spec of
// writes under writes: skip. "" when a pair was compared, or when no
// request was withheld (the endpoints then fail as insufficient traffic).
func nothingCompared(results *observe.Results) string {
	if results == nil {
		return ""
	}
	var withheld []string
	for _, e := range results.Endpoints {
		if e.Pairs > 0 {
			return ""
		}
		if e.OnlyWithheld() {
			_, why := e.Withheld()
			withheld = append(withheld, e.Name+": "+why)
		}
	}
	if len(withheld) == 0 {
		return ""
	}
	if len(withheld) > 3 {
		withheld = append(withheld[:3:3], fmt.Sprintf("and %d more", len(withheld)-3))
	}
	return "no pair was compared in the whole run, so it gates nothing: every request was withheld by a policy (" +
		strings.Join(withheld, "; ") + "); send some (another mode or rate, writes: isolated or dry-run)"
}

// MatchRateName is the test case name of an endpoint's match-rate threshold.
func MatchRateName(th framework.Thresholds) string {
	return fmt.Sprintf("match rate >= %g (min %d pairs)", th.MatchRate, th.MinSamples)
}

// trafficLocation is where the spec declares its traffic (the place to
// look when the replay fails), or the spec directory.
func trafficLocation(plan *framework.Plan) types.CodeLocation {
	if len(plan.Traffic) > 0 && plan.Traffic[0].Pos.File != "" {
		return location(plan.Traffic[0].Pos)
	}
	return types.CodeLocation{FileName: plan.Dir}
}

// location turns a spec position into a Ginkgo code location, so that
// Ginkgo points at the CUE line a threshold was declared on.
func location(p framework.Position) types.CodeLocation {
	if p.File == "" {
		return types.CodeLocation{}
	}
	return types.CodeLocation{FileName: p.File, LineNumber: p.Line}
}

// ginkgoInterrupt is what Ginkgo writes of any interrupting signal: it
// treats SIGTERM like SIGINT and says "by User" of both.
const ginkgoInterrupt = "Interrupted by User"

// NameSignal replaces Ginkgo's "Interrupted by User" in report with the
// signal that ended the run ("SIGTERM", "SIGINT"), so that the JUnit and
// the summary say what happened: a CI job cancelled or timed out sends
// SIGTERM, and no user pressed anything. An empty signal changes nothing.
func NameSignal(report *types.Report, signal string) {
	if signal == "" {
		return
	}
	name := func(s string) string { return SignalMessage(s, signal) }
	for i, reason := range report.SpecialSuiteFailureReasons {
		report.SpecialSuiteFailureReasons[i] = name(reason)
	}
	for i := range report.SpecReports {
		s := &report.SpecReports[i]
		s.Failure.Message = name(s.Failure.Message)
		s.Failure.ProgressReport.Message = name(s.Failure.ProgressReport.Message)
		for j := range s.AdditionalFailures {
			s.AdditionalFailures[j].Failure.Message = name(s.AdditionalFailures[j].Failure.Message)
		}
	}
}

// SignalMessage returns s with Ginkgo's "Interrupted by User" naming
// signal instead, for the texts NameSignal does not reach: the replay's
// error and the results' aborted reason, which come from the context
// Ginkgo cancels with those words.
func SignalMessage(s, signal string) string {
	if signal == "" {
		return s
	}
	return strings.ReplaceAll(s, ginkgoInterrupt, "Interrupted by "+signal)
}
