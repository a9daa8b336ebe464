package telemetry

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

// Attribute keys of Troupe's own metrics. Keys that semantic conventions
// define (http.route, server.address) use those names.
const (
	keyRoute          = attribute.Key("http.route")
	keyServerAddress  = attribute.Key("server.address")
	keyDecision       = attribute.Key("troupe.decision")
	keyRateLimitKind  = attribute.Key("troupe.ratelimit.key_kind")
	keyRateLimitStore = attribute.Key("troupe.ratelimit.store")
	keyBreakerName    = attribute.Key("troupe.breaker.name")
	keyBreakerKind    = attribute.Key("troupe.breaker.kind")
	keyBreakerFrom    = attribute.Key("troupe.breaker.from")
	keyBreakerTo      = attribute.Key("troupe.breaker.to")
	keyBulkheadName   = attribute.Key("troupe.bulkhead.name")
	keyAuthnResult    = attribute.Key("troupe.authn.result")
	keyAuthCache      = attribute.Key("troupe.auth.cache")
	keyCacheResult    = attribute.Key("troupe.cache.result")
	keyActorKind      = attribute.Key("troupe.actor.kind")
	keyOverflowPolicy = attribute.Key("troupe.actor.overflow_policy")
	keyDeadLetter     = attribute.Key("troupe.dead_letter.reason")
	keyRetry          = attribute.Key("troupe.retry")
	keyComponent      = attribute.Key("troupe.component")
	keyCapability     = attribute.Key("troupe.capability.kind")
	keyKillReason     = attribute.Key("troupe.component.reason")
	keyReloadResult   = attribute.Key("troupe.component.result")
)

// maxCachedSets bounds each attrCache. Labels are bounded by construction
// (route templates, configured names, enums), so the bound only guards
// against a caller passing raw input by mistake: past it, recording still
// works, it just allocates.
const maxCachedSets = 10_000

// measureOpts are the prebuilt options that attach one attribute set to a
// measurement. Keeping them as slices lets a recording pass them with
// opts... so the variadic call allocates nothing.
type measureOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
	obs []metric.ObserveOption
}

func newMeasureOpts(attrs ...attribute.KeyValue) *measureOpts {
	o := metric.WithAttributeSet(attribute.NewSet(attrs...))
	return &measureOpts{add: []metric.AddOption{o}, rec: []metric.RecordOption{o}, obs: []metric.ObserveOption{o}}
}

// attrCache maps a label tuple to its prebuilt options. A map under an
// RWMutex rather than a sync.Map: converting a struct key to the `any` that
// sync.Map takes would allocate on every lookup.
type attrCache[K comparable] struct {
	build func(K) []attribute.KeyValue

	mu sync.RWMutex
	m  map[K]*measureOpts
}

func newAttrCache[K comparable](build func(K) []attribute.KeyValue) *attrCache[K] {
	return &attrCache[K]{build: build, m: make(map[K]*measureOpts)}
}

// get returns the options for k, building and caching them on first use.
func (c *attrCache[K]) get(k K) *measureOpts {
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

// newMeter returns Troupe's meter from mp, or a noop meter for a nil mp.
func newMeter(mp metric.MeterProvider) metric.Meter {
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	return mp.Meter(ScopeName, metric.WithInstrumentationVersion(ScopeVersion))
}

// decision names the outcome of an allow/deny check with the given words.
func decision(allowed bool, yes, no string) string {
	if allowed {
		return yes
	}
	return no
}
