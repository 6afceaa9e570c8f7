package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	noise   string
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
	fs.StringVar(&o.noise, "write-noise", "", "write the noise learned from prod as CUE shape rules to `FILE` (same package as the spec; review it, then keep it next to the spec; an existing file that --write-noise did not write is not replaced)")
	fs.DurationVar(&o.timeout, "timeout", 0, "abort the run after this long (0: no limit); results so far are written")
	o.limits.register(fs)
	o.outputs.register(fs)
	o.feed.register(fs)
}

func runCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "SPECDIR [flags]", runExamples, stdout, stderr)
	var opt runOptions
	opt.register(fs)
	var tags tagFlags
	fs.Var(&tags, "t", tagUsage)
	dir, code, ok := parseSpecDirArgs(fs, args, "shadowtest run specs/ --junit junit.xml", stderr, outputFlags...)
	if !ok {
		return code
	}
	plan, err := spec.Load(dir, spec.Options{Tags: tags, Send: true})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	for _, note := range spec.Notes(dir, plan) {
		fmt.Fprintln(stderr, "shadowtest: warning: "+note)
	}
	return execute(plan, opt, stdout, stderr)
}

// outputFlags are the run and demo flags that name an output.
var outputFlags = []string{"junit", "log", "results", "html"}

// console is where a command prints its summary: stdout, unless an output
// goes there.
func console(opt outputOptions, stdout, stderr io.Writer) io.Writer {
	if opt.onStdout() {
		return stderr
	}
	return stdout
}

// useColor reports whether the summary printed on term may use colours.
func useColor(term, stdout io.Writer) bool {
	if term == stdout {
		return report.UseColor(os.Stdout)
	}
	return report.UseColor(os.Stderr)
}

// execute replays the plan inside the Ginkgo suite, writes the outputs and
// the summary, and returns the exit code.
func execute(plan *framework.Plan, opt runOptions, stdout, stderr io.Writer) int {
	feed, err := opt.feed.apply(plan, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	if opt.noise != "" {
		if err := checkNoiseTarget(opt.noise); err != nil {
			fmt.Fprintf(stderr, "shadowtest: %v\n", err)
			return exitInvalid
		}
	}
	results := observe.NewResults(plan.Endpoints)
	stampOrigin(results, plan, feed.Shard)
	out, err := opt.outputs.open(plan, results, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	defer out.discard()
	if err := opt.limits.apply(plan); err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}
	tuneCollector(runner.MemoryLimit(plan))
	signals := catchSignals()
	defer signals.stop()
	term := console(opt.outputs, stdout, stderr)
	outcome, err := suite.Run(context.Background(), suite.Config{
		Plan:    plan,
		Results: results,
		Replay: func(ctx context.Context) error {
			defer startProgress(ctx, plan, results, opt.limits.quiet, stderr).Stop()
			return runner.Run(ctx, plan, results, runner.Options{Kill: signals.kill, Observe: out.observe(), Seen: out.seen, Feed: feed})
		},
		IsAbort:        isAbort,
		Timeout:        opt.timeout,
		NoColor:        !report.UseColor(os.Stdout),
		Baseline:       out.baseline,
		BaselineMargin: plan.Report.BaselineMargin,
	})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest: %v\n", err)
		return exitInvalid
	}

	// Ginkgo says "Interrupted by User" of SIGTERM too (a cancelled CI
	// job): the outputs name the signal received.
	sig := signals.interrupted()
	suite.NameSignal(&outcome.Report, sig)
	results.Snapshot(func(r *observe.Results) { r.Aborted = suite.SignalMessage(r.Aborted, sig) })
	if outcome.ReplayErr != nil {
		fmt.Fprintf(stderr, "shadowtest: %s\n", suite.SignalMessage(outcome.ReplayErr.Error(), sig))
	}
	if sig != "" {
		fmt.Fprintf(stderr, "shadowtest: %s received: requests in flight cancelled, partial results written\n", sig)
	}
	files, failed := out.finish(outcome)
	if opt.noise != "" {
		if err := writeNoiseFile(opt.noise, stdout, plan, results); err != nil {
			failed = append(failed, fmt.Errorf("--write-noise %s not written: %w", opt.noise, err))
		} else {
			files = append(files, "noise rules: "+opt.noise)
		}
	}
	summary := report.Summary{Results: results, Verdicts: suite.Verdicts(outcome.Report), Files: files, Color: useColor(term, stdout)}
	fmt.Fprintln(term)
	summary.Write(term)
	writeFeedCounts(term, results, feed)
	writeNoiseRules(term, results)
	warnScrubberFull(stderr, scrubberOf(stdout))
	return reportWriteFailures(stderr, "shadowtest", failed, exitCode(outcome))
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
