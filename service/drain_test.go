package service

import (
	"bufio"
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

// keepAliveConn is a client's persistent HTTP/1.1 connection, spoken raw so
// the test sees exactly which connection a request went on and whether it
// was answered before the server closed it.
type keepAliveConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAliveConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &keepAliveConn{conn: conn, r: bufio.NewReader(conn)}
}

// post sends a non-idempotent request, which a client must not retry on
// its own, and reads the whole response. An error means the request was
// sent and never answered: lost.
func (k *keepAliveConn) post() (*http.Response, error) {
	_ = k.conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "POST /api/v1/work HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
	if _, err := io.WriteString(k.conn, req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

func workAPI() *versioning.API {
	return versioning.New("/api").Version(1, func(g *versioning.Group) {
		g.POST("/work", func(c echo.Context) error { return c.String(http.StatusOK, "done") })
	})
}

// TestDrainClosesKeepAliveConnectionsAfterAReply checks that no request sent
// during the drain delay is dropped unread: every keep-alive connection that
// carries one gets its answer with "Connection: close" and is then closed by
// the server, so the client moves to another instance before the listener
// closes. Connections idle at the start of the drain are not closed under a
// client that may be sending on them.
func TestDrainClosesKeepAliveConnectionsAfterAReply(t *testing.T) {
	const drain = 1500 * time.Millisecond
	r := start(t, map[string]string{"HTTP__DRAIN_DELAY": drain.String()}, WithAPI(workAPI()))
	addr := r.svc.Addr().String()

	// Idle keep-alive connections, each used once before the shutdown.
	idle := make([]*keepAliveConn, 6)
	for i := range idle {
		idle[i] = dialKeepAlive(t, addr)
		resp, err := idle[i].post()
		if err != nil || resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("request before shutdown: %v %v close=%v", resp, err, resp != nil && resp.Close)
		}
	}

	// Busy clients send back to back and move away once told to.
	var wg sync.WaitGroup
	busyErr := make(chan error, 4)
	shutdownBegun := make(chan struct{})
	for range 4 {
		k := dialKeepAlive(t, addr)
		wg.Go(func() {
			for sent := 0; ; sent++ {
				resp, err := k.post()
				if err != nil {
					busyErr <- fmt.Errorf("busy client: request %d lost: %v", sent, err)
					return
				}
				if resp.Close {
					select {
					case <-shutdownBegun:
						busyErr <- nil
					default:
						busyErr <- fmt.Errorf("busy client: told to close before shutdown")
					}
					return
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the busy clients get going

	close(shutdownBegun)
	r.cancel()
	waitFor(t, func() bool { return strings.Contains(r.logs.String(), `"phase":"readiness_fail"`) })

	// The idle connections wake up one by one across the drain delay.
	step := (drain - 300*time.Millisecond) / time.Duration(len(idle))
	for i, k := range idle {
		time.Sleep(step)
		resp, err := k.post()
		if err != nil {
			t.Fatalf("idle connection %d: request sent %v into the drain was lost: %v", i, time.Duration(i+1)*step, err)
		}
		if resp.StatusCode != http.StatusOK || !resp.Close {
			t.Fatalf("idle connection %d during drain: %d, Connection: close = %v; want 200 and close", i, resp.StatusCode, resp.Close)
		}
		_ = k.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := k.r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("idle connection %d: server kept the connection after Connection: close (%d, %v)", i, n, err)
		}
	}
	wg.Wait()
	close(busyErr)
	for err := range busyErr {
		if err != nil {
			t.Error(err)
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
}
