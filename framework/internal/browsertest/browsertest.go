// Package browsertest starts the headless Chromium that shadowtest's own
// tests load reports in (the HTML report, JUnit rendered by a real viewer).
//
// A missing browser is installed from Debian's packages when the tests run
// as root with apt-get (a fresh machine, CI), so that `go test ./...` needs
// nothing installed by hand; otherwise the test fails loudly, saying how to
// install it. Only SHADOWTEST_SKIP_BROWSER=1, set on purpose, turns the
// browser tests into skips. The browser runs with networking that goes
// nowhere: the pages under test are local files.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shadowtest/shadowtest/fixtures/testenv"
)

// SkipEnv is the environment variable that, set to 1, skips browser tests.
const SkipEnv = "SHADOWTEST_SKIP_BROWSER"

// Path is where Debian's chromium package installs the browser.
const Path = "/usr/bin/chromium"

// Timeout bounds one browser test; generous for a busy 2-core machine.
const Timeout = 3 * time.Minute

// Chromium returns a browser tab's context, closed when the test ends. It
// fails the test when no browser is installed, unless SkipEnv=1.
func Chromium(t *testing.T) context.Context {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: browser test skipped on request", SkipEnv)
	}
	exe := Path
	if found, err := exec.LookPath("chromium"); err == nil {
		exe = found
	} else {
		testenv.Require(t, Path, "chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	return tab
}
