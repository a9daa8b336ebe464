package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The instruments of a subsystem live beside the package that records them
// (authz/metrics.go), built from the public metric.MeterProvider its config
// takes. What they share stays here, exported under these names: the
// attribute keys, the meter with Troupe's scope, and the attribute caches
// that keep a recording allocation-free.

// Attribute keys used by instruments outside this package.
const (
	// KeyRoute is the semantic-convention route template attribute.
	KeyRoute = keyRoute
	// KeyDecision labels an allow/deny outcome.
	KeyDecision = keyDecision
	// KeyAuthnResult labels an authentication outcome.
	KeyAuthnResult = keyAuthnResult
	// KeyAuthCache names the auth cache of a lookup: token or decision.
	KeyAuthCache = keyAuthCache
	// KeyCacheResult labels a cache lookup: hit or miss.
	KeyCacheResult = keyCacheResult
)

// Meter returns Troupe's meter from mp, or a noop meter for a nil mp.
func Meter(mp metric.MeterProvider) metric.Meter { return newMeter(mp) }

// AttrCache maps a label tuple to prebuilt measurement options, so that
// recording a measurement with attributes allocates nothing after the
// tuple's first use. It is safe for concurrent use.
type AttrCache[K comparable] = attrCache[K]

// NewAttrCache returns an AttrCache that builds a tuple's attributes with
// build on its first use.
func NewAttrCache[K comparable](build func(K) []attribute.KeyValue) *AttrCache[K] {
	return newAttrCache(build)
}

// Get returns the options for k, building and caching them on first use.
func (c *attrCache[K]) Get(k K) *MeasureOpts { return c.get(k) }

// MeasureOpts attach one attribute set to a measurement.
type MeasureOpts = measureOpts

// Add returns the options for a counter's Add, to pass as opts...
func (o *measureOpts) Add() []metric.AddOption { return o.add }

// Record returns the options for a histogram's Record, to pass as opts...
func (o *measureOpts) Record() []metric.RecordOption { return o.rec }
