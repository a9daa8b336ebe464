package resilience

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/telemetry"
)

// The instrument sets below are built from the public metric.MeterProvider a
// Config carries. A nil provider builds a nil set, and every method is safe
// on a nil receiver and returns at once: with metrics off a stage pays not
// even an attribute lookup. A warm recording allocates nothing (the
// attribute sets are prebuilt, see telemetry.AttrCache). Names and attribute
// keys come from internal/telemetry, the one table the docs and dashboards
// follow.
//
// Instrument constructors fail only for invalid names or units; ours are
// constants that TestInstrumentsRecord exercises against the SDK, which
// returns a working instrument even alongside an error. So errors are
// deliberately ignored below.

// rateLimitMetrics records the rate limiter's decisions and store failures.
// Decisions are a telemetry.Counter: a request takes up to three (per IP,
// user and client), which as synchronous SDK counters cost ~1 µs a request
// under load.
type rateLimitMetrics struct {
	decisions   *telemetry.Counter[rateLimitKey]
	storeErrors metric.Int64Counter
	storeSet    *telemetry.AttrCache[string]
}

type rateLimitKey struct {
	route, keyKind, store string
	allowed               bool
}

func newRateLimitMetrics(mp metric.MeterProvider) *rateLimitMetrics {
	if mp == nil {
		return nil
	}
	m := telemetry.Meter(mp)
	decisions, _ := telemetry.NewCounter(m, telemetry.CounterSpec{Name: telemetry.MetricRateLimitDecisions,
		Description: "Rate-limit decisions.", Unit: "{decision}"},
		func(k rateLimitKey) []attribute.KeyValue {
			verdict := "rejected"
			if k.allowed {
				verdict = "allowed"
			}
			return []attribute.KeyValue{
				telemetry.KeyRoute.String(k.route), telemetry.KeyRateLimitKind.String(k.keyKind),
				telemetry.KeyRateLimitStore.String(k.store), telemetry.KeyDecision.String(verdict),
			}
		})
	storeErrors, _ := m.Int64Counter(telemetry.MetricRateLimitStoreErrors,
		metric.WithDescription("Failed calls to a rate-limit store."), metric.WithUnit("{error}"))
	return &rateLimitMetrics{
		decisions:   decisions,
		storeErrors: storeErrors,
		storeSet: telemetry.NewAttrCache(func(store string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyRateLimitStore.String(store)}
		}),
	}
}

// decision counts one decision for route (the template), keyed by keyKind
// (user, client, ip, global) in store (memory, redis).
func (m *rateLimitMetrics) decision(route, keyKind, store string, allowed bool) {
	if m == nil {
		return
	}
	m.decisions.Add(rateLimitKey{route, keyKind, store, allowed}, 1)
}

// storeError counts one failed call to store.
func (m *rateLimitMetrics) storeError(ctx context.Context, store string) {
	if m == nil {
		return
	}
	m.storeErrors.Add(ctx, 1, m.storeSet.Get(store).Add...)
}

// breakerMetrics records circuit-breaker transitions, state and rejections.
type breakerMetrics struct {
	transitions   metric.Int64Counter
	state         metric.Int64Gauge
	rejections    metric.Int64Counter
	transitionSet *telemetry.AttrCache[breakerTransition]
	breakerSet    *telemetry.AttrCache[breakerID]
}

type breakerID struct{ name, kind string }

type breakerTransition struct {
	breakerID
	from, to string
}

// breakerStates maps gobreaker's state names to troupe.breaker.state values.
var breakerStates = map[string]int64{"closed": 0, "half-open": 1, "open": 2}

