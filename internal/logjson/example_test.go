package logjson_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/troupehq/troupe/internal/logjson"
)

func ExampleNew() {
	h := logjson.New(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug})
	logger := slog.New(h).With("service", "orders").WithGroup("req")

	// A fixed time keeps the output stable; a Logger stamps time.Now.
	r := slog.NewRecord(time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC), slog.LevelWarn, "slow <query>", 0)
	r.AddAttrs(slog.Duration("took", 1500*time.Millisecond), slog.Any("err", errors.New(`table "orders" locked`)))
	_ = logger.Handler().Handle(context.Background(), r)
	// Output:
	// {"time":"2025-03-14T15:09:26Z","level":"WARN","msg":"slow <query>","service":"orders","req":{"took":1500000000,"err":"table \"orders\" locked"}}
}

func ExampleHandler_LogAttrs() {
	h := logjson.New(os.Stdout, nil)
	ctx := context.Background()
	if h.Enabled(ctx, slog.LevelInfo) {
		// A zero time omits the key; a real caller passes time.Now().
		_ = h.LogAttrs(time.Time{}, slog.LevelInfo, "request", slog.String("method", "GET"), slog.Int("status", 200))
	}
	// Output:
	// {"level":"INFO","msg":"request","method":"GET","status":200}
}
