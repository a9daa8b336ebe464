package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/troupehq/troupe/problem"
)

// RecoverConfig configures Recover.
type RecoverConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
	// Logger receives one ERROR record per recovered panic, with the panic
	// value and stack. Default: slog.Default().
	Logger *slog.Logger
}

// DefaultRecoverConfig is the configuration Recover uses.
var DefaultRecoverConfig = RecoverConfig{
	Skipper: middleware.DefaultSkipper,
}

// Recover returns the outermost middleware of the chain: it turns a panic
// anywhere inside it into a 500 problem response and an ERROR log record, so a
// bug in one handler fails one request instead of the process.
func Recover() echo.MiddlewareFunc {
	return RecoverWithConfig(DefaultRecoverConfig)
}

// RecoverWithConfig returns Recover with cfg; zero fields take their defaults.
//
// The client sees only a generic 500 — never the panic value or the stack,
// which may hold secrets — while the log gets both, with the method, path and
// request ID. If the response was already committed the log record is all that
// can be done. A panic with http.ErrAbortHandler is re-raised: it is
// net/http's deliberate way to abort a response, not a bug.
func RecoverWithConfig(cfg RecoverConfig) echo.MiddlewareFunc {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultRecoverConfig.Skipper
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			if cfg.Skipper(c) {
				return next(c)
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if e, ok := v.(error); ok && errors.Is(e, http.ErrAbortHandler) {
					panic(v)
				}
				logPanic(cfg.Logger, c, v)
				err = nil
				if !c.Response().Committed {
					problem.Write(c.Response(), c.Request(), problem.New(http.StatusInternalServerError, internalErrorDetail))
				}
			}()
			return next(c)
		}
	}
}

func logPanic(logger *slog.Logger, c echo.Context, v any) {
	r := c.Request()
	ctx := r.Context()
	logger.LogAttrs(ctx, slog.LevelError, "panic recovered",
		slog.Any("panic", v),
		slog.String("stack", string(debug.Stack())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", RequestIDFrom(ctx)),
	)
}
