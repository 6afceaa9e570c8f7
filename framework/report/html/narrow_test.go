package html_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/internal/browsertest"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
	reporthtml "github.com/shadowtest/shadowtest/framework/report/html"
)

// demoLikeReport writes the report of a run shaped like the demo's: five
// endpoints with three thresholds each, the run's own test case, example
// pairs, and a noise path learned from prod on get-user.
func demoLikeReport(t *testing.T) (path string, page string) {
	t.Helper()
	names := []string{"health", "get-order", "list-products", "get-product", "get-user"}
	var endpoints []framework.Endpoint
	for _, n := range names {
		endpoints = append(endpoints, framework.Endpoint{Name: n, Method: "GET", Path: "/" + n + "/{id}", Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 20}})
	}
	results := observe.NewResults(endpoints)
	red := redact.Default()
	var logBuf bytes.Buffer
	log := disclog.NewWriter(&logBuf, disclog.Options{Examples: 2, Redactor: red})
	for i := range 40 {
		for j, n := range names {
			pair := &framework.Pair{
				Endpoint: n,
				Exchange: framework.Exchange{Origin: fmt.Sprintf("demo.har: entry %d", i*5+j), Request: framework.Request{Method: "GET", URL: fmt.Sprintf("/%s/%d", n, i)}},
				Prod:     framework.Response{Status: 200, Latency: time.Duration(1+j) * time.Millisecond, Body: []byte(fmt.Sprintf(`{"id":%d,"requestId":"a-%d","currency":"EUR"}`, i, i))},
				Shadow:   framework.Response{Status: 200, Latency: time.Duration(2+j) * time.Millisecond, Body: []byte(fmt.Sprintf(`{"id":%d,"requestId":"b-%d"}`, i, i))},
			}
			var diffs []framework.Diff
			switch {
			case n == "get-order" && i%3 == 0:
				diffs = []framework.Diff{{Path: "$.currency", Kind: framework.KindMissing, Prod: `"EUR"`}}
			case n == "get-user":
				diffs = []framework.Diff{{Path: "$.requestId", Kind: framework.KindValue, Prod: fmt.Sprintf(`"a-%d"`, i), Shadow: fmt.Sprintf(`"b-%d"`, i)}}
			}
			results.Add(pair, diffs)
			log.Add(pair, diffs)
		}
	}
	results.Endpoint("get-user").Noise = map[string]*observe.NoisePath{"$.requestId": {Path: "$.requestId", Count: 8, Shape: "string", Rule: `string`, Decision: observe.NoiseHidden}}
	for _, n := range names {
		for _, th := range []string{"match rate >= 0.99 (min 20 pairs)", "shadow error rate <= prod's", "shadow p99 latency (monitored)"} {
			state := "passed"
			v := framework.Verdict{Endpoint: n, Threshold: th, Location: "specs/demo/shadow.cue:35"}
			if n == "get-order" && strings.HasPrefix(th, "match rate") {
				state, v.Message = "failed", "get-order: match rate 0.675 < 0.990 over 40 pairs (13 differ)"
			}
			v.State = state
			results.Verdicts = append(results.Verdicts, v)
		}
	}
	results.Verdicts = append(results.Verdicts, framework.Verdict{Endpoint: "run", Threshold: "replays all traffic", State: "passed", Location: "specs/demo/shadow.cue:19"})
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := reporthtml.Write(&buf, reporthtml.Data{Results: results, Examples: log.Examples()}); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.String()
}

// TestReportHeaderCountsThresholdsOnly: the run's own test case is not a
// threshold; 15 thresholds, one failed.
func TestReportHeaderCountsThresholdsOnly(t *testing.T) {
	_, page := demoLikeReport(t)
	if !strings.Contains(page, "FAILED: 1 of 15 thresholds failed") {
		i := strings.Index(page, "<header>")
		t.Errorf("the header does not count 15 thresholds:\n%.400s", page[i:])
	}
}

// TestReportMarksNoiseInExamplePairs: a difference at a path learned as
// noise is marked as not counted in the example pairs.
func TestReportMarksNoiseInExamplePairs(t *testing.T) {
	_, page := demoLikeReport(t)
	i := strings.Index(page, `<mark>$.requestId</mark>`)
	if i < 0 {
		t.Fatal("no example pair lists $.requestId")
	}
	if row := page[i:min(len(page), i+400)]; !strings.Contains(row[:strings.Index(row, "</tr>")], "noise: not counted") {
		t.Errorf("the noise difference is not marked:\n%s", row)
	}
	j := strings.Index(page, `<mark>$.currency</mark>`)
	if j < 0 || strings.Contains(page[j:j+strings.Index(page[j:], "</tr>")], "noise") {
		t.Errorf("an ordinary difference is marked as noise, or missing")
	}
}

// TestReportReadableAt700px loads the report in a 700 px wide window (a
// laptop split screen): nothing scrolls sideways, the overview fits, no
// threshold badge wraps over more than two lines; the screenshot is kept.
func TestReportReadableAt700px(t *testing.T) {
	path, _ := demoLikeReport(t)
	ctx := browsertest.Chromium(t)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(700, 900),
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible(chromedp.CSS("#overview")),
	); err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if page[0] > page[1] {
		t.Errorf("the page is %d px wide in a %d px window: it scrolls sideways", page[0], page[1])
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#overview, #overview td, table, pre")).filter(e => e.scrollWidth > e.clientWidth + 1 && !e.closest(".side")).map(e => e.tagName + (e.id ? "#" + e.id : "") + " " + e.scrollWidth + ">" + e.clientWidth)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(overflow) > 0 {
		t.Errorf("elements overflow at 700 px: %v", overflow)
	}
	tall, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".badge")).filter(b => b.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(b).lineHeight)).map(b => b.textContent + " " + Math.round(b.getBoundingClientRect().height) + "px")`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tall) > 0 {
		t.Errorf("threshold badges wrap over more than two lines: %v", tall)
	}
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#overview-section")))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	checkScreenshot(t, shot, "report-overview-700px.png")
}
