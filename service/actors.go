package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/troupehq/troupe/actors"
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

// buildActors makes the actor system from a valid config.
func (s *Service) buildActors() {
	a := s.cfg.Actors
	policy, _ := actors.ParseOverflowPolicy(a.OverflowPolicy) // valid: config.Validate checked it
	opts := []actors.Option{
		actors.WithDefaults(actors.Config{
			MailboxSize:     a.MessageQueueSize,
			Overflow:        policy,
			BlockTimeout:    a.BlockTimeout,
			ShutdownTimeout: a.ShutdownTimeout,
			MaxRestarts:     a.MaxRestarts,
			RestartWindow:   a.RestartWindow,
			BackoffMin:      a.BackoffMin,
			BackoffMax:      a.BackoffMax,
		}),
		actors.WithLogger(s.logger),
	}
	// Per-message metrics cost a clock read and a histogram update; pay
	// them only when someone can see the result.
	if s.tel.MetricsEnabled() {
		opts = append(opts, actors.WithMeterProvider(s.tel.MeterProvider()))
	}
	s.actorSystem = actors.NewSystem(opts...)
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

// actorSubsystem runs the actor system inside the service's lifecycle. It is
// the last subsystem, so actors start after the stores they may use and stop
// before them.
type actorSubsystem struct{ s *Service }

func (a actorSubsystem) Name() string { return "actors" }

// Start spawns the WithActor actors in order, then the components, which
// may message them from their init.
func (a actorSubsystem) Start(ctx context.Context) error {
	for _, spec := range a.s.opts.actors {
		if _, err := a.s.actorSystem.Spawn(spec.name, spec.producer, spec.opts...); err != nil {
			return fmt.Errorf("spawning actor %q: %w", spec.name, err)
		}
	}
	return a.s.spawnComponents(ctx)
}

// Stop shuts the system down: actors stop in reverse spawn order, draining
// their mailboxes, within actors.shutdown_timeout; what is left becomes dead
// letters.
func (a actorSubsystem) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.s.cfg.Actors.ShutdownTimeout)
	defer cancel()
	defer a.s.closeComponents(ctx)
	if err := a.s.actorSystem.Shutdown(ctx); err != nil {
		return fmt.Errorf("within actors.shutdown_timeout (%s): %w", a.s.cfg.Actors.ShutdownTimeout, err)
	}
	return nil
}
