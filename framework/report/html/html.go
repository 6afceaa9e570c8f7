// Package html writes the HTML report: one self-contained file (styles and
// script embedded, no network, no CDN) with an overview of the endpoints,
// every discrepancy category with example pairs side by side and the
// differing paths highlighted, and the noise paths with what was decided
// there and the shape rule that makes it explicit.
//
// Every recorded byte goes through html/template's contextual escaping, and
// invalid UTF-8 is replaced first, so a recorded body holding <script>,
// </textarea> or a javascript: URL only displays. A Content-Security-Policy
// allows the report's own script (by hash) and nothing else. Recorded data
// is redacted before it gets here (observe and disclog); this package only
// formats.
package html

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/internal/fieldpath"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/report"
	"github.com/shadowtest/shadowtest/framework/scrub"
)

var (
	//go:embed assets/report.html
	pageSource string
	//go:embed assets/report.css
	style string
	//go:embed assets/report.js
	script string

	page = template.Must(template.New("report").Parse(pageSource))
)

// CSP is the report's Content-Security-Policy: nothing loads from
// anywhere, and the only script that runs is the report's own.
func CSP() string {
	sum := sha256.Sum256([]byte(script))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
}

// MaxBodyLines caps the lines of one body shown side by side.
const MaxBodyLines = 400

// MaxPairs caps the example pairs shown side by side in one report, over
// all endpoints and categories (most frequent categories first): a pair
// shows under each of its categories, and a shadow inventing categories
// must not multiply the page.
const MaxPairs = 100

// Data is what a report shows.
type Data struct {
	// Title heads the page ("shadowtest report" when empty).
	Title string
	// Results are the aggregates, with their verdicts.
	Results *observe.Results
	// Examples are the discrepancy log's example pairs (any order).
	Examples []disclog.Entry
	// Generated is the time shown (now when zero).
	Generated time.Time
}

// Write renders the report.
func Write(w io.Writer, d Data) error {
	v := build(d)
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type view struct {
	Title, Verdict, RunsText, Generated, Aborted string
	CSP                                          string
	Style                                        template.CSS
	Script                                       template.JS
	Endpoints                                    []endpointView
	Unmatched                                    []unmatchedView
}

type unmatchedView struct {
	Label string
	Count int64
}

type endpointView struct {
	Name, Anchor, Route                    string
	Pairs, Matches                         int64
	Withheld                               string
	MatchRate                              string
	Failed                                 bool
	Verdicts                               []verdictView
	Held                                   int // thresholds that passed
	Judged                                 int // thresholds that passed or failed (not skipped)
	ProdP50, ShadowP50, ProdP99, ShadowP99 string
	Chart                                  template.HTML
	ProdErrors, ShadowErrors               int64
	Categories                             []categoryView
	Noise                                  []noiseView
	NoiseRule                              string
}

type verdictView struct {
	Threshold, State, Message, Location, Class string
}

type categoryView struct {
	Name                       string
	Count                      int64
	Path, Prod, Shadow, Origin string
	Pairs                      []pairView
}

type noiseView struct {
	Path                    string
	Count, Shadow, Misfit   int64
	Reported                bool
	Decision, Reason, Shape string
}

type pairView struct {
	Origin, Request string
	Diffs           []diffView
	Prod, Shadow    sideView
}

type diffView struct {
	Path, Kind, Prod, Shadow string
	Excerpt                  []excerptLine // a text body's unified diff
	// Noise marks a difference at a path learned as noise from prod: not
	// counted against the shadow.
	Noise bool
}

// excerptLine is one line of a unified diff: Class is "del" (prod only),
// "add" (shadow only), "hunk" (@@ and ---/+++ headers) or "" (context).
type excerptLine struct{ Text, Class string }

// excerptLines splits a Diff's unified-diff excerpt into classed lines.
func excerptLines(excerpt string) []excerptLine {
	if excerpt == "" {
		return nil
	}
	var out []excerptLine
	for _, line := range strings.Split(strings.TrimSuffix(excerpt, "\n"), "\n") {
		class := ""
		switch {
		case strings.HasPrefix(line, "---"), strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "@@"), strings.HasPrefix(line, "…"):
			class = "hunk"
		case strings.HasPrefix(line, "-"):
			class = "del"
		case strings.HasPrefix(line, "+"):
			class = "add"
		}
		out = append(out, excerptLine{Text: clean(line), Class: class})
	}
	return out
}

