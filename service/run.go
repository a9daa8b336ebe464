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
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"time"
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

	l, err := s.bind()
	if err != nil {
		s.release()
		return err
	}
	// Handlers' contexts derive from base: cancelling it at the end of the
	// shutdown timeout tells every straggler to stop. It carries the actor
	// system and the realtime hub, for actors.Route and realtime.Handler, at
	// no cost per request.
	base, cancelBase := context.WithCancel(s.baseContext(context.WithoutCancel(ctx)))
	defer cancelBase()
	serveErr := l.serve(s, base)
	started, err := s.startSubsystems(ctx)
	if err != nil {
		s.health.setState(stateStopping)
		l.close()
		s.stopSubsystems(started, s.cfg.HTTP.ShutdownTimeout)
		s.release()
		return err
	}
	releaseStartupGarbage()
	s.markStarted(l)

	runErr := s.await(ctx, signals, serveErr)
	// From here on a second signal means "now".
	stopForcing := make(chan struct{})
	defer close(stopForcing)
	go s.forceExitOnSecondSignal(signals, stopForcing)
	if err := s.shutdown(l, cancelBase, started); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// releaseStartupGarbage returns the heap start-up freed to the operating
// system at once, when there is enough of it to matter. Decoding and
// compiling a WASM component peaks at twice what stays live (the showcase:
// a 33 MB heap, 17 MB live), and the runtime keeps freed pages up to its
// next heap goal, so an idle service would hold them until load grew the
// heap into them. A service without components frees too little for the
// forced collection to pay: it allocates under the runtime's 4 MB minimum
// heap, collects nothing before it serves, and the collection's own work
// buffers would cost 0.5 MB (bench/idle, docs/benchmarks.md).
func releaseStartupGarbage() {
	if heapFreeBytes() >= releaseThreshold {
		debug.FreeOSMemory()
	}
}

// releaseThreshold is the free heap worth one forced collection at start.
const releaseThreshold = 4 << 20

// heapFreeBytes is the heap the runtime holds free and has not returned.
func heapFreeBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// markStarted records the bound addresses, turns readiness on and closes
// Started. The start-up line is logged before Started closes, so whoever
// waits on Started finds it (and the addresses in it) already written.
func (s *Service) markStarted(l *listeners) {
	s.mu.Lock()
	s.addr = l.main.Addr()
	for _, p := range l.private {
		if p.name == "admin" {
			s.admin = p.ln.Addr()
		}
	}
	s.mu.Unlock()
	attrs := []any{"address", l.main.Addr().String(), "tls", s.tlsConfig != nil}
	for _, p := range l.private {
		attrs = append(attrs, p.name+"_address", p.ln.Addr().String())
	}
	if s.opts.version != "" {
		attrs = append(attrs, "version", s.opts.version)
	}
	s.health.setState(stateReady)
	s.logger.Info("service started", attrs...)
	close(s.started)
}

// await blocks until ctx ends, a signal arrives or a listener fails, and
// returns the listener's error, if that was it.
func (s *Service) await(ctx context.Context, signals <-chan os.Signal, serveErr <-chan error) error {
	select {
	case <-ctx.Done():
		s.logger.Info("shutdown requested", "reason", context.Cause(ctx).Error())
	case sig := <-signals:
		s.logger.Info("shutdown requested", "signal", sig.String())
	case err := <-serveErr:
		s.logger.Error("listener failed; shutting down", "error", err)
		return err
	}
	return nil
}

func (s *Service) forceExitOnSecondSignal(signals <-chan os.Signal, done <-chan struct{}) {
	select {
	case sig := <-signals:
		s.logger.Error("second signal during shutdown; exiting at once", "signal", sig.String())
		exitOnSecondSignal()
	case <-done:
	}
}

// shutdown runs DESIGN §6 in order, logging every phase with its duration.
func (s *Service) shutdown(l *listeners, cancelBase context.CancelFunc, started []Subsystem) error {
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
	result := s.drainHTTP(l.mainSrv, cancelBase)
	phase("http_drain", t)
	t = time.Now()
	if errs := s.stopSubsystems(started, s.cfg.HTTP.ShutdownTimeout); errs != nil && result == nil {
		result = errs
	}
	phase("subsystems_stop", t, "count", len(started))
	t = time.Now()
	s.release()
	phase("release", t, "parts", len(s.releases))
	// Last, so probes and metrics stay visible while the rest stops.
	t = time.Now()
	l.closePrivate()
	phase("admin_stop", t)
	cancelBase()
	level := slog.LevelInfo
	if result != nil {
		level = slog.LevelWarn
	}
	s.logger.Log(context.Background(), level, "shutdown complete", "duration", time.Since(begin), "clean", result == nil)
	return result
}

// drainHTTP stops accepting and lets in-flight requests finish until
// http.shutdown_timeout; then it cancels the stragglers' contexts and
// closes their connections.
func (s *Service) drainHTTP(srv *http.Server, cancelBase context.CancelFunc) error {
	timeout := s.cfg.HTTP.ShutdownTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if srv.Shutdown(ctx) == nil {
		return nil
	}
	cancelBase()
	_ = srv.Close()
	s.logger.Warn("in-flight requests cut off", "timeout", timeout)
	return fmt.Errorf("service: in-flight requests did not finish within http.shutdown_timeout (%s)", timeout)
}

func (s *Service) startSubsystems(ctx context.Context) ([]Subsystem, error) {
	var started []Subsystem
	for _, sub := range s.runs {
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

// tlsListener wraps ln for the main listener's TLS, when it has any.
func (s *Service) tlsListener(ln net.Listener) net.Listener {
	if s.tlsConfig == nil {
		return ln
	}
	return tls.NewListener(ln, s.tlsConfig)
}
