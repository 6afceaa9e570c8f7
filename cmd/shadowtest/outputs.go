package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
	reporthtml "github.com/shadowtest/shadowtest/framework/report/html"
	"github.com/shadowtest/shadowtest/framework/runner"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"github.com/shadowtest/shadowtest/framework/suite"
	"github.com/shadowtest/shadowtest/framework/traffic"
)

// Output names with a meaning of their own: "-" writes the output to
// stdout (the summary then goes to stderr), "none" turns it off.
const (
	stdoutName = "-"
	noneName   = "none"
)

// annotationsUsage documents --junit-annotations (run, demo, merge).
const annotationsUsage = "add file and line attributes (the CUE line of each threshold) to the JUnit test cases, for GitHub annotations; junit-10.xsd (Jenkins xUnit) does not allow them"

// outputOptions are the flags naming what a run writes: the JUnit, the
// discrepancy log, the results, the HTML report, and the baseline the run
// is compared with (an input).
type outputOptions struct {
	junit, log, results, html, baseline string
	// junitOptions are the JUnit's options (--junit-annotations).
	junitOptions suite.JUnitOptions
}

const outputHelp = " (- for stdout, none for no file)"

func (o *outputOptions) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&o.junit, "junit", DefaultJUnitFile, "write the JUnit XML report to `FILE`"+outputHelp)
	fs.BoolVar(&o.junitOptions.Annotations, "junit-annotations", false, annotationsUsage)
	fs.StringVar(&o.log, "log", "", "write the discrepancy log (JSON Lines, one line per differing pair, redacted) to `FILE`"+outputHelp)
	fs.StringVar(&o.results, "results", "", "write every per-endpoint aggregate as versioned JSON to `FILE` (input of merge, report and --baseline)"+outputHelp)
	fs.StringVar(&o.html, "html", "", "write the self-contained HTML report to `FILE`"+outputHelp)
	fs.StringVar(&o.baseline, "baseline", "", "compare with an earlier run's `RESULTS` file: fail on a new discrepancy category or a match-rate drop beyond report.baselineMargin")
}

// wanted reports whether an output flag's value asks for the output.
func wanted(name string) bool { return name != "" && name != noneName }

// onStdout reports whether one of the outputs goes to stdout.
func (o outputOptions) onStdout() bool {
	return slices.Contains([]string{o.junit, o.log, o.results, o.html}, stdoutName)
}

// checkOutputFlags rejects an output flag given an empty name, more than
// one output on stdout, and two outputs to one file. outputs names the
// flags that are outputs.
func checkOutputFlags(fs *flag.FlagSet, outputs ...string) error {
	var errs []error
	var toStdout []string
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains(outputs, f.Name) {
			return
		}
		switch f.Value.String() {
		case "":
			errs = append(errs, fmt.Errorf("--%s: empty file name: give a FILE, - for stdout, or none for no file", f.Name))
		case stdoutName:
			toStdout = append(toStdout, "--"+f.Name)
		}
	})
	if len(toStdout) > 1 {
		errs = append(errs, fmt.Errorf("%s all ask for stdout: at most one output can go there", strings.Join(toStdout, ", ")))
	}
	type seen struct {
		flag, path string
		info       os.FileInfo
	}
	var files []seen
	for _, name := range outputs {
		f := fs.Lookup(name)
		if f == nil || !wanted(f.Value.String()) || f.Value.String() == stdoutName {
			continue
		}
		path := filepath.Clean(f.Value.String())
		this := seen{name, path, nil}
		if abs, err := filepath.Abs(path); err == nil {
			if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
				this.path = filepath.Join(dir, filepath.Base(abs))
			}
		}
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
			this.info = info
		}
		for _, other := range files {
			// A symlink or a hard link to one file (the same name
			// through a linked folder too) is one file as well.
			if other.path == this.path || this.info != nil && other.info != nil && os.SameFile(this.info, other.info) {
				errs = append(errs, fmt.Errorf("--%s and --%s both write %s: give each output its own file", other.flag, name, path))
				break
			}
		}
		files = append(files, this)
	}
	return errors.Join(errs...)
}

