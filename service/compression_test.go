package service

import (
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// TestCompressionMinSizeZeroCompressesEveryBody checks the key's "zero"
// end to end: compression.min_size = 0 compresses every non-empty body,
// with no translation between the key and middleware.CompressConfig.
func TestCompressionMinSizeZeroCompressesEveryBody(t *testing.T) {
	const body = `{"id":7}`
	api := versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.GET("/tiny", func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, []byte(body)) })
	})
	for _, tt := range []struct {
		minSize, wantCoding string
	}{
		{"0", "gzip"},
		{"1KiB", ""},
	} {
		t.Run("min_size="+tt.minSize, func(t *testing.T) {
			r := start(t, map[string]string{"COMPRESSION__MIN_SIZE": tt.minSize}, WithAPI(api))
			req, err := http.NewRequest(http.MethodGet, r.base()+"/api/v1/tiny", nil)
			if err != nil {
				t.Fatal(err)
			}
			// Set by hand, the transport leaves the body encoded.
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := resp.Header.Get("Content-Encoding"); got != tt.wantCoding {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.wantCoding)
			}
			var rd io.Reader = resp.Body
			if tt.wantCoding == "gzip" {
				if rd, err = gzip.NewReader(resp.Body); err != nil {
					t.Fatal(err)
				}
			}
			got, err := io.ReadAll(rd)
			if err != nil || string(got) != body {
				t.Fatalf("body = %q, %v; want %q", got, err, body)
			}
		})
	}
}
