package resilience

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/ratelog"
)

// FailurePolicy says what a FallbackStore does while its primary store
// cannot answer. No policy turns a store outage into a 5xx.
type FailurePolicy string

const (
	// PolicyFallback decides with a local MemoryStore at the limit divided
	// by the expected number of instances, so the fleet as a whole stays
	// near its limit. The default.
	PolicyFallback FailurePolicy = "fallback"
	// PolicyAllow admits every request: availability over protection.
	PolicyAllow FailurePolicy = "allow"
	// PolicyDeny refuses every request with a 429 and a one-second
	// Retry-After: protection over availability. A 429 rather than a 503
	// because the client's answer is the same (back off, retry) and a 503
	// would page whoever watches the 5xx rate for an outage the service
	// itself is handling as designed.
	PolicyDeny FailurePolicy = "deny"
)

// FailurePolicies are the policies a FallbackStore knows, the values of
// the rate_limit.redis_failure key.
var FailurePolicies = []FailurePolicy{PolicyFallback, PolicyAllow, PolicyDeny}

// Validate reports a policy FailurePolicies does not hold, "" included.
func (p FailurePolicy) Validate() error {
	if slices.Contains(FailurePolicies, p) {
		return nil
	}
	quoted := make([]string, len(FailurePolicies))
	for i, known := range FailurePolicies {
		quoted[i] = strconv.Quote(string(known))
	}
	return fmt.Errorf("must be one of %s, got %q", strings.Join(quoted, ", "), string(p))
}

// ParseFailurePolicy returns the policy s names, or Validate's error.
func ParseFailurePolicy(s string) (FailurePolicy, error) {
	p := FailurePolicy(s)
	return p, p.Validate()
}

// UnmarshalText decodes a policy from its name, failing on an unknown one,
// so that a config decoder rejects it where it reads it.
func (p *FailurePolicy) UnmarshalText(text []byte) error {
	parsed, err := ParseFailurePolicy(string(text))
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}

// Defaults of FallbackConfig.
const (
	// DefaultProbeInterval is how often a degraded FallbackStore tries its
	// primary again when given no ProbeInterval.
	DefaultProbeInterval = 5 * time.Second
	// logEvery bounds how often a FallbackStore logs store errors.
	logEvery = 10 * time.Second
	// denyRetryAfter is the Retry-After PolicyDeny sends.
	denyRetryAfter = time.Second
)

// ErrDegraded is wrapped by FallbackStore.HealthCheck while the primary
// store is unavailable.
var ErrDegraded = errors.New("rate limit store degraded")

// FallbackConfig configures a FallbackStore. None of its fields can mean
// "off", so NewFallbackStore gives zero ones the values of
// DefaultFallbackConfig.
type FallbackConfig struct {
	// Policy is what to do while the primary is down. Default
	// PolicyFallback.
	Policy FailurePolicy
	// ExpectedInstances divides each limit under PolicyFallback (rounded
	// up), since each instance now decides alone; at least 1, the default.
	ExpectedInstances int
	// Local decides under PolicyFallback; nil means a new
	// MemoryStore(DefaultMaxKeys).
	Local Store
	// ProbeInterval is how often, while degraded, one request (or a health
	// check) tries the primary again. Default DefaultProbeInterval.
	ProbeInterval time.Duration
	// Available, when set, reports whether the primary's own breaker lets
	// calls through (a Troupe service passes its Redis guard's). While it
	// reports true a degraded store asks the primary on every call, so the
	// shared limits are back with the first answer rather than after a
	// ProbeInterval; while it reports false the primary would fail at once
	// anyway, and only the ProbeInterval calls try it, to count the outage.
	Available func() bool
	// Logger receives the degraded and recovered events and, at most once
	// per 10 s, the latest error with a count of those not logged; nil
	// means slog.Default().
	Logger *slog.Logger
	// MeterProvider receives the count of primary failures; nil records
	// nothing.
	MeterProvider metric.MeterProvider
}

