package resilience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/troupehq/troupe/internal/fielderr"
)

// ClientConfig configures NewTransport and NewClient. A zero count or share
// means none, as a zero key does (no retries, no retry budget, no cap per
// host); the durations and the breaker settings cannot be zero, so the
// constructors give zero ones the values of DefaultClientConfig. Start
// from DefaultClientConfig and change what you need.
type ClientConfig struct {
	// Timeout bounds each attempt, from asking for a bulkhead slot until
	// the response body is closed. Default 10s.
	Timeout time.Duration
	// MaxRetries is how many times a failed call is repeated at most; zero
	// means no retries.
	MaxRetries int
	// BackoffBase is the ceiling of the first retry's random wait; each
	// further retry doubles it, up to BackoffMax. Default 100ms.
	BackoffBase time.Duration
	// BackoffMax caps the wait before a retry. A Retry-After longer than it
	// is not waited for: the response goes back to the caller instead.
	// Default 2s.
	BackoffMax time.Duration
	// RetryBudget is the share of requests, per host, that may be retried
	// on top of MinRetriesPerSecond, between 0 and 1; zero means none.
	RetryBudget float64
	// MinRetriesPerSecond is the retry allowance per host that accrues
	// however few requests are made; zero means none.
	MinRetriesPerSecond float64
	// MaxConcurrentPerHost caps the calls in flight to one host; zero means
	// no cap. A call waits for a slot within its Timeout.
	MaxConcurrentPerHost int
	// Breaker configures the circuit breaker of each host.
	Breaker BreakerSettings
	// DisableBreaker turns the per-host circuit breakers off: every attempt
	// goes through whatever the host's recent failures.
	DisableBreaker bool
	// MeterProvider receives attempts, retry-budget exhaustion, breaker
	// changes and bulkhead use; nil records nothing.
	MeterProvider metric.MeterProvider
	// Logger receives breaker state changes; nil means slog.Default().
	Logger *slog.Logger

	// Test hooks: the clock, the wait between attempts, and the jitter.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	randN func(n int64) int64
}

// DefaultClientConfig is the configuration of a service's client, the
// defaults of the resilience.client.* keys (MinRetriesPerSecond has no
// key).
var DefaultClientConfig = ClientConfig{
	Timeout:             10 * time.Second,
	MaxRetries:          2,
	BackoffBase:         100 * time.Millisecond,
	BackoffMax:          2 * time.Second,
	RetryBudget:         0.1,
	MinRetriesPerSecond: 10,
	Breaker:             DefaultBreakerSettings,
}

// ErrCircuitOpen is the cause of a call an open outbound breaker refused.
var ErrCircuitOpen = errors.New("resilience: circuit breaker open")

// Validate reports every field out of range, each as a *fielderr.Error
// naming the field ("Breaker.MinRequests"). It judges cfg as given: a zero
// duration or breaker setting is reported, though the constructors would
// give it its default.
func (cfg ClientConfig) Validate() error {
	errs := []error{
		positive("Timeout", cfg.Timeout),
		notNegative("MaxRetries", cfg.MaxRetries),
		positive("BackoffBase", cfg.BackoffBase),
		notNegative("MaxConcurrentPerHost", cfg.MaxConcurrentPerHost),
		fielderr.Prefix("Breaker", cfg.Breaker.Validate()),
	}
	if cfg.BackoffMax < cfg.BackoffBase {
		errs = append(errs, fielderr.New("BackoffMax", "must not be less than the backoff base (%s), got %s", cfg.BackoffBase, cfg.BackoffMax))
	}
	if !(cfg.RetryBudget >= 0 && cfg.RetryBudget <= 1) {
		errs = append(errs, fielderr.New("RetryBudget", "must be between 0 and 1, got %v", cfg.RetryBudget))
	}
	if !(cfg.MinRetriesPerSecond >= 0 && !math.IsInf(cfg.MinRetriesPerSecond, 1)) {
		errs = append(errs, fielderr.New("MinRetriesPerSecond", "must be a finite number not below 0, got %v", cfg.MinRetriesPerSecond))
	}
	return errors.Join(errs...)
}

