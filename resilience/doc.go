// Package resilience keeps a service serving under overload, abusive
// clients and failing dependencies.
//
// Rate limiting is GCRA (a token bucket with exact burst semantics) over a
// [Store]: a sharded, bounded [MemoryStore], or a [RedisStore] that decides
// in one round trip (go-redis/redis_rate) so all instances share one limit,
// optionally through a [LeasingStore] that takes tokens in batches, all
// wrapped in a [FallbackStore] so that a Redis outage degrades to local
// limits and never fails a request. The [RateLimitWithConfig] stages limit
// unauthenticated requests per client IP, then authenticated ones per user or
// client, with per-route overrides and global per-route limits, and answer
// 429 with Retry-After and the IETF RateLimit-Policy and RateLimit fields.
//
// [CircuitBreakerWithConfig] (sony/gobreaker/v2) opens per route group when
// 5xx responses, timeouts and panics pass a failure ratio — never 4xx, and
// never a failure the client caused (a body it failed to send, a
// departure), so no client can open one; [BulkheadWithConfig] bounds each
// group's concurrency with a short queue; [LoadSheddingWithConfig] adapts a
// concurrency limit to observed latency (Netflix's Gradient2) and refuses
// early past it; [Admission] puts shedding and bulkheads in one stage. All
// answer 503 problem+json with Retry-After.
//
// Each stage decides in an Echo-free core on the request, its route
// template and client IP (internal/reqinfo) and answers with a
// *problem.Error; echo.go, the package's one Echo import, adapts them to
// Echo's middleware dialect. Every config has a DefaultXConfig equal to the
// keys' defaults, a Validate that names the offending field, and a
// metric.MeterProvider for its instruments (metrics.go).
//
// [NewClient] wraps an http.RoundTripper — the service's instrumented one —
// in a per-host breaker and bulkhead, a per-attempt timeout, and retries with
// exponential backoff and full jitter, for idempotent requests only,
// honouring Retry-After, within a retry budget.
//
// Services configure all of it with the rate_limit.* and resilience.* keys;
// docs/resilience.md explains each knob.
package resilience