// DefaultFallbackConfig is what zero fields of FallbackConfig take, the
// defaults of rate_limit.redis_failure and rate_limit.expected_instances.
// (A service passes its redis.probe_interval as ProbeInterval.)
var DefaultFallbackConfig = FallbackConfig{
	Policy:            PolicyFallback,
	ExpectedInstances: 1,
	ProbeInterval:     DefaultProbeInterval,
}

// Validate reports an unknown policy, fewer than one expected instance and
// a non-positive probe interval, each as a *fielderr.Error naming the
// field. It judges cfg as given: "" and zeros are reported, though
// NewFallbackStore would give them their defaults.
func (cfg FallbackConfig) Validate() error {
	var errs []error
	if err := cfg.Policy.Validate(); err != nil {
		errs = append(errs, &fielderr.Error{Field: "Policy", Err: err})
	}
	if cfg.ExpectedInstances < 1 {
		errs = append(errs, fielderr.New("ExpectedInstances", "must be at least 1, got %d", cfg.ExpectedInstances))
	}
	errs = append(errs, positive("ProbeInterval", cfg.ProbeInterval))
	return errors.Join(errs...)
}

// withDefaults gives zero fields their defaults.
func (cfg FallbackConfig) withDefaults() FallbackConfig {
	d := DefaultFallbackConfig
	if cfg.Policy == "" {
		cfg.Policy = d.Policy
	}
	if cfg.ExpectedInstances == 0 {
		cfg.ExpectedInstances = d.ExpectedInstances
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = d.ProbeInterval
	}
	if cfg.Local == nil {
		cfg.Local = NewMemoryStore(DefaultMaxKeys)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// FallbackStore wraps a shared Store (normally a RedisStore) so that its
// outages degrade rate limiting instead of failing requests. On a primary
// error it enters a degraded mode, applies the configured policy, reports
// ErrDegraded from HealthCheck (register it as an optional readiness check,
// so readiness says "warn"), and every ProbeInterval lets one call try the
// primary again, leaving degraded mode by itself on the first success.
//
// How long a call waits for the primary is the primary's business: a
// FallbackStore adds no deadline. A Troupe service's Redis client bounds
// every command by redis.timeout and fails fast while Redis does not
// answer (see FallbackConfig.Available).
//
// A cancelled or expired request context is the client's doing, not the
// store's: it is returned as an error and never degrades the store.
type FallbackStore struct {
	primary   Store
	local     Store
	policy    FailurePolicy
	instances int
	interval  time.Duration
	available func() bool
	logger    *slog.Logger
	metrics   *rateLimitMetrics

	degraded  atomic.Bool
	nextProbe atomic.Int64 // unix nanoseconds
	since     atomic.Int64 // unix nanoseconds degraded mode began

	errLog *ratelog.Limiter
}

// NewFallbackStore wraps primary as cfg says, zero fields taking their
// defaults. It panics on a config Validate then rejects: a wiring mistake
// found at start-up.
func NewFallbackStore(primary Store, cfg FallbackConfig) *FallbackStore {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("resilience: fallback store: %w", err))
	}
	return &FallbackStore{
		primary:   primary,
		local:     cfg.Local,
		policy:    cfg.Policy,
		instances: cfg.ExpectedInstances,
		interval:  cfg.ProbeInterval,
		available: cfg.Available,
		logger:    cfg.Logger,
		metrics:   newRateLimitMetrics(cfg.MeterProvider),
		errLog:    ratelog.New(logEvery),
	}
}

// Name names the store deciding right now: the primary's name, or while
// degraded under PolicyFallback the local store's.
func (f *FallbackStore) Name() string {
	if f.degraded.Load() && f.policy == PolicyFallback {
		return f.local.Name()
	}
	return f.primary.Name()
}

// Degraded reports whether the primary is considered down.
func (f *FallbackStore) Degraded() bool { return f.degraded.Load() }

// Allow asks the primary, or while degraded applies the policy.
func (f *FallbackStore) Allow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	if err := checkRequest(l, n); err != nil {
		return Result{}, err
	}
	if f.degraded.Load() && !f.retryPrimary() {
		return f.degradedAllow(ctx, key, l, n)
	}
	res, err := f.primary.Allow(ctx, key, l, n)
	if err == nil {
		f.recovered()
		return res, nil
	}
	if ctx.Err() != nil {
		return Result{}, err
	}
	f.failed(ctx, err)
	return f.degradedAllow(ctx, key, l, n)
}