// withDefaults gives the zero fields that cannot mean "none" their
// defaults, and the test hooks theirs.
func (cfg ClientConfig) withDefaults() ClientConfig {
	d := DefaultClientConfig
	if cfg.Timeout == 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = d.BackoffBase
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = max(d.BackoffMax, cfg.BackoffBase)
	}
	cfg.Breaker = cfg.Breaker.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.sleep == nil {
		cfg.sleep = sleepCtx
	}
	if cfg.randN == nil {
		cfg.randN = rand.Int64N
	}
	return cfg
}

// NewClient returns an http.Client whose transport is NewTransport(base,
// cfg). Pass the service's instrumented transport as base, so every attempt
// gets its own client span and metrics.
func NewClient(base http.RoundTripper, cfg ClientConfig) *http.Client {
	return &http.Client{Transport: NewTransport(base, cfg)}
}

// NewTransport returns a RoundTripper that makes calls through base
// resiliently. Each call is tried up to 1+MaxRetries times; each attempt
// passes, per host (URL.Host):
//
//	circuit breaker → bulkhead → attempt timeout → base
//
// The breaker fails fast with ErrCircuitOpen while a host keeps answering
// 5xx or not at all (4xx never count); the bulkhead caps calls in flight;
// the timeout bounds the attempt. An attempt is retried after a connection
// error, an attempt timeout, or a 429, 502, 503 or 504, and only when the
// request is idempotent (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) or carries
// an Idempotency-Key, and its body can be replayed (GetBody). Retries wait
// with exponential backoff and full jitter, or as long as a 429's or 503's
// Retry-After asks, and stop when the request's context ends or the host's
// retry budget is spent; the caller then gets the last response or error.
// A nil base means http.DefaultTransport. NewTransport panics on a config
// Validate rejects once zero fields have their defaults.
func NewTransport(base http.RoundTripper, cfg ClientConfig) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Errorf("resilience: client: %w", err))
	}
	t := &transport{base: base, cfg: cfg, retries: newRetryMetrics(cfg.MeterProvider), bulkheads: newBulkheadMetrics(cfg.MeterProvider)}
	breakerMetrics := newBreakerMetrics(cfg.MeterProvider)
	t.hosts = newGroupSet(func(host string) *hostState {
		h := &hostState{
			breaker: newBreaker(host, breakerOutbound, cfg.Breaker, breakerMetrics, cfg.Logger),
			budget:  newRetryBudget(cfg.RetryBudget, cfg.MinRetriesPerSecond, cfg.now),
		}
		if cfg.MaxConcurrentPerHost > 0 {
			h.slots = make(semaphore, cfg.MaxConcurrentPerHost)
		}
		return h
	})
	return t
}

type transport struct {
	base      http.RoundTripper
	cfg       ClientConfig
	hosts     *groupSet[*hostState]
	retries   *retryMetrics
	bulkheads *bulkheadMetrics
}

// hostState is what the transport keeps per host. The retry budget is per
// host too: one failing dependency must not spend another's retries.
type hostState struct {
	breaker *breaker
	slots   semaphore // nil: no cap
	budget  *retryBudget
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	host := req.URL.Host
	h := t.hosts.get(host)
	h.budget.deposit()
	mayRetry := t.cfg.MaxRetries > 0 && retryable(req)
	attemptReq := req
	for n := 0; ; n++ {
		t.retries.attempt(ctx, host, n > 0)
		res, err := t.attempt(h, attemptReq)
		if !mayRetry || n >= t.cfg.MaxRetries || !t.shouldRetry(ctx, res, err) {
			return res, err
		}
		wait, ok := t.backoff(ctx, n, res)
		if !ok {
			return res, err
		}
		if !h.budget.withdraw() {
			t.retries.budgetExhausted(ctx, host)
			return res, err
		}
		next, replayErr := replay(req)
		if replayErr != nil {
			return res, err // the last result is still the truth
		}
		attemptReq = next
		discard(res)
		if err := t.cfg.sleep(ctx, wait); err != nil {
			closeBody(attemptReq)
			return nil, err
		}
	}
}

