package service

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/versioning"
)

// abuseAttempts is how many requests of each shape the attacker sends: more
// than the breaker's min_requests in these tests (5), so a shape that counted
// as a failure would open its group's breaker on its own.
const abuseAttempts = 8

// abuseShape is one kind of bad request an anonymous client can send.
type abuseShape struct {
	name string
	// send makes one attempt against the shape's own group, whose routes
	// are under base ("/api/v2/<group>"). It reports only what stops the
	// attempt from being made at all.
	send func(addr, base string) error
	// records is how many access-log records an attempt makes: 1 when it
	// reaches the chain, 0 when net/http refuses it first.
	records int
	// probe is a request of the attacked group, which must get a 404
	// (401 with authentication on) afterwards; "" probes GET base/hello
	// for 204.
	probe string
}

// abuseShapes lists every request shape the bad-input tests of this package
// know, as an attacker without credentials can send them.
func abuseShapes() []abuseShape {
	const chunked = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	return []abuseShape{
		{name: "malformed chunk size", records: 1, send: exchange("POST", "/upload", chunked+"zz\r\n")},
		{name: "malformed chunk framing", records: 1, send: exchange("POST", "/upload", chunked+"5\r\nhelloXX")},
		{name: "chunk size overflow", records: 1, send: exchange("POST", "/upload", chunked+strings.Repeat("f", 20)+"\r\n")},
		{name: "short body, half-closed", records: 1, send: cutShort(func(c *net.TCPConn) { _ = c.CloseWrite() })},
		{name: "short body, closed", records: 1, send: cutShort(func(c *net.TCPConn) { _ = c.Close() })},
		{name: "short body, reset", records: 1, send: cutShort(reset)},
		{name: "chunked body, reset", records: 1, send: afterContinue(chunked, "5\r\nhello\r\n", reset)},
		{name: "declared body over the limit", records: 1, send: exchange("POST", "/upload", fmt.Sprintf("Content-Length: 2048\r\n\r\n%s", strings.Repeat("x", 2048)))},
		{name: "chunked body over the limit", records: 1, send: exchange("POST", "/upload", chunked+fmt.Sprintf("800\r\n%s\r\n0\r\n\r\n", strings.Repeat("x", 2048)))},
		{name: "slow body", records: 1, send: slowBody},
		{name: "bad JSON", records: 1, send: exchange("POST", "/upload", "Content-Length: 5\r\n\r\n{\"a\":")},
		{name: "client gone while the handler works", records: 1, send: leaveEarly},
		{name: "forged token", records: 1, send: exchange("GET", "/private", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJldmUifQ.forged\r\n\r\n")},
		{name: "unknown route", records: 1, send: exchange("POST", "/nowhere", "Content-Length: 0\r\n\r\n"), probe: "GET /api/v2/nowhere"},
		{name: "wrong method", records: 1, send: exchange("PUT", "/upload", "Content-Length: 0\r\n\r\n"), probe: "GET /api/v2/nowhere"},
		{name: "malformed request line", records: 0, send: func(addr, _ string) error { return rawExchange(addr, "GARBAGE\r\n\r\n", nil) }},
	}
}

// exchange sends method base+path with the rest of the header and body as
// given, and reads the answer.
func exchange(method, path, rest string) func(addr, base string) error {
	return func(addr, base string) error {
		return rawExchange(addr, method+" "+base+path+" HTTP/1.1\r\nHost: x\r\n"+rest, nil)
	}
}

// cutShort announces 100 bytes of body, waits until the handler asks for
// them (100 Continue), sends 10, then ends the connection with end.
func cutShort(end func(*net.TCPConn)) func(addr, base string) error {
	return afterContinue("Content-Length: 100\r\n\r\n", "0123456789", end)
}

// afterContinue sends a POST to base/upload with header (which ends the
// header block) and Expect: 100-continue, so that once 100 Continue is back
// the handler is known to be reading; then body, then end.
func afterContinue(header, body string, end func(*net.TCPConn)) func(addr, base string) error {
	return func(addr, base string) error {
		conn, err := dialRaw(addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		req := "POST " + base + "/upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n" + header
		if _, err := io.WriteString(conn, req); err != nil {
			return err
		}
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusContinue {
			return fmt.Errorf("no 100 Continue: %v", err)
		}
		_, _ = io.WriteString(conn, body)
		end(conn)
		_, _ = io.Copy(io.Discard, br)
		return nil
	}
}

// reset ends the connection with a TCP RST.
func reset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// slowBody sends 10 of 100 bytes, waits for the server to give up on it
// (the read or the request timeout, whichever comes first), then sends the
// rest, so that a handler still waiting for it finishes normally.
func slowBody(addr, base string) error {
	conn, err := dialRaw(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	req := "POST " + base + "/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":\"" + strings.Repeat("x", 4)
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	if resp, err := http.ReadResponse(br, nil); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	_, _ = io.WriteString(conn, strings.Repeat("x", 100-12)+"\"}")
	_, _ = io.Copy(io.Discard, br)
	return nil
}

// leaveEarly asks for base/wait, whose handler waits for its context, and
// leaves at once: the handler fails only because the client went away.
func leaveEarly(addr, base string) error {
	conn, err := dialRaw(addr)
	if err != nil {
		return err
	}
	_, err = io.WriteString(conn, "GET "+base+"/wait HTTP/1.1\r\nHost: x\r\n\r\n")
	conn.Close()
	return err
}

// rawExchange writes req on a new connection, runs then (if any), and reads
// until the server closes or answers.
func rawExchange(addr, req string, then func(*net.TCPConn)) error {
	conn, err := dialRaw(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		return nil // the server may refuse before reading it all
	}
	if then != nil {
		then(conn)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return nil
}

func dialRaw(addr string) (*net.TCPConn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(rawBound))
	return conn.(*net.TCPConn), nil
}

// abuseAPI gives each shape, and the control, a resilience group of its own
// under /api/v2/<group>, with the same public routes: upload (a careless
// handler that hides any read error in a 500 of its own), wait (one that
// fails once its context ends, without saying why), hello, and a protected
// private.
func abuseAPI(groups []string) *versioning.API {
	upload := func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return fmt.Errorf("reading the upload: %v", err) // %v: the cause is lost
		}
		if !json.Valid(b) {
			return echo.NewHTTPError(http.StatusBadRequest, "the body is not JSON")
		}
		return c.NoContent(http.StatusNoContent)
	}
	wait := func(c echo.Context) error {
		<-c.Request().Context().Done()
		return errors.New("dependency call abandoned")
	}
	hello := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	fail := func(echo.Context) error { return errors.New("dependency down") }
	return versioning.New("/api").Version(2, func(g *versioning.Group) {
		for _, name := range groups {
			g.POST("/"+name+"/upload", upload).Public().Group(name)
			g.GET("/"+name+"/wait", wait).Public().Group(name)
			g.GET("/"+name+"/hello", hello).Public().Group(name)
			g.GET("/"+name+"/fail", fail).Public().Group(name)
			g.GET("/"+name+"/private", hello).Group(name)
		}
	})
}

// TestAnonymousClientsCannotOpenTheBreaker sends every bad request shape,
// each to a group of its own, and checks that each group's breaker stayed
// closed; as a control, the same number of server faults does open one.
// Rate limiting is off, so that every request reaches the breaker. It runs
// with the read timeout shorter than the request timeout, so that a slow
// body ends in a 408 from its read, and with the request timeout shorter,
// so that the deadline passes while the handler waits for the body, and
// authentication on.
func TestAnonymousClientsCannotOpenTheBreaker(t *testing.T) {
	// 2s: generous for every quick request on a loaded machine, and all a
	// slow body costs the test.
	configs := map[string]map[string]string{
		"read timeout first": {"HTTP__READ_TIMEOUT": "2s", "HTTP__REQUEST_TIMEOUT": "20s"},
		"request timeout first, auth on": authEnv(map[string]string{
			"HTTP__READ_TIMEOUT": "20s", "HTTP__REQUEST_TIMEOUT": "2s",
		}),
	}
	shapes := abuseShapes()
	groups := []string{"control"}
	for i := range shapes {
		groups = append(groups, fmt.Sprintf("g%02d", i))
	}
	for name, env := range configs {
		t.Run(name, func(t *testing.T) {
			env["RESILIENCE__BREAKER__ENABLED"] = "true"
			env["RESILIENCE__BREAKER__MIN_REQUESTS"] = "5"
			env["RESILIENCE__BREAKER__OPEN_TIMEOUT"] = "10m"
			env["HTTP__BODY_LIMIT"] = "1KiB"
			r := start(t, env, WithAPI(abuseAPI(groups)))
			addr := r.svc.Addr().String()

			var wg sync.WaitGroup
			for i, s := range shapes {
				base := "/api/v2/" + groups[i+1]
				for range abuseAttempts {
					wg.Go(func() {
						if err := s.send(addr, base); err != nil {
							t.Errorf("%s: %v", s.name, err)
						}
					})
				}
			}
			wg.Wait()
			for i, s := range shapes {
				waitForRecords(t, r, "/api/v2/"+groups[i+1]+"/", s.records*abuseAttempts)
			}
			for i, s := range shapes {
				base := "/api/v2/" + groups[i+1]
				probe, want := "GET "+base+"/hello", http.StatusNoContent
				if s.probe != "" {
					probe, want = s.probe, http.StatusNotFound
					if env["AUTH__JWT__HMAC_SECRET"] != "" {
						want = http.StatusUnauthorized
					}
				}
				if got := probeStatus(t, r, probe); got != want {
					t.Errorf("%s: after %d attempts %s = %d, want %d (a 503 means the breaker opened)", s.name, abuseAttempts, probe, got, want)
				}
			}

			// The control: as many server faults open the control group's
			// breaker, even after three times as many bad requests, which
			// count for nothing rather than dilute the failures.
			malformed := abuseShapes()[0]
			for range 3 * abuseAttempts {
				if err := malformed.send(addr, "/api/v2/control"); err != nil {
					t.Fatal(err)
				}
			}
			for range abuseAttempts {
				probeStatus(t, r, "GET /api/v2/control/fail")
			}
			if got := probeStatus(t, r, "GET /api/v2/control/hello"); got != http.StatusServiceUnavailable {
				t.Errorf("after %d bad requests and %d server faults the control group answered %d, want 503", 3*abuseAttempts, abuseAttempts, got)
			}
		})
	}
}

// probeStatus sends "METHOD path" and returns the status.
func probeStatus(t *testing.T, r *running, probe string) int {
	t.Helper()
	method, path, _ := strings.Cut(probe, " ")
	req, err := http.NewRequest(method, r.base()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitForRecords waits until the access log holds n records of paths under
// prefix: the breaker has judged a request by the time the access log,
// further out, records it.
func waitForRecords(t *testing.T, r *running, prefix string, n int) {
	t.Helper()
	deadline := time.Now().Add(rawBound)
	for {
		got := 0
		for line := range strings.Lines(r.logs.String()) {
			var rec struct{ Msg, Path string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "request" && strings.HasPrefix(rec.Path, prefix) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d access records under %s after %s, want %d", got, prefix, rawBound, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
