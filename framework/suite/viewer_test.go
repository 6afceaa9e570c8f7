package suite

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shadowtest/shadowtest/framework"
	"github.com/shadowtest/shadowtest/framework/internal/browsertest"
	"github.com/shadowtest/shadowtest/framework/observe"
	"github.com/shadowtest/shadowtest/framework/redact"
)

// viewerDir holds the pinned JUnit viewer (package.json and
// package-lock.json); its node_modules are installed with npm ci.
func viewerDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "junit-viewer")
}

// xunitViewer renders a JUnit file with xunit-viewer, an established JUnit
// viewer from the npm registry, installing it from the lock file first if
// needed. Missing node or npm fail the test unless SHADOWTEST_SKIP_BROWSER=1.
func xunitViewer(t *testing.T, junit, out string) {
	t.Helper()
	if os.Getenv(browsertest.SkipEnv) == "1" {
		t.Skipf("%s=1: browser test skipped on request", browsertest.SkipEnv)
	}
	dir := viewerDir(t)
	bin := filepath.Join(dir, "node_modules", ".bin", "xunit-viewer")
	if _, err := os.Stat(bin); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("npm is required to install xunit-viewer (apt-get install -y nodejs npm; or set %s=1 to skip on purpose)", browsertest.SkipEnv)
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if outp, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, outp)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required to run xunit-viewer (apt-get install -y nodejs; or set %s=1 to skip on purpose)", browsertest.SkipEnv)
	}
	cmd := exec.Command(node, filepath.Join(dir, "node_modules", "xunit-viewer", "bin", "xunit-viewer.js"), "-r", junit, "-o", out, "-t", "shadowtest")
	if outp, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xunit-viewer: %v\n%s", err, outp)
	}
}

// TestJUnitRendersInXunitViewer checks the JUnit with a real consumer:
// xunit-viewer renders it, headless Chromium loads the page, and the
// endpoint names and the failure text must appear (and no secret).
func TestJUnitRendersInXunitViewer(t *testing.T) {
	dir := t.TempDir()
	p := plan()
	results := observe.NewResults(p.Endpoints)
	results.Redact = redact.Default().Value
	outcome := mustRun(t, Config{
		Plan:    p,
		Results: results,
		Replay: func(context.Context) error {
			for i := range 10 {
				results.Add(pair("get-user", i), nil)
				var diffs []framework.Diff
				if i%4 == 0 {
					diffs = []framework.Diff{
						{Path: "$.items[3].quantity", Kind: framework.KindValue, Prod: "2", Shadow: "0"},
						{Path: "header:Set-Cookie", Kind: framework.KindHeader, Prod: "sid=SECRET-COOKIE", Shadow: "sid=OTHER"},
						{Path: "$.note", Kind: framework.KindValue, Prod: `"]]><script>window.__pwned=1</script>\x00\xff"`, Shadow: `"<img src=x onerror=window.__pwned=2>"`},
					}
				}
				results.Add(pair("get-order", i), diffs)
			}
			return nil
		},
		NoColor: true,
	})
	if outcome.Passed {
		t.Fatal("the suite passed; get-order must fail")
	}
	junit := filepath.Join(dir, "junit.xml")
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, outcome.Report, p, results); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junit, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET-COOKIE") {
		t.Fatal("the JUnit holds a Set-Cookie value")
	}
	page := filepath.Join(dir, "junit.html")
	xunitViewer(t, junit, page)

	ctx := browsertest.Chromium(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 12000), chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS("body"))); err != nil {
		t.Fatalf("loading the rendered JUnit: %v", err)
	}
	// The viewer is a React app that renders after load and only what is
	// in the viewport (hence the tall one): wait until its
	// text has stopped changing.
	var text string
	stable := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && stable < 5; {
		time.Sleep(300 * time.Millisecond)
		now, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		if now == text && strings.Contains(now, "shadowtest.") {
			stable++
		} else {
			stable = 0
		}
		text = now
	}
	for _, want := range []string{
		"shadowtest.get-user", "shadowtest.get-order", "shadowtest.health",
		"get-user: match rate >= 0.9 (min 5 pairs)",
		"get-order: match rate >= 0.99 (min 5 pairs)",
		"get-order: match rate 0.700 < 0.990 over 10 pairs (3 differ)",
		"value $.items[*].quantity: 3 pairs, e.g. $.items[3].quantity: prod 2, shadow 0",
		"health: insufficient traffic: 0 pairs compared, minSamples is 5",
		"threshold declared at specs/orders.cue:12",
		"matchRate",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("xunit-viewer does not show %q", want)
		}
	}
	if pwned, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__pwned)`)); err != nil || pwned != "undefined" {
		t.Errorf("a recorded script ran in the viewer: window.__pwned = %q (%v)", pwned, err)
	}
	if !strings.Contains(text, "<script>window.__pwned=1</script>") {
		t.Error("the hostile value is not displayed as text")
	}
	if strings.Contains(text, "SECRET-COOKIE") {
		t.Error("the rendered JUnit shows a Set-Cookie value")
	}
	if t.Failed() {
		t.Logf("rendered text:\n%s", text)
	}
}
