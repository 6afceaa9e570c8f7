package html_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/compare"
	"github.com/shadowtest/shadowtest/framework/disclog"
	"github.com/shadowtest/shadowtest/framework/internal/browsertest"
	"github.com/shadowtest/shadowtest/framework/observe"
	reporthtml "github.com/shadowtest/shadowtest/framework/report/html"
)

// sentBytesReport runs a JSON pair and an HTML text pair through the real
// comparator, log and report writer.
func sentBytesReport(t *testing.T) (string, []byte) {
	t.Helper()
	endpoints := []framework.Endpoint{
		{Name: "get-item", Method: "GET", Path: "/items/{id}", Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 1}},
		{Name: "home", Method: "GET", Path: "/", Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 1}},
	}
	results := observe.NewResults(endpoints)
	var logBuf bytes.Buffer
	log := disclog.NewWriter(&logBuf, disclog.Options{})
	cmp, err := compare.Compile(framework.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	page := func(title string) string {
		return "<html>\n<head>\n<title>" + title + "</title>\n</head>\n<body><script>window.__pwned=1</script></body>\n</html>\n"
	}
	pairs := []struct{ endpoint, contentType, prod, shadow string }{
		{"get-item", "application/json", `{"zeta":1,"alpha":"<b>x</b>","price":1.50,"name":"caf\u00e9"}`, `{"zeta":2,"alpha":"<b>x</b>","price":1.50,"name":"caf\u00e9"}`},
		{"home", "text/html", page("Shop"), page("Shoe")},
	}
	for _, p := range pairs {
		pair := &framework.Pair{
			Endpoint: p.endpoint,
			Exchange: framework.Exchange{Origin: "t.har: entry 1", Request: framework.Request{Method: "GET", URL: "/"}},
			Prod:     framework.Response{Status: 200, Latency: time.Millisecond, Header: http.Header{"Content-Type": {p.contentType}}, Body: []byte(p.prod)},
			Shadow:   framework.Response{Status: 200, Latency: time.Millisecond, Header: http.Header{"Content-Type": {p.contentType}}, Body: []byte(p.shadow)},
		}
		diffs := cmp.Compare(&pair.Prod, &pair.Shadow)
		if len(diffs) == 0 {
			t.Fatalf("%s: no difference", p.endpoint)
		}
		results.Add(pair, diffs)
		log.Add(pair, diffs)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := reporthtml.Write(&out, reporthtml.Data{Results: results, Examples: log.Examples()}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, out.Bytes()
}

// TestReportShowsSentBytes: a JSON body is shown as the service sent it,
// only re-indented (member order, number text and escapes kept, "<" not
// rewritten), and a text body difference comes with a unified-diff excerpt.
func TestReportShowsSentBytes(t *testing.T) {
	_, page := sentBytesReport(t)
	for _, want := range []string{
		`  &#34;zeta&#34;: 1,`, `  &#34;alpha&#34;: &#34;&lt;b&gt;x&lt;/b&gt;&#34;,`, `  &#34;price&#34;: 1.50,`, `caf\u00e9`,
		`<span class="del">-&lt;title&gt;Shop&lt;/title&gt;</span>`, `<span class="add">&#43;&lt;title&gt;Shoe&lt;/title&gt;</span>`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page source lacks %s", want)
		}
	}
	for _, bad := range []string{`\u003c`, `\\u003c`} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the page rewrites < as %s", bad)
		}
	}
}

// TestReportSentBytesInChromium checks the same in a browser: the text a
// reader sees and copies.
func TestReportSentBytesInChromium(t *testing.T) {
	path, _ := sentBytesReport(t)
	ctx := browsertest.Chromium(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("#overview"))); err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	prod, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".side.prod pre")))
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"zeta\": 1,\n  \"alpha\": \"<b>x</b>\",\n  \"price\": 1.50,\n  \"name\": \"caf\\u00e9\"\n}"
	if !strings.Contains(strings.ReplaceAll(prod, "\n\n", "\n"), want) {
		t.Errorf("prod's JSON body shows as\n%s\nwant the sent bytes re-indented:\n%s", prod, want)
	}
	excerpt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("pre.excerpt")))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"--- prod", "+++ shadow", "-<title>Shop</title>", "+<title>Shoe</title>", " </head>"} {
		if !strings.Contains(excerpt, line) {
			t.Errorf("the excerpt lacks %q:\n%s", line, excerpt)
		}
	}
	if pwned, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__pwned)`)); pwned != "undefined" {
		t.Fatalf("a recorded script ran: %q", pwned)
	}
}

// TestReportSkippedIsNotFailed: thresholds the spec's own policy left
// without traffic show as skipped with the reason, and the verdict is not
// a failure.
func TestReportSkippedIsNotFailed(t *testing.T) {
	results := observe.NewResults([]framework.Endpoint{{Name: "create-user", Method: "POST", Path: "/users"}})
	for range 12 {
		results.AddSkipped("create-user")
	}
	results.Verdicts = []framework.Verdict{{Endpoint: "create-user", Threshold: "match rate >= 0.99 (min 1 pairs)", State: "skipped",
		Message: "skipped: 12 requests not sent under writes: skip"}}
	var page bytes.Buffer
	if err := reporthtml.Write(&page, reporthtml.Data{Results: results}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"12 requests not sent under writes: skip", `class="badge skipped"`, "1 skipped by the spec&#39;s own policy"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, bad := range []string{"FAILED", "0 of 1 held"} {
		if strings.Contains(page.String(), bad) {
			t.Errorf("the page shows %q for a skipped threshold", bad)
		}
	}
}
