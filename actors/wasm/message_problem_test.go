package wasm

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/problem"
)

// TestAsProblem checks which component replies become problems, and that a
// converted problem renders through the service's error handler exactly as
// the *echo.HTTPError that asProblem used to build did: same status, header
// fields and body, request ID included.
func TestAsProblem(t *testing.T) {
	ct := http.Header{"Content-Type": {"application/problem+json"}}
	tests := []struct {
		name     string
		resp     *actors.HTTPResponse
		converts bool
	}{
		{"problem with detail", &actors.HTTPResponse{Status: 404, Header: ct, Body: []byte(`{"title":"Not Found","detail":"no note 9"}`)}, true},
		{"problem with title only", &actors.HTTPResponse{Status: 409, Header: ct, Body: []byte(`{"title":"Taken"}`)}, true},
		{"empty problem", &actors.HTTPResponse{Status: 422, Header: ct, Body: []byte(`{}`)}, true},
		{"unnamed 4xx status", &actors.HTTPResponse{Status: 499, Header: ct, Body: []byte(`{"detail":"Error"}`)}, true},
		{"server error", &actors.HTTPResponse{Status: 503, Header: ct, Body: []byte(`{"detail":"db down at 10.0.0.7"}`)}, true},
		{"status past 599", &actors.HTTPResponse{Status: 777, Header: ct, Body: []byte(`{"detail":"odd"}`)}, true},
		{"success is not a problem", &actors.HTTPResponse{Status: 200, Header: ct, Body: []byte(`{}`)}, false},
		{"plain JSON error", &actors.HTTPResponse{Status: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)}, false},
		{"extra headers kept", &actors.HTTPResponse{Status: 429, Header: http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"3"}}, Body: []byte(`{}`)}, false},
		{"malformed problem", &actors.HTTPResponse{Status: 500, Header: ct, Body: []byte(`{`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := asProblem(tt.resp)
			if !tt.converts {
				if got != any(tt.resp) {
					t.Fatalf("asProblem = %v, want the response unchanged", got)
				}
				return
			}
			var pe *problem.Error
			if err, ok := got.(error); !ok || !errors.As(err, &pe) {
				t.Fatalf("asProblem = %#v, want a *problem.Error", got)
			}
			if now, before := render(t, pe), render(t, legacyHTTPError(tt.resp)); now != before {
				t.Errorf("renders as\n%s\nwant, as before,\n%s", now, before)
			}
		})
	}
}

// legacyHTTPError is what asProblem returned before problem was public.
func legacyHTTPError(resp *actors.HTTPResponse) error {
	var p struct{ Title, Detail string }
	_ = json.Unmarshal(resp.Body, &p)
	return echo.NewHTTPError(resp.Status, cmp.Or(p.Detail, p.Title, http.StatusText(resp.Status)))
}

// render returns the status, header fields and body the service's error
// handler writes for err, for a request with an ID.
func render(t *testing.T, err error) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/notes/9", nil)
	req = req.WithContext(reqinfo.NewContext(req.Context(), &reqinfo.Info{ID: "req-1"}))
	rec := httptest.NewRecorder()
	middleware.ErrorHandler(slog.New(slog.DiscardHandler))(err, echo.New().NewContext(req, rec))
	body, _ := io.ReadAll(rec.Body)
	return fmt.Sprint(rec.Code, " ", rec.Header(), " ", string(body))
}
