// Package troupeserver starts the Troupe services bench/load measures: the
// quickstart with its default config, and the same with every request-path
// feature the "Troupe full" row lists turned on. Both serve
// loadserver.Hello on loadserver.Path, as bare Echo does, so the
// difference is what the service adds.
package troupeserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/troupehq/troupe/bench/load/internal/loadserver"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/versioning"
)

// name is the service name, and so the LOADTEST_ env prefix.
const name = "loadtest"

// Settings adds environment settings (without the LOADTEST_ prefix) to the
// default config; it may write files into dir, which lives as long as the
// service.
type Settings func(dir string) ([]string, error)

// Start runs the quickstart's service on 127.0.0.1:0 — default config, so
// the whole core chain and the request metrics Prometheus scrapes from the
// admin listener — with extra's settings on top (nil for none), isolated
// from the machine's config files and environment, with logs fully
// formatted and written to io.Discard.
func Start(extra Settings) (*loadserver.Server, error) {
	dir, err := os.MkdirTemp("", "troupe-load-*")
	if err != nil {
		return nil, fmt.Errorf("troupe: %w", err)
	}
	environ, err := environment(dir, extra)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("troupe: %w", err)
	}
	api := versioning.New("/api").Version(1, func(g *versioning.Group) { g.GET("/hello", loadserver.Hello) })
	svc, err := service.New(name,
		service.WithAPI(api),
		service.WithLogOutput(io.Discard),
		service.WithConfigLoader(config.Loader{Environ: environ, ConfigDirs: []string{}, ConfigHome: dir, WorkDir: dir}))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("troupe: %w", err)
	}

	// The service lives until Stop, not until some caller's context ends, so
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
		case <-time.After(loadserver.StopTimeout):
			return fmt.Errorf("troupe: shutdown: not done after %s", loadserver.StopTimeout)
		}
	}

	select {
	case <-svc.Started():
	case err := <-done:
		cancel()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("troupe: Run: %w", err)
	case <-time.After(loadserver.StartTimeout):
		return nil, errors.Join(fmt.Errorf("troupe: not started after %s", loadserver.StartTimeout), stop())
	}
	return &loadserver.Server{Addr: svc.Addr().String(), AdminAddr: svc.AdminAddr().String(), Handler: svc.Handler(), Stop: stop}, nil
}

// environment is the service's whole environment: loopback listeners, no
// drain delay, then extra's settings, all prefixed.
func environment(dir string, extra Settings) ([]string, error) {
	prefix := config.EnvPrefix(name)
	environ := []string{
		prefix + "HTTP__ADDRESS=127.0.0.1:0",
		prefix + "ADMIN__ADDRESS=127.0.0.1:0",
		prefix + "HTTP__DRAIN_DELAY=0s",
	}
	if extra == nil {
		return environ, nil
	}
	more, err := extra(dir)
	if err != nil {
		return nil, err
	}
	for _, kv := range more {
		environ = append(environ, prefix+kv)
	}
	return environ, nil
}
