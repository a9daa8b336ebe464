package service

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/redisguard"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/versioning"
)

var serviceName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// Service is a configured, validated service ready to Run. Build it with
// New; it is not reusable after Run returns.
type Service struct {
	name      string
	opts      options
	cfg       *config.Config
	effective *config.Effective
	logger    *slog.Logger
	echo      *echo.Echo
	handler   http.Handler
	health    *health
	tlsConfig *tls.Config
	tel       *telemetry.Telemetry

	actorSystem *actors.System
	// componentRuntime runs the WASM components of actors.components.dir;
	// nil when there are none.
	componentRuntime *wasm.Runtime
	components       []*wasm.Component
	auth             authState
	redis            *redis.Client
	redisGuard       *redisguard.Guard // bounds and breaks every command of redis
	client           *http.Client
	resilience       middleware.Stages // the resilience stages buildResilience made

	started chan struct{}
	mu      sync.Mutex
	addr    net.Addr
	admin   net.Addr
	ran     bool
}

// New loads the configuration of the service called name (the config
// directory and environment prefix: "orders" reads orders/config.toml and
// ORDERS_* variables), validates it together with the API and every
// subsystem, and builds the request path. It binds nothing; on any problem it
// returns one error that lists them all.
func New(name string, opts ...Option) (*Service, error) {
	if !serviceName.MatchString(name) {
		return nil, fmt.Errorf("service: invalid name %q: use lower-case letters, digits, '-' and '_', starting with a letter", name)
	}
	s := &Service{name: name, started: make(chan struct{})}
	for _, opt := range opts {
		opt(&s.opts)
	}

	loader := config.Loader{}
	if s.opts.loader != nil {
		loader = *s.opts.loader
	}
	loader.Service = name
	if s.opts.configFile != "" {
		loader.File = s.opts.configFile
	}
	loader.Sections = append(loader.Sections, s.opts.appSections()...)
	cfg := config.Default()
	for _, f := range s.opts.defaults {
		f(&cfg)
	}
	eff, err := loader.Load(&cfg)
	var problems []error
	if err != nil {
		problems = append(problems, err)
	}
	s.collectSubsystemChecks()
	if err := s.checkRegistrations(); err != nil {
		problems = append(problems, err)
	}
	if err := checkActors(s.opts.actors); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		// Building on an invalid config would only add noise; the API builder
		// is checked on its own so its mistakes are reported in the same run.
		if s.opts.api != nil {
			if err := s.opts.api.Mount(echo.New(), versioning.MountOptions{}); err != nil {
				problems = append(problems, err)
			}
		}
		return nil, fmt.Errorf("service %s: %w", name, errors.Join(problems...))
	}
	s.cfg, s.effective = &cfg, eff
	s.logger = newLogger(s.opts.logOutput, cfg.Log)

	if err := s.setupTelemetry(); err != nil {
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	s.buildActors()
	if err := s.buildComponents(); err != nil {
		s.release()
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	// Actors start after the application's subsystems and stop before them.
	s.opts.subsystems = append(s.opts.subsystems, actorSubsystem{s})
	// Both add health checks, so they come before newHealth.
	authErr, resErr := s.buildAuth(), s.buildResilience(&s.resilience)
	s.health = newHealth(s.opts.version, cfg.Health.Timeout, cfg.Health.CacheTTL, s.opts.liveness, s.opts.readiness)
	if err := errors.Join(authErr, resErr, s.build()); err != nil {
		s.release()
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	for _, f := range s.opts.setup {
		if err := f(s); err != nil {
			s.release()
			return nil, fmt.Errorf("service %s: setup: %w", name, err)
		}
	}
	return s, nil
}

// collectSubsystemChecks adds the checks of subsystems that report health.
func (s *Service) collectSubsystemChecks() {
	for _, sub := range s.opts.subsystems {
		reporter, ok := sub.(HealthReporter)
		if !ok {
			continue
		}
		for _, hc := range reporter.HealthChecks() {
			c := &check{name: sub.Name() + ":" + hc.Name, fn: hc.Check, optional: hc.Optional}
			if hc.Liveness {
				s.opts.liveness = append(s.opts.liveness, c)
			} else {
				s.opts.readiness = append(s.opts.readiness, c)
			}
		}
	}
}

// checkRegistrations rejects health checks and subsystems that cannot work.
func (s *Service) checkRegistrations() error {
	var errs []error
	seen := map[string]bool{}
	for kind, list := range map[string][]*check{"readiness": s.opts.readiness, "liveness": s.opts.liveness} {
		for _, c := range list {
			switch {
			case c.name == "":
				errs = append(errs, fmt.Errorf("%s check: empty name", kind))
			case c.fn == nil:
				errs = append(errs, fmt.Errorf("%s check %q: nil function", kind, c.name))
			case seen[kind+"/"+c.name]:
				errs = append(errs, fmt.Errorf("%s check %q: registered twice", kind, c.name))
			}
			seen[kind+"/"+c.name] = true
		}
	}
	for i, sub := range s.opts.subsystems {
		if sub == nil {
			errs = append(errs, fmt.Errorf("subsystem %d: nil", i))
		}
	}
	return errors.Join(errs...)
}

// build assembles Echo, the middleware chain, the API and TLS from a valid
// config. Errors that belong to a config key name it.
func (s *Service) build() error {
	cfg := s.cfg
	var errs []error
	keyErr := func(key string, err error) {
		errs = append(errs, &config.Error{Key: key, Source: s.effective.Source(key), Err: err})
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard) // Troupe logs through slog; Echo's own logger is unused
	e.HTTPErrorHandler = middleware.ErrorHandler(s.logger)
	clientIP, err := middleware.NewClientIP(cfg.HTTP.TrustedProxies)
	if err != nil {
		keyErr("http.trusted_proxies", err)
	}
	e.IPExtractor = clientIP

	stages := middleware.Stages{
		Recover:   middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: s.logger}),
		RequestID: middleware.RequestID(),
		Telemetry: middleware.TelemetryWithConfig(middleware.TelemetryConfig{
			TracerProvider: s.tel.TracerProvider(),
			MeterProvider:  s.tel.MeterProvider(),
			Propagator:     s.tel.Propagator(),
		}),
		Authenticate:       s.auth.authenticate,
		Authorize:          s.auth.authorize,
		RateLimit:          s.resilience.RateLimit,
		PrincipalRateLimit: s.resilience.PrincipalRateLimit,
		LoadShedding:       s.resilience.LoadShedding,
		CircuitBreaker:     s.resilience.CircuitBreaker,
	}
	if cfg.Log.Access {
		stages.AccessLog = middleware.AccessLogWithConfig(middleware.AccessLogConfig{
			Logger:        s.logger,
			LogHeaders:    cfg.Log.Headers,
			RedactHeaders: cfg.Log.RedactHeaders,
		})
	}
	if sh := cfg.SecurityHeaders; sh.Enabled {
		stages.SecurityHeaders = middleware.SecurityHeadersWithConfig(middleware.SecurityHeadersConfig{
			HSTSMaxAge:            sh.HSTSMaxAge,
			HSTSIncludeSubdomains: sh.HSTSIncludeSubdomains,
			HSTSPreload:           sh.HSTSPreload,
			ContentTypeNosniff:    sh.ContentTypeNosniff,
			FrameOptions:          sh.FrameOptions,
			ContentSecurityPolicy: sh.ContentSecurityPolicy,
			ReferrerPolicy:        sh.ReferrerPolicy,
		})
	}
	if len(cfg.CORS.AllowOrigins) > 0 {
		cors, err := middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:     cfg.CORS.AllowOrigins,
			AllowMethods:     cfg.CORS.AllowMethods,
			AllowHeaders:     cfg.CORS.AllowHeaders,
			ExposeHeaders:    cfg.CORS.ExposeHeaders,
			AllowCredentials: cfg.CORS.AllowCredentials,
			MaxAge:           cfg.CORS.MaxAge,
		})
		if err != nil {
			keyErr("cors.allow_origins", err)
		}
		stages.CORS = cors
	}
	// Installed even without a limit: it also turns a body read cut off by
	// http.read_timeout into 408 rather than 500.
	stages.BodyLimit = middleware.BodyLimit(cfg.HTTP.BodyLimit.Int64())
	if cfg.HTTP.RequestTimeout > 0 {
		stages.Timeout = middleware.Timeout(cfg.HTTP.RequestTimeout)
	}
	if cfg.Compression.Enabled {
		compress, err := middleware.CompressWithConfig(middleware.CompressConfig{
			MinSize:    int(cfg.Compression.MinSize.Int64()),
			Algorithms: cfg.Compression.Algorithms,
		})
		if err != nil {
			keyErr("compression.algorithms", err)
		}
		stages.Compress = compress
	}
	e.Use(middleware.Chain(stages))

	if s.opts.api != nil {
		err := s.opts.api.Mount(e, versioning.MountOptions{EnforceSunset: cfg.Versioning.EnforceSunset})
		if err != nil {
			errs = append(errs, err)
		}
	}

	if cfg.HTTP.TLS.Enabled() {
		cert, err := tls.LoadX509KeyPair(cfg.HTTP.TLS.CertFile, cfg.HTTP.TLS.KeyFile)
		if err != nil {
			keyErr("http.tls.cert_file", fmt.Errorf("loading certificate and key: %w", err))
		} else {
			s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: cfg.HTTP.TLS.MinVersionID()}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	s.echo = e
	probes := s.health.handler(false)
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.health.stopping() {
			closeAfterReply(w)
		}
		// Probes bypass the request path: a load balancer must see the truth
		// even when rate limits or load shedding reject application traffic.
		if isHealthPath(r.URL.Path) {
			probes.ServeHTTP(w, r)
			return
		}
		e.ServeHTTP(w, r)
	})
	return nil
}

// Name returns the service name given to New.
func (s *Service) Name() string { return s.name }

// Config returns the effective configuration. It must not be modified.
func (s *Service) Config() *config.Config { return s.cfg }

// EffectiveConfig returns the effective configuration with the source of
// every value; its WriteTo prints a redacted dump.
func (s *Service) EffectiveConfig() *config.Effective { return s.effective }

// Logger returns the service's structured logger.
func (s *Service) Logger() *slog.Logger { return s.logger }

// Handler returns the main listener's handler: probes plus the full request
// path and API. It lets tests and benchmarks exercise the service without a
// socket. Run's server puts the actor system in every request's context
// (for actors.Route); a request served here gets it added when it lacks it.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if actors.FromContext(r.Context()) == nil {
			r = r.WithContext(actors.NewContext(r.Context(), s.actorSystem))
		}
		s.handler.ServeHTTP(w, r)
	})
}

// Started returns a channel closed once Run has bound the listeners, started
// every subsystem and marked the service ready.
func (s *Service) Started() <-chan struct{} { return s.started }

// Addr returns the main listener's address once Started is closed, else nil.
func (s *Service) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// AdminAddr returns the admin listener's address once Started is closed, or
// nil when the admin listener is disabled.
func (s *Service) AdminAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admin
}
