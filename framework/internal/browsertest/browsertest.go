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
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	if _, err := os.Stat(exe); err != nil {
		found, lookErr := exec.LookPath("chromium")
		switch {
		case lookErr == nil:
			exe = found
		case installChromium(t) == nil:
		default:
			t.Fatalf("headless Chromium is required for this test and was not found at %s or on PATH, and could not be installed (install it: apt-get install -y chromium; or set %s=1 to skip on purpose)", Path, SkipEnv)
		}
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

// installChromium installs Debian's chromium package when the tests run as
// root on a machine with apt-get. Test binaries of several packages may get
// here at once: flock serialises them, and a second one finds the browser
// installed.
func installChromium(t *testing.T) error {
	t.Helper()
	if os.Getuid() != 0 {
		return errors.New("not root")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return err
	}
	if _, err := exec.LookPath("flock"); err != nil {
		return err
	}
	t.Logf("installing Debian's chromium for the browser tests (apt-get install -y chromium)")
	script := "[ -x " + Path + " ] || { apt-get update -q && apt-get install -y -q chromium; }"
	cmd := exec.Command("flock", filepath.Join(os.TempDir(), "shadowtest-apt.lock"), "sh", "-c", script)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("apt-get: %v\n%s", err, out)
		return err
	}
	_, err = os.Stat(Path)
	return err
}
