package main

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/troupehq/troupe/internal/browsertest"
	"github.com/troupehq/troupe/service/servicetest"
)

// TestShowcaseLivePage opens /live in headless Chromium, signed in with
// the token cookie, and sees a note created over HTTP appear in the live
// feed, and a chat message come back from the room with its sender.
func TestShowcaseLivePage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx := browsertest.New(t, 2*time.Minute)
	svc := servicetest.Start(t, "showcase", map[string]string{"AUTH__JWT__HMAC_SECRET": secret}, testOptions()...)
	ada := bearer(t, "ada")
	token := strings.TrimPrefix(ada.Get("Authorization"), "Bearer ")
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "showcase_token", Value: token, URL: svc.URL}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(svc.URL+"/live")); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, `document.getElementById("feed-status").textContent === "live" && document.getElementById("chat-status").textContent === "live"`)

	resp, body := svc.Do(t, http.MethodPost, "/api/v2/notes", `{"title":"Seen live from Chromium","body":"x"}`, ada)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v2/notes = %d %s", resp.StatusCode, body)
	}
	waitPage(t, ctx, `document.getElementById("feed").textContent.includes("Seen live from Chromium")`)

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#chat-text"), "hello from the browser"),
		chromedp.Click(chromedp.CSS("#chat-form button")),
	); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, `(function () {
		var li = document.querySelector("#chat li");
		return li !== null && li.textContent.includes("ada") && li.textContent.includes("hello from the browser");
	})()`)
}

// TestShowcaseLiveSSE: the feed's route serves Server-Sent Events to a
// client that asks for them, and a connection without a token is refused
// before any upgrade.
func TestShowcaseLiveSSE(t *testing.T) {
	svc := servicetest.Start(t, "showcase", map[string]string{"AUTH__JWT__HMAC_SECRET": secret}, testOptions()...)
	ada := bearer(t, "ada")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, svc.URL+"/api/v2/notes/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", resp.StatusCode)
	}
	req.Header.Set("Authorization", ada.Get("Authorization"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	readLine(t, r, `"type":"joined"`)
	if resp, body := svc.Do(t, http.MethodPost, "/api/v2/notes", `{"title":"Over SSE"}`, ada); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d %s", resp.StatusCode, body)
	}
	line := readLine(t, r, `"event":"created"`)
	if !strings.Contains(line, `"title":"Over SSE"`) || !strings.Contains(line, `"room":"notes"`) {
		t.Errorf("event %s", line)
	}
	resp2, _ := svc.Do(t, http.MethodDelete, "/api/v2/notes/201", "", ada)
	if resp2.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d", resp2.StatusCode)
	}
	readLine(t, r, `"event":"deleted"`)
}

// readLine reads lines until one contains want.
func readLine(t *testing.T, r *bufio.Reader, want string) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %s: %v", want, err)
		}
		if strings.Contains(line, want) {
			return line
		}
	}
}

// waitPage polls a JavaScript condition in the page for up to 30 s.
func waitPage(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	browsertest.Wait(t, ctx, cond, 30*time.Second, func() string {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
		return "page:\n" + html
	})
}
