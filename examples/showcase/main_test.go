package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/service/servicetest"
)

func TestShowcaseNotesV2(t *testing.T) {
	svc := servicetest.Start(t, "showcase", nil, testOptions()...)

	resp, body := svc.Do(t, http.MethodGet, "/api/v2/notes", "", nil)
	var list struct {
		Notes []note `json:"notes"`
		Count int    `json:"count"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v2/notes = %d %v", resp.StatusCode, err)
	}
	if list.Count != 200 || len(list.Notes) != 200 || list.Notes[0].ID != 1 {
		t.Fatalf("seeded list: count=%d len=%d", list.Count, len(list.Notes))
	}
	if resp.Header.Get("Deprecation") != "" {
		t.Error("v2 is marked deprecated")
	}

	resp, body = svc.Do(t, http.MethodGet, "/api/v2/notes/7", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"title":"Note 7"`) {
		t.Fatalf("GET note 7 = %d %s", resp.StatusCode, body)
	}

	resp, body = svc.Do(t, http.MethodPost, "/api/v2/notes", `{"title":"Groceries","body":"milk"}`, http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != "/api/v2/notes/201" {
		t.Fatalf("POST = %d Location=%q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = svc.Do(t, http.MethodGet, "/api/v2/notes/201", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Groceries") {
		t.Fatalf("GET created note = %d %s", resp.StatusCode, body)
	}

	resp, _ = svc.Do(t, http.MethodDelete, "/api/v2/notes/201", "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d", resp.StatusCode)
	}
	resp, body = svc.Do(t, http.MethodGet, "/api/v2/notes/201", "", nil)
	assertProblem(t, resp, body, http.StatusNotFound, "note 201 does not exist")
	resp, body = svc.Do(t, http.MethodDelete, "/api/v2/notes/201", "", nil)
	assertProblem(t, resp, body, http.StatusNotFound, "")
	resp, body = svc.Do(t, http.MethodGet, "/api/v2/notes/abc", "", nil)
	assertProblem(t, resp, body, http.StatusNotFound, "")
}

func TestShowcaseRejectsBadNotes(t *testing.T) {
	svc := servicetest.Start(t, "showcase", nil, testOptions()...)
	for name, body := range map[string]string{
		"malformed JSON": `{"title":`,
		"not an object":  `["x"]`,
		"missing title":  `{"body":"no title"}`,
		"blank title":    `{"title":"   "}`,
		"unknown field":  `{"title":"x","colour":"red"}`,
		"two objects":    `{"title":"a"}{"title":"b"}`,
		"empty body":     ``,
		"title too long": `{"title":"` + strings.Repeat("x", 201) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, got := svc.Do(t, http.MethodPost, "/api/v2/notes", body, http.Header{"Content-Type": {"application/json"}})
			assertProblem(t, resp, got, http.StatusBadRequest, "")
		})
	}
}

func TestShowcaseV1IsDeprecatedWithSuccessor(t *testing.T) {
	svc := servicetest.Start(t, "showcase", nil, testOptions()...)
	resp, body := svc.Do(t, http.MethodGet, "/api/v1/notes", "", nil)
	var notes []map[string]any
	if err := json.Unmarshal([]byte(body), &notes); err != nil || len(notes) != 200 {
		t.Fatalf("GET /api/v1/notes = %d, %d notes, %v", resp.StatusCode, len(notes), err)
	}
	if got := resp.Header.Get("Sunset"); got != "Tue, 01 Jun 2027 00:00:00 GMT" {
		t.Errorf("Sunset = %q", got)
	}
	if got := resp.Header.Get("Deprecation"); !strings.HasPrefix(got, "@") {
		t.Errorf("Deprecation = %q, want @<unix-seconds>", got)
	}
	if links := strings.Join(resp.Header.Values("Link"), ", "); !strings.Contains(links, `</api/v2>; rel="successor-version"`) {
		t.Errorf("Link = %q", links)
	}
	resp, body = svc.Do(t, http.MethodGet, "/api", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"deprecated"`) {
		t.Fatalf("GET /api = %d %s", resp.StatusCode, body)
	}
}

func TestShowcaseConfigFromEnvironment(t *testing.T) {
	svc := servicetest.Start(t, "showcase", map[string]string{
		"HTTP__BODY_LIMIT":    "1KiB",
		"CORS__ALLOW_ORIGINS": "https://app.example",
	}, testOptions()...)

	big := `{"title":"big","body":"` + strings.Repeat("x", 2048) + `"}`
	resp, body := svc.Do(t, http.MethodPost, "/api/v2/notes", big, http.Header{"Content-Type": {"application/json"}, "Origin": {"https://app.example"}})
	assertProblem(t, resp, body, http.StatusRequestEntityTooLarge, "")
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Error("413 response lost its CORS headers")
	}

	// The 200-note list is large enough to be compressed.
	req, _ := http.NewRequest(http.MethodGet, svc.URL+"/api/v2/notes", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	raw, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Body.Close()
	if raw.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", raw.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(raw.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(plain), `"count":200`) {
		t.Fatalf("decompressed list: %v", err)
	}
}

func assertProblem(t *testing.T, resp *http.Response, body string, status int, detail string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d (%s)", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p struct {
		Status    int    `json:"status"`
		Detail    string `json:"detail"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	if p.Status != status || p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-ID") {
		t.Errorf("problem %+v does not match status %d and X-Request-ID %q", p, status, resp.Header.Get("X-Request-ID"))
	}
	if detail != "" && p.Detail != detail {
		t.Errorf("detail %q, want %q", p.Detail, detail)
	}
}

func TestShowcaseSeedsAppSeedNotes(t *testing.T) {
	svc := servicetest.Start(t, "showcase", map[string]string{"APP__SEED_NOTES": "3"}, testOptions()...)
	resp, body := svc.Do(t, http.MethodGet, "/api/v2/notes", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"count":3`) {
		t.Fatalf("GET /api/v2/notes with app.seed_notes = 3: %d %s", resp.StatusCode, body)
	}
}

func TestShowcaseRejectsABadSeedCount(t *testing.T) {
	_, err := service.New("showcase", append(testOptions(), service.WithConfigLoader(config.Loader{
		Environ: []string{"SHOWCASE_APP__SEED_NOTES=-1"}, ConfigHome: t.TempDir(), ConfigDirs: []string{}, WorkDir: t.TempDir(),
	}))...)
	if err == nil || !strings.Contains(err.Error(), "app.seed_notes (from env SHOWCASE_APP__SEED_NOTES): must be between 0 and 100000") {
		t.Fatalf("New = %v", err)
	}
}
