package telemetry

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

// Attribute keys of Troupe's own metrics. Keys that semantic conventions
// define (http.route, server.address) use those names. They are exported
// for the instruments that live beside their subsystems (resilience/
// metrics.go and the like): like the metric names in names.go, the keys
// stay in one table, which docs/observability.md and the dashboards follow.
const (
	KeyRoute          = attribute.Key("http.route")
	KeyServerAddress  = attribute.Key("server.address")
	KeyDecision       = attribute.Key("troupe.decision")
	KeyRateLimitKind  = attribute.Key("troupe.ratelimit.key_kind")
	KeyRateLimitStore = attribute.Key("troupe.ratelimit.store")
	KeyBreakerName    = attribute.Key("troupe.breaker.name")
	KeyBreakerKind    = attribute.Key("troupe.breaker.kind")
	KeyBreakerFrom    = attribute.Key("troupe.breaker.from")
	KeyBreakerTo      = attribute.Key("troupe.breaker.to")
	KeyBulkheadName   = attribute.Key("troupe.bulkhead.name")
	KeyAuthnResult    = attribute.Key("troupe.authn.result")
	KeyAuthCache      = attribute.Key("troupe.auth.cache")
	KeyCacheResult    = attribute.Key("troupe.cache.result")
	KeyActorKind      = attribute.Key("troupe.actor.kind")
	KeyOverflowPolicy = attribute.Key("troupe.actor.overflow_policy")
	KeyDeadLetter     = attribute.Key("troupe.dead_letter.reason")
	KeyRemoteOp       = attribute.Key("troupe.remote.operation")
	KeyRemoteOutcome  = attribute.Key("troupe.remote.outcome")
	KeyRetry          = attribute.Key("troupe.retry")
	KeyComponent      = attribute.Key("troupe.component")
	KeyCapability     = attribute.Key("troupe.capability.kind")
	KeyKillReason     = attribute.Key("troupe.component.reason")
	KeyReloadResult   = attribute.Key("troupe.component.result")
	KeyInspectKind    = attribute.Key("troupe.inspect.kind")
	KeyNATSDirection  = attribute.Key("troupe.nats.direction")
	KeyNATSError      = attribute.Key("troupe.nats.error")

	KeyRealtimeTransport   = attribute.Key("troupe.realtime.transport")
	KeyRealtimeOutcome     = attribute.Key("troupe.realtime.outcome")
	KeyRealtimeDirection   = attribute.Key("troupe.realtime.direction")
	KeyRealtimeCloseReason = attribute.Key("troupe.realtime.close_reason")
)

// maxCachedSets bounds each AttrCache. Labels are bounded by construction
// (route templates, configured names, enums), so the bound only guards
// against a caller passing raw input by mistake: past it, recording still
// works, it just allocates.
const maxCachedSets = 10_000

// MeasureOpts are the prebuilt options that attach one attribute set to a
// measurement. Keeping them as slices lets a recording pass them with
// opts... so the variadic call allocates nothing.
type MeasureOpts struct {
	// Add is for counters and up-down counters: c.Add(ctx, n, o.Add...).
	Add []metric.AddOption
	// Rec is for histograms and gauges: h.Record(ctx, v, o.Rec...).
	Rec []metric.RecordOption
	// Obs is for the callbacks of observable instruments.
	Obs []metric.ObserveOption
}

func newMeasureOpts(attrs ...attribute.KeyValue) *MeasureOpts {
	o := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return &MeasureOpts{Add: []metric.AddOption{o}, Rec: []metric.RecordOption{o}, Obs: []metric.ObserveOption{o}}
}

// AttrCache maps a label tuple to its prebuilt options. A map under an
// RWMutex rather than a sync.Map: converting a struct key to the `any` that
// sync.Map takes would allocate on every lookup.
type AttrCache[K comparable] struct {
	build func(K) []attribute.KeyValue

	mu sync.RWMutex
	m  map[K]*MeasureOpts
}

// NewAttrCache returns an AttrCache that builds the attributes of a label
// tuple it has not seen with build.
func NewAttrCache[K comparable](build func(K) []attribute.KeyValue) *AttrCache[K] {
	return &AttrCache[K]{build: build, m: make(map[K]*MeasureOpts)}
}

// Get returns the options for k, building and caching them on first use.
func (c *AttrCache[K]) Get(k K) *MeasureOpts {
	c.mu.RLock()
	o, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return o
	}
	o = newMeasureOpts(c.build(k)...)
	c.mu.Lock()
	if prev, ok := c.m[k]; ok {
		o = prev
	} else if len(c.m) < maxCachedSets {
		c.m[k] = o
	}
	c.mu.Unlock()
	return o
}

// Meter returns Troupe's meter from mp, or a noop meter for a nil mp, so
// that every subsystem's instruments share one instrumentation scope.
func Meter(mp metric.MeterProvider) metric.Meter {
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	return mp.Meter(ScopeName, metric.WithInstrumentationVersion(ScopeVersion))
}