// probeKey is the key a health-check probe spends; callers' keys carry a
// kind prefix ("ip:", "user:"), so it cannot collide with one.
const probeKey = "troupe:fallback-probe"

// HealthCheck returns nil while the primary answers and an error wrapping
// ErrDegraded while it does not. When a probe is due it tries the primary
// first, so a service without traffic still notices the recovery.
func (f *FallbackStore) HealthCheck(ctx context.Context) error {
	if !f.degraded.Load() {
		return nil
	}
	if f.retryPrimary() {
		_, err := f.primary.Allow(ctx, probeKey, PerSecond(1), 1)
		if err == nil {
			f.recovered()
			return nil
		}
		if ctx.Err() == nil {
			f.failed(ctx, err)
		}
	}
	since := time.Unix(0, f.since.Load()).UTC().Format(time.RFC3339)
	return fmt.Errorf("%w: %s unavailable since %s, policy %s", ErrDegraded, f.primary.Name(), since, f.policy)
}

// retryPrimary reports whether a degraded store should ask the primary on
// this call: its breaker says it is back, or a probe is due.
func (f *FallbackStore) retryPrimary() bool {
	return f.available != nil && f.available() || f.probeDue()
}

// probeDue reports whether this caller should try the primary: the probe
// time has come and no other caller claimed it first.
func (f *FallbackStore) probeDue() bool {
	next := f.nextProbe.Load()
	now := time.Now().UnixNano()
	return now >= next && f.nextProbe.CompareAndSwap(next, now+int64(f.interval))
}

// degradedAllow applies the failure policy.
func (f *FallbackStore) degradedAllow(ctx context.Context, key string, l Limit, n int) (Result, error) {
	switch f.policy {
	case PolicyAllow:
		return Result{Allowed: true, Limit: l, Remaining: l.burst() - n}, nil
	case PolicyDeny:
		return Result{Limit: l, RetryAfter: denyRetryAfter, ResetAfter: denyRetryAfter}, nil
	}
	local := f.share(l)
	return f.local.Allow(ctx, key, local, min(n, local.burst()))
}

// share returns this instance's share of l: rate and burst divided by the
// expected instances, rounded up so that no limit drops to zero.
func (f *FallbackStore) share(l Limit) Limit {
	if f.instances == 1 {
		return l
	}
	ceilDiv := func(a int) int { return max((a+f.instances-1)/f.instances, 1) }
	return Limit{Rate: ceilDiv(l.Rate), Period: l.Period, Burst: ceilDiv(l.burst())}
}

// failed records a primary failure: it enters degraded mode (logged
// always), counts the error, and logs it at a bounded rate.
func (f *FallbackStore) failed(ctx context.Context, err error) {
	f.metrics.storeError(ctx, f.primary.Name())
	now := time.Now()
	if !f.degraded.Load() {
		f.nextProbe.Store(now.Add(f.interval).UnixNano())
		f.since.Store(now.UnixNano())
		if f.degraded.CompareAndSwap(false, true) {
			f.logger.WarnContext(ctx, "rate limit store unavailable; degraded",
				"store", f.primary.Name(), "policy", string(f.policy), "error", err)
			f.errLog.Logged(now)
			return
		}
	}
	ok, suppressed := f.errLog.Allow(now)
	if !ok {
		return
	}
	f.logger.WarnContext(ctx, "rate limit store still unavailable",
		"store", f.primary.Name(), "error", err, "suppressed", suppressed)
}

// recovered leaves degraded mode, once, and says so.
func (f *FallbackStore) recovered() {
	if !f.degraded.CompareAndSwap(true, false) {
		return
	}
	suppressed := f.errLog.Logged(time.Now())
	f.logger.Info("rate limit store recovered", "store", f.primary.Name(),
		"degraded_for", time.Since(time.Unix(0, f.since.Load())).Round(time.Millisecond).String(),
		"suppressed_errors", suppressed)
}
