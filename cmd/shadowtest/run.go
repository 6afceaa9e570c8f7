package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/report"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/framework/suite"
)

// DefaultJUnitFile is where the JUnit XML goes unless --junit says otherwise.
const DefaultJUnitFile = "junit.xml"

const runExamples = `  shadowtest run specs/ --junit junit.xml
  shadowtest run specs/ -t prod=http://127.0.0.1:8081 -t shadow=http://127.0.0.1:8082`

// runOptions are the flags shared by run and demo.
type runOptions struct {
	junit   string
	timeout time.Duration
	limits  limitOptions
	outputs outputOptions
	feed    feedOptions
}

func (o *runOptions) register(fs interface {
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&o.junit, "junit", DefaultJUnitFile, "write the JUnit XML report to `FILE`")
	fs.DurationVar(&o.timeout, "timeout", 0, "abort the run after this long (0: no limit); results so far are written")
	o.limits.register(fs)
	o.outputs.register(fs)
	o.feed.register(fs)
}

func runCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "SPECDIR [flags]", runExamples, stderr)
	var opt runOptions
	opt.register(fs)
	targets := targetFlags{}
	fs.Var(targets, "t", "override a target URL: `prod=URL` or shadow=URL (repeatable)")
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "shadowtest run: want exactly one spec directory, e.g. shadowtest run specs/ --junit junit.xml")
		return exitInvalid
	}
	plan, err := spec.Load(positional[0], spec.Options{Targets: targets})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	return execute(plan, opt, stdout, stderr)
}

// execute replays the plan inside the Ginkgo suite, writes the JUnit and
// the summary, and returns the exit code.
func execute(plan *framework.Plan, opt runOptions, stdout, stderr io.Writer) int {
	results := observe.NewResults(plan.Endpoints)
	out, err := opt.outputs.open(plan, results)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	feed, err := opt.feed.apply(plan, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	opt.limits.apply(plan)
	signals := catchSignals()
	defer signals.stop()
	outcome := suite.Run(suite.Config{
		Plan:    plan,
		Results: results,
		Replay: func(ctx context.Context) error {
			defer startProgress(ctx, plan, results, opt.limits.quiet).Stop()
			return runner.Run(ctx, plan, results, runner.Options{Kill: signals.kill, Observe: out.observe(), Feed: feed})
		},
		IsAbort:        isAbort,
		Timeout:        opt.timeout,
		NoColor:        !report.UseColor(os.Stdout),
		Baseline:       out.baseline,
		BaselineMargin: plan.Report.BaselineMargin,
	})

	if outcome.ReplayErr != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", outcome.ReplayErr)
	}
	if sig := signals.interrupted(); sig != "" {
		fmt.Fprintf(stderr, "shadowtest: %s received: requests in flight cancelled, partial results written\n", sig)
	}
	var files []string
	if err := writeJUnit(opt.junit, outcome, plan, results); err != nil {
		fmt.Fprintf(stderr, "shadowtest: writing JUnit: %v\n", err)
	} else {
		files = append(files, "junit: "+opt.junit)
	}
	files = append(files, out.finish(outcome, stderr)...)
	summary := report.Summary{Results: results, Verdicts: suite.Verdicts(outcome.Report), Files: files, Color: report.UseColor(os.Stdout)}
	fmt.Fprintln(stdout)
	summary.Write(stdout)
	writeFeedCounts(stdout, results, feed)
	writeNoiseRules(stdout, results)
	return exitCode(outcome)
}

func writeJUnit(path string, outcome suite.Outcome, plan *framework.Plan, results *observe.Results) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := suite.WriteJUnit(f, outcome.Report, plan, results); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func isAbort(err error) bool {
	var abort *runner.AbortError
	return errors.As(err, &abort)
}

func exitCode(outcome suite.Outcome) int {
	var input *runner.InputError
	switch {
	case errors.As(outcome.ReplayErr, &input):
		return exitInvalid
	case isAbort(outcome.ReplayErr), interrupted(outcome):
		return exitAborted
	case !outcome.Passed:
		return exitFail
	}
	return exitPass
}

// interrupted reports whether the suite was cut short by a signal or its
// timeout rather than by a failing threshold.
func interrupted(outcome suite.Outcome) bool {
	for _, s := range outcome.Report.SpecReports {
		if s.State.Is(typesAbortStates) {
			return true
		}
	}
	return false
}
