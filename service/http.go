package service

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/middleware"
	"github.com/troupehq/troupe/versioning"
)

// httpPart assembles the main listener's handler — the one file of the
// service that knows Echo: the core stages of the request path from [http],
// [log], [cors], [security_headers] and [compression], the stages the other
// parts left in their slots, the API, and TLS. It is the last part built.
type httpPart struct{}

func (httpPart) check(c *checker) {
	cfg := c.cfg
	if _, err := middleware.NewClientIP(cfg.HTTP.TrustedProxies); err != nil {
		c.fields("http", err, map[string]string{"TrustedProxies": "http.trusted_proxies"})
	}
	c.fields("http", middleware.BodyLimitConfig{Limit: cfg.HTTP.BodyLimit.Int64()}.Validate(), map[string]string{"Limit": "http.body_limit"})
	c.fields("http", middleware.TimeoutConfig{Timeout: cfg.HTTP.RequestTimeout}.Validate(), map[string]string{"Timeout": "http.request_timeout"})
	c.fields("log", accessLogConfig(cfg.Log).Validate(), nil)
	c.fields("security_headers", securityHeadersConfig(cfg.SecurityHeaders).Validate(), nil)
	c.fields("cors", corsConfig(cfg.CORS).Validate(), nil)
	c.fields("compression", compressConfig(cfg.Compression).Validate(), nil)
}

func (httpPart) build(b *builder) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard) // Troupe logs through slog; Echo's own logger is unused
	e.HTTPErrorHandler = middleware.ErrorHandler(b.logger)
	e.IPExtractor, _ = middleware.NewClientIP(b.cfg.HTTP.TrustedProxies) // checked
	coreStages(b)
	e.Use(middleware.Chain(b.stages))
	if api := b.s.opts.api; api != nil {
		if err := api.Mount(e, versioning.MountOptions{EnforceSunset: b.cfg.Versioning.EnforceSunset}); err != nil {
			b.errs = append(b.errs, err)
		}
	}
	mountAssets(b, e)
	if t := b.cfg.HTTP.TLS; t.Enabled() {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			b.fail("http.tls.cert_file", fmt.Errorf("loading certificate and key: %w", err))
		} else {
			b.s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: t.MinVersionID()}
		}
	}
	b.s.handler = mainHandler(b.health, e)
}

// coreStages fills the slots of the stages this part owns; the others'
// slots were filled by the parts built before it.
func coreStages(b *builder) {
	cfg, s := b.cfg, &b.stages
	s.Recover = middleware.RecoverWithConfig(middleware.RecoverConfig{Logger: b.logger})
	s.RequestID = middleware.RequestID()
	s.Telemetry = middleware.TelemetryWithConfig(middleware.TelemetryConfig{
		TracerProvider: b.tel.TracerProvider(), MeterProvider: b.tel.MeterProvider(), Propagator: b.tel.Propagator(),
	})
	if cfg.Log.Access {
		ac := accessLogConfig(cfg.Log)
		ac.Logger = b.logger
		s.AccessLog = middleware.AccessLogWithConfig(ac)
	}
	if cfg.SecurityHeaders.Enabled {
		s.SecurityHeaders = middleware.SecurityHeadersWithConfig(securityHeadersConfig(cfg.SecurityHeaders))
	}
	if len(cfg.CORS.AllowOrigins) > 0 {
		s.CORS, _ = middleware.CORSWithConfig(corsConfig(cfg.CORS)) // checked
	}
	// Installed even without a limit: it also turns a body read cut off by
	// http.read_timeout into 408 rather than 500.
	s.BodyLimit = middleware.BodyLimit(cfg.HTTP.BodyLimit.Int64())
	if cfg.HTTP.RequestTimeout > 0 {
		s.Timeout = middleware.Timeout(cfg.HTTP.RequestTimeout)
	}
	if cfg.Compression.Enabled {
		s.Compress, _ = middleware.CompressWithConfig(compressConfig(cfg.Compression)) // checked
	}
}

// mountAssets registers the WithAssets mounts, GET and HEAD, behind the
// same chain as the API.
func mountAssets(b *builder, e *echo.Echo) {
	for _, m := range b.s.opts.assets {
		a, err := loadAssets(m) // checked at load; read again here to keep only what is served
		if err != nil {
			b.errs = append(b.errs, err)
			continue
		}
		h := echo.WrapHandler(a)
		for _, route := range a.routes() {
			e.GET(route, h)
			e.HEAD(route, h)
		}
	}
}

// mainHandler serves the main listener: probes, then the request path.
func mainHandler(h *health, e *echo.Echo) http.Handler {
	probes := h.handler(false)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.stopping() {
			closeAfterReply(w)
		}
		// Probes bypass the request path: a load balancer must see the truth
		// even when rate limits or load shedding reject application traffic.
		if isHealthPath(r.URL.Path) {
			probes.ServeHTTP(w, r)
			return
		}
		e.ServeHTTP(w, r)
	})
}

// The Go configs below start from their package's defaults, so fields no
// key sets keep the package's choice, and take every key's value as it is.

func accessLogConfig(l config.Log) middleware.AccessLogConfig {
	c := middleware.DefaultAccessLogConfig
	c.LogHeaders, c.RedactHeaders = l.Headers, l.RedactHeaders
	return c
}

func securityHeadersConfig(sh config.SecurityHeaders) middleware.SecurityHeadersConfig {
	c := middleware.DefaultSecurityHeadersConfig
	c.HSTSMaxAge, c.HSTSIncludeSubdomains, c.HSTSPreload = sh.HSTSMaxAge, sh.HSTSIncludeSubdomains, sh.HSTSPreload
	c.ContentTypeNosniff, c.FrameOptions = sh.ContentTypeNosniff, sh.FrameOptions
	c.ContentSecurityPolicy, c.ReferrerPolicy = sh.ContentSecurityPolicy, sh.ReferrerPolicy
	return c
}

func corsConfig(c config.CORS) middleware.CORSConfig {
	m := middleware.DefaultCORSConfig
	m.AllowOrigins, m.AllowMethods, m.AllowHeaders, m.ExposeHeaders = c.AllowOrigins, c.AllowMethods, c.AllowHeaders, c.ExposeHeaders
	m.AllowCredentials, m.MaxAge = c.AllowCredentials, c.MaxAge
	return m
}

func compressConfig(c config.Compression) middleware.CompressConfig {
	m := middleware.DefaultCompressConfig
	m.MinSize, m.Algorithms = int(c.MinSize.Int64()), c.Algorithms
	return m
}

// checkAPI mounts api on a throwaway Echo, for its own mistakes (a route
// twice, a bad deprecation) to be reported with the config's; nil for no API.
func checkAPI(api *versioning.API) error {
	if api == nil {
		return nil
	}
	return api.Mount(echo.New(), versioning.MountOptions{})
}
