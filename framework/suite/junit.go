package suite

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/report"
)

// JUnitOptions change what WriteJUnitWith writes beyond junit-10.xsd.
type JUnitOptions struct {
	// Annotations adds file and line attributes to every test case that
	// has a spec position (the CUE line of the threshold), for the GitHub
	// reporter actions that annotate that line. junit-10.xsd, which the
	// Jenkins xUnit plugin validates against, does not allow them: off by
	// default.
	Annotations bool
}

// WriteJUnit writes the suite's outcome as JUnit XML that validates against
// junit-10.xsd (the schema the Jenkins xUnit plugin checks), laid out for CI
// UIs: one <testsuite> per endpoint (plus "run"), test case class names
// "shadowtest.<endpoint>" (GitLab shows the class name as the suite, Jenkins
// builds its tree from the dots), one uniquely named test case per
// threshold, the figures as properties, the endpoint's summary in
// system-out, and each failing case's details in its own system-out (GitLab
// shows only that one).
func WriteJUnit(w io.Writer, report types.Report, plan *framework.Plan, results *observe.Results) error {
	return WriteJUnitWith(w, report, plan, results, JUnitOptions{})
}

// WriteJUnitWith is WriteJUnit with options.
func WriteJUnitWith(w io.Writer, report types.Report, plan *framework.Plan, results *observe.Results, opt JUnitOptions) error {
	declared := map[string]string{}
	for _, e := range plan.Endpoints {
		declared[e.Name] = fmt.Sprintf("endpoint %s %s declared at %s", e.Method, e.Path, e.Pos)
	}
	times := caseTimes(report, results)
	suites := xmlTestsuites{Name: RootName, Time: seconds(report.RunTime)}
	byGroup := map[string]*xmlTestsuite{}
	var order []string
	for i, spec := range report.SpecReports {
		if spec.LeafNodeType != types.NodeTypeIt {
			continue
		}
		group := groupOf(spec)
		ts := byGroup[group]
		if ts == nil {
			ts = &xmlTestsuite{Name: RootName + "." + group, ID: len(order), Timestamp: report.StartTime.UTC().Format(time.RFC3339)}
			e := results.Endpoint(group)
			switch {
			case group == RunGroup:
				ts.Properties = runProperties(plan, results)
			case e != nil:
				ts.Properties = endpointProperties(e)
				ts.SystemOut = &xmlOutput{Data: clean(EndpointSummary(e))}
			}
			byGroup[group] = ts
			order = append(order, group)
		}
		tc := testcase(group, spec, declared[group], times[i], opt)
		if tc.Failure != nil || tc.Error != nil {
			if e := results.Endpoint(group); e != nil {
				tc.SystemOut = &xmlOutput{Data: clean(EndpointSummary(e))}
			} else if group == RunGroup {
				tc.SystemOut = &xmlOutput{Data: clean(RunSummary(results))}
			}
		}
		ts.add(tc)
	}
	for _, group := range order {
		ts := byGroup[group]
		var total time.Duration
		for _, tc := range ts.Testcases {
			d, _ := time.ParseDuration(tc.Time + "s")
			total += d
		}
		ts.Time = seconds(total)
		suites.add(*ts)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "\t")
	if err := enc.Encode(suites); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// The XML types follow junit-10.xsd: no attribute it does not declare
// (Ginkgo's and go-junit-report's "status" is one), except file and line
// with JUnitOptions.Annotations.
type xmlTestsuites struct {
	XMLName  xml.Name       `xml:"testsuites"`
	Name     string         `xml:"name,attr"`
	Time     string         `xml:"time,attr"`
	Tests    int            `xml:"tests,attr"`
	Failures int            `xml:"failures,attr"`
	Errors   int            `xml:"errors,attr"`
	Suites   []xmlTestsuite `xml:"testsuite"`
}

type xmlTestsuite struct {
	Name       string         `xml:"name,attr"`
	Tests      int            `xml:"tests,attr"`
	Failures   int            `xml:"failures,attr"`
	Errors     int            `xml:"errors,attr"`
	Skipped    int            `xml:"skipped,attr"`
	ID         int            `xml:"id,attr"`
	Time       string         `xml:"time,attr"`
	Timestamp  string         `xml:"timestamp,attr"`
	Properties *xmlProperties `xml:"properties,omitempty"`
	Testcases  []xmlTestcase  `xml:"testcase"`
	SystemOut  *xmlOutput     `xml:"system-out,omitempty"`
}

type xmlProperties struct {
	Property []xmlProperty `xml:"property"`
}

type xmlProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xmlTestcase struct {
	Name      string     `xml:"name,attr"`
	Classname string     `xml:"classname,attr"`
	Time      string     `xml:"time,attr"`
	File      string     `xml:"file,attr,omitempty"`
	Line      int        `xml:"line,attr,omitempty"`
	Skipped   *xmlResult `xml:"skipped,omitempty"`
	Error     *xmlResult `xml:"error,omitempty"`
	Failure   *xmlResult `xml:"failure,omitempty"`
	SystemOut *xmlOutput `xml:"system-out,omitempty"`
}

type xmlResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Data    string `xml:",cdata"`
}