type sideView struct {
	Head  string
	Lines []lineView
}

type lineView struct {
	Text string
	Diff bool
}

func build(d Data) view {
	r := d.Results
	if d.Title == "" {
		d.Title = "shadowtest report"
	}
	if d.Generated.IsZero() {
		d.Generated = time.Now()
	}
	v := view{
		Title: d.Title, Generated: d.Generated.UTC().Format(time.RFC3339),
		CSP: CSP(), Style: template.CSS(style), Script: template.JS(script),
		Aborted: clean(r.Aborted),
	}
	v.RunsText = fmt.Sprintf("%d run(s)", r.Runs())
	byEndpoint := map[string][]framework.Verdict{}
	failed, skipped, total := 0, 0, 0
	for _, verdict := range r.Verdicts {
		byEndpoint[verdict.Endpoint] = append(byEndpoint[verdict.Endpoint], verdict)
		if r.Endpoint(verdict.Endpoint) == nil {
			// Not a threshold: "run: replays all traffic" (or a shard
			// check); an abort is shown on its own.
			if !verdict.Passed() && !verdict.Skipped() && v.Aborted == "" {
				v.Aborted = clean(firstLine(verdict.Message))
			}
			continue
		}
		switch {
		case verdict.Skipped():
			if !strings.HasPrefix(verdict.Message, framework.NotJudged) {
				skipped++ // else the replay's error (or the abort) says why
			}
			continue
		case !verdict.Passed():
			failed++
		}
		total++
	}
	switch {
	case total == 0:
		v.Verdict = "not judged"
	case failed == 0:
		v.Verdict = fmt.Sprintf("PASSED: all %d thresholds held", total)
	default:
		v.Verdict = fmt.Sprintf("FAILED: %d of %d thresholds failed", failed, total)
	}
	if skipped > 0 {
		v.Verdict += fmt.Sprintf(", %d skipped by the spec's own policy", skipped)
	}
	examples := map[string]map[string][]disclog.Entry{} // endpoint → category → pairs
	for _, e := range d.Examples {
		if e.Type != disclog.TypePair || !e.Example {
			continue
		}
		if examples[e.Endpoint] == nil {
			examples[e.Endpoint] = map[string][]disclog.Entry{}
		}
		for _, c := range e.Categories {
			examples[e.Endpoint][c] = append(examples[e.Endpoint][c], e)
		}
	}
	var scale time.Duration
	for _, e := range r.Endpoints {
		scale = max(scale, e.ProdLatency.Quantile(0.99), e.ShadowLatency.Quantile(0.99))
	}
	shown := 0
	for i, e := range r.Endpoints {
		ev := endpointView{
			Name: clean(e.Name), Anchor: strconv.Itoa(i), Pairs: e.Pairs, Matches: e.Matches,
			MatchRate: "-",
			ProdP50:   report.Quantile(e.ProdLatency, 0.5), ShadowP50: report.Quantile(e.ShadowLatency, 0.5),
			ProdP99: report.Quantile(e.ProdLatency, 0.99), ShadowP99: report.Quantile(e.ShadowLatency, 0.99),
			ProdErrors: observe.ErrorCount(e.ProdErrors), ShadowErrors: observe.ErrorCount(e.ShadowErrors),
		}
		if n, why := e.Withheld(); n > 0 {
			ev.Withheld = clean(why)
		}
		if e.Spec != nil {
			ev.Route = clean(e.Spec.Method + " " + e.Spec.Path)
		}
		if e.Pairs > 0 {
			ev.MatchRate = fmt.Sprintf("%.4f", e.MatchRate())
		}
		for _, verdict := range byEndpoint[e.Name] {
			vv := verdictView{Threshold: clean(verdict.Threshold), State: verdict.State, Location: clean(verdict.Location), Class: "passed"}
			switch {
			case verdict.Skipped():
				vv.Message = clean(verdict.Message)
				vv.Class = "skipped"
			case !verdict.Passed():
				vv.Message = clean(verdict.Message)
				vv.Class = "failed"
				ev.Failed = true
			}
			ev.Verdicts = append(ev.Verdicts, vv)
			if vv.Class == "passed" {
				ev.Held++
			}
			if vv.Class != "skipped" {
				ev.Judged++
			}
		}
		ev.Chart = chart(e, scale)
		hiddenNoise := map[string]bool{}
		for _, n := range e.NoisePaths() {
			hiddenNoise[n.Path] = n.Decision == observe.NoiseHidden
		}
		for _, c := range e.TopCategories(0) {
			cv := categoryView{Name: clean(c.Name), Count: c.Count, Path: clean(c.Example.Path), Prod: clean(orNone(c.Example.Prod)), Shadow: clean(orNone(c.Example.Shadow)), Origin: clean(c.Origin)}
			for _, entry := range examples[e.Name][c.Name] {
				if shown == MaxPairs {
					break
				}
				shown++
				cv.Pairs = append(cv.Pairs, pair(entry, hiddenNoise))
			}
			ev.Categories = append(ev.Categories, cv)
		}
		for _, n := range e.NoisePaths() {
			ev.Noise = append(ev.Noise, noiseView{Path: clean(n.Path), Count: n.Count, Shadow: n.Shadow, Misfit: n.Misfit,
				Reported: n.Reported, Decision: clean(n.Decision), Reason: clean(n.Reason), Shape: clean(n.Shape)})
		}
		ev.NoiseRule = clean(report.NoiseRule(e))
		v.Endpoints = append(v.Endpoints, ev)
	}
	for label, n := range r.Unmatched {
		v.Unmatched = append(v.Unmatched, unmatchedView{clean(label), n})
	}
	sort.Slice(v.Unmatched, func(i, j int) bool { return v.Unmatched[i].Label < v.Unmatched[j].Label })
	return v
}

