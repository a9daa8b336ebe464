package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The instrument sets below take the public metric.MeterProvider, so the
// subsystems that use them never import the SDK. Each is safe on a nil
// receiver and built from a nil provider, both meaning "record nothing".
//
// Instrument constructors fail only for invalid names or units; ours are
// constants that TestInstrumentsRecord exercises against the SDK, which
// returns a working instrument even alongside an error. So errors are
// deliberately ignored below.

// RateLimitMetrics records the rate limiter's decisions and store failures.
type RateLimitMetrics struct {
	decisions   metric.Int64Counter
	storeErrors metric.Int64Counter
	decisionSet *AttrCache[rateLimitKey]
	storeSet    *AttrCache[string]
}

type rateLimitKey struct {
	route, keyKind, store string
	allowed               bool
}

// NewRateLimitMetrics creates the rate limiter's instruments from mp.
func NewRateLimitMetrics(mp metric.MeterProvider) *RateLimitMetrics {
	m := Meter(mp)
	decisions, _ := m.Int64Counter(MetricRateLimitDecisions,
		metric.WithDescription("Rate-limit decisions."), metric.WithUnit("{decision}"))
	storeErrors, _ := m.Int64Counter(MetricRateLimitStoreErrors,
		metric.WithDescription("Failed calls to a rate-limit store."), metric.WithUnit("{error}"))
	return &RateLimitMetrics{
		decisions:   decisions,
		storeErrors: storeErrors,
		decisionSet: NewAttrCache(func(k rateLimitKey) []attribute.KeyValue {
			return []attribute.KeyValue{
				KeyRoute.String(k.route), KeyRateLimitKind.String(k.keyKind),
				KeyRateLimitStore.String(k.store), KeyDecision.String(decision(k.allowed, "allowed", "rejected")),
			}
		}),
		storeSet: NewAttrCache(func(store string) []attribute.KeyValue {
			return []attribute.KeyValue{KeyRateLimitStore.String(store)}
		}),
	}
}

// Decision counts one decision for route (the template), keyed by keyKind
// (user, client, ip, route) in store (memory, redis).
func (m *RateLimitMetrics) Decision(ctx context.Context, route, keyKind, store string, allowed bool) {
	if m == nil {
		return
	}
	m.decisions.Add(ctx, 1, m.decisionSet.Get(rateLimitKey{route, keyKind, store, allowed}).Add...)
}

// StoreError counts one failed call to store.
func (m *RateLimitMetrics) StoreError(ctx context.Context, store string) {
	if m == nil {
		return
	}
	m.storeErrors.Add(ctx, 1, m.storeSet.Get(store).Add...)
}

// BreakerMetrics records circuit-breaker transitions, state and rejections.
type BreakerMetrics struct {
	transitions   metric.Int64Counter
	state         metric.Int64Gauge
	rejections    metric.Int64Counter
	transitionSet *AttrCache[breakerTransition]
	breakerSet    *AttrCache[breakerID]
}

type breakerID struct{ name, kind string }

type breakerTransition struct {
	breakerID
	from, to string
}

// breakerStates maps gobreaker's state names to troupe.breaker.state values.
var breakerStates = map[string]int64{"closed": 0, "half-open": 1, "open": 2}

// NewBreakerMetrics creates the circuit breakers' instruments from mp.
func NewBreakerMetrics(mp metric.MeterProvider) *BreakerMetrics {
	m := Meter(mp)
	transitions, _ := m.Int64Counter(MetricBreakerTransitions,
		metric.WithDescription("Circuit-breaker state changes."), metric.WithUnit("{transition}"))
	state, _ := m.Int64Gauge(MetricBreakerState,
		metric.WithDescription("Circuit-breaker state: 0 closed, 1 half-open, 2 open."), metric.WithUnit("{state}"))
	rejections, _ := m.Int64Counter(MetricBreakerRejections,
		metric.WithDescription("Requests an open or half-open circuit breaker refused."), metric.WithUnit("{request}"))
	return &BreakerMetrics{
		transitions: transitions,
		state:       state,
		rejections:  rejections,
		transitionSet: NewAttrCache(func(k breakerTransition) []attribute.KeyValue {
			return []attribute.KeyValue{
				KeyBreakerName.String(k.name), KeyBreakerKind.String(k.kind),
				KeyBreakerFrom.String(k.from), KeyBreakerTo.String(k.to),
			}
		}),
		breakerSet: NewAttrCache(func(k breakerID) []attribute.KeyValue {
			return []attribute.KeyValue{KeyBreakerName.String(k.name), KeyBreakerKind.String(k.kind)}
		}),
	}
}

// StateChange counts a transition of breaker name (kind inbound or outbound)
// and sets its state gauge to the new state. States are gobreaker's names:
// closed, half-open, open; an unknown one is counted but leaves the gauge.
func (m *BreakerMetrics) StateChange(ctx context.Context, name, kind, from, to string) {
	if m == nil {
		return
	}
	id := breakerID{name, kind}
	m.transitions.Add(ctx, 1, m.transitionSet.Get(breakerTransition{id, from, to}).Add...)
	if v, ok := breakerStates[to]; ok {
		m.state.Record(ctx, v, m.breakerSet.Get(id).Rec...)
	}
}

// Rejected counts one call that breaker name refused.
func (m *BreakerMetrics) Rejected(ctx context.Context, name, kind string) {
	if m == nil {
		return
	}
	m.rejections.Add(ctx, 1, m.breakerSet.Get(breakerID{name, kind}).Add...)
}

