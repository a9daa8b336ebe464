package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/troupehq/troupe/service/servicetest"
)

func TestQuickstartServesHello(t *testing.T) {
	svc := servicetest.Start(t, "quickstart", nil, options()...)

	resp, body := svc.Do(t, http.MethodGet, "/api/v1/hello?name=Ada", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"message":"hello, Ada"}` {
		t.Fatalf("GET /api/v1/hello = %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Error("no request ID on the response")
	}
	resp, _ = svc.Do(t, http.MethodGet, "/readyz", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d", resp.StatusCode)
	}
	if err := svc.Stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