// outputs holds what a run writes while and after it runs.
type outputs struct {
	opt      outputOptions
	plan     *framework.Plan
	results  *observe.Results
	redactor *redact.Redactor
	// files are the outputs being written, by flag name; they are opened
	// before the run, so that an output that cannot be written stops the
	// run before it starts, and put in place by finish.
	files    map[string]*outputFile
	log      *disclog.Writer
	baseline *observe.Results
	// examples are example pairs read from earlier logs (merge --log),
	// used by the HTML report when this command writes no log itself.
	examples []disclog.Entry
}

// open prepares the outputs of a run over plan: the redaction every output
// goes through, the files, the log, and the baseline. Outputs named "-"
// are written to stdout. Call discard when the run stops before finish.
func (o outputOptions) open(plan *framework.Plan, results *observe.Results, stdout io.Writer) (*outputs, error) {
	sc := scrubberOf(stdout)
	red, err := newRedactor(plan, sc)
	if err != nil {
		return nil, err
	}
	learnPlan(plan, red, sc)
	results.Redact = red.Value
	results.Report = plan.Report
	w := &outputs{opt: o, plan: plan, results: results, redactor: red, files: map[string]*outputFile{}}
	if wanted(o.baseline) {
		if w.baseline, err = observe.ReadFile(o.baseline); err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
		if err := sharesAnEndpoint(plan, w.baseline); err != nil {
			return nil, fmt.Errorf("--baseline %s: %w", o.baseline, err)
		}
	}
	inputs := inputFiles(plan, true)
	for _, out := range []struct{ flag, path string }{{"junit", o.junit}, {"log", o.log}, {"results", o.results}, {"html", o.html}} {
		if !wanted(out.path) {
			continue
		}
		if err := notAnInput(out.path, inputs); err != nil {
			w.discard()
			return nil, fmt.Errorf("--%s %s: %w", out.flag, out.path, err)
		}
		f, err := openOutput(out.path, stdout)
		if err != nil {
			w.discard()
			return nil, fmt.Errorf("--%s %s cannot be written: %w", out.flag, out.path, err)
		}
		w.files[out.flag] = f
	}
	if wanted(o.log) || wanted(o.html) {
		var sink io.Writer = io.Discard
		if f := w.files["log"]; f != nil {
			sink = f
		}
		w.log = disclog.NewWriter(sink, disclog.Options{Examples: plan.Report.Examples, Redactor: red})
	}
	return w, nil
}

// inputFiles returns the files a run over plan reads, each looked up
// once, for notAnInput: the spec's .cue files and, with recordings, its
// traffic (a glob's files, a directory's recordings).
func inputFiles(plan *framework.Plan, recordings bool) []input {
	files, _ := filepath.Glob(filepath.Join(plan.Dir, "*.cue"))
	if recordings {
		for _, src := range plan.Traffic {
			if src.Path == "" {
				continue // synthetic
			}
			path := src.Path
			if !filepath.IsAbs(path) {
				path = filepath.Join(plan.Dir, path)
			}
			matches, _ := filepath.Glob(path)
			if info, err := os.Stat(path); err == nil && info.IsDir() {
				matches, _ = traffic.DirFiles(path, src.Format)
			}
			files = append(files, matches...)
		}
	}
	return inputsOf(files)
}

// input is a file a command reads: its name, and the file it leads to.
type input struct {
	path string
	info os.FileInfo
}

// inputsOf looks each of paths up once; a path that is not there (an
// empty --log, say) is no input.
func inputsOf(paths []string) []input {
	var inputs []input
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil {
			inputs = append(inputs, input{p, info})
		}
	}
	return inputs
}

// notAnInput refuses an output that would replace one of inputs (the
// same file, whatever name or link leads to it): a typo in --junit or
// --results overwrote the spec or its traffic with a report, report
// --html its results.
func notAnInput(path string, inputs []input) error {
	out, err := os.Stat(path)
	if err != nil {
		return nil // a file not there yet is no input
	}
	for _, in := range inputs {
		if os.SameFile(out, in.info) {
			return fmt.Errorf("it is %s, which the command reads: give the output another file", in.path)
		}
	}
	return nil
}

// discard removes the temporary files of outputs that will not be
// finished (nothing once finish has run).
func (w *outputs) discard() {
	if w == nil {
		return
	}
	for _, f := range w.files {
		f.discard()
	}
}

