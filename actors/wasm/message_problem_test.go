package wasm

import (
	"errors"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/actors"
)

func TestAsProblem(t *testing.T) {
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	tests := []struct {
		name       string
		resp       *actors.HTTPResponse
		wantStatus int // 0: passed through unchanged
		wantMsg    string
	}{
		{"problem with detail", &actors.HTTPResponse{Status: 404, Header: problem, Body: []byte(`{"title":"Not Found","detail":"no note 9"}`)}, 404, "no note 9"},
		{"problem with title only", &actors.HTTPResponse{Status: 409, Header: problem, Body: []byte(`{"title":"Taken"}`)}, 409, "Taken"},
		{"empty problem", &actors.HTTPResponse{Status: 422, Header: problem, Body: []byte(`{}`)}, 422, "Unprocessable Entity"},
		{"success is not a problem", &actors.HTTPResponse{Status: 200, Header: problem, Body: []byte(`{}`)}, 0, ""},
		{"plain JSON error", &actors.HTTPResponse{Status: 400, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)}, 0, ""},
		{"extra headers kept", &actors.HTTPResponse{Status: 429, Header: http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"3"}}, Body: []byte(`{}`)}, 0, ""},
		{"malformed problem", &actors.HTTPResponse{Status: 500, Header: problem, Body: []byte(`{`)}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := asProblem(tt.resp)
			if tt.wantStatus == 0 {
				if got != any(tt.resp) {
					t.Fatalf("asProblem = %v, want the response unchanged", got)
				}
				return
			}
			var he *echo.HTTPError
			if err, ok := got.(error); !ok || !errors.As(err, &he) || he.Code != tt.wantStatus || he.Message != tt.wantMsg {
				t.Fatalf("asProblem = %#v, want HTTPError %d %q", got, tt.wantStatus, tt.wantMsg)
			}
		})
	}
}
