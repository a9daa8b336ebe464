// Package redisguard bounds what a Redis on the request path can cost a
// request. Every command of a guarded client gets at most a budget
// (redis.timeout) and is never retried; once Redis stops answering, the
// client fails every command at once, without a round trip, until a
// background PING sees Redis answer again.
//
// The guard is a go-redis hook on the one client a service shares, so the
// rule holds for every store built on it — rate limits, token revocation,
// component state — and for any added later, without each knowing of it.
// What a failed command means (a failure policy, a fail-closed 503, an
// error to a component) stays with each store.
//
// Why: a frozen Redis (SIGSTOP, a paused VM, a long fork) keeps its
// connections open and answers nothing. With go-redis's defaults (5 s
// socket timeouts, three retries) every request waited out the whole
// freeze; bounded by the budget, only the requests of the first budget
// wait, and the rest go straight to their store's policy.
//
// Why here: authz and actors/state use Redis too and must not import
// resilience (DESIGN §2), so the one mechanism lives in internal, and
// resilience.FallbackStore follows it (FallbackConfig.Available) rather
// than keeping a second breaker. Why not sony/gobreaker: its half-open
// state lets live requests probe, each paying the budget; here only a
// background PING does.
package redisguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is the error of every command while the guard is open:
// Redis did not answer in time and no probe has seen it answer since.
var ErrUnavailable = errors.New("redis: not answering; failing fast until a probe answers")

// openAfter is how many failed commands in a row open the guard. One slow
// reply (a lost packet's retransmission) should not send an instance to
// its failure policy for a probe interval; three with no success between
// them do not happen to a Redis that answers, and under load they take no
// longer than one: every command in flight times out at once.
const openAfter = 3

// Config configures a guarded client.
type Config struct {
	// Timeout is the budget of one command: dialing, waiting for a pooled
	// connection, writing and reading together. Required.
	Timeout time.Duration
	// ProbeInterval is how often an open guard PINGs Redis. Required.
	ProbeInterval time.Duration
	// Logger receives the open and close events; nil means slog.Default().
	Logger *slog.Logger
}

// Guard is the breaker of one Redis client; see the package doc. Its
// methods are safe for concurrent use.
type Guard struct {
	client   *redis.Client
	timeout  time.Duration
	interval time.Duration
	logger   *slog.Logger

	open     atomic.Bool
	failures atomic.Int32 // consecutive
	since    atomic.Int64 // unix nanoseconds the guard last opened

	mu      sync.Mutex
	stopped bool
	stop    chan struct{}
	probes  sync.WaitGroup
}

// Available reports whether commands go to Redis: false while the guard is
// open and every command fails with ErrUnavailable.
func (g *Guard) Available() bool { return !g.open.Load() }

// HealthCheck returns nil while Redis answers and an error wrapping
// ErrUnavailable while the guard is open; register it as an optional
// readiness check, so readiness says "warn".
func (g *Guard) HealthCheck(context.Context) error {
	if !g.open.Load() {
		return nil
	}
	since := time.Unix(0, g.since.Load()).UTC().Format(time.RFC3339)
	return fmt.Errorf("%w (since %s; probing every %s)", ErrUnavailable, since, g.interval)
}

// Close stops the probe, waiting for one in flight (at most the budget).
// Close it before the client.
func (g *Guard) Close() {
	g.mu.Lock()
	if !g.stopped {
		g.stopped = true
		close(g.stop)
	}
	g.mu.Unlock()
	g.probes.Wait()
}

// record counts the outcome of one command. An error reply (redis.Nil, a
// script error) is an answer, so it counts as a success: the guard is
// about Redis answering in time, not about what it says. A caller that gave
// up first says nothing about Redis.
func (g *Guard) record(ctx context.Context, err error) {
	var reply redis.Error
	switch {
	case err == nil || errors.As(err, &reply):
		if g.failures.Load() != 0 {
			g.failures.Store(0)
		}
	case callerGaveUp(ctx):
	default:
		g.failed(err)
	}
}

// callerGaveUp reports whether ctx is cancelled or past its deadline. The
// deadline is checked as well as Err: a socket read given the caller's
// deadline can return before the context's own timer has fired.
func callerGaveUp(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// failed counts a failed command and opens the guard at openAfter in a row.
func (g *Guard) failed(err error) {
	if g.failures.Add(1) < openAfter || !g.open.CompareAndSwap(false, true) {
		return
	}
	g.since.Store(time.Now().UnixNano())
	g.logger.Warn("redis not answering; failing fast until a probe answers",
		"error", err, "timeout", g.timeout.String(), "probe_interval", g.interval.String())
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped {
		g.probes.Add(1)
		go g.probe()
	}
}

// probe PINGs Redis every interval until it answers, then closes the
// guard.
func (g *Guard) probe() {
	defer g.probes.Done()
	tick := time.NewTicker(g.interval)
	defer tick.Stop()
	ctx := context.WithValue(context.Background(), phaseKey{}, probing)
	for {
		select {
		case <-g.stop:
			return
		case <-tick.C:
		}
		if g.client.Ping(ctx).Err() == nil {
			g.failures.Store(0)
			g.open.Store(false)
			g.logger.Info("redis answering again",
				"failed_fast_for", time.Since(time.Unix(0, g.since.Load())).Round(time.Millisecond).String())
			return
		}
	}
}
