package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"cuelang.org/go/cue/format"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/report"
)

// writeNoiseRules prints, for every endpoint with a noise probe, each path
// where prod differed from itself, what was decided there and why, and the
// shape rules that make the noise explicit (report.NoiseRule, the one the
// JUnit and the HTML report show).
func writeNoiseRules(w io.Writer, results *observe.Results) {
	first := true
	var rules []string
	for _, e := range results.Endpoints {
		if e.Probes == 0 || len(e.Noise) == 0 {
			continue
		}
		if first {
			fmt.Fprintf(w, "\nNoise learned from prod (paths where two prod answers to the same request differed; a path is noise after\n"+
				"noise.minDiffs prod differences and a one-sided Fisher exact test at %g%%, and the shadow's values must keep prod's shape):\n",
				observe.NoiseConfidence*100)
			first = false
		}
		for _, n := range e.NoisePaths() {
			if n.Decision == observe.NoiseHidden {
				fmt.Fprintf(w, "  %s %s: noise, shape %s: prod differed in %d of %d probes; the shadow in %d of %d pairs, %d outside the shape\n",
					e.Name, n.Path, n.Shape, n.Count, e.Probes, n.Shadow+n.Misfit, e.Pairs, n.Misfit)
				continue
			}
			fmt.Fprintf(w, "  %s %s: %s: %s\n", e.Name, n.Path, n.Decision, n.Reason)
		}
		if rule := report.NoiseRule(e); rule != "" {
			rules = append(rules, rule)
		}
	}
	if len(rules) > 0 {
		fmt.Fprintf(w, "Rules that make it explicit (the values may differ, their shape must hold); run --write-noise FILE writes them:\n  %s\n",
			strings.Join(rules, "\n  "))
	}
}

// noiseFile renders the learned noise as a CUE file of the spec's package:
// one shape rule per noise path, and a comment for every path that could
// not be written or was not decided to be noise, so that a reviewer sees
// all of them.
func noiseFile(plan *framework.Plan, results *observe.Results) []byte {
	var b bytes.Buffer
	b.WriteString(noiseHeader + " Each shape rule says:\n" +
		"// the value may differ from prod's, but must keep this shape. Review it like code;\n" +
		"// delete a rule to count its differences again.\n")
	if plan.Package != "" {
		fmt.Fprintf(&b, "package %s\n", plan.Package)
	}
	for _, e := range results.Endpoints {
		var lines, notes []string
		for _, n := range e.NoisePaths() {
			switch {
			case report.WritableNoise(n):
				lines = append(lines, fmt.Sprintf("\t%s: %s // prod differed in %d of %d probes", report.CUEString(n.Path), n.Rule, n.Count, e.Probes))
			case n.Decision == observe.NoiseHidden && strings.HasPrefix(n.Path, "body:"):
				notes = append(notes, fmt.Sprintf("// %s: noise of shape %s (line:token of the text body): a mask at \"$\" makes it explicit", n.Path, n.Shape))
			case n.Decision == observe.NoiseHidden:
				notes = append(notes, fmt.Sprintf("// %s: noise of shape %s, which a shape rule cannot say: add it to ignore to make it explicit", n.Path, n.Shape))
			default:
				notes = append(notes, fmt.Sprintf("// %s: %s: %s", n.Path, n.Decision, n.Reason))
			}
		}
		if len(lines) == 0 && len(notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n// %s\n", e.Name)
		for _, note := range notes {
			b.WriteString(strings.ReplaceAll(note, "\n", " ") + "\n")
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "endpoints: %s: shape: {\n%s\n}\n", report.CUEString(e.Name), strings.Join(lines, "\n"))
		}
	}
	// Laid out as cue fmt lays it out (keys aligned), so that a repository
	// checking `cue fmt --check` accepts the file as written.
	if out, err := format.Source(b.Bytes()); err == nil {
		return out
	}
	return b.Bytes()
}

// noiseHeader starts every file --write-noise writes.
const noiseHeader = "// Noise learned from prod by `shadowtest run --write-noise`."

// checkNoiseTarget refuses, before a run, a --write-noise file that exists
// and was not written by --write-noise: a spec file or any other file
// given by mistake would be replaced by the rules.
func checkNoiseTarget(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--write-noise %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(noiseHeader))
	n, _ := io.ReadFull(f, head)
	if string(head[:n]) != noiseHeader {
		return fmt.Errorf("--write-noise %s: the file exists and was not written by --write-noise (a spec file?); it is not replaced: give a new file name", path)
	}
	return nil
}

// writeNoiseFile writes noiseFile to path, whole or not at all, scrubbed
// like every output.
func writeNoiseFile(path string, stdout io.Writer, plan *framework.Plan, results *observe.Results) error {
	return writeOutput(path, stdout, func(w io.Writer) error {
		_, err := w.Write(noiseFile(plan, results))
		return err
	})
}
