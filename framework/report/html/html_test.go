package html_test

import (
	"bytes"
	"image/png"
	"net/http"
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

// Hostile recorded bytes: each would set window.__pwned if it ever ran.
var hostile = []string{
	`<script>window.__pwned=1</script>`,
	`</textarea></pre></code><script>window.__pwned=2</script>`,
	`<img src=x onerror="window.__pwned=3">`,
	`javascript:window.__pwned=4`,
	"broken \xff\xfe utf-8 \xc3",
	`"><svg onload="window.__pwned=5">`,
}

const (
	secretToken  = "Bearer sk-live-TOKEN-123"
	secretCookie = "sid=COOKIE-456"
	secretPass   = "hunter2-PASSWORD-789"
)

const evilEndpoint = `evil</td><script>window.__pwned=6</script>`

// hostileReport builds a report through the real pipeline: aggregates with
// the redaction hook, the discrepancy log writer, the HTML writer.
func hostileReport(t *testing.T) (string, []byte) {
	t.Helper()
	red, err := redact.New([]string{"$.password", "$..card"})
	if err != nil {
		t.Fatal(err)
	}
	endpoints := []framework.Endpoint{
		{Name: "get-user", Method: "GET", Path: "/users/{id}", Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 1}},
		{Name: evilEndpoint, Method: "POST", Path: "/login", Thresholds: framework.Thresholds{MatchRate: 0.99, MinSamples: 1}},
	}
	results := observe.NewResults(endpoints)
	results.Redact = red.Value
	var logBuf bytes.Buffer
	log := disclog.NewWriter(&logBuf, disclog.Options{Examples: 3, Redactor: red})
	for i, h := range hostile {
		prodBody := `{"name":` + jsonString(h) + `,"password":"` + secretPass + `","link":"javascript:window.__pwned=7","card":{"number":"4111"}}`
		shadowBody := `{"name":` + jsonString(h+"!") + `,"password":"` + secretPass + `","link":"javascript:window.__pwned=7","card":{"number":"4111"}}`
		pair := &framework.Pair{
			Endpoint: []string{"get-user", evilEndpoint}[i%2],
			Exchange: framework.Exchange{Origin: "hostile.har: entry " + h, Request: framework.Request{
				Method: "GET", URL: "/users/1?api_key=KEY-000&q=" + h,
				Header: http.Header{"Authorization": {secretToken}, "Cookie": {secretCookie}},
			}},
			Prod:   framework.Response{Status: 200, Latency: time.Duration(i+1) * time.Millisecond, Header: http.Header{"Set-Cookie": {secretCookie}, "Content-Type": {"application/json"}}, Body: []byte(prodBody)},
			Shadow: framework.Response{Status: 200, Latency: time.Duration(i+2) * time.Millisecond, Header: http.Header{"Set-Cookie": {secretCookie}}, Body: []byte(shadowBody)},
		}
		diffs := []framework.Diff{
			{Path: "$.name", Kind: framework.KindValue, Prod: jsonString(h), Shadow: jsonString(h + "!")},
			{Path: `$."` + h + `"`, Kind: framework.KindExtra, Shadow: h},
			{Path: "$.password", Kind: framework.KindValue, Prod: `"` + secretPass + `"`, Shadow: `"x` + secretPass + `"`},
			{Path: "header:Set-Cookie", Kind: framework.KindHeader, Prod: secretCookie, Shadow: secretCookie + "x"},
			{Path: "$.card", Kind: framework.KindMissing, Prod: `{"number":"4111"}`},
		}
		results.Add(pair, diffs)
		log.Add(pair, diffs)
	}
	results.Unmatched[`GET /<script>window.__pwned=8</script>`] = 1
	results.Endpoint("get-user").Noise = map[string]*observe.NoisePath{"$.requestId": {Path: "$.requestId", Count: 3, Shape: "uuid", Rule: `"uuid"`, Writable: true, Decision: observe.NoiseHidden}}
	results.Verdicts = []framework.Verdict{
		{Endpoint: "get-user", Threshold: "match rate >= 0.99 (min 1 pairs)", State: "failed", Message: "get-user: match rate 0.000 < 0.990 over 3 pairs\n  " + hostile[0], Location: "specs/u.cue:3"},
		{Endpoint: evilEndpoint, Threshold: "match rate >= 0.99 (min 1 pairs)", State: "passed"},
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := reporthtml.Write(&page, reporthtml.Data{Results: results, Examples: log.Examples()}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, page.Bytes()
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

func TestReportEscapesAndRedacts(t *testing.T) {
	_, page := hostileReport(t)
	text := string(page)
	for _, secret := range []string{secretToken, secretCookie, secretPass, "4111", "KEY-000"} {
		if strings.Contains(text, secret) {
			t.Errorf("the report shows the secret %q", secret)
		}
	}
	if n := strings.Count(text, "<script"); n != 1 {
		t.Errorf("%d <script elements, want only the report's own", n)
	}
	for _, bad := range []string{"<img", "<svg onload", "</textarea>", "onerror=\"", "href=\"javascript:"} {
		if strings.Contains(text, bad) {
			t.Errorf("unescaped %q in the report", bad)
		}
	}
	for _, want := range []string{"Content-Security-Policy", "get-user", "[REDACTED]", "$.requestId", `class="line diff"`, "&lt;script&gt;window.__pwned=1&lt;/script&gt;"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, ref := range []string{"http://", "https://", "src=\"", "@import"} {
		if strings.Contains(text, ref) {
			t.Errorf("the report is not self-contained: it holds %q", ref)
		}
	}
}

// TestReportInChromium loads the hostile report in headless Chromium: no
// recorded byte runs, the report's own script does, the overview shows the
// endpoints, and a screenshot of it has real content.
func TestReportInChromium(t *testing.T) {
	path, _ := hostileReport(t)
	ctx := browsertest.Chromium(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitVisible(chromedp.CSS("#overview")),
	); err != nil {
		t.Fatalf("loading the report: %v", err)
	}
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__pwned)`))
	if err != nil || pwned != "undefined" {
		t.Fatalf("a recorded script ran: window.__pwned = %q (%v)", pwned, err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.getAttribute("data-report-script") || ""`))
	if err != nil || marker != "ran" {
		t.Fatalf("the report's own script did not run under its CSP: marker %q (%v)", marker, err)
	}
	overview, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#overview-section")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"get-user", evilEndpoint, "match rate >= 0.99 (min 1 pairs): failed", "0.0000"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview does not show %q:\n%s", want, overview)
		}
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{hostile[0], hostile[1], "javascript:window.__pwned=7", "broken \uFFFD utf-8", "[REDACTED]", `endpoints: "get-user": shape: {"$.requestId": "uuid"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page does not display %q as text", want)
		}
	}
	for _, secret := range []string{secretToken, secretCookie, secretPass} {
		if strings.Contains(body, secret) {
			t.Errorf("the page shows the secret %q", secret)
		}
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("a[href]")).filter(a => !a.getAttribute("href").startsWith("#")).length`))
	if err != nil || links != 0 {
		t.Errorf("%d links leave the page (%v)", links, err)
	}
	// The report's filter works: only failing endpoints.
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const c = document.getElementById("only-failed"); c.checked = true; c.dispatchEvent(new Event("change")); return document.querySelectorAll("#overview tbody tr[hidden]").length })()`))
	if err != nil || hidden != 1 {
		t.Errorf("the only-failing filter hid %d rows, want 1 (%v)", hidden, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const c = document.getElementById("only-failed"); c.checked = false; c.dispatchEvent(new Event("change")); return 0 })()`)); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#overview-section")))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	checkScreenshot(t, shot, "report-overview.png")
	if pwned, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__pwned)`)); pwned != "undefined" {
		t.Fatalf("a recorded script ran after interaction: %q", pwned)
	}
}

// checkScreenshot decodes the PNG, requires a real size and more than a
// handful of colours (text and bars, not a blank page), and saves it.
func checkScreenshot(t *testing.T, shot []byte, name string) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	b := img.Bounds()
	colours := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if b.Dx() < 400 || b.Dy() < 100 || len(shot) < 10_000 || len(colours) < 20 {
		t.Errorf("screenshot %dx%d, %d bytes, %d colours: looks empty", b.Dx(), b.Dy(), len(shot), len(colours))
	}
	dir := os.Getenv("SHADOWTEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %dx%d (%d bytes, %d colours): %s", b.Dx(), b.Dy(), len(shot), len(colours), out)
}
