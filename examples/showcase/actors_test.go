package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/troupehq/troupe/service/servicetest"
)

// TestShowcaseStatsCountNoteEvents checks the pub/sub path: the notes actor
// publishes on notes.events.* and the stats actor counts what it hears.
func TestShowcaseStatsCountNoteEvents(t *testing.T) {
	svc := servicetest.Start(t, "showcase", nil, testOptions()...)
	jsonBody := http.Header{"Content-Type": {"application/json"}}
	for _, title := range []string{"a", "b", "c"} {
		if resp, body := svc.Do(t, http.MethodPost, "/api/v2/notes", `{"title":"`+title+`"}`, jsonBody); resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST = %d %s", resp.StatusCode, body)
		}
	}
	if resp, _ := svc.Do(t, http.MethodDelete, "/api/v2/notes/1", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d", resp.StatusCode)
	}
	// A failed delete publishes nothing.
	svc.Do(t, http.MethodDelete, "/api/v2/notes/1", "", nil)

	// Each event entered the stats mailbox before the notes actor replied,
	// and so before this request: the count is exact, not eventual.
	resp, body := svc.Do(t, http.MethodGet, "/api/v2/stats", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"created":3,"deleted":1}` {
		t.Errorf("GET /api/v2/stats = %d %s, want created 3, deleted 1", resp.StatusCode, body)
	}
}
