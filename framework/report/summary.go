// Package report writes what people read after a run: the terminal summary
// (an aligned table per endpoint, the failed thresholds with their messages,
// unmatched traffic and the files written).
//
// It formats aggregates and verdicts; it does not compute either.
package report

import (
	"fmt"
	"github.com/shadowtest/shadowtest/framework/scrub"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// Summary is everything the terminal summary shows.
type Summary struct {
	Results  *observe.Results
	Verdicts []framework.Verdict
	// Files lists the files written, e.g. "junit: junit.xml".
	Files []string
	// Color turns on ANSI colours (only on a terminal, never with NO_COLOR).
	Color bool
}

// UseColor reports whether output to f may use colours: never when
// NO_COLOR is set (https://no-color.org; the CLI's --no-color sets it),
// always when FORCE_COLOR is set to anything but "0" or "false" (CI logs
// that render ANSI colours), else only on a terminal.
func UseColor(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	if force := os.Getenv("FORCE_COLOR"); force != "" && force != "0" && force != "false" {
		return true
	}
	return term.IsTerminal(int(f.Fd()))
}

// Write prints the summary.
func (s *Summary) Write(w io.Writer) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tPAIRS\tMATCH\tTHRESHOLDS\tP50 PROD/SHADOW\tP99 PROD/SHADOW\tERRORS PROD/SHADOW\tNOT SENT")
	byEndpoint := map[string][]framework.Verdict{}
	for _, v := range s.Verdicts {
		byEndpoint[v.Endpoint] = append(byEndpoint[v.Endpoint], v)
	}
	var skipped []string // one line per endpoint with skipped thresholds
	for _, e := range s.Results.Endpoints {
		passed, skips, total := 0, 0, len(byEndpoint[e.Name])
		for _, v := range byEndpoint[e.Name] {
			switch {
			case v.Passed():
				passed++
			case v.Skipped():
				skips++
			}
		}
		judged := total - skips
		verdict := fmt.Sprintf("%d/%d passed", passed, judged)
		switch {
		case judged == 0 && skips > 0:
			verdict = fmt.Sprintf("%d skipped", skips)
		case skips > 0:
			verdict += fmt.Sprintf(", %d skipped", skips)
		}
		switch {
		case passed < judged:
			verdict = s.paint(verdict, red)
		case judged > 0:
			verdict = s.paint(verdict, green)
		}
		// Thresholds skipped because the replay failed or the run ended
		// first are not the policy's doing; the failure below says why.
		if reason := skipReason(byEndpoint[e.Name]); skips > 0 && !strings.HasPrefix(reason, framework.NotJudged) {
			skipped = append(skipped, fmt.Sprintf("  %s: %d threshold(s) skipped: %s", e.Name, skips, skipReason(byEndpoint[e.Name])))
		}
		withheld, _ := e.Withheld()
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s / %s\t%s / %s\t%d / %d\t%d\n",
			e.Name, e.Pairs, rate(e), verdict,
			Quantile(e.ProdLatency, 0.5), Quantile(e.ShadowLatency, 0.5),
			Quantile(e.ProdLatency, 0.99), Quantile(e.ShadowLatency, 0.99),
			observe.ErrorCount(e.ProdErrors), observe.ErrorCount(e.ShadowErrors), withheld)
	}
	tw.Flush()
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "\nnot judged, by the spec's own policy:\n%s\n", strings.Join(skipped, "\n"))
	}

	s.writeCategories(&b)

	var failed []framework.Verdict
	for _, v := range s.Verdicts {
		if !v.Passed() && !v.Skipped() {
			failed = append(failed, v)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\n%s\n", s.paint(fmt.Sprintf("%d threshold(s) failed:", len(failed)), red))
		for _, v := range failed {
			fmt.Fprintf(&b, "  %s / %s [%s] (%s)\n", v.Endpoint, v.Threshold, v.State, v.Location)
			for _, line := range strings.Split(strings.TrimSpace(v.Message), "\n") {
				fmt.Fprintf(&b, "    %s\n", scrub.Line(line))
			}
		}
	}
	if len(s.Results.Unmatched) > 0 {
		labels := make([]string, 0, len(s.Results.Unmatched))
		for label := range s.Results.Unmatched {
			labels = append(labels, label)
		}
		sort.Strings(labels)
		fmt.Fprintf(&b, "\nrequests no endpoint covers (not compared):\n")
		for _, label := range labels {
			fmt.Fprintf(&b, "  %-40s %d\n", scrub.Line(label), s.Results.Unmatched[label])
		}
	}
	if len(s.Files) > 0 {
		fmt.Fprintf(&b, "\nwritten:\n")
		for _, f := range s.Files {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// skipReason is the message of the first skipped verdict, without the
// "skipped: " prefix the suite gives it.
func skipReason(verdicts []framework.Verdict) string {
	for _, v := range verdicts {
		if v.Skipped() {
			return strings.TrimPrefix(strings.TrimSpace(v.Message), "skipped: ")
		}
	}
	return ""
}

// TopCategories is how many discrepancy categories the summary lists per
// endpoint.
const TopCategories = 3

// writeCategories lists each endpoint's most frequent discrepancy
// categories with their counts and one example.
func (s *Summary) writeCategories(b *strings.Builder) {
	header := false
	for _, e := range s.Results.Endpoints {
		top := e.TopCategories(TopCategories)
		if len(top) == 0 {
			continue
		}
		if !header {
			fmt.Fprintf(b, "\ntop discrepancy categories:\n")
			header = true
		}
		for _, c := range top {
			fmt.Fprintf(b, "  %s  %s: %d pairs (%.1f%%), e.g. %s: prod %s, shadow %s\n",
				s.paint(e.Name, yellow), scrub.Line(c.Name), c.Count, 100*float64(c.Count)/float64(max(e.Pairs, 1)), scrub.Line(c.Example.Path), orNone(c.Example.Prod), orNone(c.Example.Shadow))
		}
		if more := len(e.Categories) - len(top); more > 0 {
			fmt.Fprintf(b, "  %s  and %d more (see the log or the HTML report)\n", e.Name, more)
		}
	}
}

// orNone shows an untrusted value on one line, control characters and
// bidi overrides escaped.
func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	if len(v) > 60 {
		return scrub.Line(strings.ToValidUTF8(v[:57], "")) + "..."
	}
	return scrub.Line(v)
}

func rate(e *observe.Endpoint) string {
	if e.Pairs == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f", e.MatchRate())
}

// Quantile is a latency quantile in milliseconds ("1.2ms"), or "-" when
// nothing was measured: "0.0ms" for an endpoint without a single answer
// read as a measurement. The summary and the HTML report print it.
func Quantile(l *observe.Latency, q float64) string {
	if l == nil || l.Count() == 0 {
		return "-"
	}
	return ms(l.Quantile(q))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

func (s *Summary) paint(text, color string) string {
	if !s.Color {
		return text
	}
	return color + text + reset
}
