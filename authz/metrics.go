package authz

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/troupehq/troupe/internal/telemetry"
)

// authzBuckets resolve authorization latency, which is a cached or in-memory
// policy evaluation and so far below the request-duration buckets' first
// boundary (5 ms).
var authzBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1}

// metrics records authentication outcomes, authorization decisions and
// cache lookups. A nil *metrics records nothing, which is what a config
// without a MeterProvider gets: the hot path then pays one nil check.
//
// The counters are telemetry.Counters: every request bumps three of them
// (authentication, a cache lookup, a decision), which as synchronous SDK
// counters cost ~1 µs a request under load. The decision's duration is a
// telemetry.Histogram for the same reason (~0.35 µs a synchronous Record).
type metrics struct {
	authn     *telemetry.Counter[string]
	decisions *telemetry.Counter[decisionLabels]
	duration  *telemetry.Histogram[string, float64]
	cache     *telemetry.Counter[cacheLabels]
}

type decisionLabels struct {
	route   string
	allowed bool
}

type cacheLabels struct {
	cache string
	hit   bool
}

// newMetrics builds the instruments from mp; a nil or noop mp gives nil.
// Building
// them once per Verifier, Authorizer and Authenticate stage is fine: the SDK
// returns the same instrument for the same name and options.
func newMetrics(mp metric.MeterProvider) *metrics {
	if _, noop := mp.(metricnoop.MeterProvider); noop || mp == nil {
		return nil
	}
	m := telemetry.Meter(mp)
	authn, _ := telemetry.NewCounter(m, telemetry.CounterSpec{Name: telemetry.MetricAuthnResults,
		Description: "Authentication outcomes.", Unit: "{result}"},
		func(result string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyAuthnResult.String(result)}
		})
	decisions, _ := telemetry.NewCounter(m, telemetry.CounterSpec{Name: telemetry.MetricAuthzDecisions,
		Description: "Authorization decisions.", Unit: "{decision}"},
		func(k decisionLabels) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyRoute.String(k.route), telemetry.KeyDecision.String(either(k.allowed, "allow", "deny"))}
		})
	duration, _ := telemetry.NewHistogram[string, float64](m, telemetry.HistogramSpec{Name: telemetry.MetricAuthzDuration,
		Description: "Time taken by one authorization decision.", Unit: "s", Boundaries: authzBuckets},
		func(route string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyRoute.String(route)}
		})
	cache, _ := telemetry.NewCounter(m, telemetry.CounterSpec{Name: telemetry.MetricAuthCacheLookups,
		Description: "Lookups in the verified-token and decision caches.", Unit: "{lookup}"},
		func(k cacheLabels) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyAuthCache.String(k.cache), telemetry.KeyCacheResult.String(either(k.hit, "hit", "miss"))}
		})
	return &metrics{authn: authn, decisions: decisions, duration: duration, cache: cache}
}

// authentication counts one authentication outcome: ok, missing, invalid or
// unavailable.
func (m *metrics) authentication(result string) {
	if m == nil {
		return
	}
	m.authn.Add(result, 1)
}

// decision records one authorization decision for route (the template) and
// how long it took. The duration is labelled by route alone: allow and deny
// cost the same evaluation, and splitting would double the histogram series.
func (m *metrics) decision(ctx context.Context, route string, allowed bool, d time.Duration) {
	if m == nil {
		return
	}
	m.decisions.Add(decisionLabels{route, allowed}, 1)
	m.duration.Record(ctx, route, d.Seconds())
}

// cacheLookup counts one lookup in cache ("token" or "decision"), a hit or
// a miss, so operators can size auth.jwt.cache_size and
// auth.cedar.cache_size from the hit ratio.
func (m *metrics) cacheLookup(cache string, hit bool) {
	if m == nil {
		return
	}
	m.cache.Add(cacheLabels{cache, hit}, 1)
}

// either returns yes when cond holds, else no.
func either(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