// observe is the runner's per-pair callback: it registers the secrets of
// both responses' headers (Set-Cookie, tokens) with the scrubber, so that
// an echo of one on the other side is scrubbed, and the values of
// name/value pairs its differences show ($.env[0].value of a
// DB_PASSWORD), and logs the pair.
func (w *outputs) observe() func(*framework.Pair, []framework.Diff) {
	return func(pair *framework.Pair, diffs []framework.Diff) {
		w.redactor.Learn(nil, &pair.Prod, &pair.Shadow)
		w.observed(pair, diffs)
	}
}

// observeLive is observe for a live session, where seen has learned
// prod's answer already: the exchange it is given holds the answer the
// pair compares (live.Options.Seen), so only the shadow's is new here.
func (w *outputs) observeLive() func(*framework.Pair, []framework.Diff) {
	return func(pair *framework.Pair, diffs []framework.Diff) {
		w.redactor.Learn(nil, &pair.Shadow)
		w.observed(pair, diffs)
	}
}

// observed learns what a pair's differences show and logs the pair.
func (w *outputs) observed(pair *framework.Pair, diffs []framework.Diff) {
	w.redactor.LearnDiffs(pair, diffs)
	if w.log != nil {
		w.log.Add(pair, diffs)
	}
}

// seen registers the secrets of every exchange before it is sent, so that
// whatever the targets echo of them is scrubbed.
func (w *outputs) seen(ex *framework.Exchange) {
	w.redactor.Learn(&ex.Request, ex.Recorded)
}

// absolute makes the output paths absolute, for commands that change
// directory before writing (demo).
func (o *outputOptions) absolute() error {
	for _, p := range []*string{&o.junit, &o.log, &o.results, &o.html, &o.baseline} {
		if !wanted(*p) || *p == stdoutName {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	return nil
}

// finish writes the JUnit, closes the log and writes the results and the
// HTML report. It returns the lines naming the outputs written and the
// outputs that could not be written, each error naming the flag, the path
// and the reason.
func (w *outputs) finish(outcome suite.Outcome) (written []string, failed []error) {
	w.results.Verdicts = suite.Verdicts(outcome.Report)
	write := func(flag, path string, fill func(io.Writer) error) {
		f := w.files[flag]
		if f == nil {
			return
		}
		err := fill(f)
		if err == nil {
			err = f.commit()
		} else {
			f.discard()
		}
		switch {
		case err != nil:
			failed = append(failed, fmt.Errorf("--%s %s not written: %w", flag, path, err))
		case path == stdoutName:
			written = append(written, flag+": stdout")
		default:
			written = append(written, flag+": "+path)
		}
	}
	write("junit", w.opt.junit, func(f io.Writer) error {
		return suite.WriteJUnitWith(f, outcome.Report, w.plan, w.results, w.opt.junitOptions)
	})
	if w.log != nil {
		closeErr := w.log.Close()
		write("log", w.opt.log, func(io.Writer) error { return closeErr })
	}
	write("results", w.opt.results, w.results.Write)
	examples := w.examples
	if w.log != nil {
		examples = append(examples, w.log.Examples()...)
	}
	write("html", w.opt.html, func(f io.Writer) error {
		return reporthtml.Write(f, reporthtml.Data{Results: w.results, Examples: examples})
	})
	return written, failed
}

// reportWriteFailures prints each output that was not written and returns
// the exit code to end with: exitInvalid when any output is missing,
// whatever the verdict (a gate is never green without its evidence),
// else code.
func reportWriteFailures(stderr io.Writer, prefix string, failed []error, code int) int {
	for _, err := range failed {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
	}
	if len(failed) == 0 {
		return code
	}
	fmt.Fprintf(stderr, "%s: %d output(s) asked for were not written: exit %d, whatever the verdict above\n", prefix, len(failed), exitInvalid)
	return exitInvalid
}

func writeHTML(path string, stdout io.Writer, results *observe.Results, examples []disclog.Entry) error {
	return writeOutput(path, stdout, func(f io.Writer) error {
		return reporthtml.Write(f, reporthtml.Data{Results: results, Examples: examples})
	})
}

// writeOutput writes one output in full with write: to stdout when path is
// "-", else through a temporary file beside path that replaces it only
// once everything was written, so that no reader ever sees half a file.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	f, err := openOutput(path, stdout)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.discard()
		return err
	}
	return f.commit()
}

