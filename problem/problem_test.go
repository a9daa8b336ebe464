package problem_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

func TestWriteFillsStandardMembers(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/api/v2/notes/9?x=1", nil)
	r = r.WithContext(reqinfo.NewContext(context.Background(), &reqinfo.Info{ID: "req-1"}))
	w := httptest.NewRecorder()
	w.Header().Set("Content-Encoding", "gzip") // set by an inner layer; the problem is not encoded
	w.Header().Set("X-Request-ID", "req-1")

	problem.Write(w, r, problem.New(http.StatusNotFound, "note 9 does not exist"))

	if w.Code != http.StatusNotFound {
		t.Fatalf("status %d", w.Code)
	}
	h := w.Header()
	if h.Get("Content-Type") != problem.ContentType || h.Get("Content-Encoding") != "" || h.Get("X-Request-ID") != "req-1" {
		t.Errorf("headers %v", h)
	}
	if h.Get("Content-Length") != itoa(w.Body.Len()) {
		t.Errorf("Content-Length %q for a %d-byte body", h.Get("Content-Length"), w.Body.Len())
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"type": "about:blank", "title": "Not Found", "status": float64(404),
		"detail": "note 9 does not exist", "instance": "/api/v2/notes/9", "request_id": "req-1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestWriteHeadHasNoBodyAndUnknownStatusHasTitle(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest(http.MethodHead, "/", nil), problem.New(599, ""))
	if w.Code != 599 || w.Body.Len() != 0 {
		t.Fatalf("HEAD = %d with %d body bytes", w.Code, w.Body.Len())
	}
	if problem.Title(599) != "Error" || problem.Title(429) != "Too Many Requests" {
		t.Error("titles")
	}
}

func TestErrorRendersHeadersAndKeepsCause(t *testing.T) {
	cause := errors.New("bucket empty")
	e := problem.NewError(http.StatusTooManyRequests, "slow down").WithHeader("Retry-After", "3")
	e.Err = cause
	if !errors.Is(e, cause) || !strings.Contains(e.Error(), "bucket empty") || !strings.Contains(e.Error(), "429") {
		t.Fatalf("Error() = %q", e.Error())
	}
	w := httptest.NewRecorder()
	e.Render(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != 429 || w.Header().Get("Retry-After") != "3" || strings.Contains(w.Body.String(), "bucket") {
		t.Fatalf("rendered %d %v %s", w.Code, w.Header(), w.Body)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
