package middleware

import (
	"net/http"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// BodyLimitConfig configures BodyLimit.
type BodyLimitConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: DefaultSkipper.
	Skipper Skipper
	// Limit is the largest request body accepted, in bytes. Zero means
	// unlimited, as the key http.body_limit does; negative is invalid (see
	// Validate) and also unlimited.
	Limit int64
}

// DefaultBodyLimitConfig is the configuration BodyLimit starts from: 4 MiB,
// the default of http.body_limit.
var DefaultBodyLimitConfig = BodyLimitConfig{
	Skipper: DefaultSkipper,
	Limit:   4 << 20,
}

// Validate reports a negative Limit as a *fielderr.Error.
func (c BodyLimitConfig) Validate() error {
	if c.Limit < 0 {
		return fielderr.New("Limit", "must not be negative, got %d", c.Limit)
	}
	return nil
}

// bodyLimiter is the core of BodyLimit.
type bodyLimiter struct {
	skip   Skipper
	limit  int64
	detail string // of the 413
}

// newBodyLimiter fills cfg's zero fields.
func newBodyLimiter(cfg BodyLimitConfig) *bodyLimiter {
	b := &bodyLimiter{skip: cfg.Skipper, limit: cfg.Limit, detail: bodyLimitDetail(cfg.Limit)}
	if b.skip == nil {
		b.skip = DefaultBodyLimitConfig.Skipper
	}
	return b
}

// guard refuses r with a 413 problem when its declared length is over the
// limit, and otherwise puts r's body behind the limit and the read
// classification (see requestBody). w must be net/http's own writer, not a
// wrapper: only it can mark the connection to close after a 413.
func (b *bodyLimiter) guard(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if b.limit > 0 {
		if r.ContentLength > b.limit {
			return problem.NewError(http.StatusRequestEntityTooLarge, b.detail)
		}
		r.Body = http.MaxBytesReader(w, r.Body, b.limit)
	}
	r.Body = &requestBody{ReadCloser: r.Body, info: reqinfo.FromContext(r.Context())}
	return nil
}