// pair renders one example pair; differences at a path learned as noise
// (hiddenNoise, by folded path) are marked as not counted.
func pair(e disclog.Entry, hiddenNoise map[string]bool) pairView {
	pv := pairView{Origin: clean(e.Origin)}
	if e.Request != nil {
		pv.Request = clean(e.Request.Method + " " + e.Request.URL)
	}
	prodMarks, shadowMarks := map[string]bool{}, map[string]bool{}
	for _, d := range e.Diffs {
		pv.Diffs = append(pv.Diffs, diffView{Path: clean(d.Path), Kind: string(d.Kind), Prod: clean(orNone(d.Prod)), Shadow: clean(orNone(d.Shadow)), Excerpt: excerptLines(d.Excerpt),
			Noise: hiddenNoise[framework.FoldIndices(d.Path)]})
		prodMarks[d.Path], shadowMarks[d.Path] = true, true
	}
	if e.MoreDiffs > 0 {
		pv.Diffs = append(pv.Diffs, diffView{Path: "…", Prod: fmt.Sprintf("and %d more differences, not kept", e.MoreDiffs)})
	}
	pv.Prod = side(e.Prod, prodMarks)
	pv.Shadow = side(e.Shadow, shadowMarks)
	return pv
}

// side renders one response: its status line, then its body, JSON
// pretty-printed with the lines at or under a differing path marked.
func side(r *disclog.Response, marks map[string]bool) sideView {
	if r == nil {
		return sideView{Head: "(not logged)"}
	}
	if r.Error != "" {
		return sideView{Head: "error", Lines: []lineView{{Text: clean(r.Error), Diff: true}}}
	}
	head := fmt.Sprintf("%d %s · %.1f ms", r.Status, http.StatusText(r.Status), r.LatencyMs)
	var lines []lineView
	for _, name := range sortedKeys(r.Header) {
		lines = append(lines, lineView{Text: clean(name + ": " + strings.Join(r.Header[name], ", ")), Diff: marks["header:"+http.CanonicalHeaderKey(name)]})
	}
	if len(lines) > 0 {
		lines = append(lines, lineView{})
	}
	b := r.Body
	switch {
	case b == nil:
		lines = append(lines, lineView{Text: "(empty body)"})
	case b.Withheld != "":
		lines = append(lines, lineView{Text: clean(b.String())})
	case b.Base64 != "":
		lines = append(lines, lineView{Text: fmt.Sprintf("(binary body, %d bytes, sha256 %s)", b.Size, b.SHA256)}, lineView{Text: b.Base64})
	default:
		body := jsonLines(b.Text, marks)
		if body == nil {
			for _, l := range strings.Split(b.Text, "\n") {
				body = append(body, lineView{Text: clean(l), Diff: marks["body"]})
			}
		}
		lines = append(lines, body...)
		if b.Truncated {
			lines = append(lines, lineView{Text: fmt.Sprintf("… cut: %d bytes in all, sha256 %s", b.Size, b.SHA256)})
		}
	}
	if len(lines) > MaxBodyLines {
		lines = append(lines[:MaxBodyLines], lineView{Text: fmt.Sprintf("… %d more lines", len(lines)-MaxBodyLines)})
	}
	return sideView{Head: head, Lines: lines}
}

