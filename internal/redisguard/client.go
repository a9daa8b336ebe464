package redisguard

import (
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewClient returns a client for url (a redis:// or rediss:// URL) whose
// commands are bounded and guarded as cfg says, and the guard, which
// reports on readiness and must be closed before the client. The client's
// timeouts and retries are the guard's: those given in url's query are
// overridden.
func NewClient(url string, cfg Config) (*redis.Client, *Guard, error) {
	if cfg.Timeout <= 0 || cfg.ProbeInterval <= 0 {
		return nil, nil, errors.New("redisguard: Timeout and ProbeInterval must be positive")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, err
	}
	bound(opts, cfg.Timeout)
	g := &Guard{timeout: cfg.Timeout, interval: cfg.ProbeInterval, logger: cfg.Logger, stop: make(chan struct{})}
	if g.logger == nil {
		g.logger = slog.Default()
	}
	routeGoRedisLog(g.logger)
	g.client = redis.NewClient(opts)
	g.client.AddHook(g)
	return g.client, g, nil
}

// bound sets every wait of opts to the budget and turns retries off: a
// retry is a second budget spent by a request that has already waited one.
func bound(opts *redis.Options, timeout time.Duration) {
	opts.DialTimeout = timeout
	opts.DialerRetries = 1
	opts.ReadTimeout = timeout
	opts.WriteTimeout = timeout
	// All pooled connections are stuck on a frozen Redis; without this a
	// request would queue for one for ReadTimeout + 1 s.
	opts.PoolTimeout = timeout
	opts.MaxRetries = -1
	// Without it go-redis ignores the context's deadline for socket reads
	// and writes and only its own ReadTimeout and WriteTimeout apply.
	opts.ContextTimeoutEnabled = true
}
