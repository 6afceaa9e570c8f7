package main

import (
	"fmt"
	"io"
	"os"

	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/observe"
)

const reportExamples = `  shadowtest report results.json --log discrepancies.jsonl --html report.html
  shadowtest report results.json --html report.html     # overview and first examples only`

// reportCommand writes the HTML report of an earlier run from its results
// and, optionally, its discrepancy log.
func reportCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", "RESULTS [flags]", reportExamples, stdout, stderr)
	logPath := fs.String("log", "", "the run's discrepancy log (`FILE`): adds the example pairs side by side")
	htmlPath := fs.String("html", "report.html", "write the HTML report to `FILE` (- for stdout)")
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *htmlPath == "" || *htmlPath == noneName {
		fmt.Fprintln(stderr, "shadowtest report: --html: give a FILE, or - for stdout")
		return exitInvalid
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "shadowtest report: want one results file, e.g. shadowtest report results.json --log discrepancies.jsonl --html report.html")
		return exitInvalid
	}
	if err := notAnInput(*htmlPath, inputsOf([]string{positional[0], *logPath})); err != nil {
		fmt.Fprintf(stderr, "shadowtest report: --html %s: %v\n", *htmlPath, err)
		return exitInvalid
	}
	results, err := observe.ReadFile(positional[0])
	if err != nil {
		fmt.Fprintf(stderr, "shadowtest report: %v\n", err)
		return exitInvalid
	}
	var examples []disclog.Entry
	if *logPath != "" {
		if examples, err = readExamples([]string{*logPath}, results.Report.Examples); err != nil {
			fmt.Fprintf(stderr, "shadowtest report: %v\n", err)
			return exitInvalid
		}
	}
	if err := writeHTML(*htmlPath, stdout, results, examples); err != nil {
		fmt.Fprintf(stderr, "shadowtest report: --html %s not written: %v\n", *htmlPath, err)
		return exitInvalid
	}
	if *htmlPath != stdoutName {
		fmt.Fprintf(stdout, "written:\n  html: %s\n", *htmlPath)
	}
	return exitPass
}

// readExamples keeps the logs' example pairs, at most perCategory for each
// endpoint and category over all the logs (the shards of one run), so that
// memory stays bounded whatever the logs' size.
func readExamples(paths []string, perCategory int) ([]disclog.Entry, error) {
	if perCategory <= 0 {
		perCategory = disclog.DefaultExamples
	}
	kept := map[[2]string]int{}
	var out []disclog.Entry
	for _, path := range paths {
		if err := readLogExamples(path, perCategory, kept, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readLogExamples(path string, perCategory int, kept map[[2]string]int, out *[]disclog.Entry) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return disclog.Read(f, path, func(e disclog.Entry) error {
		if e.Type != disclog.TypePair || !e.Example {
			return nil
		}
		keep := false
		for _, c := range e.Categories {
			k := [2]string{e.Endpoint, c}
			if kept[k] < perCategory {
				kept[k]++
				keep = true
			}
		}
		if keep {
			*out = append(*out, e)
		}
		return nil
	})
}