// jsonLines pretty-prints a JSON document as the service sent it: members
// in their order, strings and numbers byte for byte (escapes kept), only
// the indentation changed; the lines whose location is, or lies under, a
// differing path are marked. It returns nil if text is not one JSON value.
func jsonLines(text string, marks map[string]bool) []lineView {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil
	}
	var marked [][]fieldpath.Step
	for path := range marks {
		if loc, ok := fieldpath.ParseLocation(path); ok {
			marked = append(marked, resolveKeyed(v, loc))
		}
	}
	p := printer{marked: marked, dec: jsontext.NewDecoder(strings.NewReader(text), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))}
	if err := p.value(nil, "", ""); err != nil {
		return nil
	}
	return p.lines
}

// printer writes a JSON document one line per value, reading its tokens
// so that every scalar keeps the bytes it was sent with.
type printer struct {
	marked [][]fieldpath.Step
	dec    *jsontext.Decoder
	lines  []lineView
}

func (p *printer) isMarked(loc []fieldpath.Step) bool {
	for _, m := range p.marked {
		if len(m) <= len(loc) && equalSteps(m, loc[:len(m)]) {
			return true
		}
	}
	return false
}

func equalSteps(a, b []fieldpath.Step) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (p *printer) emit(text string, loc []fieldpath.Step) {
	p.lines = append(p.lines, lineView{Text: clean(text), Diff: p.isMarked(loc)})
}

// comma ends the last line with a comma when another member or element
// follows.
func (p *printer) comma(closing jsontext.Kind) {
	if p.dec.PeekKind() != closing {
		p.lines[len(p.lines)-1].Text += ","
	}
}

