package redisguard

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// go-redis prints its own notices — a failed dial, a pool warning — as
// unstructured lines on standard error, one per failed dial. The guard
// already reports an outage in the service's log (a WARN when it opens, the
// readiness check), so those lines go to the service's structured log at
// DEBUG instead. go-redis has one logger per process: the guard made last
// receives them, which for a process running one service is that service's.
var (
	goRedisLogger     atomic.Pointer[slog.Logger]
	installGoRedisLog sync.Once
)

// routeGoRedisLog sends go-redis's notices to logger from now on.
func routeGoRedisLog(logger *slog.Logger) {
	goRedisLogger.Store(logger)
	installGoRedisLog.Do(func() { redis.SetLogger(goRedisLog{}) })
}

type goRedisLog struct{}

func (goRedisLog) Printf(ctx context.Context, format string, v ...any) {
	if l := goRedisLogger.Load(); l != nil && l.Enabled(ctx, slog.LevelDebug) {
		l.DebugContext(ctx, "redis client notice", "notice", fmt.Sprintf(format, v...))
	}
}
