package service

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMainProbe checks -probe's exit codes against a real listener, without
// loading any config: a HEALTHCHECK must not fail on the config it probes.
func TestMainProbe(t *testing.T) {
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/livez", http.StatusFound)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/livez"
	ln.Close()
	// A loader whose environment is broken proves no config is read.
	broken := WithConfigLoader(testLoader(t, map[string]string{"NOPE": "1"}))

	for _, tc := range []struct {
		name   string
		url    string
		status int
		code   int
		stderr string
	}{
		{"healthy", srv.URL + "/livez", http.StatusOK, 0, ""},
		{"not ready", srv.URL + "/readyz", http.StatusServiceUnavailable, 1, "503 Service Unavailable"},
		{"redirect is not health", srv.URL + "/moved", http.StatusOK, 1, "302"},
		{"nothing listening", closed, http.StatusOK, 1, "connection refused"},
		{"not a URL", "127.0.0.1:9090/livez", http.StatusOK, 2, "not an http or https URL"},
		{"other scheme", "ftp://127.0.0.1/livez", http.StatusOK, 2, "not an http or https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status.Store(int32(tc.status))
			var stdout, stderr bytes.Buffer
			code := mainWith(context.Background(), "test", []string{"-probe", tc.url}, &stdout, &stderr, broken)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}
