package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
	reporthtml "github.com/shadowtest/shadowtest/framework/report/html"
	"github.com/shadowtest/shadowtest/framework/suite"
)

// outputOptions are the flags naming the files a run writes besides the
// JUnit: the discrepancy log, the results, the HTML report, and the
// baseline it is compared with.
type outputOptions struct {
	log, results, html, baseline string
}

func (o *outputOptions) register(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&o.log, "log", "", "write the discrepancy log (JSON Lines, one line per differing pair, redacted) to `FILE`")
	fs.StringVar(&o.results, "results", "", "write every per-endpoint aggregate as versioned JSON to `FILE` (input of merge, report and --baseline)")
	fs.StringVar(&o.html, "html", "", "write the self-contained HTML report to `FILE`")
	fs.StringVar(&o.baseline, "baseline", "", "compare with an earlier run's `RESULTS` file: fail on a new discrepancy category or a match-rate drop beyond report.baselineMargin")
}

// outputs holds what a run writes while and after it runs.
type outputs struct {
	opt      outputOptions
	plan     *framework.Plan
	results  *observe.Results
	redactor *redact.Redactor
	logFile  *os.File
	log      *disclog.Writer
	baseline *observe.Results
	// examples are example pairs read from earlier logs (merge --log),
	// used by the HTML report when this command writes no log itself.
	examples []disclog.Entry
}

// open prepares the outputs of a run over plan: the redaction every output
// goes through, the log, and the baseline.
func (o outputOptions) open(plan *framework.Plan, results *observe.Results) (*outputs, error) {
	red, err := redact.New(plan.Report.Redact)
	if err != nil {
		return nil, err
	}
	results.Redact = red.Value
	results.Report = plan.Report
	w := &outputs{opt: o, plan: plan, results: results, redactor: red}
	if o.baseline != "" {
		if w.baseline, err = observe.ReadFile(o.baseline); err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
	}
	var sink io.Writer = io.Discard
	if o.log != "" {
		if w.logFile, err = create(o.log); err != nil {
			return nil, fmt.Errorf("--log: %w", err)
		}
		sink = w.logFile
	}
	if o.log != "" || o.html != "" {
		w.log = disclog.NewWriter(sink, disclog.Options{Examples: plan.Report.Examples, Redactor: red})
	}
	return w, nil
}

// observe is the runner's per-pair callback, nil when nothing is logged.
func (w *outputs) observe() func(*framework.Pair, []framework.Diff) {
	if w.log == nil {
		return nil
	}
	return w.log.Add
}

// absolute makes the output paths absolute, for commands that change
// directory before writing (demo).
func (o *outputOptions) absolute() error {
	for _, p := range []*string{&o.log, &o.results, &o.html, &o.baseline} {
		if *p == "" {
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

// finish closes the log and writes the results and the HTML report; it
// returns the lines naming the files written and reports failures on
// stderr.
func (w *outputs) finish(outcome suite.Outcome, stderr io.Writer) []string {
	var files []string
	w.results.Verdicts = suite.Verdicts(outcome.Report)
	if w.log != nil {
		err := w.log.Close()
		if w.logFile != nil {
			if cerr := w.logFile.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				fmt.Fprintf(stderr, "shadowtest: writing the discrepancy log: %v\n", err)
			} else {
				files = append(files, "log: "+w.opt.log)
			}
		}
	}
	if w.opt.results != "" {
		if err := ensureDir(w.opt.results); err != nil {
			fmt.Fprintf(stderr, "shadowtest: writing results: %v\n", err)
		} else if err := w.results.WriteFile(w.opt.results); err != nil {
			fmt.Fprintf(stderr, "shadowtest: writing results: %v\n", err)
		} else {
			files = append(files, "results: "+w.opt.results)
		}
	}
	if w.opt.html != "" {
		examples := w.examples
		if w.log != nil {
			examples = append(examples, w.log.Examples()...)
		}
		if err := writeHTML(w.opt.html, w.results, examples); err != nil {
			fmt.Fprintf(stderr, "shadowtest: writing the HTML report: %v\n", err)
		} else {
			files = append(files, "html: "+w.opt.html)
		}
	}
	return files
}

func writeHTML(path string, results *observe.Results, examples []disclog.Entry) error {
	f, err := create(path)
	if err != nil {
		return err
	}
	if err := reporthtml.Write(f, reporthtml.Data{Results: results, Examples: examples}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ensureDir(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		return os.MkdirAll(dir, 0o755)
	}
	return nil
}

func create(path string) (*os.File, error) {
	if err := ensureDir(path); err != nil {
		return nil, err
	}
	return os.Create(path)
}
