package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/report"
	"github.com/shadowtest/shadowtest/framework/spec"
	"github.com/shadowtest/shadowtest/framework/suite"
)

const mergeExamples = `  shadowtest merge shard-*/results.json --junit junit.xml
  shadowtest merge shard-*/results.json --allow-partial --junit junit.xml   # a shard's job failed
  shadowtest merge out/results-*.json --specs specs/ --junit junit.xml
  shadowtest merge a.json b.json --junit junit.xml --results all.json --html report.html --log a.jsonl --log b.jsonl`

// mergeCommand judges the union of several runs' results (the shards of
// one sharded run) through the same suite as run: one JUnit, one verdict.
func mergeCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("merge", "RESULTS... [flags]", mergeExamples, stdout, stderr)
	var outs outputOptions
	fs.StringVar(&outs.junit, "junit", DefaultJUnitFile, "write the JUnit XML report to `FILE`"+outputHelp)
	fs.BoolVar(&outs.junitOptions.Annotations, "junit-annotations", false, annotationsUsage)
	fs.StringVar(&outs.results, "results", "", "write the merged results to `FILE`"+outputHelp)
	fs.StringVar(&outs.html, "html", "", "write the HTML report of the merged results to `FILE`"+outputHelp)
	fs.StringVar(&outs.baseline, "baseline", "", "compare with an earlier run's `RESULTS` file")
	var logs logFiles
	fs.Var(&logs, "log", "a shard's discrepancy log (`FILE`, repeatable): adds its example pairs to the HTML report")
	allowPartial := fs.Bool("allow-partial", false, "judge an incomplete set of shards (a shard missing, files without shard records) instead of refusing it: a test case in error says what was missing, exit 3")
	specsDir := fs.String("specs", "", "judge with the endpoints and thresholds of this spec `DIR` (default: the spec each results file carries)")
	var tags tagFlags
	fs.Var(&tags, "t", "with --specs: "+tagUsage+"; targets are not contacted")
	paths, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if err := checkOutputFlags(fs, "junit", "results", "html"); err != nil {
		fmt.Fprintf(stderr, "shadowtest merge: %v\n", err)
		return exitInvalid
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "shadowtest merge: want one or more results files, e.g. shadowtest merge shard-1.json shard-2.json --junit junit.xml")
		return exitInvalid
	}
	inputs := inputsOf(append(slices.Clone(paths), logs...))
	for _, out := range []struct{ flag, path string }{{"junit", outs.junit}, {"results", outs.results}, {"html", outs.html}} {
		if wanted(out.path) && out.path != stdoutName {
			if err := notAnInput(out.path, inputs); err != nil {
				fmt.Fprintf(stderr, "shadowtest merge: --%s %s: %v\n", out.flag, out.path, err)
				return exitInvalid
			}
		}
	}
	shards := make([]*observe.Results, 0, len(paths))
	for _, p := range paths {
		r, err := observe.ReadFile(p)
		if err != nil {
			fmt.Fprintf(stderr, "shadowtest merge: %v\n", err)
			return exitInvalid
		}
		shards = append(shards, r)
	}
	missing, err := observe.CheckSet(paths, shards)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest merge: refusing this set: %v\n", err)
		return exitInvalid
	}
	if len(missing) > 0 && !*allowPartial {
		fmt.Fprintf(stderr, "shadowtest merge: incomplete set: %s\n(give every shard's results, or pass --allow-partial to judge these alone: exit 3)\n", strings.Join(missing, "; "))
		return exitInvalid
	}
	for _, same := range observe.RepeatedSelections(paths, shards) {
		fmt.Fprintf(stderr, "shadowtest merge: note: %s are whole runs of the same traffic selection: if they replayed the same recordings, every count is doubled (use run --shard K/N to split traffic)\n", same)
	}
	merged, err := observe.Merge(shards...)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest merge: %v\n", err)
		return exitInvalid
	}
	merged.Missing = missing
	var plan *framework.Plan
	if *specsDir != "" {
		plan, err = spec.Load(*specsDir, spec.Options{Tags: tags})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitInvalid
		}
	} else {
		plan, err = planOf(merged)
	}
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest merge: %v\n", err)
		return exitInvalid
	}
	results := observe.NewResults(plan.Endpoints)
	results.Origin = merged.Origin
	results.Tool = toolVersion()
	out, err := outs.open(plan, results, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest merge: %v\n", err)
		return exitInvalid
	}
	defer out.discard()
	term := console(outs, stdout, stderr)
	if out.examples, err = readExamples(logs, plan.Report.Examples); err != nil {
		fmt.Fprintf(stderr, "shadowtest merge: --log: %v\n", err)
		return exitInvalid
	}
	outcome, err := suite.Run(context.Background(), suite.Config{
		Plan:    plan,
		Results: results,
		// The "replay" of a merge adds the shards' aggregates: the
		// thresholds are then asserted exactly as after a run.
		Replay: func(context.Context) error {
			if err := results.Absorb(merged); err != nil {
				return err
			}
			if merged.Aborted != "" {
				return &mergedAbort{"a merged run was aborted: " + merged.Aborted}
			}
			if len(merged.Missing) > 0 {
				return &mergedAbort{"partial merge (--allow-partial): the verdict covers only the results given: " + strings.Join(merged.Missing, "; ")}
			}
			return nil
		},
		IsAbort:        func(err error) bool { var a *mergedAbort; return errors.As(err, &a) },
		NoColor:        !report.UseColor(os.Stdout),
		Baseline:       out.baseline,
		BaselineMargin: plan.Report.BaselineMargin,
	})
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest merge: %v\n", err)
		return exitInvalid
	}
	files, failed := out.finish(outcome)
	summary := report.Summary{Results: results, Verdicts: suite.Verdicts(outcome.Report), Files: files, Color: useColor(term, stdout)}
	fmt.Fprintf(term, "\nmerged %d results files (%d runs)\n", len(paths), results.Runs())
	summary.Write(term)
	var abort *mergedAbort
	exit := exitPass
	switch {
	case errors.As(outcome.ReplayErr, &abort):
		fmt.Fprintf(stderr, "shadowtest merge: %v\n", abort)
		exit = exitAborted
	case outcome.ReplayErr != nil:
		fmt.Fprintf(stderr, "shadowtest merge: %v\n", outcome.ReplayErr)
		exit = exitInvalid
	case !outcome.Passed:
		exit = exitFail
	}
	return reportWriteFailures(stderr, "shadowtest merge", failed, exit)
}

// mergedAbort says that the merged results are partial: a shard's run was
// aborted, or shards are missing (--allow-partial).
type mergedAbort struct{ reason string }

func (e *mergedAbort) Error() string { return e.reason }

// planOf rebuilds the plan a results file was judged with: its endpoints
// (as the spec declared them) and its report settings.
func planOf(r *observe.Results) (*framework.Plan, error) {
	plan := &framework.Plan{Report: r.Report}
	for _, e := range r.Endpoints {
		if e.Spec == nil {
			return nil, fmt.Errorf("endpoint %q: the results do not carry its spec (written by an older shadowtest?)", e.Name)
		}
		plan.Endpoints = append(plan.Endpoints, *e.Spec)
	}
	return plan, nil
}

// logFiles collects repeated --log flags.
type logFiles []string

func (l *logFiles) String() string { return strings.Join(*l, ",") }

func (l *logFiles) Set(v string) error {
	*l = append(*l, v)
	return nil
}
