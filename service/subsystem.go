package service

import "context"

// Subsystem is a part of a service with a lifecycle the service drives: built
// and validated in New, started in Run, stopped during shutdown. It follows
// the same small-interface pattern as net/http's Handler so that actors,
// stores and background workers plug in the same way.
type Subsystem interface {
	// Name identifies the subsystem in logs and errors.
	Name() string
	// Start begins the subsystem's work. It must return promptly; long-running
	// work belongs in goroutines that Stop ends. An error aborts start-up.
	Start(ctx context.Context) error
	// Stop ends the subsystem's work, finishing what is in flight until ctx
	// is done.
	Stop(ctx context.Context) error
}
