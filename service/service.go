package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/inspect"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/realtime"
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

	// What the parts built (part.go).
	handler     http.Handler
	health      *health
	tlsConfig   *tls.Config
	tel         *telemetry.Telemetry
	nats        *natsRun
	actorSystem *actors.System
	state       state.Store // State's
	inspector   *inspect.Inspector
	components  *wasm.Runtime // nil without components
	created     time.Time     // when New began: the console's uptime
	client      *http.Client
	revocation  authz.RevocationStore
	hub         *realtime.Hub
	runs        []Subsystem // started in order, stopped in reverse
	releases    []release   // run in reverse after the service stopped

	started chan struct{}
	mu      sync.Mutex
	addr    net.Addr
	admin   net.Addr
	ran     bool
}

// New loads the configuration of the service called name (the config
// directory and environment prefix: "orders" reads orders/config.toml and
// ORDERS_* variables), validates it together with the API and every
// subsystem, and builds every part of the service (part.go). It binds
// nothing; on any problem it releases what it built and returns one error
// that lists them all.
func New(name string, opts ...Option) (*Service, error) {
	if !serviceName.MatchString(name) {
		return nil, fmt.Errorf("service: invalid name %q: use lower-case letters, digits, '-' and '_', starting with a letter", name)
	}
	s := &Service{name: name, started: make(chan struct{}), created: time.Now()}
	for _, opt := range opts {
		opt(&s.opts)
	}
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	s.logger = newLogger(s.opts.logOutput, s.cfg.Log)
	b := newBuilder(s)
	if err := b.buildParts(); err != nil {
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	s.health, s.tel, s.actorSystem, s.hub, s.nats = b.health, b.tel, b.actors, b.hub, b.nats
	s.state = b.state
	s.inspector, s.components = b.inspector, b.components
	s.runs, s.releases = b.runs, b.releases
	for _, f := range s.opts.setup {
		if err := f(s); err != nil {
			s.release()
			return nil, fmt.Errorf("service %s: setup: %w", name, err)
		}
	}
	return s, nil
}

// load reads the configuration and checks it — decoding, cross-key rules
// and every part's semantic rules — together with the health checks,
// subsystems, actors and API the options registered, so that one error
// lists every problem.
func (s *Service) load() error {
	cfg := config.Default()
	for _, f := range s.opts.defaults {
		f(&cfg)
	}
	loader := config.Loader{}
	if s.opts.loader != nil {
		loader = *s.opts.loader
	}
	loader.Service = s.name
	if s.opts.configFile != "" {
		loader.File = s.opts.configFile
	}
	loader.Sections = append(loader.Sections, s.opts.appSections()...)
	loader.Check = func() error { return checkParts(&cfg, &s.opts) }
	eff, err := loader.Load(&cfg)
	problems := []error{err}
	s.collectSubsystemChecks()
	problems = append(problems, s.checkRegistrations(), checkActors(s.opts.actors), checkEntities(s.opts.entityKinds), checkAssets(s.opts.assets))
	if err := errors.Join(problems...); err != nil {
		// The API's own mistakes are reported in the same run.
		return errors.Join(err, checkAPI(s.opts.api))
	}
	s.cfg, s.effective = &cfg, eff
	return nil
}

// checkParts runs every part's check on the decoded config.
func checkParts(cfg *config.Config, opts *options) error {
	c := &checker{cfg: cfg, opts: opts}
	for _, p := range parts {
		p.check(c)
	}
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

// release undoes the build, in reverse order.
func (s *Service) release() { releaseAll(s.logger, s.releases) }

// Name returns the service name given to New.
func (s *Service) Name() string { return s.name }

// Config returns the effective configuration. It must not be modified.
func (s *Service) Config() *config.Config { return s.cfg }

// EffectiveConfig returns the effective configuration with the source of
// every value; its WriteTo prints a redacted dump.
func (s *Service) EffectiveConfig() *config.Effective { return s.effective }

// Logger returns the service's structured logger.
func (s *Service) Logger() *slog.Logger { return s.logger }

// baseContext returns ctx carrying what handlers find in their request's
// context: the actor system (actors.Route) and the realtime hub
// (realtime.Handler).
func (s *Service) baseContext(ctx context.Context) context.Context {
	ctx = actors.NewContext(ctx, s.actorSystem)
	if s.hub != nil {
		ctx = realtime.NewContext(ctx, s.hub)
	}
	return ctx
}

// Handler returns the main listener's handler: probes plus the full request
// path and API. It lets tests and benchmarks exercise the service without a
// socket. Run's server puts the actor system in every request's context
// (for actors.Route) and the realtime hub; a request served here gets them
// added when it lacks them.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if actors.FromContext(r.Context()) == nil {
			r = r.WithContext(s.baseContext(r.Context()))
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