// attempt makes one attempt through the host's breaker and bulkhead.
func (t *transport) attempt(h *hostState, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	done := func(error) {}
	if !t.cfg.DisableBreaker {
		allowed, err := h.breaker.allow()
		if err != nil {
			closeBody(req)
			h.breaker.metrics.rejected(ctx, h.breaker.name, breakerOutbound)
			return nil, fmt.Errorf("%s %s: %w (%w)", req.Method, h.breaker.name, ErrCircuitOpen, err)
		}
		done = allowed
	}
	actx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	release := func() {}
	if h.slots != nil {
		wait, err := h.slots.acquire(actx, t.cfg.Timeout)
		if err != nil {
			cancel()
			closeBody(req)
			done(errBreakerExcluded) // our own queue, not the host, refused it
			t.bulkheads.rejected(ctx, h.breaker.name)
			return nil, fmt.Errorf("%s %s: %w", req.Method, h.breaker.name, err)
		}
		t.bulkheads.acquired(ctx, h.breaker.name, wait)
		release = func() {
			h.slots.release()
			t.bulkheads.released(h.breaker.name)
		}
	}
	res, err := t.base.RoundTrip(req.WithContext(actx))
	done(outboundOutcome(ctx, res, err))
	if err != nil {
		cancel()
		release()
		return nil, err
	}
	// The attempt's context and slot last until the body is read or closed.
	res.Body = &attemptBody{ReadCloser: res.Body, end: func() { cancel(); release() }}
	return res, nil
}

// outboundOutcome classifies an attempt for the host's breaker.
func outboundOutcome(ctx context.Context, res *http.Response, err error) error {
	switch {
	case err != nil && ctx.Err() != nil:
		return errBreakerExcluded // the caller gave up, not the host
	case err != nil, res.StatusCode >= 500:
		return errBreakerFailure
	}
	return nil
}

// shouldRetry reports whether an attempt's result is worth another.
func (t *transport) shouldRetry(ctx context.Context, res *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		return !errors.Is(err, ErrCircuitOpen) && !errors.Is(err, ErrBulkheadFull)
	}
	return retryStatus(res.StatusCode)
}

// backoff is the wait before retry n. A Retry-After on a 429 or 503 is
// obeyed exactly; one beyond BackoffMax, or any wait that would outlast the
// request's deadline, means no retry.
func (t *transport) backoff(ctx context.Context, n int, res *http.Response) (time.Duration, bool) {
	now := t.cfg.now()
	wait := fullJitter(n, t.cfg.BackoffBase, t.cfg.BackoffMax, t.cfg.randN)
	if res != nil && (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(res.Header.Get("Retry-After"), now); ok {
			if d > t.cfg.BackoffMax {
				return 0, false
			}
			wait = d
		}
	}
	if deadline, ok := ctx.Deadline(); ok && !now.Add(wait).Before(deadline) {
		return 0, false
	}
	return wait, true
}

// replay returns a copy of req with a fresh body for another attempt.
func replay(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

// discardLimit is how much of a response that will be retried is read so
// its connection can be reused; beyond it the connection is dropped.
const discardLimit = 4 << 10

func discard(res *http.Response) {
	if res == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, res.Body, discardLimit)
	_ = res.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attemptBody ends an attempt — cancels its context, frees its bulkhead
// slot — when the body is closed or read to the end.
type attemptBody struct {
	io.ReadCloser
	once sync.Once
	end  func()
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.end)
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.end)
	return err
}