// BulkheadMetrics records bulkhead waits, occupancy and rejections.
type BulkheadMetrics struct {
	queue      metric.Float64Histogram
	inFlight   metric.Int64UpDownCounter
	rejections metric.Int64Counter
	nameSet    *AttrCache[string]
}

// NewBulkheadMetrics creates the bulkheads' instruments from mp.
func NewBulkheadMetrics(mp metric.MeterProvider) *BulkheadMetrics {
	m := Meter(mp)
	queue, _ := m.Float64Histogram(MetricBulkheadQueueDuration,
		metric.WithDescription("Time a request waited for a bulkhead slot."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(DurationBuckets...))
	inFlight, _ := m.Int64UpDownCounter(MetricBulkheadInFlight,
		metric.WithDescription("Requests holding a bulkhead slot."), metric.WithUnit("{request}"))
	rejections, _ := m.Int64Counter(MetricBulkheadRejections,
		metric.WithDescription("Requests a full bulkhead refused."), metric.WithUnit("{request}"))
	return &BulkheadMetrics{
		queue: queue, inFlight: inFlight, rejections: rejections,
		nameSet: NewAttrCache(func(name string) []attribute.KeyValue {
			return []attribute.KeyValue{KeyBulkheadName.String(name)}
		}),
	}
}

// Acquired records that a call took a slot of bulkhead name after waiting.
// Pair it with Released.
func (m *BulkheadMetrics) Acquired(ctx context.Context, name string, wait time.Duration) {
	if m == nil {
		return
	}
	o := m.nameSet.Get(name)
	m.queue.Record(ctx, wait.Seconds(), o.Rec...)
	m.inFlight.Add(ctx, 1, o.Add...)
}

// Released records that a call gave its slot of bulkhead name back.
func (m *BulkheadMetrics) Released(ctx context.Context, name string) {
	if m == nil {
		return
	}
	m.inFlight.Add(ctx, -1, m.nameSet.Get(name).Add...)
}

// Rejected counts one call that bulkhead name refused.
func (m *BulkheadMetrics) Rejected(ctx context.Context, name string) {
	if m == nil {
		return
	}
	m.rejections.Add(ctx, 1, m.nameSet.Get(name).Add...)
}

// SheddingMetrics records the adaptive load shedder's limit and rejections.
type SheddingMetrics struct {
	rejections metric.Int64Counter
	limit      metric.Int64Gauge
	routeSet   *AttrCache[string]
}

// NewSheddingMetrics creates the load shedder's instruments from mp.
func NewSheddingMetrics(mp metric.MeterProvider) *SheddingMetrics {
	m := Meter(mp)
	rejections, _ := m.Int64Counter(MetricSheddingRejections,
		metric.WithDescription("Requests refused by the load shedder."), metric.WithUnit("{request}"))
	limit, _ := m.Int64Gauge(MetricSheddingLimit,
		metric.WithDescription("The load shedder's current concurrency limit."), metric.WithUnit("{request}"))
	return &SheddingMetrics{
		rejections: rejections, limit: limit,
		routeSet: NewAttrCache(func(route string) []attribute.KeyValue {
			return []attribute.KeyValue{KeyRoute.String(route)}
		}),
	}
}

// Rejected counts one request to route (the template) that was shed.
func (m *SheddingMetrics) Rejected(ctx context.Context, route string) {
	if m == nil {
		return
	}
	m.rejections.Add(ctx, 1, m.routeSet.Get(route).Add...)
}

// Limit records the shedder's new concurrency limit.
func (m *SheddingMetrics) Limit(ctx context.Context, limit int) {
	if m == nil {
		return
	}
	m.limit.Record(ctx, int64(limit))
}

// RetryMetrics records outbound attempts and retry-budget exhaustion.
type RetryMetrics struct {
	attempts   metric.Int64Counter
	exhausted  metric.Int64Counter
	attemptSet *AttrCache[retryKey]
	hostSet    *AttrCache[string]
}

type retryKey struct {
	host  string
	retry bool
}

// NewRetryMetrics creates the retrying client's instruments from mp.
func NewRetryMetrics(mp metric.MeterProvider) *RetryMetrics {
	m := Meter(mp)
	attempts, _ := m.Int64Counter(MetricClientRetries,
		metric.WithDescription("Outbound attempts, first ones and retries."), metric.WithUnit("{attempt}"))
	exhausted, _ := m.Int64Counter(MetricClientRetryBudgetExhausted,
		metric.WithDescription("Retries skipped because the retry budget was spent."), metric.WithUnit("{event}"))
	return &RetryMetrics{
		attempts: attempts, exhausted: exhausted,
		attemptSet: NewAttrCache(func(k retryKey) []attribute.KeyValue {
			return []attribute.KeyValue{KeyServerAddress.String(k.host), KeyRetry.Bool(k.retry)}
		}),
		hostSet: NewAttrCache(func(host string) []attribute.KeyValue {
			return []attribute.KeyValue{KeyServerAddress.String(host)}
		}),
	}
}

// Attempt counts one outbound attempt to host; retry says whether it
// repeats an earlier one, so the retry share per host is
// retries{troupe.retry=true} / retries.
func (m *RetryMetrics) Attempt(ctx context.Context, host string, retry bool) {
	if m == nil {
		return
	}
	m.attempts.Add(ctx, 1, m.attemptSet.Get(retryKey{host, retry}).Add...)
}

// BudgetExhausted counts one retry to host that the retry budget forbade.
func (m *RetryMetrics) BudgetExhausted(ctx context.Context, host string) {
	if m == nil {
		return
	}
	m.exhausted.Add(ctx, 1, m.hostSet.Get(host).Add...)
}
