// Package browsertest starts a headless Chromium for tests that drive a
// page, through the DevTools protocol (chromedp). Debian's package is
// "chromium"; CI installs it. Without a browser a test is skipped, or fails
// when CI is set, as the Redis tests do.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// names are the executables tried, in order.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// New starts a headless browser with a fresh profile and returns a context
// for chromedp actions, bounded by timeout; the browser is stopped when the
// test ends.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	path := ""
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium found (apt-get install chromium)")
		}
		t.Skip("no Chromium found; install the chromium package to run this test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000), // room for a console table in a screenshot
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first call starts the browser, which lives as long as that call's
	// context: it must not be the one with the timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// Wait polls the JavaScript condition cond in the page until it is true,
// failing the test after within (a hang bound, not a timing assertion)
// with what state(), if not nil, says of the page.
func Wait(t testing.TB, ctx context.Context, cond string, within time.Duration, state func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var page string
			if state != nil {
				page = state()
			}
			t.Fatalf("not within %s: %s\n%s", within, cond, page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
