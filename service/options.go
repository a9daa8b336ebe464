package service

import (
	"context"
	"io"

	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/realtime"
	"github.com/troupehq/troupe/versioning"
)

// Option configures a Service in New.
type Option func(*options)

type options struct {
	api         *versioning.API
	configFile  string
	loader      *config.Loader
	logOutput   io.Writer
	version     string
	readiness   []*check
	liveness    []*check
	subsystems  []Subsystem
	actors      []actorSpec
	entityKinds []entitySpec
	defaults    []func(*config.Config)
	entities    authz.EntityProvider
	setup       []func(*Service) error
	realtime    []realtime.Option
	realtimeOn  bool // WithRealtime was given
	assets      []assetMount
	app         any  // the [app] section's struct, from WithAppConfig
	nats        bool // WithNATS
}

// WithSetup runs f at the end of New, once everything is built and before
// anything runs: the place to hand the service's parts (Actors, Logger,
// HTTPClient, MeterProvider) to code that was created before the service,
// such as handlers or an entity provider. An error fails New.
func WithSetup(f func(*Service) error) Option {
	return func(o *options) { o.setup = append(o.setup, f) }
}

// WithConfigDefaults lets the application change Troupe's defaults before
// any file or variable is read: what it sets is still overridden by every
// config source, and the effective-config dump shows it as "default". Use it
// for values that belong to the application, such as the token audience it
// expects or where its policies live.
func WithConfigDefaults(f func(*config.Config)) Option {
	return func(o *options) { o.defaults = append(o.defaults, f) }
}

// WithAPI mounts the versioned API. It is the only way to add application
// routes: a service without it serves only health endpoints.
func WithAPI(api *versioning.API) Option {
	return func(o *options) { o.api = api }
}

// WithConfigFile names the config file to load instead of ./config.toml (the
// examples' --config flag). A named file that does not exist is a start-up
// error.
func WithConfigFile(path string) Option {
	return func(o *options) { o.configFile = path }
}

// WithConfigLoader replaces the loader's sources — environment, XDG
// directories, working directory — for tests and for services embedded in a
// larger program. The loader's Service field is always the service's name.
func WithConfigLoader(l config.Loader) Option {
	return func(o *options) { o.loader = &l }
}

// WithLogOutput sends the service's logs (access log included) to w instead
// of standard error.
func WithLogOutput(w io.Writer) Option {
	return func(o *options) { o.logOutput = w }
}

// WithVersion records the service's own release version; it is reported in
// health responses on the admin listener and in the start-up log.
func WithVersion(v string) Option {
	return func(o *options) { o.version = v }
}

// CheckFunc reports the health of one dependency: nil means healthy. It must
// honour ctx, which carries the deadline health.timeout.
type CheckFunc func(ctx context.Context) error

// CheckOption modifies how a health check counts.
type CheckOption func(*check)

// Optional marks a check whose failure degrades the service without taking it
// out of rotation: a failing optional check reports "warn" and the endpoint
// still answers 200.
func Optional() CheckOption {
	return func(c *check) { c.optional = true }
}

// WithReadinessCheck adds a check to /readyz: while it fails (and is not
// Optional) the service reports itself not ready and load balancers stop
// sending it traffic.
func WithReadinessCheck(name string, fn CheckFunc, opts ...CheckOption) Option {
	return func(o *options) { o.readiness = append(o.readiness, newCheck(name, fn, opts)) }
}

// WithLivenessCheck adds a check to /livez. Keep liveness checks to the
// process itself (a deadlocked worker, an exhausted pool): a failing liveness
// check gets the process restarted, so it must never depend on another
// service.
func WithLivenessCheck(name string, fn CheckFunc, opts ...CheckOption) Option {
	return func(o *options) { o.liveness = append(o.liveness, newCheck(name, fn, opts)) }
}

// WithSubsystem adds a part with its own lifecycle. Subsystems start in the
// order they were added, after the listeners are bound and before the service
// reports ready, and stop in reverse order during shutdown.
func WithSubsystem(s Subsystem) Option {
	return func(o *options) { o.subsystems = append(o.subsystems, s) }
}

func newCheck(name string, fn CheckFunc, opts []CheckOption) *check {
	c := &check{name: name, fn: fn}
	for _, opt := range opts {
		opt(c)
	}
	return c
}