type xmlOutput struct {
	Data string `xml:",cdata"`
}

func (s *xmlTestsuites) add(ts xmlTestsuite) {
	s.Tests += ts.Tests
	s.Failures += ts.Failures
	s.Errors += ts.Errors
	s.Suites = append(s.Suites, ts)
}

func (s *xmlTestsuite) add(tc xmlTestcase) {
	s.Tests++
	switch {
	case tc.Failure != nil:
		s.Failures++
	case tc.Error != nil:
		s.Errors++
	case tc.Skipped != nil:
		s.Skipped++
	}
	s.Testcases = append(s.Testcases, tc)
}

func (p *xmlProperties) add(name, value string) {
	p.Property = append(p.Property, xmlProperty{Name: name, Value: clean(value)})
}

func testcase(group string, spec types.SpecReport, declared string, d time.Duration, opt JUnitOptions) xmlTestcase {
	tc := xmlTestcase{
		Name:      CaseName(group, spec.LeafNodeText),
		Classname: RootName + "." + framework.JUnitClass(group),
		Time:      seconds(d),
	}
	loc := spec.LeafNodeLocation
	if opt.Annotations && loc.LineNumber > 0 {
		tc.File, tc.Line = loc.FileName, loc.LineNumber
	}
	at := "threshold declared at " + where(loc)
	if group == RunGroup {
		at = "traffic declared at " + where(loc)
	}
	if declared != "" {
		at += "\n" + declared
	}
	msg := clean(skipMessage(spec))
	switch {
	case spec.State == types.SpecStatePassed:
	case spec.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		tc.Skipped = &xmlResult{Message: firstLine(msg)}
	case spec.State.Is(types.SpecStateFailed) && group == RunGroup:
		// The replay did not complete: the run is in error, whatever the
		// thresholds say about the pairs it did compare.
		tc.Error = &xmlResult{Message: firstLine(msg), Type: "aborted", Data: msg + "\n\n" + at}
	case spec.State.Is(types.SpecStateFailed) && spec.Failure.FailureNodeType == types.NodeTypeBeforeAll:
		tc.Error = &xmlResult{Message: firstLine(msg), Type: "replay", Data: msg + "\n\n" + at}
	case spec.State.Is(types.SpecStateFailed):
		tc.Failure = &xmlResult{Message: firstLine(msg), Type: "threshold", Data: msg + "\n\n" + at}
	default: // panicked, interrupted, aborted, timed out
		if msg == "" {
			msg = spec.State.String()
		}
		tc.Error = &xmlResult{Message: firstLine(msg), Type: spec.State.String(), Data: msg + "\n\n" + at}
	}
	return tc
}

// where formats a test case's spec position: "specs/x.cue:12", or the
// spec directory alone when no line is known.
func where(loc types.CodeLocation) string {
	if loc.LineNumber <= 0 {
		if loc.FileName == "" {
			return "-"
		}
		return loc.FileName
	}
	return fmt.Sprintf("%s:%d", loc.FileName, loc.LineNumber)
}

// caseTimes gives each test case (by index in report.SpecReports) its time:
// what it took itself, plus, for an endpoint's cases, the endpoint's share
// of the replay (which Ginkgo charges to the first case, where BeforeAll
// runs). An endpoint's share is its part of the time prod and the shadow
// spent answering, split evenly among its cases, so that the cases add up
// to the run.
func caseTimes(report types.Report, results *observe.Results) map[int]time.Duration {
	times := map[int]time.Duration{}
	var replay time.Duration
	cases := map[string][]int{}
	for i, spec := range report.SpecReports {
		if spec.LeafNodeType != types.NodeTypeIt {
			continue
		}
		times[i] = spec.RunTime
		for _, entry := range spec.ReportEntries {
			if entry.Name == replayTimeEntry {
				if d, err := time.ParseDuration(entry.StringRepresentation()); err == nil {
					replay = d
					times[i] = max(spec.RunTime-d, 0)
				}
			}
		}
		group := groupOf(spec)
		if results.Endpoint(group) != nil && group != RunGroup {
			cases[group] = append(cases[group], i)
		}
	}
	weights := map[string]float64{}
	var total float64
	for group := range cases {
		e := results.Endpoint(group)
		w := float64(e.ProdLatency.Sum() + e.ShadowLatency.Sum())
		weights[group] = w
		total += w
	}
	if total == 0 { // no latency recorded (a merge without sketches): by requests
		for group := range cases {
			weights[group] = float64(results.Endpoint(group).Requests)
			total += weights[group]
		}
	}
	if total == 0 || replay == 0 {
		for i, spec := range report.SpecReports {
			if spec.LeafNodeType == types.NodeTypeIt && groupOf(spec) == RunGroup {
				times[i] += replay
			}
		}
		return times
	}
	for group, idx := range cases {
		share := time.Duration(float64(replay) * weights[group] / total / float64(len(idx)))
		for _, i := range idx {
			times[i] += share
		}
	}
	return times
}