// outputFile is an output being written: a pending temporary file renamed
// over the target by commit, stdout, or a special file (/dev/null, a FIFO)
// written in place. Every byte goes through the run's scrubber.
type outputFile struct {
	io.Writer
	scrubbed *scrub.Writer
	pending  *pendingFile
	special  *os.File
}

// openOutput starts writing the output path ("-" for stdout), scrubbed by
// stdout's scrubber (see scrubberOf). Missing parent directories are
// created.
func openOutput(path string, stdout io.Writer) (*outputFile, error) {
	f, err := openOutputFile(path, stdout)
	if err != nil {
		return nil, err
	}
	if path != stdoutName { // stdout scrubs already
		f.scrubbed = scrubberOf(stdout).Writer(f.Writer)
		f.Writer = f.scrubbed
	}
	return f, nil
}

func openOutputFile(path string, stdout io.Writer) (*outputFile, error) {
	if path == stdoutName {
		return &outputFile{Writer: stdout}, nil
	}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved // replace the file a symlink points to, not the link
	}
	if info, err := os.Stat(target); err == nil && !info.Mode().IsRegular() {
		if info.IsDir() {
			return nil, errors.New("it is a directory")
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, err
		}
		return &outputFile{Writer: f, special: f}, nil
	}
	if err := ensureDir(target); err != nil {
		return nil, err
	}
	p, err := newPendingFile(target)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			// The temporary file's name would only confuse: name the folder.
			return nil, fmt.Errorf("cannot create a file in %s: %w", filepath.Dir(target), pathErr.Err)
		}
		return nil, err
	}
	return &outputFile{Writer: p, pending: p}, nil
}

// commit puts the written output in place.
func (f *outputFile) commit() error {
	defer func() { f.pending, f.special = nil, nil }()
	if f.scrubbed != nil {
		if err := f.scrubbed.Flush(); err != nil {
			f.discard()
			return err
		}
	}
	switch {
	case f.pending != nil:
		if err := f.pending.CloseAtomicallyReplace(); err != nil {
			f.pending.Cleanup()
			return err
		}
	case f.special != nil:
		return f.special.Close()
	}
	return nil
}

// discard drops what was written to a temporary file; the target is left
// as it was.
func (f *outputFile) discard() {
	defer func() { f.pending, f.special = nil, nil }()
	switch {
	case f.pending != nil:
		f.pending.Cleanup()
	case f.special != nil:
		f.special.Close()
	}
}

func ensureDir(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		return os.MkdirAll(dir, 0o755)
	}
	return nil
}

// stampOrigin records in the results which tool, spec, traffic selection
// and shard produce them, and a new run ID, so that merge can check a set
// of shards.
func stampOrigin(results *observe.Results, plan *framework.Plan, shard runner.Shard) {
	results.Tool = toolVersion()
	results.RunIDs = []string{newRunID()}
	results.SpecDigest = framework.SpecDigest(plan)
	results.TrafficDigest = framework.TrafficDigest(plan)
	if shard.Count > 1 {
		results.Shard = &observe.Shard{Index: shard.Index, Count: shard.Count}
	}
}

// toolVersion is the version line of this binary.
func toolVersion() string {
	info, _ := debug.ReadBuildInfo()
	return versionLine(info)
}

func newRunID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sharesAnEndpoint refuses a baseline that knows none of the plan's
// endpoints: every baseline test was skipped ("not in the baseline") and
// the baseline gate passed on nothing, as with the results of another
// service's run. An endpoint added since the baseline is skipped alone.
func sharesAnEndpoint(plan *framework.Plan, baseline *observe.Results) error {
	for _, e := range plan.Endpoints {
		if baseline.Endpoint(e.Name) != nil {
			return nil
		}
	}
	names := make([]string, 0, 4)
	for _, e := range baseline.Endpoints {
		if len(names) == 3 {
			names = append(names, "...")
			break
		}
		names = append(names, strconv.Quote(e.Name))
	}
	return fmt.Errorf("it knows none of the spec's %d endpoints (it has %d: %s): is it the results of a run of this spec?",
		len(plan.Endpoints), len(baseline.Endpoints), strings.Join(names, ", "))
}
