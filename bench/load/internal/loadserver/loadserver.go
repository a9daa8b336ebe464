// Package loadserver holds what every server bench/load measures has in
// common: the route and its handler, the expected response, a started
// server's handle, the bare Echo baseline, and the protocol by which a server
// binary tells the harness where it listens. It imports Echo and nothing of
// Troupe, so the bare Echo binary built from it is as small as a stock Echo
// service and its memory is Echo's, not Troupe's.
package loadserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

const (
	// Path is the one route every server serves.
	Path = "/api/v1/hello"
	// StartTimeout and StopTimeout bound server start-up and shutdown so a
	// broken build fails the run instead of hanging it.
	StartTimeout = 10 * time.Second
	StopTimeout  = 10 * time.Second
)

// Body is what every server must answer (before the encoder's newline);
// checking it proves they do the same work (in particular that none
// compressed the response).
var Body = []byte(`{"message":"hello, world"}`)

// Hello is the quickstart's handler without the name parameter.
func Hello(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"message": "hello, world"})
}

// Server is a started HTTP server listening on loopback.
type Server struct {
	// Addr is the host:port it listens on.
	Addr string
	// AdminAddr is the admin listener's host:port (health, /metrics), or
	// "" for a server without one.
	AdminAddr string
	// Handler is what the listener serves, for in-process benchmarks.
	Handler http.Handler
	// Stop shuts the server down and waits for it to finish.
	Stop func() error
}

// StartBare serves Hello from a bare Echo on a plain http.Server on
// 127.0.0.1:0: the baseline, with no middleware at all.
func StartBare() (*Server, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(Path, Hello)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bare echo: %w", err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
		defer cancel()
		err := srv.Shutdown(ctx)
		if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
		if err != nil {
			return fmt.Errorf("bare echo: shutdown: %w", err)
		}
		return nil
	}
	return &Server{Addr: ln.Addr().String(), Handler: e, Stop: stop}, nil
}