// CaseName is a test case's name in the JUnit: the endpoint and the
// threshold, "get-order: match rate >= 0.99 (min 20 pairs)". Names are
// unique across the whole file, because GitLab drops duplicate names and
// GitHub reporter actions list failures by name alone.
func CaseName(group, threshold string) string {
	return group + ": " + threshold
}

func endpointProperties(e *observe.Endpoint) *xmlProperties {
	p := &xmlProperties{}
	p.add("requests", fmt.Sprint(e.Requests))
	p.add("pairs", fmt.Sprint(e.Pairs))
	p.add("matches", fmt.Sprint(e.Matches))
	p.add("matchRate", fmt.Sprintf("%.4f", e.MatchRate()))
	p.add("skipped", fmt.Sprint(e.Skipped))
	if n, why := e.Withheld(); n > 0 {
		p.add("withheld", why)
	}
	p.add("prodErrors", fmt.Sprint(observe.ErrorCount(e.ProdErrors)))
	p.add("shadowErrors", fmt.Sprint(observe.ErrorCount(e.ShadowErrors)))
	p.add("prodErrorRate", fmt.Sprintf("%.4f", rateOf(observe.ErrorCount(e.ProdErrors), e.Requests)))
	p.add("shadowErrorRate", fmt.Sprintf("%.4f", rateOf(observe.ErrorCount(e.ShadowErrors), e.Requests)))
	p.add("categories", fmt.Sprint(len(e.Categories)))
	if len(e.Noise) > 0 {
		paths := make([]string, 0, len(e.Noise))
		for _, n := range e.NoisePaths() {
			paths = append(paths, n.Path)
		}
		p.add("noiseProbes", fmt.Sprint(e.Probes))
		p.add("noisePaths", strings.Join(paths, " "))
		for _, n := range e.NoisePaths() {
			p.add("noise "+n.Path, noiseNote(e, n))
		}
		if rule := report.NoiseRule(e); rule != "" {
			p.add("noiseRule", rule)
		}
	}
	p.add("prodP50Ms", millis(e.ProdLatency.Quantile(0.5)))
	p.add("prodP99Ms", millis(e.ProdLatency.Quantile(0.99)))
	p.add("shadowP50Ms", millis(e.ShadowLatency.Quantile(0.5)))
	p.add("shadowP99Ms", millis(e.ShadowLatency.Quantile(0.99)))
	return p
}

// runProperties are the figures of the whole run: what was sent, what no
// endpoint covered, and why the run stopped early if it did.
func runProperties(plan *framework.Plan, results *observe.Results) *xmlProperties {
	p := &xmlProperties{}
	var requests, pairs, matches, skipped int64
	for _, e := range results.Endpoints {
		requests += e.Requests
		pairs += e.Pairs
		matches += e.Matches
		skipped += e.Skipped
	}
	var unmatched int64
	for _, n := range results.Unmatched {
		unmatched += n
	}
	if plan.Dir != "" {
		p.add("specDir", plan.Dir)
	}
	p.add("endpoints", fmt.Sprint(len(results.Endpoints)))
	p.add("requests", fmt.Sprint(requests))
	p.add("pairs", fmt.Sprint(pairs))
	p.add("matches", fmt.Sprint(matches))
	p.add("skipped", fmt.Sprint(skipped))
	p.add("unmatched", fmt.Sprint(unmatched))
	reasons := make([]string, 0, len(results.Filtered))
	for reason := range results.Filtered {
		reasons = append(reasons, reason)
	}
	sort.Strings(reasons)
	for _, reason := range reasons {
		p.add("filtered "+reason, fmt.Sprint(results.Filtered[reason]))
	}
	if results.BadRecords > 0 {
		p.add("badRecords", fmt.Sprint(results.BadRecords))
	}
	p.add("runs", fmt.Sprint(results.Runs()))
	if results.Aborted != "" {
		p.add("aborted", results.Aborted)
	}
	return p
}

