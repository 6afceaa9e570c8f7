package suite

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jstemmer/go-junit-report/v2/junit"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
)

// WriteJUnit writes the suite's outcome as JUnit XML laid out for CI UIs:
// one <testsuite> per endpoint (plus "run"), test case class names
// "shadowtest.<endpoint>" (GitLab shows the class name as the suite, Jenkins
// builds its tree from the dots), one uniquely named test case per threshold,
// the figures as properties and the endpoint's summary in system-out.
func WriteJUnit(w io.Writer, report types.Report, plan *framework.Plan, results *observe.Results) error {
	declared := map[string]string{}
	for _, e := range plan.Endpoints {
		declared[e.Name] = fmt.Sprintf("endpoint %s %s declared at %s", e.Method, e.Path, e.Pos)
	}
	suites := junit.Testsuites{Name: RootName, Time: seconds(report.RunTime)}
	byGroup := map[string]*junit.Testsuite{}
	var order []string
	for _, spec := range report.SpecReports {
		if spec.LeafNodeType != types.NodeTypeIt {
			continue
		}
		group := groupOf(spec)
		ts := byGroup[group]
		if ts == nil {
			ts = &junit.Testsuite{Name: RootName + "." + group, ID: len(order), Timestamp: report.StartTime.UTC().Format(time.RFC3339)}
			if e := results.Endpoint(group); e != nil && group != RunGroup {
				addEndpointFigures(ts, e)
			}
			byGroup[group] = ts
			order = append(order, group)
		}
		ts.AddTestcase(testcase(group, spec, declared[group]))
	}
	for _, group := range order {
		ts := byGroup[group]
		var total time.Duration
		for _, tc := range ts.Testcases {
			d, _ := time.ParseDuration(tc.Time + "s")
			total += d
		}
		ts.Time = seconds(total)
		suites.AddSuite(*ts)
	}
	return suites.WriteXML(w)
}

func testcase(group string, spec types.SpecReport, declared string) junit.Testcase {
	tc := junit.Testcase{
		Name:      CaseName(group, spec.LeafNodeText),
		Classname: RootName + "." + strings.ReplaceAll(group, ".", "_"),
		Time:      seconds(spec.RunTime),
		Status:    spec.State.String(),
	}
	where := "threshold declared at " + spec.LeafNodeLocation.String()
	if declared != "" {
		where += "\n" + declared
	}
	switch {
	case spec.State == types.SpecStatePassed:
	case spec.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		tc.Skipped = &junit.Result{Message: clean(firstLine(spec.Failure.Message))}
	case spec.State.Is(types.SpecStateFailed):
		msg := clean(spec.Failure.Message)
		tc.Failure = &junit.Result{Message: firstLine(msg), Type: "threshold", Data: msg + "\n\n" + where}
	default: // panicked, interrupted, aborted, timed out
		msg := clean(spec.Failure.Message)
		if msg == "" {
			msg = spec.State.String()
		}
		tc.Error = &junit.Result{Message: firstLine(msg), Type: spec.State.String(), Data: msg + "\n\n" + where}
	}
	return tc
}

// CaseName is a test case's name in the JUnit: the endpoint and the
// threshold, "get-order: match rate >= 0.99 (min 20 pairs)". Names are
// unique across the whole file, because GitLab drops duplicate names and
// GitHub reporter actions list failures by name alone.
func CaseName(group, threshold string) string {
	return group + ": " + threshold
}

