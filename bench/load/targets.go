package main

import (
	"net"
	"net/http"
	"time"

	"github.com/troupehq/troupe/bench/load/internal/loadserver"
)

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

// startBare serves the handler from a bare Echo in this process: the
// baseline, with no middleware at all.
func startBare(concurrency int) (*target, error) {
	return startTarget(bareEcho.name, bareEcho.start, concurrency)
}

// startTroupe runs the quickstart's service with its default config in this
// process.
func startTroupe(concurrency int) (*target, error) {
	return startTarget("Troupe quickstart", troupeDefaults.start, concurrency)
}

// startTarget starts a server in this process and gives it a client.
func startTarget(name string, start func() (*loadserver.Server, error), concurrency int) (*target, error) {
	srv, err := start()
	if err != nil {
		return nil, err
	}
	return &target{name: name, url: "http://" + srv.Addr + helloPath, client: newClient(concurrency), stop: srv.Stop}, nil
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
