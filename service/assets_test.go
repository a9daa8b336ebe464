package service

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/troupehq/troupe/realtime"
)

// TestAssets: WithAssets serves a file system under a prefix through the
// chain — request ID, compression, rate limit — publicly even with
// authentication on, with an ETag that turns a repeat into a 304.
func TestAssets(t *testing.T) {
	page := "<!doctype html><title>live</title>" + strings.Repeat("<p>filler</p>", 200)
	fsys := fstest.MapFS{
		"index.html":        {Data: []byte(page)},
		"js/app.js":         {Data: []byte("console.log('hi');")},
		"docs/a/index.html": {Data: []byte("<p>a</p>")},
	}
	r := start(t, authEnv(map[string]string{"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_IP_RPM": "8"}),
		WithAssets("/live", fsys), WithAssets("/assets/realtime", realtime.ClientFS))

	resp, body := get(t, r.base()+"/live")
	if resp.StatusCode != 200 || string(body) != page || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /live: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("headers %v", resp.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, r.base()+"/live/", nil)
	req.Header.Set("If-None-Match", etag)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %v %v", resp, err)
	}
	if resp, body := get(t, r.base()+"/live/docs/a/"); resp.StatusCode != 200 || string(body) != "<p>a</p>" {
		t.Errorf("directory index: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, r.base()+"/assets/realtime/troupe-realtime.js"); resp.StatusCode != 200 ||
		!strings.Contains(string(body), "TroupeRealtime") || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Errorf("the realtime client: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	req, _ = http.NewRequest(http.MethodGet, r.base()+"/live", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("compression: %v %v", resp.Header, err)
	}
	zr, _ := gzip.NewReader(resp.Body)
	if got, _ := io.ReadAll(zr); string(got) != page {
		t.Error("compressed page differs")
	}
	resp.Body.Close()
	if resp, _ := get(t, r.base()+"/live/nope.js"); resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("missing file: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The same rate limit as any request: 8 a minute from this IP.
	var last int
	for range 8 {
		resp, _ := get(t, r.base()+"/live/js/app.js")
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("past the per-IP rate limit: %d", last)
	}
}

func TestAssetsErrors(t *testing.T) {
	for _, c := range []struct {
		prefix, want string
	}{
		{"live", "must be an absolute path"},
		{"/live/", "must be an absolute path"},
		{"/live/:x", "must be an absolute path"},
	} {
		_, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(&syncBuffer{}), WithAssets(c.prefix, fstest.MapFS{}))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v", c.prefix, err)
		}
	}
	_, err := New("test", WithConfigLoader(testLoader(t, nil)), WithLogOutput(&syncBuffer{}),
		WithAssets("/a", fstest.MapFS{}), WithAssets("/a", fstest.MapFS{}))
	if err == nil || !strings.Contains(err.Error(), "mounted twice") {
		t.Errorf("twice: %v", err)
	}
}
