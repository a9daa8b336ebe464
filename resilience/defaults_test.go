package resilience

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/config"
)

// TestDefaultsMatchConfig holds every default of this package to the
// default of the key that sets the same value, so that a Go user who builds
// a stage from DefaultXConfig gets what an operator reads in
// docs/config.md. (The half-open probes and the client's backoff base once
// differed: 3 against 5, 50ms against 100ms.)
func TestDefaultsMatchConfig(t *testing.T) {
	d := config.Default()
	rl, r := d.RateLimit, d.Resilience
	settings := func(b config.Breaker) BreakerSettings {
		return BreakerSettings{FailureRatio: b.FailureRatio, MinRequests: b.MinRequests, Interval: b.Interval,
			OpenTimeout: b.OpenTimeout, HalfOpenRequests: b.HalfOpenRequests}
	}
	for key, pair := range map[string][2]any{
		"rate_limit.per_ip_rpm":                     {DefaultRateLimitConfig.Anonymous, PerMinute(rl.PerIPRPM)},
		"rate_limit.per_user_rpm":                   {DefaultRateLimitConfig.User, PerMinute(rl.PerUserRPM)},
		"rate_limit.per_client_rpm":                 {DefaultRateLimitConfig.Client, PerMinute(rl.PerClientRPM)},
		"rate_limit.redis_failure":                  {DefaultFallbackConfig.Policy, FailurePolicy(rl.RedisFailure)},
		"rate_limit.expected_instances":             {DefaultFallbackConfig.ExpectedInstances, rl.ExpectedInstances},
		"rate_limit.max_keys":                       {DefaultMaxKeys, rl.MaxKeys},
		"resilience.breaker":                        {DefaultBreakerConfig.BreakerSettings, settings(r.Breaker)},
		"resilience.bulkhead.max_concurrent":        {DefaultBulkheadConfig.MaxConcurrent, r.Bulkhead.MaxConcurrent},
		"resilience.bulkhead.max_wait":              {DefaultBulkheadConfig.MaxWait, r.Bulkhead.MaxWait},
		"resilience.shedding.initial_limit":         {DefaultSheddingConfig.InitialLimit, r.Shedding.InitialLimit},
		"resilience.shedding.min_limit":             {DefaultSheddingConfig.MinLimit, r.Shedding.MinLimit},
		"resilience.shedding.max_limit":             {DefaultSheddingConfig.MaxLimit, r.Shedding.MaxLimit},
		"resilience.client.timeout":                 {DefaultClientConfig.Timeout, r.Client.Timeout},
		"resilience.client.max_retries":             {DefaultClientConfig.MaxRetries, r.Client.MaxRetries},
		"resilience.client.backoff_base":            {DefaultClientConfig.BackoffBase, r.Client.BackoffBase},
		"resilience.client.backoff_max":             {DefaultClientConfig.BackoffMax, r.Client.BackoffMax},
		"resilience.client.retry_budget":            {DefaultClientConfig.RetryBudget, r.Client.RetryBudget},
		"resilience.client.max_concurrent_per_host": {DefaultClientConfig.MaxConcurrentPerHost, r.Client.MaxConcurrentPerHost},
		"resilience.client.breaker":                 {DefaultClientConfig.Breaker, settings(r.Client.Breaker)},
		"resilience.client.breaker.enabled":         {!DefaultClientConfig.DisableBreaker, r.Client.Breaker.Enabled},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: resilience's default is %+v, config's %+v", key, pair[0], pair[1])
		}
	}
}

// TestBreakerDefaultHalfOpenRequests opens a breaker built with zero
// HalfOpenRequests and sends seven blocking probes at once: the default
// lets five through.
func TestBreakerDefaultHalfOpenRequests(t *testing.T) {
	e := newTestEcho(CircuitBreakerWithConfig(BreakerConfig{
		BreakerSettings: BreakerSettings{FailureRatio: 1, MinRequests: 1, OpenTimeout: 20 * time.Millisecond},
		Logger:          discardLogger,
	}))
	entered, gate := make(chan struct{}, 8), make(chan struct{})
	e.GET("/fail", func(echo.Context) error { return echo.ErrInternalServerError })
	e.GET("/slow", func(c echo.Context) error {
		entered <- struct{}{}
		<-gate
		return c.NoContent(http.StatusOK)
	})
	serve(e, http.MethodGet, "/fail")
	assertProblem(t, serve(e, http.MethodGet, "/slow"), http.StatusServiceUnavailable)
	time.Sleep(50 * time.Millisecond) // past OpenTimeout: the next request makes it half-open

	const probes = 7
	refused := make(chan int, probes)
	for range probes {
		go func() { refused <- serve(e, http.MethodGet, "/slow").Code }()
	}
	in, out := 0, 0
	for in+out < probes {
		select {
		case <-entered:
			in++
		case code := <-refused:
			if code != http.StatusServiceUnavailable {
				t.Errorf("a probe finished with %d before the gate opened", code)
			}
			out++
		}
	}
	close(gate)
	if in != DefaultBreakerSettings.HalfOpenRequests || in != 5 {
		t.Errorf("half-open breaker admitted %d of %d probes, want 5", in, probes)
	}
	for range in {
		<-refused
	}
}

// TestClientDefaultBackoffBase retries once with a zero BackoffBase and the
// largest jitter: the wait is the default base, 100ms.
func TestClientDefaultBackoffBase(t *testing.T) {
	verifyNoLeaks(t)
	srv := newScripted(t, 503, 200)
	var waits []time.Duration
	cfg := testClientConfig(&waits)
	cfg.BackoffBase = 0
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if _, err := do(t, NewClient(base, cfg), req); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] != 100*time.Millisecond {
		t.Errorf("waits = %v, want [100ms]", waits)
	}
}