func addEndpointFigures(ts *junit.Testsuite, e *observe.Endpoint) {
	ts.AddProperty("requests", fmt.Sprint(e.Requests))
	ts.AddProperty("pairs", fmt.Sprint(e.Pairs))
	ts.AddProperty("matches", fmt.Sprint(e.Matches))
	ts.AddProperty("matchRate", fmt.Sprintf("%.4f", e.MatchRate()))
	ts.AddProperty("skipped", fmt.Sprint(e.Skipped))
	if n, why := e.Withheld(); n > 0 {
		ts.AddProperty("withheld", why)
	}
	ts.AddProperty("prodErrors", fmt.Sprint(observe.ErrorCount(e.ProdErrors)))
	ts.AddProperty("shadowErrors", fmt.Sprint(observe.ErrorCount(e.ShadowErrors)))
	ts.AddProperty("prodErrorRate", fmt.Sprintf("%.4f", rateOf(observe.ErrorCount(e.ProdErrors), e.Requests)))
	ts.AddProperty("shadowErrorRate", fmt.Sprintf("%.4f", rateOf(observe.ErrorCount(e.ShadowErrors), e.Requests)))
	ts.AddProperty("categories", fmt.Sprint(len(e.Categories)))
	if len(e.Noise) > 0 {
		paths := make([]string, 0, len(e.Noise))
		for _, n := range e.NoisePaths() {
			paths = append(paths, n.Path)
		}
		ts.AddProperty("noiseProbes", fmt.Sprint(e.Probes))
		ts.AddProperty("noisePaths", strings.Join(paths, " "))
		for _, n := range e.NoisePaths() {
			ts.AddProperty("noise "+n.Path, noiseNote(e, n))
		}
	}
	ts.AddProperty("prodP50Ms", millis(e.ProdLatency.Quantile(0.5)))
	ts.AddProperty("prodP99Ms", millis(e.ProdLatency.Quantile(0.99)))
	ts.AddProperty("shadowP50Ms", millis(e.ShadowLatency.Quantile(0.5)))
	ts.AddProperty("shadowP99Ms", millis(e.ShadowLatency.Quantile(0.99)))
	ts.SystemOut = &junit.Output{Data: clean(EndpointSummary(e))}
}

// EndpointSummary is a plain-text account of one endpoint's aggregates:
// counts, latencies, errors and every discrepancy category with an example.
func EndpointSummary(e *observe.Endpoint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "endpoint %s: %s pairs, %s match (%.4f), %s skipped\n", e.Name, count(e.Pairs), count(e.Matches), e.MatchRate(), count(e.Skipped))
	if n, why := e.Withheld(); n > 0 {
		fmt.Fprintf(&b, "withheld by the spec: %s\n", why)
	}
	fmt.Fprintf(&b, "latency p50/p99: prod %s/%s, shadow %s/%s\n",
		e.ProdLatency.Quantile(0.5), e.ProdLatency.Quantile(0.99), e.ShadowLatency.Quantile(0.5), e.ShadowLatency.Quantile(0.99))
	fmt.Fprintf(&b, "errors: prod %s, shadow %s\n", errorList(e.ProdErrors), errorList(e.ShadowErrors))
	for _, c := range e.TopCategories(0) {
		fmt.Fprintf(&b, "category %s: %s pairs; example %s: %s: prod %s, shadow %s\n",
			c.Name, count(c.Count), c.Origin, c.Example.Path, display(c.Example.Prod), display(c.Example.Shadow))
	}
	for _, n := range e.NoisePaths() {
		fmt.Fprintf(&b, "noise %s: changed in %s of %s prod probes; suggested rule ignore: [%q]\n", n.Path, count(n.Count), count(e.Probes), n.Rule)
	}
	return b.String()
}

func errorList(counts map[string]int64) string {
	if len(counts) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(counts))
	for kind, n := range counts {
		parts = append(parts, fmt.Sprintf("%s=%d", kind, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func rateOf(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func millis(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// clean makes recorded text safe for XML: invalid UTF-8 and characters XML
// cannot carry are replaced.
func clean(s string) string {
	if !strings.ContainsFunc(s, illegalInXML) && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if illegalInXML(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func illegalInXML(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r':
		return false
	case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
		return true
	}
	return false
}

// Verdicts lists the outcome of every threshold test case of a report, in
// suite order.
func Verdicts(report types.Report) []framework.Verdict {
	var out []framework.Verdict
	for _, spec := range report.SpecReports {
		if spec.LeafNodeType != types.NodeTypeIt {
			continue
		}
		group := groupOf(spec)
		out = append(out, framework.Verdict{Endpoint: group, Threshold: spec.LeafNodeText, State: spec.State.String(), Message: spec.Failure.Message, Location: spec.LeafNodeLocation.String()})
	}
	return out
}

// groupOf is the endpoint (or "run") a test case belongs to: its innermost
// container.
func groupOf(spec types.SpecReport) string {
	if n := len(spec.ContainerHierarchyTexts); n > 1 {
		return spec.ContainerHierarchyTexts[n-1]
	}
	return RunGroup
}