// RunSummary is a plain-text account of the whole run, for the run test
// case when the replay did not complete.
func RunSummary(results *observe.Results) string {
	var b strings.Builder
	if results.Aborted != "" {
		fmt.Fprintf(&b, "aborted: %s\n", results.Aborted)
	}
	for _, e := range results.Endpoints {
		fmt.Fprintf(&b, "endpoint %s: %s requests, %s pairs, %s match; errors: prod %s, shadow %s\n",
			e.Name, count(e.Requests), count(e.Pairs), count(e.Matches), errorList(e.ProdErrors), errorList(e.ShadowErrors))
	}
	return b.String()
}

// EndpointSummary is a plain-text account of one endpoint's aggregates:
// counts, latencies, errors, every discrepancy category with an example,
// and the noise learned from prod with the suggested rule.
func EndpointSummary(e *observe.Endpoint) string {
	var b strings.Builder
	// Nothing measured is said as such: "0 match (0.0000)" and "0s" read
	// as a measured match rate and latency.
	rate := "-"
	if e.Pairs > 0 {
		rate = fmt.Sprintf("%.4f", e.MatchRate())
	}
	fmt.Fprintf(&b, "endpoint %s: %s pairs, %s match (%s), %s skipped\n", e.Name, count(e.Pairs), count(e.Matches), rate, count(e.Skipped))
	if n, why := e.Withheld(); n > 0 {
		fmt.Fprintf(&b, "withheld by the spec: %s\n", why)
	}
	latency := func(l *observe.Latency, q float64) string {
		if l == nil || l.Count() == 0 {
			return "-"
		}
		return l.Quantile(q).String()
	}
	fmt.Fprintf(&b, "latency p50/p99: prod %s/%s, shadow %s/%s\n",
		latency(e.ProdLatency, 0.5), latency(e.ProdLatency, 0.99), latency(e.ShadowLatency, 0.5), latency(e.ShadowLatency, 0.99))
	fmt.Fprintf(&b, "errors: prod %s, shadow %s\n", errorList(e.ProdErrors), errorList(e.ShadowErrors))
	for _, c := range e.TopCategories(0) {
		fmt.Fprintf(&b, "category %s: %s pairs; example %s: %s: prod %s, shadow %s\n",
			c.Name, count(c.Count), c.Origin, c.Example.Path, display(c.Example.Prod), display(c.Example.Shadow))
	}
	for _, n := range e.NoisePaths() {
		fmt.Fprintf(&b, "noise %s: %s\n", n.Path, noiseNote(e, n))
	}
	if rule := report.NoiseRule(e); rule != "" {
		fmt.Fprintf(&b, "suggested rule: %s\n", rule)
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

// seconds formats a duration as junit-10.xsd's SUREFIRE_TIME wants it:
// digits, a point and at most three decimals.
func seconds(d time.Duration) string { return strconv.FormatFloat(max(d, 0).Seconds(), 'f', 3, 64) }

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

// skipMessage is a test case's failure message, with Ginkgo's words for a
// threshold skipped after its group's replay failed ("Spec skipped because a
// BeforeAll node failed") said in the user's terms, and a reason for the
// thresholds Ginkgo skips without one once the run is interrupted, timed
// out or aborted (the spec's own skips always say why).
func skipMessage(spec types.SpecReport) string {
	if !spec.State.Is(types.SpecStateSkipped) {
		return spec.Failure.Message
	}
	switch {
	case strings.Contains(spec.Failure.Message, "BeforeAll node failed"):
		return framework.NotJudged + "the replay failed (see the test case in error)"
	case strings.TrimSpace(spec.Failure.Message) == "":
		return framework.NotJudged + "the run ended before this threshold was judged (interrupted, timed out or aborted: see the test case in error)"
	}
	return spec.Failure.Message
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
		out = append(out, framework.Verdict{Endpoint: group, Threshold: spec.LeafNodeText, State: spec.State.String(), Message: skipMessage(spec), Location: where(spec.LeafNodeLocation)})
	}
	return out
}

// groupOf is the group a test case belongs to: the container just inside
// shadowtest's root (an endpoint, RunGroup or AlsoGroup), wherever a
// team's suite put the root. A spec outside the root (a team's own) is
// grouped by its outermost container.
func groupOf(spec types.SpecReport) string {
	texts := spec.ContainerHierarchyTexts
	if root := slices.Index(texts, RootName); root >= 0 && root+1 < len(texts) {
		return texts[root+1]
	}
	if len(texts) > 0 && texts[0] != RootName {
		return texts[0]
	}
	return RunGroup
}