func newBreakerMetrics(mp metric.MeterProvider) *breakerMetrics {
	if mp == nil {
		return nil
	}
	m := telemetry.Meter(mp)
	transitions, _ := m.Int64Counter(telemetry.MetricBreakerTransitions,
		metric.WithDescription("Circuit-breaker state changes."), metric.WithUnit("{transition}"))
	state, _ := m.Int64Gauge(telemetry.MetricBreakerState,
		metric.WithDescription("Circuit-breaker state: 0 closed, 1 half-open, 2 open."), metric.WithUnit("{state}"))
	rejections, _ := m.Int64Counter(telemetry.MetricBreakerRejections,
		metric.WithDescription("Requests an open or half-open circuit breaker refused."), metric.WithUnit("{request}"))
	return &breakerMetrics{
		transitions: transitions,
		state:       state,
		rejections:  rejections,
		transitionSet: telemetry.NewAttrCache(func(k breakerTransition) []attribute.KeyValue {
			return []attribute.KeyValue{
				telemetry.KeyBreakerName.String(k.name), telemetry.KeyBreakerKind.String(k.kind),
				telemetry.KeyBreakerFrom.String(k.from), telemetry.KeyBreakerTo.String(k.to),
			}
		}),
		breakerSet: telemetry.NewAttrCache(func(k breakerID) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyBreakerName.String(k.name), telemetry.KeyBreakerKind.String(k.kind)}
		}),
	}
}

// stateChange counts a transition of breaker name (kind inbound or
// outbound) and sets its state gauge to the new state. States are
// gobreaker's names: closed, half-open, open; an unknown one is counted but
// leaves the gauge.
func (m *breakerMetrics) stateChange(ctx context.Context, name, kind, from, to string) {
	if m == nil {
		return
	}
	id := breakerID{name, kind}
	m.transitions.Add(ctx, 1, m.transitionSet.Get(breakerTransition{id, from, to}).Add...)
	if v, ok := breakerStates[to]; ok {
		m.state.Record(ctx, v, m.breakerSet.Get(id).Rec...)
	}
}

// created sets a new breaker's state gauge to closed, so that a breaker
// is on /metrics (and the inspector's console) before its first
// transition, not only after something went wrong.
func (m *breakerMetrics) created(ctx context.Context, name, kind string) {
	if m == nil {
		return
	}
	m.state.Record(ctx, breakerStates["closed"], m.breakerSet.Get(breakerID{name, kind}).Rec...)
}

// rejected counts one call that breaker name refused.
func (m *breakerMetrics) rejected(ctx context.Context, name, kind string) {
	if m == nil {
		return
	}
	m.rejections.Add(ctx, 1, m.breakerSet.Get(breakerID{name, kind}).Add...)
}

// bulkheadMetrics records bulkhead waits, occupancy and rejections.
// In-flight slots are a telemetry.Counter: taken and given back on every
// request, two synchronous SDK Adds cost ~0.6 µs a request under load.
type bulkheadMetrics struct {
	queue      *telemetry.Histogram[string, float64]
	inFlight   *telemetry.Counter[string]
	rejections metric.Int64Counter
	nameSet    *telemetry.AttrCache[string]
}

func newBulkheadMetrics(mp metric.MeterProvider) *bulkheadMetrics {
	if mp == nil {
		return nil
	}
	m := telemetry.Meter(mp)
	// The wait is recorded on every request that passes the bulkhead: a
	// telemetry.Histogram, not the SDK's (~0.35 µs a Record under load).
	queue, _ := telemetry.NewHistogram[string, float64](m, telemetry.HistogramSpec{Name: telemetry.MetricBulkheadQueueDuration,
		Description: "Time a request waited for a bulkhead slot.", Unit: "s", Boundaries: telemetry.DurationBuckets},
		func(name string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyBulkheadName.String(name)}
		})
	inFlight, _ := telemetry.NewCounter(m, telemetry.CounterSpec{Name: telemetry.MetricBulkheadInFlight,
		Description: "Requests holding a bulkhead slot.", Unit: "{request}", UpDown: true},
		func(name string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyBulkheadName.String(name)}
		})
	rejections, _ := m.Int64Counter(telemetry.MetricBulkheadRejections,
		metric.WithDescription("Requests a full bulkhead refused."), metric.WithUnit("{request}"))
	return &bulkheadMetrics{
		queue: queue, inFlight: inFlight, rejections: rejections,
		nameSet: telemetry.NewAttrCache(func(name string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyBulkheadName.String(name)}
		}),
	}
}

