package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/shadowtest/shadowtest/framework/observe"
)

// writeNoiseRules prints, for every endpoint with a noise probe, the paths
// that differed between two prod answers, and a ready-to-paste ignore rule
// that makes them explicit. CUE lists do not merge, so the rule repeats the
// endpoint's current ignore list and replaces it.
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
		var ignore []string
		if e.Spec != nil {
			ignore = slices.Clone(e.Spec.Rules.Ignore)
		}
		added := false
		for _, n := range e.NoisePaths() {
			if n.Reported {
				fmt.Fprintf(w, "  %s: %s changed in %d of %d prod probes, but the shadow differs there in %d of %d pairs: still counted\n",
					e.Name, n.Path, n.Count, e.Probes, n.Shadow, e.Pairs)
				continue
			}
			fmt.Fprintf(w, "  %s: %s changed in %d of %d prod probes: not counted against the shadow\n", e.Name, n.Path, n.Count, e.Probes)
			if !slices.Contains(ignore, n.Path) {
				ignore = append(ignore, n.Path)
				added = true
			}
		}
		if added {
			quoted := make([]string, len(ignore))
			for i, p := range ignore {
				quoted[i] = strconv.Quote(p)
			}
			fmt.Fprintf(w, "  paste into the spec to make it explicit (replaces the endpoint's ignore list):\n    endpoints: %s: ignore: [%s]\n",
				strconv.Quote(e.Name), strings.Join(quoted, ", "))
		}
	}
}
