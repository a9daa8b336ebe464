package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/versioning"
)

const (
	helloPath = "/api/v1/hello"
	// troupeName is the service name, and so the LOADTEST_ env prefix.
	troupeName = "loadtest"
	// startTimeout and stopTimeout bound server start-up and shutdown so a
	// broken build fails the run instead of hanging it.
	startTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// wantBody is what both targets must answer; checking it proves they do the
// same work (in particular that neither compressed the response).
var wantBody = []byte(`{"message":"hello, world"}`)

// hello is the quickstart's handler without the name parameter.
func hello(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"message": "hello, world"})
}

// target is one server under load, with the client that loads it.
type target struct {
	name   string
	url    string
	client *http.Client
	// stop shuts the server down and waits for it to finish.
	stop func() error
}

// close stops the server and drops the client's idle connections.
func (t *target) close() error {
	t.client.CloseIdleConnections()
	return t.stop()
}

// startBare serves the handler from a bare Echo on a plain http.Server: the
// baseline, with no middleware at all.
func startBare(concurrency int) (*target, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(helloPath, hello)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bare echo: %w", err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
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
	return &target{name: "bare Echo", url: "http://" + ln.Addr().String() + helloPath, client: newClient(concurrency), stop: stop}, nil
}

// startTroupe runs the quickstart's service — default config, so the whole
// core chain and the request metrics Prometheus scrapes from the admin
// listener — isolated from the machine's config files and environment, with
// logs discarded.
func startTroupe(concurrency int) (*target, error) {
	dir, err := os.MkdirTemp("", "troupe-load-*")
	if err != nil {
		return nil, fmt.Errorf("troupe: %w", err)
	}
	api := versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/hello", hello) })
	prefix := config.EnvPrefix(troupeName)
	svc, err := service.New(troupeName,
		service.WithAPI(api),
		service.WithLogOutput(io.Discard),
		service.WithConfigLoader(config.Loader{
			Environ: []string{
				prefix + "HTTP__ADDRESS=127.0.0.1:0",
				prefix + "ADMIN__ADDRESS=127.0.0.1:0",
				prefix + "HTTP__DRAIN_DELAY=0s",
			},
			ConfigDirs: []string{},
			ConfigHome: dir,
			WorkDir:    dir,
		}))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("troupe: %w", err)
	}

	// The service lives until stop, not until the caller's context ends, so
	// that an interrupted run still shuts it down in order.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	stop := func() error {
		cancel()
		defer os.RemoveAll(dir)
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("troupe: shutdown: %w", err)
			}
			return nil
		case <-time.After(stopTimeout):
			return fmt.Errorf("troupe: shutdown: not done after %s", stopTimeout)
		}
	}

	select {
	case <-svc.Started():
	case err := <-done:
		cancel()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("troupe: Run: %w", err)
	case <-time.After(startTimeout):
		return nil, errors.Join(fmt.Errorf("troupe: not started after %s", startTimeout), stop())
	}
	return &target{name: "Troupe quickstart", url: "http://" + svc.Addr().String() + helloPath, client: newClient(concurrency), stop: stop}, nil
}

// newClient returns a client with its own keep-alive pool, big enough that
// every worker keeps its connection: a closed loop over reused connections
// measures the servers, not connection set-up. Compression is off so both
// targets send the same bytes, and there is no proxy or client timeout — the
// round's context bounds every request.
func newClient(concurrency int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}
