package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/troupehq/troupe/problem"
)

// RecoverConfig configures Recover.
type RecoverConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: DefaultSkipper.
	Skipper Skipper
	// Logger receives one ERROR record per recovered panic, with the panic
	// value and stack. Default: slog.Default().
	Logger *slog.Logger
}

// DefaultRecoverConfig is the configuration Recover uses.
var DefaultRecoverConfig = RecoverConfig{
	Skipper: DefaultSkipper,
}

// recoverer is the core of Recover.
type recoverer struct {
	skip   Skipper
	logger *slog.Logger
}

// newRecoverer fills cfg's zero fields.
func newRecoverer(cfg RecoverConfig) *recoverer {
	rc := &recoverer{skip: cfg.Skipper, logger: cfg.Logger}
	if rc.skip == nil {
		rc.skip = DefaultRecoverConfig.Skipper
	}
	if rc.logger == nil {
		rc.logger = slog.Default()
	}
	return rc
}

// recovered deals with v, recovered from a panic while serving r: it logs
// the value and the stack and, unless the response is committed, answers a
// generic 500 on w. http.ErrAbortHandler is panicked again: it is net/http's
// deliberate way to abort a response, not a bug.
func (rc *recoverer) recovered(w http.ResponseWriter, r *http.Request, committed bool, v any) {
	if e, ok := v.(error); ok && errors.Is(e, http.ErrAbortHandler) {
		panic(v)
	}
	ctx := r.Context()
	rc.logger.LogAttrs(ctx, slog.LevelError, "panic recovered",
		slog.Any("panic", v),
		slog.String("stack", string(debug.Stack())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", RequestIDFrom(ctx)),
	)
	if !committed {
		problem.Write(w, r, problem.New(http.StatusInternalServerError, internalErrorDetail))
	}
}
