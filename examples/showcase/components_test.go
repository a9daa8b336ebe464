package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/troupehq/troupe/actors/wasm/wasmtest"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/service/servicetest"
)

// componentCache is where the tests' summarizer is built and compiled,
// once, by TestMain.
var componentCache string

// TestMain builds and compiles the summarizer outside the race detector
// (see package wasmtest), so every test that starts the showcase loads it
// in well under a second.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "showcase-components-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	componentCache = dir
	if err := wasmtest.Warm(dir, "components/summarizer"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testOptions is options() with the tests' component cache.
func testOptions() []service.Option {
	return append(options(), service.WithConfigDefaults(func(c *config.Config) {
		c.Actors.Components.CacheDir = componentCache
	}))
}

// TestShowcaseSummary reads note summaries from the summarizer WASM
// component, which asks the native notes actor for the note.
func TestShowcaseSummary(t *testing.T) {
	svc := servicetest.Start(t, "showcase", nil, testOptions()...)

	resp, body := svc.Do(t, http.MethodGet, "/api/v2/notes/3/summary", "", nil)
	var s struct {
		ID             int    `json:"id"`
		Title          string `json:"title"`
		Summary        string `json:"summary"`
		Words          int    `json:"words"`
		ReadingSeconds int    `json:"reading_seconds"`
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET summary = %d %s (%v)", resp.StatusCode, body, err)
	}
	if s.ID != 3 || s.Title != "Note 3" || s.Summary != "This is seeded note number 3." || s.Words != 6 || s.ReadingSeconds != 2 {
		t.Errorf("summary = %+v", s)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}

	resp, body = svc.Do(t, http.MethodGet, "/api/v2/notes/999/summary", "", nil)
	assertProblem(t, resp, body, http.StatusNotFound, "note 999 does not exist")
	resp, body = svc.Do(t, http.MethodGet, "/api/v2/notes/abc/summary", "", nil)
	assertProblem(t, resp, body, http.StatusBadRequest, "the note id must be a positive integer")

	// A note created through the native API is summarised at once.
	resp, _ = svc.Do(t, http.MethodPost, "/api/v2/notes", `{"title":"Plan","body":"Ship the WASM runtime! Then rest."}`,
		http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	resp, body = svc.Do(t, http.MethodGet, "/api/v2/notes/201/summary", "", nil)
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil || s.Summary != "Ship the WASM runtime!" {
		t.Errorf("summary of a new note = %d %s", resp.StatusCode, body)
	}
}
