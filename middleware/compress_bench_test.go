package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// countingWriter is a ResponseWriter that discards the body but counts it,
// so the benchmark measures the middleware rather than a recorder.
type countingWriter struct {
	header http.Header
	n      int
}

func (w *countingWriter) Header() http.Header         { return w.header }
func (w *countingWriter) WriteHeader(int)             {}
func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *countingWriter) Flush()                      {}

// BenchmarkCompress serves an 8 KiB JSON body through Echo with each coding.
// "bare" has no compression middleware and "identity" has it but the client
// accepts no coding: the baselines for the middleware's own overhead. The
// out/in metric is the compressed size relative to the body.
func BenchmarkCompress(b *testing.B) {
	body := jsonBody(8 << 10)
	handler := blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	for _, coding := range []string{"bare", "identity", "zstd", "br", "gzip", "deflate"} {
		b.Run(coding, func(b *testing.B) {
			e := echo.New()
			if coding != "bare" {
				m, err := CompressWithConfig(DefaultCompressConfig)
				if err != nil {
					b.Fatal(err)
				}
				e.Use(m)
			}
			e.GET("/", handler)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Accept-Encoding", coding)
			w := &countingWriter{header: make(http.Header)}

			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				w.n = 0
				e.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(w.n)/float64(len(body)), "out/in")
		})
	}
}
