package service

import (
	"net/http"
	"net/http/pprof"

	"github.com/troupehq/troupe/problem"
)

// adminHandler serves the admin listener: detailed health, the redacted
// effective config, Prometheus metrics when telemetry.prometheus.enabled is
// on and, when admin.pprof is on, the Go profiler. It listens on
// loopback by default because what it shows is for operators only.
func (s *Service) adminHandler() http.Handler {
	mux := http.NewServeMux()
	detailed := s.health.handler(true)
	for _, p := range []string{"/livez", "/readyz", "/healthz"} {
		mux.Handle(p, detailed)
	}
	mux.HandleFunc("GET /configz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = s.effective.WriteTo(w)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(http.StatusNotFound, "no admin endpoint at this path"))
	})
	if h := s.tel.MetricsHandler(); h != nil && s.cfg.Telemetry.Prometheus.Enabled {
		mux.Handle("GET /metrics", h)
	}
	s.mountInspector(mux)
	if s.cfg.Admin.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
