package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// listeners are the service's bound sockets and, once serving, their
// servers: the main listener and the private ones for operators.
type listeners struct {
	main    net.Listener
	mainSrv *http.Server
	private []*privateListener
}

// privateListener is a listener for operators rather than clients: the
// admin listener, or the metrics-only one.
type privateListener struct {
	name, key, addr string
	handler         func() http.Handler
	ln              net.Listener
	srv             *http.Server
}

// bind opens every listener, or none: a port that cannot be bound is an
// error naming its key.
func (s *Service) bind() (*listeners, error) {
	mainLn, err := s.listen("http.address", s.cfg.HTTP.Address)
	if err != nil {
		return nil, err
	}
	l := &listeners{main: s.tlsListener(mainLn)}
	if s.cfg.Admin.Address != "" {
		l.private = append(l.private, &privateListener{name: "admin", key: "admin.address", addr: s.cfg.Admin.Address, handler: s.adminHandler})
	}
	if addr := s.cfg.Telemetry.Prometheus.Address; addr != "" {
		l.private = append(l.private, &privateListener{name: "metrics", key: "telemetry.prometheus.address", addr: addr, handler: s.metricsHandler})
	}
	for i, p := range l.private {
		if p.ln, err = s.listen(p.key, p.addr); err != nil {
			_ = mainLn.Close()
			for _, q := range l.private[:i] {
				_ = q.ln.Close()
			}
			return nil, err
		}
	}
	return l, nil
}

func (s *Service) listen(key, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("service: %s %q (from %s): %w", key, addr, s.effective.Source(key), err)
	}
	return ln, nil
}

// serve starts a server on every listener; a server that fails sends its
// error on the returned channel.
func (l *listeners) serve(s *Service, base context.Context) <-chan error {
	serveErr := make(chan error, 1+len(l.private))
	serve := func(name string, srv *http.Server, ln net.Listener) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- fmt.Errorf("service: %s listener: %w", name, err)
		}
	}
	l.mainSrv = s.httpServer(s.handler, base)
	l.mainSrv.TLSConfig = s.tlsConfig
	go serve("main", l.mainSrv, l.main)
	for _, p := range l.private {
		p.srv = s.httpServer(p.handler(), base)
		go serve(p.name, p.srv, p.ln)
	}
	return serveErr
}

// close closes every server at once, for a start-up that failed.
func (l *listeners) close() {
	_ = l.mainSrv.Close()
	for _, p := range l.private {
		_ = p.srv.Close()
	}
}

// closePrivate shuts the private servers down within a second.
func (l *listeners) closePrivate() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, p := range l.private {
		if p.srv.Shutdown(ctx) != nil {
			_ = p.srv.Close()
		}
	}
}
