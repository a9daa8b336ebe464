package middleware

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/troupehq/troupe/internal/fielderr"
)

// jsonBody returns a deterministic JSON array of about n bytes.
func jsonBody(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; b.Len() < n-80; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"customer %d","email":"c%d@example.com","active":%t}`, i, i, i, i%3 == 0)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// newTestServer builds an Echo instance whose only route runs h behind the
// compression middleware, and returns the compressor for pool checks.
func newTestServer(t testing.TB, cfg CompressConfig, h echo.HandlerFunc, outer ...echo.MiddlewareFunc) (*echo.Echo, *compressor) {
	t.Helper()
	c, err := newCompressor(cfg)
	if err != nil {
		t.Fatalf("newCompressor: %v", err)
	}
	e := echo.New()
	e.Logger.SetOutput(io.Discard) // recovered panics in these tests are expected
	e.Use(outer...)
	e.Use(c.middleware)
	e.Any("/", h)
	return e, c
}

func do(e *echo.Echo, method string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// assertPoolsDrained fails if any encoder was taken from a pool and not
// given back.
func assertPoolsDrained(t *testing.T, c *compressor) {
	t.Helper()
	for _, p := range c.pools {
		if n := p.live.Load(); n != 0 {
			t.Errorf("%s pool: %d encoders not returned", p.coding, n)
		}
	}
}

func decode(t *testing.T, coding string, body io.Reader) ([]byte, error) {
	t.Helper()
	var r io.Reader
	switch coding {
	case "zstd":
		d, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		r = d
	case "br":
		r = brotli.NewReader(body)
	case "gzip":
		gz, err := gzip.NewReader(body)
		if err != nil {
			return nil, err
		}
		r = gz
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, err
		}
		r = zr
	default:
		t.Fatalf("no decoder for %q", coding)
	}
	return io.ReadAll(r)
}

func blob(status int, contentType string, body []byte) echo.HandlerFunc {
	return func(c echo.Context) error { return c.Blob(status, contentType, body) }
}

func TestCompressRoundTrip(t *testing.T) {
	body := jsonBody(8 << 10)
	for _, coding := range []string{"zstd", "br", "gzip", "deflate"} {
		t.Run(coding, func(t *testing.T) {
			e, c := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
				c.Response().Header().Set("Content-Length", fmt.Sprint(len(body)))
				return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
			})
			rec := do(e, http.MethodGet, "Accept-Encoding", coding)

			if got := rec.Header().Get("Content-Encoding"); got != coding {
				t.Fatalf("Content-Encoding = %q, want %q", got, coding)
			}
			if got := rec.Header().Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding" {
				t.Errorf("Vary = %q, want [Accept-Encoding]", got)
			}
			if got := rec.Header().Get("Content-Length"); got != "" {
				t.Errorf("Content-Length = %q, want none on an encoded body", got)
			}
			if rec.Body.Len() >= len(body) {
				t.Errorf("encoded size %d is not below the original %d", rec.Body.Len(), len(body))
			}
			got, err := decode(t, coding, rec.Body)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("decoded body differs from the original (%d vs %d bytes)", len(got), len(body))
			}
			assertPoolsDrained(t, c)
		})
	}
}

func TestCompressChoosesPerAcceptEncoding(t *testing.T) {
	body := jsonBody(4 << 10)
	tests := []struct {
		name   string
		header []string
		want   string
	}{
		{"absent header", nil, ""},
		{"server preference", []string{"Accept-Encoding", "gzip, deflate, br, zstd"}, "zstd"},
		{"x-gzip", []string{"Accept-Encoding", "x-gzip"}, "gzip"},
		{"repeated header fields form one list", []string{"Accept-Encoding", "gzip;q=0.5", "Accept-Encoding", "br"}, "br"},
		{"nothing acceptable still sends the body", []string{"Accept-Encoding", "*;q=0"}, ""},
		{"unsupported coding", []string{"Accept-Encoding", "compress"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestServer(t, DefaultCompressConfig, blob(http.StatusOK, echo.MIMEApplicationJSON, body))
			rec := do(e, http.MethodGet, tt.header...)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got := rec.Header().Get("Content-Encoding"); got != tt.want {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.want)
			}
			if tt.want == "" && !bytes.Equal(rec.Body.Bytes(), body) {
				t.Errorf("identity body altered")
			}
		})
	}
}

func TestCompressMinSize(t *testing.T) {
	const minSize = 256
	tests := []struct {
		name       string
		chunks     []int
		wantCoding string
	}{
		{"below min size", []int{minSize - 1}, ""},
		{"exactly min size", []int{minSize}, "gzip"},
		{"small chunks adding up past min size", []int{100, 100, 100}, "gzip"},
		{"small chunks staying below", []int{100, 100, 55}, ""},
		{"empty writes", []int{0, 0}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []byte
			e, c := newTestServer(t, CompressConfig{MinSize: minSize}, func(c echo.Context) error {
				c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextPlainCharsetUTF8)
				for i, n := range tt.chunks {
					chunk := bytes.Repeat([]byte{byte('a' + i)}, n)
					want = append(want, chunk...)
					if _, err := c.Response().Write(chunk); err != nil {
						return err
					}
				}
				return nil
			})
			rec := do(e, http.MethodGet, "Accept-Encoding", "gzip")

			if got := rec.Header().Get("Content-Encoding"); got != tt.wantCoding {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.wantCoding)
			}
			if rec.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding even when not compressing", rec.Header().Get("Vary"))
			}
			got := rec.Body.Bytes()
			if tt.wantCoding != "" {
				var err error
				if got, err = decode(t, tt.wantCoding, rec.Body); err != nil {
					t.Fatalf("decode: %v", err)
				}
			} else if len(want) > 0 && rec.Header().Get("Content-Length") != fmt.Sprint(len(want)) {
				t.Errorf("Content-Length = %q, want %d", rec.Header().Get("Content-Length"), len(want))
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body = %q, want %q", got, want)
			}
			assertPoolsDrained(t, c)
		})
	}
}

func TestCompressLeavesAlone(t *testing.T) {
	body := jsonBody(4 << 10)
	tests := []struct {
		name     string
		method   string
		handler  echo.HandlerFunc
		wantVary bool
	}{
		{"HEAD request", http.MethodHead, blob(http.StatusOK, echo.MIMEApplicationJSON, body), true},
		{"already encoded", http.MethodGet, func(c echo.Context) error {
			c.Response().Header().Set("Content-Encoding", "gzip")
			return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
		}, true},
		{"no content", http.MethodGet, func(c echo.Context) error {
			c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			return c.NoContent(http.StatusNoContent)
		}, true},
		{"not modified", http.MethodGet, func(c echo.Context) error {
			c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			return c.NoContent(http.StatusNotModified)
		}, true},
		{"no-transform", http.MethodGet, func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "public, No-Transform")
			return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
		}, true},
		{"partial content", http.MethodGet, func(c echo.Context) error {
			c.Response().Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(body)-1, 2*len(body)))
			return c.Blob(http.StatusPartialContent, echo.MIMEApplicationJSON, body)
		}, true},
		{"incompressible type", http.MethodGet, blob(http.StatusOK, "image/png", body), false},
		{"no content type and nothing to sniff", http.MethodGet, func(c echo.Context) error {
			return c.NoContent(http.StatusOK)
		}, false},
		{"skipped", http.MethodPut, blob(http.StatusOK, echo.MIMEApplicationJSON, body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := CompressConfig{Skipper: func(r *http.Request) bool { return r.Method == http.MethodPut }}
			e, c := newTestServer(t, cfg, tt.handler)
			rec := do(e, tt.method, "Accept-Encoding", "gzip, br, zstd")

			wantEncoding := ""
			if tt.name == "already encoded" {
				wantEncoding = "gzip" // the handler's own, untouched
			}
			if got := rec.Header().Get("Content-Encoding"); got != wantEncoding {
				t.Fatalf("Content-Encoding = %q, want %q", got, wantEncoding)
			}
			if rec.Body.Len() > 0 && !bytes.Equal(rec.Body.Bytes(), body) {
				t.Errorf("body altered")
			}
			if got := rec.Header().Get("Vary") == "Accept-Encoding"; got != tt.wantVary {
				t.Errorf("Vary = %q, want Accept-Encoding: %v", rec.Header().Get("Vary"), tt.wantVary)
			}
			assertPoolsDrained(t, c)
		})
	}
}

func TestCompressContentTypes(t *testing.T) {
	body := bytes.Repeat([]byte("<p>hello</p>"), 200)
	tests := []struct {
		contentType string
		want        bool
	}{
		{"text/html; charset=utf-8", true},
		{"TEXT/CSS", true},
		{"application/json", true},
		{"application/problem+json", true},
		{"application/vnd.api+json; charset=utf-8", true},
		{"application/atom+xml", true},
		{"image/svg+xml", true},
		{"application/javascript", true},
		{"image/png", false},
		{"application/octet-stream", false},
		{"application/zip", false},
		{"", true}, // sniffed as text/html
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			e, _ := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
				if tt.contentType != "" {
					c.Response().Header().Set(echo.HeaderContentType, tt.contentType)
				}
				_, err := c.Response().Write(body)
				return err
			})
			rec := do(e, http.MethodGet, "Accept-Encoding", "gzip")
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tt.want {
				t.Errorf("compressed = %v, want %v", got, tt.want)
			}
			if tt.contentType == "" && !strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), "text/html") {
				t.Errorf("Content-Type = %q, want the sniffed text/html", rec.Header().Get(echo.HeaderContentType))
			}
		})
	}
}

func TestCompressVaryOnce(t *testing.T) {
	body := jsonBody(2 << 10)
	tests := []struct {
		name     string
		existing []string
		want     []string
	}{
		{"none", nil, []string{"Accept-Encoding"}},
		{"other field", []string{"Origin"}, []string{"Origin", "Accept-Encoding"}},
		{"already listed", []string{"origin, accept-encoding"}, []string{"origin, accept-encoding"}},
		{"star", []string{"*"}, []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
				for _, v := range tt.existing {
					c.Response().Header().Add("Vary", v)
				}
				return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
			})
			for _, accept := range []string{"gzip", "identity"} {
				rec := do(e, http.MethodGet, "Accept-Encoding", accept)
				if got := rec.Header().Values("Vary"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
					t.Errorf("Accept-Encoding %s: Vary = %q, want %q", accept, got, tt.want)
				}
			}
		})
	}
}

func TestCompressWeakensETag(t *testing.T) {
	body := jsonBody(2 << 10)
	for _, tt := range []struct{ etag, want string }{
		{`"v1"`, `W/"v1"`},
		{`W/"v1"`, `W/"v1"`},
	} {
		e, _ := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
			c.Response().Header().Set("ETag", tt.etag)
			return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
		})
		if got := do(e, http.MethodGet, "Accept-Encoding", "br").Header().Get("ETag"); got != tt.want {
			t.Errorf("compressed ETag for %s = %s, want %s", tt.etag, got, tt.want)
		}
		if got := do(e, http.MethodGet).Header().Get("ETag"); got != tt.etag {
			t.Errorf("identity ETag for %s = %s, want it unchanged", tt.etag, got)
		}
	}
}

func TestCompressHandlerError(t *testing.T) {
	errBoom := errors.New("boom")
	small := []byte(`{"partial":true}`)
	tests := []struct {
		name     string
		handler  echo.HandlerFunc
		wantCode int
		wantBody string
	}{
		{"nothing written: the error handler renders", func(c echo.Context) error {
			return echo.NewHTTPError(http.StatusTeapot, "short and stout")
		}, http.StatusTeapot, "short and stout"},
		{"status written: it is sent", func(c echo.Context) error {
			c.Response().WriteHeader(http.StatusAccepted)
			return errBoom
		}, http.StatusAccepted, ""},
		{"small body written: it is sent", func(c echo.Context) error {
			_ = c.Blob(http.StatusOK, echo.MIMEApplicationJSON, small)
			return errBoom
		}, http.StatusOK, string(small)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var original http.ResponseWriter
			var handlerErr error
			e, c := newTestServer(t, DefaultCompressConfig, tt.handler, func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(ctx echo.Context) error {
					original = ctx.Response().Writer
					handlerErr = next(ctx)
					if ctx.Response().Writer != original {
						t.Errorf("response writer not restored")
					}
					return handlerErr
				}
			})
			rec := do(e, http.MethodGet, "Accept-Encoding", "gzip")
			if handlerErr == nil {
				t.Fatalf("the handler's error was swallowed")
			}
			if rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if rec.Header().Get("Content-Encoding") != "" {
				t.Errorf("Content-Encoding = %q, want none", rec.Header().Get("Content-Encoding"))
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body.String(), tt.wantBody)
			}
			assertPoolsDrained(t, c)
		})
	}
}

func TestCompressPanic(t *testing.T) {
	t.Run("before anything is sent the recover stage renders a 500", func(t *testing.T) {
		e, c := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
			_ = c.Blob(http.StatusOK, echo.MIMEApplicationJSON, []byte(`{"held":"back"}`))
			panic("handler bug")
		}, echomw.Recover())
		rec := do(e, http.MethodGet, "Accept-Encoding", "gzip")
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", rec.Code)
		}
		if strings.Contains(rec.Body.String(), "held") {
			t.Errorf("body %q leaks the abandoned response", rec.Body.String())
		}
		assertPoolsDrained(t, c)
	})
	t.Run("mid-stream the client sees a truncated encoding", func(t *testing.T) {
		e, c := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
			_ = c.Blob(http.StatusOK, echo.MIMEApplicationJSON, jsonBody(4<<10))
			c.Response().Flush()
			panic("handler bug")
		}, echomw.Recover())
		rec := do(e, http.MethodGet, "Accept-Encoding", "gzip")
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding = %q, want gzip", rec.Header().Get("Content-Encoding"))
		}
		if _, err := decode(t, "gzip", rec.Body); err == nil {
			t.Errorf("truncated stream decoded without error")
		}
		assertPoolsDrained(t, c)
	})
}

func TestCompressInformationalStatus(t *testing.T) {
	var got []int
	e, _ := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
		c.Response().Writer.WriteHeader(http.StatusEarlyHints)
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, jsonBody(2<<10))
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			got = append(got, code)
			return nil
		},
	}))
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 1 || got[0] != http.StatusEarlyHints {
		t.Errorf("informational statuses = %v, want [103]", got)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("final response %d %q, want 200 gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
}

// TestCompressStreaming checks that a flushed chunk reaches the client,
// decodable, while the handler is still running.
func TestCompressStreaming(t *testing.T) {
	for _, coding := range []string{"zstd", "br", "gzip", "deflate"} {
		t.Run(coding, func(t *testing.T) {
			first := []byte("data: first event\n\n") // far below MinSize
			second := bytes.Repeat([]byte("data: second event\n\n"), 100)
			firstRead := make(chan struct{})
			e, c := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
				c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
				if _, err := c.Response().Write(first); err != nil {
					return err
				}
				c.Response().Flush()
				select {
				case <-firstRead:
				case <-c.Request().Context().Done():
					return c.Request().Context().Err()
				}
				_, err := c.Response().Write(second)
				return err
			})
			srv := httptest.NewServer(e)
			defer srv.Close()

			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Accept-Encoding", coding)
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := resp.Header.Get("Content-Encoding"); got != coding {
				t.Fatalf("Content-Encoding = %q, want %q", got, coding)
			}
			r := streamDecoder(t, coding, resp.Body)
			got := make([]byte, len(first))
			if _, err := io.ReadFull(r, got); err != nil {
				t.Fatalf("reading the first chunk while the handler waits: %v", err)
			}
			if !bytes.Equal(got, first) {
				t.Fatalf("first chunk = %q, want %q", got, first)
			}
			close(firstRead)
			rest, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("reading the rest: %v", err)
			}
			if !bytes.Equal(rest, second) {
				t.Fatalf("rest differs from what the handler wrote")
			}
			resp.Body.Close()
			srv.Close() // waits for the handler, so the pools are settled
			assertPoolsDrained(t, c)
		})
	}
}

// streamDecoder wraps body in a decoder that hands out data as soon as it
// arrives, which is what a streaming client relies on.
func streamDecoder(t *testing.T, coding string, body io.Reader) io.Reader {
	t.Helper()
	switch coding {
	case "zstd":
		d, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		return d
	case "br":
		return brotli.NewReader(body)
	case "gzip":
		gz, err := gzip.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		gz.Multistream(false)
		return gz
	default:
		zr, err := zlib.NewReader(body)
		if err != nil {
			t.Fatal(err)
		}
		return zr
	}
}

func TestCompressHijackAndUpgrade(t *testing.T) {
	t.Run("hijack passes through", func(t *testing.T) {
		e, c := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
			if _, ok := c.Response().Writer.(*compressWriter); !ok {
				t.Errorf("writer %T, want the compression wrapper for a plain request", c.Response().Writer)
			}
			conn, brw, err := c.Response().Hijack()
			if err != nil {
				return err
			}
			defer conn.Close()
			fmt.Fprint(brw, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nraw ok")
			return brw.Flush()
		})
		srv := httptest.NewServer(e)
		defer srv.Close()
		resp := rawGet(t, srv.URL, "Accept-Encoding: gzip")
		if resp != "raw ok" {
			t.Errorf("body = %q, want the hijacker's raw response", resp)
		}
		srv.Close()
		assertPoolsDrained(t, c)
	})
	t.Run("upgrade requests are not wrapped", func(t *testing.T) {
		e, _ := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
			if _, ok := c.Response().Writer.(*compressWriter); ok {
				t.Errorf("an upgrade request got the compression wrapper")
			}
			return c.NoContent(http.StatusOK)
		})
		do(e, http.MethodGet, "Accept-Encoding", "gzip", "Connection", "Upgrade", "Upgrade", "websocket")
	})
	t.Run("response controller reaches the connection", func(t *testing.T) {
		e, _ := newTestServer(t, DefaultCompressConfig, func(c echo.Context) error {
			rc := http.NewResponseController(c.Response())
			if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Errorf("SetWriteDeadline through the wrapper: %v", err)
			}
			return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, jsonBody(2<<10))
		})
		srv := httptest.NewServer(e)
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
}

// rawGet sends a GET over a bare connection and returns the response body,
// so a hijacked connection's bytes are seen exactly.
func rawGet(t *testing.T, url string, headers ...string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompressZeroMinSize pins the convention every Troupe config follows:
// a zero means what a zero in the key means. compression.min_size = 0
// compresses every non-empty body, so CompressConfig.MinSize 0 does too;
// an empty body still goes out as it is.
func TestCompressZeroMinSize(t *testing.T) {
	for _, tt := range []struct {
		name       string
		body       []byte
		wantCoding string
	}{
		{"a body of one byte is compressed", []byte("a"), "gzip"},
		{"a short JSON body is compressed", []byte(`{"id":7}`), "gzip"},
		{"an empty body is not", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultCompressConfig
			cfg.MinSize = 0
			e, c := newTestServer(t, cfg, blob(http.StatusOK, echo.MIMEApplicationJSON, tt.body))
			rec := do(e, http.MethodGet, "Accept-Encoding", "gzip")
			if got := rec.Header().Get("Content-Encoding"); got != tt.wantCoding {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.wantCoding)
			}
			got := rec.Body.Bytes()
			if tt.wantCoding != "" {
				var err error
				if got, err = decode(t, tt.wantCoding, rec.Body); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, tt.body) {
				t.Errorf("body = %q, want %q", got, tt.body)
			}
			assertPoolsDrained(t, c)
		})
	}
}

// TestEncodingsIsTheVocabulary checks that the exported list, the default
// and the check agree, since all three read the one table.
func TestEncodingsIsTheVocabulary(t *testing.T) {
	names := Encodings()
	if got := strings.Join(names, ","); got != "zstd,br,gzip,deflate" {
		t.Fatalf("Encodings() = %s, want zstd,br,gzip,deflate", got)
	}
	if !slices.Equal(DefaultCompressConfig.Algorithms, names) {
		t.Errorf("DefaultCompressConfig.Algorithms = %v, want Encodings()", DefaultCompressConfig.Algorithms)
	}
	for _, n := range names {
		if err := (CompressConfig{Algorithms: []string{n}}).Validate(); err != nil {
			t.Errorf("Validate rejects %q, which Encodings lists: %v", n, err)
		}
	}
	names[0] = "changed"
	if Encodings()[0] != "zstd" {
		t.Error("Encodings returned its own table: a caller could change the vocabulary")
	}
}

// TestCompressValidateNamesFields checks that every problem is a
// *fielderr.Error naming the Go field, which the service maps to its key.
func TestCompressValidateNamesFields(t *testing.T) {
	err := CompressConfig{MinSize: -1, Algorithms: []string{"lz4", "gzip", "gzip"}, ContentTypes: []string{""}}.Validate()
	var fields []string
	for _, e := range fielderr.All(err) {
		var fe *fielderr.Error
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *fielderr.Error", e)
		}
		fields = append(fields, fe.Field)
	}
	if got := strings.Join(fields, " "); got != "MinSize Algorithms Algorithms ContentTypes" {
		t.Errorf("fields = %s, want MinSize Algorithms Algorithms ContentTypes", got)
	}
}

func TestCompressWithConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  CompressConfig
		want []string // substrings the error must contain; none means valid
	}{
		{"zero value is valid", CompressConfig{}, nil},
		{"case-insensitive names", CompressConfig{Algorithms: []string{"GZIP", " br "}}, nil},
		{"negative min size", CompressConfig{MinSize: -1}, []string{"MinSize: must not be negative, got -1"}},
		{"unknown algorithm", CompressConfig{Algorithms: []string{"gzip", "lz4"}}, []string{`unknown algorithm "lz4"`}},
		{"identity is not an algorithm", CompressConfig{Algorithms: []string{"identity"}}, []string{`unknown algorithm "identity"`}},
		{"duplicate algorithm", CompressConfig{Algorithms: []string{"gzip", "GZIP"}}, []string{`"gzip" is listed twice`}},
		{"empty content type", CompressConfig{ContentTypes: []string{"text/", " "}}, []string{"content type 1 is empty"}},
		{"every problem at once", CompressConfig{MinSize: -5, Algorithms: []string{"zip"}, ContentTypes: []string{"+"}},
			[]string{"MinSize: must not be negative, got -5", `Algorithms: unknown algorithm "zip"`, "ContentTypes: content type 0 is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := CompressWithConfig(tt.cfg)
			if len(tt.want) == 0 {
				if err != nil || m == nil {
					t.Fatalf("CompressWithConfig = %v, %v; want a middleware", m, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CompressWithConfig succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCompressDefaults(t *testing.T) {
	c, err := newCompressor(DefaultCompressConfig)
	if err != nil {
		t.Fatal(err)
	}
	if c.minSize != 1024 {
		t.Errorf("min size = %d, want 1024", c.minSize)
	}
	if got := strings.Join(c.offered, ","); got != "zstd,br,gzip,deflate" {
		t.Errorf("algorithms = %s, want zstd,br,gzip,deflate", got)
	}
	if Compress() == nil {
		t.Error("Compress returned nil")
	}
	// Every constructor must work, or the first request using it would panic.
	for _, e := range encodings {
		if e.newEncoder() == nil {
			t.Errorf("%s: nil encoder", e.name)
		}
	}
}
