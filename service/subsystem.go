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

// HealthCheck is a check a subsystem contributes to the service's probes.
type HealthCheck struct {
	// Name identifies the check in the admin listener's health details.
	Name string
	// Check reports the subsystem's health; nil means healthy.
	Check CheckFunc
	// Liveness puts the check on /livez instead of /readyz.
	Liveness bool
	// Optional makes a failure report "warn" instead of "fail".
	Optional bool
}

// HealthReporter is implemented by a Subsystem that contributes health
// checks. The service registers them in New, next to the application's own,
// with the subsystem's name as a prefix ("store:redis").
type HealthReporter interface {
	HealthChecks() []HealthCheck
}
