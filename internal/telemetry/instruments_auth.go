package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// authzBuckets resolve authorization latency, which is a cached or in-memory
// policy evaluation and so far below DurationBuckets' first boundary.
var authzBuckets = []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1}

// AuthMetrics records authentication outcomes and authorization decisions.
type AuthMetrics struct {
	authn       metric.Int64Counter
	decisions   metric.Int64Counter
	duration    metric.Float64Histogram
	resultSet   *AttrCache[string]
	decisionSet *AttrCache[authzKey]
	routeSet    *AttrCache[string]
	cache       metric.Int64Counter
	cacheSet    *AttrCache[cacheKey]
}

type cacheKey struct {
	cache string
	hit   bool
}

type authzKey struct {
	route   string
	allowed bool
}

// NewAuthMetrics creates authentication and authorization instruments from mp.
func NewAuthMetrics(mp metric.MeterProvider) *AuthMetrics {
	m := Meter(mp)
	authn, _ := m.Int64Counter(MetricAuthnResults,
		metric.WithDescription("Authentication outcomes."), metric.WithUnit("{result}"))
	decisions, _ := m.Int64Counter(MetricAuthzDecisions,
		metric.WithDescription("Authorization decisions."), metric.WithUnit("{decision}"))
	duration, _ := m.Float64Histogram(MetricAuthzDuration,
		metric.WithDescription("Time taken by one authorization decision."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(authzBuckets...))
	cache, _ := m.Int64Counter(MetricAuthCacheLookups,
		metric.WithDescription("Lookups in the verified-token and decision caches."), metric.WithUnit("{lookup}"))
	return &AuthMetrics{
		authn: authn, decisions: decisions, duration: duration, cache: cache,
		cacheSet: NewAttrCache(func(k cacheKey) []attribute.KeyValue {
			return []attribute.KeyValue{KeyAuthCache.String(k.cache), KeyCacheResult.String(decision(k.hit, "hit", "miss"))}
		}),
		resultSet: NewAttrCache(func(result string) []attribute.KeyValue {
			return []attribute.KeyValue{KeyAuthnResult.String(result)}
		}),
		decisionSet: NewAttrCache(func(k authzKey) []attribute.KeyValue {
			return []attribute.KeyValue{KeyRoute.String(k.route), KeyDecision.String(decision(k.allowed, "allow", "deny"))}
		}),
		routeSet: NewAttrCache(func(route string) []attribute.KeyValue {
			return []attribute.KeyValue{KeyRoute.String(route)}
		}),
	}
}

// Authentication counts one authentication outcome: ok, missing or invalid.
func (m *AuthMetrics) Authentication(ctx context.Context, result string) {
	if m == nil {
		return
	}
	m.authn.Add(ctx, 1, m.resultSet.Get(result).Add...)
}

// Decision records one authorization decision for route (the template) and
// how long it took. The duration is labelled by route alone: allow and deny
// cost the same evaluation, and splitting would double the histogram series.
func (m *AuthMetrics) Decision(ctx context.Context, route string, allowed bool, d time.Duration) {
	if m == nil {
		return
	}
	m.decisions.Add(ctx, 1, m.decisionSet.Get(authzKey{route, allowed}).Add...)
	m.duration.Record(ctx, d.Seconds(), m.routeSet.Get(route).Rec...)
}

// CacheLookup counts one lookup in cache ("token" or "decision"), a hit or
// a miss, so operators can size auth.jwt.cache_size and
// auth.cedar.cache_size from the hit ratio.
func (m *AuthMetrics) CacheLookup(ctx context.Context, cache string, hit bool) {
	if m == nil {
		return
	}
	m.cache.Add(ctx, 1, m.cacheSet.Get(cacheKey{cache, hit}).Add...)
}
