package service

import (
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/inspect"
	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/redisguard"
	"github.com/troupehq/troupe/internal/telemetry"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/realtime"
)

// checker collects what the parts' check methods find wrong, by key. The
// config loader runs it after decoding and attributes each problem to the
// source of its key, dropping problems about keys that already failed to
// decode.
type checker struct {
	cfg  *config.Config
	opts *options
	errs config.Errors
}

// fail reports a problem with key.
func (c *checker) fail(key string, err error) {
	c.errs = append(c.errs, &config.Error{Key: key, Err: err})
}

// fields reports the problems of a Go config that section's keys filled,
// each by key (see byKey).
func (c *checker) fields(section string, err error, rename map[string]string) {
	byKey(section, err, rename, c.fail)
}

// byKey hands report the problems err holds, each under its key: a
// *fielderr.Error under rename's entry for its field, else the field's
// snake_case under section; any other error under section itself. A rename
// to "-" marks a field the service fills rather than a key, whose problems
// are not the config's.
func byKey(section string, err error, rename map[string]string, report func(key string, err error)) {
	for _, e := range fielderr.All(err) {
		var fe *fielderr.Error
		if !errors.As(e, &fe) {
			report(section, e)
			continue
		}
		key, ok := rename[fe.Field]
		switch {
		case key == "-":
			continue
		case !ok:
			key = fielderr.Key(section, fe.Field)
		}
		report(key, fe.Err)
	}
}

// builder is what a part builds through: the config, a place for problems
// (named by key, with their source), the request path's stage slots, the
// health checks, the work that starts and stops with the service, and the
// releases that undo the build. It also carries what earlier parts made for
// later ones.
type builder struct {
	s        *Service
	cfg      *config.Config
	logger   *slog.Logger
	errs     []error
	stages   middleware.Stages
	health   *health
	runs     []Subsystem
	releases []release

	redis      *redis.Client     // storesPart: nil without a store on Redis
	redisGuard *redisguard.Guard // with redis
	tel        *telemetry.Telemetry
	nats       *natsRun // natsPart: nil when nothing uses NATS
	actors     *actors.System
	state      state.Store        // actorsPart: Service.State's
	authorizer *authz.Authorizer  // authPart: nil without Cedar policies
	hub        *realtime.Hub      // realtimePart: nil without realtime routes
	inspector  *inspect.Inspector // inspectPart, before the actor system it watches
	components *wasm.Runtime      // nil without components
	routes     routeIndex
}

// release undoes one part of the build.
type release struct {
	name string
	fn   func()
}

func newBuilder(s *Service) *builder {
	return &builder{
		s:      s,
		cfg:    s.cfg,
		logger: s.logger,
		health: newHealth(s.opts.version, s.cfg.Health.Timeout, s.cfg.Health.CacheTTL, s.opts.liveness, s.opts.readiness),
		runs:   append([]Subsystem(nil), s.opts.subsystems...),
		routes: newRouteIndex(s.opts.api),
	}
}

// fail records a problem with key, naming where its value came from.
func (b *builder) fail(key string, err error) {
	b.errs = append(b.errs, &config.Error{Key: key, Source: b.s.effective.Source(key), Err: err})
}

// fields records the problems of a Go config that section's keys filled,
// each by key with its source (see byKey).
func (b *builder) fields(section string, err error, rename map[string]string) {
	byKey(section, err, rename, b.fail)
}

// ready adds a readiness check; an optional one warns instead of failing.
func (b *builder) ready(name string, fn CheckFunc, optional bool) {
	b.health.readiness.checks = append(b.health.readiness.checks, &check{name: name, fn: fn, optional: optional})
}

// run adds work that starts, in build order, after the listeners are bound
// and stops, in reverse, after the HTTP drain.
func (b *builder) run(sub Subsystem) { b.runs = append(b.runs, sub) }

// release adds what undoes a part of the build; releases run in reverse
// order when New fails or after the service has stopped.
func (b *builder) release(name string, fn func()) {
	b.releases = append(b.releases, release{name: name, fn: fn})
}

// buildParts builds every part in order. A part that fails does not stop
// the others, so one run reports every problem they find — except the
// telemetry part, whose providers every later part records through. Then,
// on any problem, whatever was built is released.
func (b *builder) buildParts() error {
	for _, p := range parts {
		p.build(b)
		if b.tel == nil && len(b.errs) > 0 {
			break
		}
	}
	if len(b.errs) > 0 {
		releaseAll(b.logger, b.releases)
		return errors.Join(b.errs...)
	}
	return nil
}

// releaseAll runs releases in reverse order, logging each with its
// duration.
func releaseAll(logger *slog.Logger, releases []release) {
	for i := len(releases) - 1; i >= 0; i-- {
		t := time.Now()
		releases[i].fn()
		logger.Debug("released", "part", releases[i].name, "duration", time.Since(t))
	}
}
