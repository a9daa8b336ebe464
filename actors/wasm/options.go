package wasm

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/internal/fielderr"
)

// defaultLimit is the default of each Limits field: 1 MiB.
const defaultLimit = 1 << 20

// RuntimeOptions configure a Runtime. Only System is required. Start from
// DefaultRuntimeOptions, the defaults of a service's [actors.components]
// section, and change what differs. A zero field means what a zero means
// in that section: no warm instances, no hot reload, no dev builds. Only
// the fields whose comment names a default for nil or 0 get it.
type RuntimeOptions struct {
	// System runs the component actors and carries their messages.
	System *actors.System
	// CacheDir holds wazero's file-backed compilation cache, so a module is
	// compiled once per module per machine, and dev builds (in
	// CacheDir/build). "" keeps the cache in memory: once per process.
	CacheDir string
	// Logger receives the runtime's and the components' records
	// (nil: slog.Default()).
	Logger *slog.Logger
	// MeterProvider records component metrics (nil: no metrics).
	MeterProvider metric.MeterProvider
	// TracerProvider makes a span for every message a component with
	// monitoring.enable_tracing handles (nil: no spans).
	TracerProvider trace.TracerProvider
	// Store is the KV backend of the kv_* host calls
	// (nil: an in-memory store).
	Store state.Store
	// HTTPClient is the base client of http_fetch, which wraps it with the
	// component's network grants (nil: a client with sane timeouts).
	HTTPClient *http.Client
	// Limits bound what crosses the host boundary; zero fields are 1 MiB.
	Limits Limits
	// MaxMemoryMB caps runtime.max_memory_mb, at most the MaxMemoryMB
	// constant: a manifest asking more fails to load (0: 512).
	MaxMemoryMB int
	// WarmInstances is how many instantiated, _initialize'd, idle
	// instances each component keeps ready, so an actor's start or restart
	// takes one instead of instantiating (0: none).
	WarmInstances int
	// BuildMissing builds a component whose module is missing from the Go
	// sources beside its manifest (dev mode). Otherwise a missing module is
	// a Load error naming its path.
	BuildMissing bool
	// ReloadInterval, when positive, polls each component's manifest and
	// module and hot-reloads it on change (0: off).
	ReloadInterval time.Duration
}

// DefaultRuntimeOptions returns the defaults, those of a service's
// [actors.components] section: a 512 MiB memory cap, 1 MiB messages and
// replies, one warm instance per component, dev builds of missing modules,
// and a hot-reload poll every 2 s. System is left for the caller to set.
func DefaultRuntimeOptions() RuntimeOptions {
	return RuntimeOptions{
		Limits:         Limits{MaxMessageBytes: defaultLimit, MaxReplyBytes: defaultLimit},
		MaxMemoryMB:    512,
		WarmInstances:  1,
		BuildMissing:   true,
		ReloadInterval: 2 * time.Second,
	}
}

// Validate reports every problem of o as written, each a *fielderr.Error
// naming the field: no System, a memory cap outside 1 to the MaxMemoryMB
// constant, a limit under one byte, or a negative warm pool or reload
// interval. A zero that NewRuntime would fill is a problem here.
func (o RuntimeOptions) Validate() error {
	var errs []error
	if o.System == nil {
		errs = append(errs, fielderr.New("System", "is required"))
	}
	switch {
	case o.MaxMemoryMB < 1:
		errs = append(errs, fielderr.New("MaxMemoryMB", "must be at least 1, got %d", o.MaxMemoryMB))
	case o.MaxMemoryMB > MaxMemoryMB:
		errs = append(errs, fielderr.New("MaxMemoryMB", "must be at most %d (the wasm32 address space), got %d", MaxMemoryMB, o.MaxMemoryMB))
	}
	errs = append(errs, fielderr.Prefix("Limits", o.Limits.validate()))
	if o.WarmInstances < 0 {
		errs = append(errs, fielderr.New("WarmInstances", "must be at least 0, got %d", o.WarmInstances))
	}
	if o.ReloadInterval < 0 {
		errs = append(errs, fielderr.New("ReloadInterval", "must not be negative, got %s", o.ReloadInterval))
	}
	return errors.Join(errs...)
}

// validate reports limits under one byte.
func (l Limits) validate() error {
	var errs []error
	if l.MaxMessageBytes < 1 {
		errs = append(errs, fielderr.New("MaxMessageBytes", "must be at least 1, got %d", l.MaxMessageBytes))
	}
	if l.MaxReplyBytes < 1 {
		errs = append(errs, fielderr.New("MaxReplyBytes", "must be at least 1, got %d", l.MaxReplyBytes))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields that cannot mean "none".
func (o RuntimeOptions) withDefaults() RuntimeOptions {
	d := DefaultRuntimeOptions()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Store == nil {
		o.Store = state.NewMemory(0)
	}
	if o.Limits.MaxMessageBytes == 0 {
		o.Limits.MaxMessageBytes = d.Limits.MaxMessageBytes
	}
	if o.Limits.MaxReplyBytes == 0 {
		o.Limits.MaxReplyBytes = d.Limits.MaxReplyBytes
	}
	if o.MaxMemoryMB == 0 {
		o.MaxMemoryMB = d.MaxMemoryMB
	}
	return o
}
