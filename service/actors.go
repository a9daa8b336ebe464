package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/config"
)

// actorSpec is an actor WithActor asked the service to spawn at start.
type actorSpec struct {
	name     string
	producer actors.Producer
	opts     []actors.SpawnOption
}

// WithActor spawns a top-level actor registered as name, made by p, when the
// service starts: after the subsystems, in the order of the WithActor
// options, before the service reports ready. During shutdown, after the last
// HTTP request has finished, actors stop in reverse order, each draining its
// mailbox, all within actors.shutdown_timeout. Routes built with
// actors.Route(name) reach it; svc.Actors() reaches it from other code.
func WithActor(name string, p actors.Producer, opts ...actors.SpawnOption) Option {
	return func(o *options) { o.actors = append(o.actors, actorSpec{name: name, producer: p, opts: opts}) }
}

// Actors returns the service's actor system, configured from the [actors]
// section. Actors spawned on it after start are stopped at shutdown too.
func (s *Service) Actors() *actors.System { return s.actorSystem }

// actorsPart makes the actor system from [actors] and runs it: the
// WithActor actors spawn at start, after the application's subsystems, and
// the system shuts down after the HTTP drain — actors in reverse spawn
// order, each draining its mailbox, within actors.shutdown_timeout.
type actorsPart struct{}

// actorKeys maps the actors.Config fields whose names are not their keys.
var actorKeys = map[string]string{
	"MailboxSize":       "actors.message_queue_size",
	"Overflow":          "actors.overflow_policy",
	"EntityIdleTimeout": "actors.sharding.idle_timeout",
}

func (actorsPart) check(c *checker) {
	ac, err := actorsConfig(c.cfg.Actors)
	if err != nil {
		c.fail("actors.overflow_policy", err)
		return
	}
	c.fields("actors", ac.Validate(), actorKeys)
	checkCluster(c)
}

func (actorsPart) build(b *builder) {
	ac, _ := actorsConfig(b.cfg.Actors) // checked
	opts := []actors.Option{actors.WithDefaults(ac), actors.WithLogger(b.logger)}
	opts = append(opts, shardingOptions(b.s.opts.entityKinds)...)
	b.state = appStore(b)
	// Per-message metrics cost a clock read and a histogram update; pay
	// them only when someone can see the result.
	if b.tel.MetricsEnabled() {
		opts = append(opts, actors.WithMeterProvider(b.tel.MeterProvider()))
	}
	b.actors = actors.NewSystem(append(opts, b.inspector.ActorOptions()...)...)
	b.inspector.Watch(b.actors)
	b.run(&actorsRun{sys: b.actors, specs: b.s.opts.actors, timeout: b.cfg.Actors.ShutdownTimeout, cluster: newClusterJoin(b)})
}

// actorsConfig is [actors] as the runtime takes it.
func actorsConfig(a config.Actors) (actors.Config, error) {
	policy, err := actors.ParseOverflowPolicy(a.OverflowPolicy)
	c := actors.DefaultConfig()
	c.MailboxSize, c.Overflow, c.BlockTimeout, c.ShutdownTimeout = a.MessageQueueSize, policy, a.BlockTimeout, a.ShutdownTimeout
	c.MaxRestarts, c.RestartWindow, c.BackoffMin, c.BackoffMax = a.MaxRestarts, a.RestartWindow, a.BackoffMin, a.BackoffMax
	c.EntityIdleTimeout = a.Sharding.IdleTimeout
	return c, err
}

// checkActors rejects WithActor registrations that cannot work.
func checkActors(specs []actorSpec) error {
	var errs []error
	seen := map[string]bool{}
	for i, a := range specs {
		switch {
		case a.name == "":
			errs = append(errs, fmt.Errorf("actor %d: empty name (WithActor needs the name routes reach it by)", i))
		case a.producer == nil:
			errs = append(errs, fmt.Errorf("actor %q: nil producer", a.name))
		case seen[a.name]:
			errs = append(errs, fmt.Errorf("actor %q: registered twice", a.name))
		}
		seen[a.name] = true
	}
	return errors.Join(errs...)
}

// actorsRun joins the cluster, spawns the WithActor actors and shuts the
// system down.
type actorsRun struct {
	sys     *actors.System
	specs   []actorSpec
	timeout time.Duration
	cluster *clusterJoin // nil unless actors.cluster.enabled
}

func (a *actorsRun) Name() string { return "actors" }

// Start joins the cluster (with actors.cluster.enabled), then spawns the
// WithActor actors in order, so their names are known cluster-wide;
// components spawn next, in a run of their own, and may message these
// from their init.
func (a *actorsRun) Start(ctx context.Context) error {
	if a.cluster != nil {
		if err := a.cluster.join(ctx, a.sys); err != nil {
			return err
		}
	}
	for _, spec := range a.specs {
		if _, err := a.sys.Spawn(spec.name, spec.producer, spec.opts...); err != nil {
			return fmt.Errorf("spawning actor %q: %w", spec.name, err)
		}
	}
	return nil
}

// Stop shuts the system down: actors, components included, stop in
// reverse spawn order, draining their mailboxes, within
// actors.shutdown_timeout; what is left becomes dead letters.
func (a *actorsRun) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	if err := a.sys.Shutdown(ctx); err != nil {
		return fmt.Errorf("within actors.shutdown_timeout (%s): %w", a.timeout, err)
	}
	return nil
}