// acquired records that a call took a slot of bulkhead name after waiting.
// Pair it with released.
func (m *bulkheadMetrics) acquired(ctx context.Context, name string, wait time.Duration) {
	if m == nil {
		return
	}
	m.queue.Record(ctx, name, wait.Seconds())
	m.inFlight.Add(name, 1)
}

// released records that a call gave its slot of bulkhead name back.
func (m *bulkheadMetrics) released(name string) {
	if m == nil {
		return
	}
	m.inFlight.Add(name, -1)
}

// rejected counts one call that bulkhead name refused.
func (m *bulkheadMetrics) rejected(ctx context.Context, name string) {
	if m == nil {
		return
	}
	m.rejections.Add(ctx, 1, m.nameSet.Get(name).Add...)
}

// sheddingMetrics records the adaptive load shedder's limit and rejections.
type sheddingMetrics struct {
	rejections metric.Int64Counter
	limit      metric.Int64Gauge
	routeSet   *telemetry.AttrCache[string]
}

func newSheddingMetrics(mp metric.MeterProvider) *sheddingMetrics {
	if mp == nil {
		return nil
	}
	m := telemetry.Meter(mp)
	rejections, _ := m.Int64Counter(telemetry.MetricSheddingRejections,
		metric.WithDescription("Requests refused by the load shedder."), metric.WithUnit("{request}"))
	limit, _ := m.Int64Gauge(telemetry.MetricSheddingLimit,
		metric.WithDescription("The load shedder's current concurrency limit."), metric.WithUnit("{request}"))
	return &sheddingMetrics{
		rejections: rejections, limit: limit,
		routeSet: telemetry.NewAttrCache(func(route string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyRoute.String(route)}
		}),
	}
}

// rejected counts one request to route (the template) that was shed.
func (m *sheddingMetrics) rejected(ctx context.Context, route string) {
	if m == nil {
		return
	}
	m.rejections.Add(ctx, 1, m.routeSet.Get(route).Add...)
}

// setLimit records the shedder's new concurrency limit.
func (m *sheddingMetrics) setLimit(ctx context.Context, limit int) {
	if m == nil {
		return
	}
	m.limit.Record(ctx, int64(limit))
}

// retryMetrics records outbound attempts and retry-budget exhaustion.
type retryMetrics struct {
	attempts   metric.Int64Counter
	exhausted  metric.Int64Counter
	attemptSet *telemetry.AttrCache[retryKey]
	hostSet    *telemetry.AttrCache[string]
}

type retryKey struct {
	host  string
	retry bool
}

func newRetryMetrics(mp metric.MeterProvider) *retryMetrics {
	if mp == nil {
		return nil
	}
	m := telemetry.Meter(mp)
	attempts, _ := m.Int64Counter(telemetry.MetricClientRetries,
		metric.WithDescription("Outbound attempts, first ones and retries."), metric.WithUnit("{attempt}"))
	exhausted, _ := m.Int64Counter(telemetry.MetricClientRetryBudgetExhausted,
		metric.WithDescription("Retries skipped because the retry budget was spent."), metric.WithUnit("{event}"))
	return &retryMetrics{
		attempts: attempts, exhausted: exhausted,
		attemptSet: telemetry.NewAttrCache(func(k retryKey) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyServerAddress.String(k.host), telemetry.KeyRetry.Bool(k.retry)}
		}),
		hostSet: telemetry.NewAttrCache(func(host string) []attribute.KeyValue {
			return []attribute.KeyValue{telemetry.KeyServerAddress.String(host)}
		}),
	}
}

// attempt counts one outbound attempt to host; retry says whether it
// repeats an earlier one, so the retry share per host is
// retries{troupe.retry=true} / retries.
func (m *retryMetrics) attempt(ctx context.Context, host string, retry bool) {
	if m == nil {
		return
	}
	m.attempts.Add(ctx, 1, m.attemptSet.Get(retryKey{host, retry}).Add...)
}

// budgetExhausted counts one retry to host that the retry budget forbade.
func (m *retryMetrics) budgetExhausted(ctx context.Context, host string) {
	if m == nil {
		return
	}
	m.exhausted.Add(ctx, 1, m.hostSet.Get(host).Add...)
}
