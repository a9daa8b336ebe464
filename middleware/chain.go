package middleware

import (
	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/internal/chain"
)

// Stages names every slot of Troupe's request path. Chain orders them; a nil
// stage is skipped. Later subsystems (telemetry, load shedding, rate limiting,
// authentication, authorization, circuit breaking) fill their slot here rather
// than registering middleware of their own, so the order in DESIGN §4 is
// decided in exactly one place.
type Stages struct {
	Recover         echo.MiddlewareFunc
	RequestID       echo.MiddlewareFunc
	Telemetry       echo.MiddlewareFunc
	AccessLog       echo.MiddlewareFunc
	SecurityHeaders echo.MiddlewareFunc
	CORS            echo.MiddlewareFunc
	BodyLimit       echo.MiddlewareFunc
	Timeout         echo.MiddlewareFunc
	Compress        echo.MiddlewareFunc
	LoadShedding    echo.MiddlewareFunc
	RateLimit       echo.MiddlewareFunc
	Authenticate    echo.MiddlewareFunc
	// PrincipalRateLimit re-keys rate limiting by the authenticated
	// principal, which exists only once Authenticate has run.
	PrincipalRateLimit echo.MiddlewareFunc
	Authorize          echo.MiddlewareFunc
	CircuitBreaker     echo.MiddlewareFunc
}

// Chain returns the non-nil stages composed into one middleware, outermost
// first:
//
//	recover → request ID → telemetry → access log → security headers →
//	CORS → body limit → timeout → compression → load shedding →
//	rate limit → authentication → principal rate limit → authorization →
//	circuit breaker → handler
//
// Recover is outermost so a panic anywhere, middleware included, becomes a
// 500. Request ID precedes everything that logs or renders an error. CORS and
// security headers run before any stage that can reject a request, so a 401,
// 413, 429 or 503 still carries them. The timeout wraps compression so the
// deadline covers the whole response.
//
// Register the result with e.Use. Echo v4 composes its global middleware
// anew for every request, one closure per stage; Chain composes the stages
// once, around a final handler that calls the route Echo found for the
// request (c.Handler()), so the whole chain costs Echo no allocation.
func Chain(s Stages) echo.MiddlewareFunc {
	// The stages are listed here, outermost first, and nowhere else.
	h := chain.Wrap(routeHandler,
		s.Recover,
		s.RequestID,
		s.Telemetry,
		s.AccessLog,
		s.SecurityHeaders,
		s.CORS,
		s.BodyLimit,
		s.Timeout,
		s.Compress,
		s.LoadShedding,
		s.RateLimit,
		s.Authenticate,
		s.PrincipalRateLimit,
		s.Authorize,
		s.CircuitBreaker,
	)
	// Echo passes the matched route as next, which is what routeHandler
	// calls; the prebuilt chain ignores next rather than wrap it again.
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// routeHandler runs the handler Echo's router chose for the request: the
// route's, or its not-found or method-not-allowed handler.
func routeHandler(c echo.Context) error { return c.Handler()(c) }
