package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/troupehq/troupe/actors"
)

// exitOnSecondSignal ends the process when a second SIGINT/SIGTERM arrives
// during shutdown. It is a variable so a test can observe it.
var exitOnSecondSignal = func() { os.Exit(1) }

// Run binds the listeners, starts the subsystems, marks the service ready and
// serves until ctx ends or SIGINT/SIGTERM arrives. Then it runs the shutdown
// sequence (DESIGN §6) and returns nil if everything stopped in time. A
// second signal during shutdown exits the process at once. Run returns an
// error when a listener cannot be bound, a subsystem fails to start, or a
// server fails while serving.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return errors.New("service: Run called twice")
	}
	s.ran = true
	s.mu.Unlock()

	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	mainLn, err := s.listen("http.address", s.cfg.HTTP.Address)
	if err != nil {
		s.release()
		return err
	}
	// The private listeners: admin, and the optional metrics-only one.
	private := []*privateListener{}
	if s.cfg.Admin.Address != "" {
		private = append(private, &privateListener{name: "admin", key: "admin.address", addr: s.cfg.Admin.Address, handler: s.adminHandler})
	}
	if addr := s.cfg.Telemetry.Prometheus.Address; addr != "" {
		private = append(private, &privateListener{name: "metrics", key: "telemetry.prometheus.address", addr: addr, handler: s.metricsHandler})
	}
	for i, p := range private {
		if p.ln, err = s.listen(p.key, p.addr); err != nil {
			_ = mainLn.Close()
			for _, q := range private[:i] {
				_ = q.ln.Close()
			}
			s.release()
			return err
		}
	}
	if s.tlsConfig != nil {
		mainLn = tls.NewListener(mainLn, s.tlsConfig)
	}

	// Handlers' contexts derive from base: cancelling it at the end of the
	// shutdown timeout tells every straggler to stop. It carries the actor
	// system for actors.Route, at no cost per request.
	base, cancelBase := context.WithCancel(actors.NewContext(context.WithoutCancel(ctx), s.actorSystem))
	defer cancelBase()
	mainSrv := s.httpServer(s.handler, base)
	if s.tlsConfig != nil {
		mainSrv.TLSConfig = s.tlsConfig
	}

	serveErr := make(chan error, 1+len(private))
	serve := func(name string, srv *http.Server, ln net.Listener) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- fmt.Errorf("service: %s listener: %w", name, err)
		}
	}
	go serve("main", mainSrv, mainLn)
	for _, p := range private {
		p.srv = s.httpServer(p.handler(), base)
		go serve(p.name, p.srv, p.ln)
	}

	started, err := s.startSubsystems(ctx)
	if err != nil {
		s.health.setState(stateStopping)
		_ = mainSrv.Close()
		for _, p := range private {
			_ = p.srv.Close()
		}
		s.stopSubsystems(started, s.cfg.HTTP.ShutdownTimeout)
		s.release()
		return err
	}

	s.mu.Lock()
	s.addr = mainLn.Addr()
	for _, p := range private {
		if p.name == "admin" {
			s.admin = p.ln.Addr()
		}
	}
	s.mu.Unlock()
	attrs := []any{"address", mainLn.Addr().String(), "tls", s.tlsConfig != nil}
	for _, p := range private {
		attrs = append(attrs, p.name+"_address", p.ln.Addr().String())
	}
	if s.opts.version != "" {
		attrs = append(attrs, "version", s.opts.version)
	}
	s.health.setState(stateReady)
	// Logged before Started closes, so whoever waits on Started finds the
	// line (and the addresses in it) already written.
	s.logger.Info("service started", attrs...)
	close(s.started)

	var runErr error
	select {
	case <-ctx.Done():
		s.logger.Info("shutdown requested", "reason", context.Cause(ctx).Error())
	case sig := <-signals:
		s.logger.Info("shutdown requested", "signal", sig.String())
	case runErr = <-serveErr:
		s.logger.Error("listener failed; shutting down", "error", runErr)
	}

	// From here on a second signal means "now".
	stopForcing := make(chan struct{})
	defer close(stopForcing)
	go func() {
		select {
		case sig := <-signals:
			s.logger.Error("second signal during shutdown; exiting at once", "signal", sig.String())
			exitOnSecondSignal()
		case <-stopForcing:
		}
	}()

	if err := s.shutdown(mainSrv, private, cancelBase, started); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// shutdown runs DESIGN §6 in order, logging every phase with its duration.
