package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/troupehq/troupe/internal/browsertest"
	"github.com/troupehq/troupe/service/servicetest"
)

// notesMessages reads the notes actor's "messages" cell in the actors
// table; "" until the table shows it.
const notesMessages = `(() => {
	const row = Array.from(document.querySelectorAll('#actors tr[data-actor]'))
		.find(r => r.cells[0].textContent.trim().startsWith('notes#'));
	return row ? row.querySelector('[data-f="messages"]').textContent : "";
})()`

// TestShowcaseConsoleInBrowser starts the showcase and drives its console
// in headless Chromium: the actors table appears, requests to the notes
// API move its counters live, a deliberate request cycle shows while it
// waits, and a screenshot is saved.
func TestShowcaseConsoleInBrowser(t *testing.T) {
	browser := browsertest.New(t, 60*time.Second)
	svc := servicetest.Start(t, "showcase", map[string]string{
		"APP__DEMO_ROUTES": "true",
		// Every message traced, so a handful of requests is sure to show.
		"INSPECT__SAMPLING_RATE": "1",
	}, testOptions()...)

	start := time.Now()

	// The actors table appears, with the notes actor in it.
	if err := chromedp.Do(browser, chromedp.Navigate(svc.AdminURL+"/console/actors"),
		chromedp.WaitVisible("#actors tr[data-actor]")); err != nil {
		t.Fatalf("the actors table: %v", err)
	}
	before, err := chromedp.Run(browser, chromedp.Poll[string](notesMessages, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("the notes row: %v", err)
	}
	// Requests to the notes API move its counter, pushed over SSE.
	for range 5 {
		if resp, body := svc.Do(t, http.MethodGet, "/api/v2/notes/1", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/v2/notes/1 = %d %s", resp.StatusCode, body)
		}
	}
	if _, err := chromedp.Run(browser, chromedp.Poll[bool](notesMessages+` !== `+quote(before)+` && `+notesMessages+` !== ""`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the notes counter did not move from %q: %v", before, err)
	}

	// A deliberate cycle shows on the overview while it waits.
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(svc.URL + "/api/v2/demo/cycle")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if err := chromedp.Do(browser, chromedp.Navigate(svc.AdminURL+"/console")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(browser, chromedp.Poll[bool](
		`Array.from(document.querySelectorAll('#cycles-now td.cycle')).some(td => td.textContent.includes('demo-a#'))`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the cycle did not show on the console: %v", err)
	}
	png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "console.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the console catching the cycle: %s (browser steps took %v)", shot, time.Since(start).Round(time.Millisecond))
	if status := <-done; status != http.StatusGatewayTimeout {
		t.Errorf("the demo cycle answered %d, want 504 at its deadline", status)
	}
}

// quote makes s a JavaScript string literal.
func quote(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		if r == '"' || r == '\\' {
			b = append(b, '\\')
		}
		b = append(b, string(r)...)
	}
	return string(append(b, '"'))
}