// value prints the next value at loc, on a line starting with
// indent+prefix.
func (p *printer) value(loc []fieldpath.Step, indent, prefix string) error {
	switch kind := p.dec.PeekKind(); kind {
	case '{', '[':
		if _, err := p.dec.ReadToken(); err != nil {
			return err
		}
		closing, open, shut := jsontext.Kind('}'), "{", "}"
		if kind == '[' {
			closing, open, shut = ']', "[", "]"
		}
		if p.dec.PeekKind() == closing {
			p.dec.ReadToken()
			p.emit(indent+prefix+open+shut, loc)
			return nil
		}
		p.emit(indent+prefix+open, loc)
		for i := 0; p.dec.PeekKind() != closing; i++ {
			if p.dec.PeekKind() == 0 {
				_, err := p.dec.ReadToken()
				return err
			}
			step, name := fieldpath.Index(i), ""
			if kind == '{' {
				raw, err := p.dec.ReadValue()
				if err != nil {
					return err
				}
				name = string(raw) + ": "
				key, err := jsontext.AppendUnquote(nil, raw)
				if err != nil {
					return err
				}
				step = fieldpath.Key(string(key))
			}
			if err := p.value(append(loc[:len(loc):len(loc)], step), indent+"  ", name); err != nil {
				return err
			}
			p.comma(closing)
		}
		p.dec.ReadToken()
		p.emit(indent+shut, loc)
		return nil
	default:
		raw, err := p.dec.ReadValue()
		if err != nil {
			return err
		}
		p.emit(indent+prefix+string(raw), loc)
		return nil
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// chart draws p50 and p99 of both targets as bars on one scale.
func chart(e *observe.Endpoint, scale time.Duration) template.HTML {
	const width, barHeight = 150, 9
	bar := func(d time.Duration) int {
		if scale <= 0 {
			return 0
		}
		return max(1, int(float64(width)*float64(d)/float64(scale)))
	}
	rows := []struct {
		label, class string
		d            time.Duration
	}{
		{"p50 prod", "bar-prod", e.ProdLatency.Quantile(0.5)},
		{"p50 shadow", "bar-shadow", e.ShadowLatency.Quantile(0.5)},
		{"p99 prod", "bar-prod", e.ProdLatency.Quantile(0.99)},
		{"p99 shadow", "bar-shadow", e.ShadowLatency.Quantile(0.99)},
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="latency p50 and p99, prod versus shadow" width="%d" height="%d">`, width+130, len(rows)*(barHeight+3))
	for i, r := range rows {
		y := i * (barHeight + 3)
		// Only numbers and fixed labels go into the SVG: no recorded data.
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text><rect class="%s" x="66" y="%d" width="%d" height="%d"></rect><text x="%d" y="%d">%s</text>`,
			y+barHeight, r.label, r.class, y, bar(r.d), barHeight, 70+bar(r.d), y+barHeight, ms(r.d))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// clean makes untrusted text plain: invalid UTF-8 bytes, control
// characters and bidi overrides become visible escapes (scrub.Display), so
// that a value cannot reorder or hide its neighbours; escaping for HTML is
// html/template's job.
func clean(s string) string { return scrub.Display(s) }

// resolveKeyed rewrites the keyed-set elements of a differing location
// ($.orders[id=7].total) as the index of the element of doc that carries
// that key ($.orders[2].total), so that the lines under it are marked. A
// key not found leaves the step as it is (then nothing under it is marked).
func resolveKeyed(doc any, loc []fieldpath.Step) []fieldpath.Step {
	for i, step := range loc {
		field, value, isString, ok := step.KeyedBy()
		if !ok {
			continue
		}
		array, ok := at(doc, loc[:i]).([]any)
		if !ok {
			return loc
		}
		for j, elem := range array {
			if obj, ok := elem.(map[string]any); ok && keyEquals(obj[field], value, isString) {
				loc[i] = fieldpath.Index(j)
				break
			}
		}
	}
	return loc
}

// at walks doc along loc; nil when the location does not exist.
func at(doc any, loc []fieldpath.Step) any {
	for _, step := range loc {
		switch v := doc.(type) {
		case map[string]any:
			if step.IsIndex {
				return nil
			}
			doc = v[step.Key]
		case []any:
			if !step.IsIndex || step.Index < 0 || step.Index >= len(v) {
				return nil
			}
			doc = v[step.Index]
		default:
			return nil
		}
	}
	return doc
}

// keyEquals compares a key member with the value of a keyed step: a
// string, or the JSON text of a number or a word.
func keyEquals(member any, value string, isString bool) bool {
	if isString {
		got, ok := member.(string)
		return ok && got == value
	}
	switch m := member.(type) {
	case json.Number:
		return m.String() == value
	case bool:
		return strconv.FormatBool(m) == value
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
