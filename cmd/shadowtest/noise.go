package main

import (
	"fmt"
	"io"

	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/report"
)

// writeNoiseRules prints, for every endpoint with a noise probe, the paths
// that differed between two prod answers, and the ready-to-paste ignore
// rule (report.NoiseRule, the one the JUnit and the HTML report show) that
// makes them explicit.
func writeNoiseRules(w io.Writer, results *observe.Results) {
	first := true
	for _, e := range results.Endpoints {
		if e.Probes == 0 || len(e.Noise) == 0 {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nNoise learned from prod (paths that differed between two prod answers to the same request):")
			first = false
		}
		for _, n := range e.NoisePaths() {
			if n.Reported {
				fmt.Fprintf(w, "  %s: %s changed in %d of %d prod probes, but the shadow differs there in %d of %d pairs: still counted\n",
					e.Name, n.Path, n.Count, e.Probes, n.Shadow, e.Pairs)
				continue
			}
			fmt.Fprintf(w, "  %s: %s changed in %d of %d prod probes: not counted against the shadow\n", e.Name, n.Path, n.Count, e.Probes)
		}
		if rule := report.NoiseRule(e); rule != "" {
			fmt.Fprintf(w, "  paste into the spec to make it explicit (replaces the endpoint's ignore list):\n    %s\n", rule)
		}
	}
}