func (s *Service) shutdown(mainSrv *http.Server, private []*privateListener, cancelBase context.CancelFunc, started []Subsystem) error {
	begin := time.Now()
	phase := func(name string, start time.Time, attrs ...any) {
		s.logger.Info("shutdown phase done", append([]any{"phase", name, "duration", time.Since(start)}, attrs...)...)
	}

	t := time.Now()
	s.health.setState(stateStopping)
	phase("readiness_fail", t)

	if d := s.cfg.HTTP.DrainDelay; d > 0 {
		t = time.Now()
		time.Sleep(d)
		phase("drain_delay", t, "delay", d)
	}

	t = time.Now()
	var result error
	timeout := s.cfg.HTTP.ShutdownTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	err := mainSrv.Shutdown(ctx)
	cancel()
	if err != nil {
		// In-flight requests outlived the timeout: cancel their contexts and
		// close their connections.
		cancelBase()
		_ = mainSrv.Close()
		result = fmt.Errorf("service: in-flight requests did not finish within http.shutdown_timeout (%s)", timeout)
		s.logger.Warn("in-flight requests cut off", "timeout", timeout)
	}
	phase("http_drain", t)

	t = time.Now()
	if errs := s.stopSubsystems(started, timeout); errs != nil && result == nil {
		result = errs
	}
	phase("subsystems_stop", t, "count", len(started))

	t = time.Now()
	s.flushTelemetry()
	phase("telemetry_flush", t)

	t = time.Now()
	s.closeStores()
	phase("stores_close", t)

	if len(private) > 0 {
		// Last, so probes and metrics stay visible while the rest stops.
		t = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		for _, p := range private {
			if p.srv.Shutdown(ctx) != nil {
				_ = p.srv.Close()
			}
		}
		cancel()
		phase("admin_stop", t)
	}
	cancelBase()
	level := slog.LevelInfo
	if result != nil {
		level = slog.LevelWarn
	}
	s.logger.Log(context.Background(), level, "shutdown complete", "duration", time.Since(begin), "clean", result == nil)
	return result
}

func (s *Service) listen(key, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("service: %s %q (from %s): %w", key, addr, s.effective.Source(key), err)
	}
	return ln, nil
}

func (s *Service) httpServer(h http.Handler, base context.Context) *http.Server {
	c := s.cfg.HTTP
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    int(c.MaxHeaderBytes.Int64()),
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
}

func (s *Service) startSubsystems(ctx context.Context) ([]Subsystem, error) {
	var started []Subsystem
	for _, sub := range s.opts.subsystems {
		t := time.Now()
		if err := sub.Start(ctx); err != nil {
			return started, fmt.Errorf("service: starting %s: %w", sub.Name(), err)
		}
		started = append(started, sub)
		s.logger.Info("subsystem started", "subsystem", sub.Name(), "duration", time.Since(t))
	}
	return started, nil
}

// stopSubsystems stops started subsystems in reverse start order, each
// under the same deadline.
func (s *Service) stopSubsystems(started []Subsystem, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		sub := started[i]
		t := time.Now()
		if err := sub.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("service: stopping %s: %w", sub.Name(), err))
			s.logger.Error("subsystem stop failed", "subsystem", sub.Name(), "error", err, "duration", time.Since(t))
			continue
		}
		s.logger.Info("subsystem stopped", "subsystem", sub.Name(), "duration", time.Since(t))
	}
	return errors.Join(errs...)
}

// privateListener is a listener for operators rather than clients: the
// admin listener, or the metrics-only one.
type privateListener struct {
	name, key, addr string
	handler         func() http.Handler
	ln              net.Listener
	srv             *http.Server
}
