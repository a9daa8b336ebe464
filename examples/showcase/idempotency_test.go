package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/troupehq/troupe/service/servicetest"
)

// TestShowcaseIdempotentCreate: a create retried with the same
// Idempotency-Key gets the first answer again and makes no second note;
// the key with another body is a 422, a malformed key a 400.
func TestShowcaseIdempotentCreate(t *testing.T) {
	svc := servicetest.Start(t, "showcase", map[string]string{"APP__SEED_NOTES": "0"}, testOptions()...)
	post := func(key, body string) (*http.Response, string) {
		h := http.Header{"Content-Type": {"application/json"}}
		if key != "" {
			h.Set("Idempotency-Key", key)
		}
		return svc.Do(t, http.MethodPost, "/api/v2/notes", body, h)
	}

	first, firstBody := post("k-1", `{"title":"once"}`)
	if first.StatusCode != http.StatusCreated || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first POST = %d %v %s", first.StatusCode, first.Header, firstBody)
	}
	for range 2 {
		again, body := post("k-1", `{"title":"once"}`)
		if again.StatusCode != http.StatusCreated || again.Header.Get("Location") != first.Header.Get("Location") ||
			again.Header.Get("Idempotent-Replayed") != "true" || body != firstBody {
			t.Fatalf("retry = %d %v %s, want the first answer replayed", again.StatusCode, again.Header, body)
		}
	}
	resp, body := post("k-1", `{"title":"another"}`)
	assertProblem(t, resp, body, http.StatusUnprocessableEntity, "this Idempotency-Key was used with a different request body")
	for _, key := range []string{strings.Repeat("k", 256), "with space", "é"} {
		resp, body := post(key, `{"title":"x"}`)
		assertProblem(t, resp, body, http.StatusBadRequest, "Idempotency-Key must be 1 to 255 visible ASCII characters")
	}
	// A new key, or none, is a new note.
	if resp, _ := post("k-2", `{"title":"once"}`); resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") == first.Header.Get("Location") {
		t.Fatalf("another key = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := post("", `{"title":"once"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("no key = %d", resp.StatusCode)
	}

	_, list := svc.Do(t, http.MethodGet, "/api/v2/notes", "", nil)
	if !strings.Contains(list, `"count":3`) {
		t.Errorf("notes after one replayed create and two others: %s, want 3", list)
	}
	if _, stats := svc.Do(t, http.MethodGet, "/api/v2/stats", "", nil); strings.TrimSpace(stats) != `{"created":3,"deleted":0}` {
		t.Errorf("stats = %s: a replay is no creation", stats)
	}
}
