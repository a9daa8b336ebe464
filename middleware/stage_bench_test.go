package middleware_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/logjson"
	"github.com/troupehq/troupe/middleware"
)

// BenchmarkStage serves the benchmark route through one stage at a time, so
// the cost of the whole chain can be attributed (compare with BareEcho).
func BenchmarkStage(b *testing.B) {
	logger := slog.New(logjson.New(io.Discard, nil))
	cors, err := middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{"https://app.example.com"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []struct {
		name  string
		stage middleware.Stages
	}{
		{"Recover", middleware.Stages{Recover: middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: logger})}},
		{"RequestID", middleware.Stages{RequestID: middleware.RequestID()}},
		{"AccessLog", middleware.Stages{AccessLog: middleware.AccessLog(logger)}},
		{"SecurityHeaders", middleware.Stages{SecurityHeaders: middleware.SecurityHeaders()}},
		{"CORS", middleware.Stages{CORS: cors}},
		{"BodyLimit", middleware.Stages{BodyLimit: middleware.BodyLimit(1 << 20)}},
		{"Timeout", middleware.Stages{Timeout: middleware.Timeout(30 * time.Second)}},
	} {
		b.Run(s.name, func(b *testing.B) {
			e := echo.New()
			e.Use(middleware.Chain(s.stage))
			benchServe(b, e)
		})
	}
}
