package service

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// rawBound bounds every raw exchange of these tests: far above what a
// loaded CI machine needs for a loopback round trip, far below a hang.
const rawBound = 10 * time.Second

// uploadAPI has POST /api/v2/upload, which reads the body and returns a
// read error as it comes, as actors.Route and most handlers do, and
// POST /api/v2/bind, which binds JSON with Echo's binder.
func uploadAPI() *versioning.API {
	return versioning.New("/api").Version(2, func(g *versioning.Group) {
		g.POST("/upload", func(c echo.Context) error {
			b, err := io.ReadAll(c.Request().Body)
			if err != nil {
				return err
			}
			return c.String(http.StatusOK, fmt.Sprint(len(b)))
		})
		g.POST("/bind", func(c echo.Context) error {
			var v map[string]any
			if err := c.Bind(&v); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		})
	})
}

// rawConn dials the service's main listener with rawBound as deadline.
func rawConn(t *testing.T, r *running) *net.TCPConn {
	t.Helper()
	conn, err := net.Dial("tcp", r.svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(rawBound)); err != nil {
		t.Fatal(err)
	}
	return conn.(*net.TCPConn)
}

// rawResponse reads one response from conn; nil when the server closed the
// connection without one.
func rawResponse(t *testing.T, conn net.Conn) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	var ne net.Error
	switch {
	case err == nil:
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("no answer within %s", rawBound)
	default:
		return nil, nil // closed without an answer
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TestMalformedChunkedBodyIsA400 sends a chunked body whose first chunk
// size is not hexadecimal. It is the client's fault: 400 problem+json with
// a generic detail, the cause logged below ERROR, counted as 4xx.
func TestMalformedChunkedBodyIsA400(t *testing.T) {
	for _, path := range []string{"/api/v2/upload", "/api/v2/bind"} {
		t.Run(path, func(t *testing.T) {
			r := start(t, nil, WithAPI(uploadAPI()))
			conn := rawConn(t, r)
			req := "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
				"Transfer-Encoding: chunked\r\n\r\nzz\r\n"
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			resp, body := rawResponse(t, conn)
			if resp == nil {
				t.Fatal("the server closed the connection without an answer")
			}
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("malformed chunk = %d %s %s, want a 400 problem", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			p := decode[map[string]any](t, body)
			if p["detail"] != bodyUnreadableDetail || p["request_id"] == "" {
				t.Errorf("problem = %v", p)
			}
			if strings.Contains(string(body), "chunk") {
				t.Errorf("the cause reached the client: %s", body)
			}
			if got := requestClasses(t, r, "POST "+path); got != "4xx" {
				t.Errorf("request metrics recorded %q, want the one request as 4xx", got)
			}
			r.stop(t)
			logs := r.logs.String()
			if strings.Contains(logs, `"level":"ERROR"`) {
				t.Errorf("a malformed body was logged as a server error:\n%s", logs)
			}
			mustContain(t, logs, `"level":"INFO","msg":"request failed"`, "request body could not be read: invalid byte in chunk length")
		})
	}
}

// bodyUnreadableDetail is the detail of the 400 a client gets for a body
// the server could not read.
const bodyUnreadableDetail = "The request body could not be read: it was malformed or cut short."

// TestShortBodyIsNotA500 sends 10 of the 100 bytes Content-Length
// announces and half-closes: the server sees the body end early. The
// client can still read, so it gets a 400; never a 500.
func TestShortBodyIsNotA500(t *testing.T) {
	r := start(t, nil, WithAPI(uploadAPI()))
	conn := rawConn(t, r)
	req := "POST /api/v2/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if err := conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, body := rawResponse(t, conn)
	if resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("short body = %v %s, want a 400", resp, body)
	}
	r.stop(t)
	if logs := r.logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a short body was logged as a server error:\n%s", logs)
	}
}

// requestClasses returns the status classes the request-duration metric
// holds for route ("POST /api/v2/upload"), one per request, in a sorted,
// comma-separated list.
func requestClasses(t *testing.T, r *running, route string) string {
	t.Helper()
	var classes []string
	for _, m := range scrape(t, r.adminBase()+"/metrics")["http_server_request_duration_seconds"].GetMetric() {
		l := labels(m)
		if l["http_request_method"]+" "+l["http_route"] != route {
			continue
		}
		for range m.GetHistogram().GetSampleCount() {
			classes = append(classes, l["http_response_status_class"])
		}
	}
	slices.Sort(classes)
	return strings.Join(classes, ",")
}

// TestResetMidBodyIsNotAnError resets the connection while the handler
// reads the body: nobody is left to answer, so nothing is sent, and the
// request is logged as one the client abandoned (499), not as a 500.
func TestResetMidBodyIsNotAnError(t *testing.T) {
	r := start(t, nil, WithAPI(uploadAPI()))
	if err := cutShort(reset)(r.svc.Addr().String(), "/api/v2"); err != nil {
		t.Fatal(err)
	}
	waitForRecords(t, r, "/api/v2/upload", 1)
	r.stop(t)
	logs := r.logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a reset mid-body was logged as a server error:\n%s", logs)
	}
	mustContain(t, logs, `"msg":"request","method":"POST","route":"/api/v2/upload","path":"/api/v2/upload","status":499`)
}
