package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CORSConfig configures CORSWithConfig.
type CORSConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: middleware.DefaultSkipper.
	Skipper middleware.Skipper
	// AllowOrigins is the allow-list: each entry scheme://host[:port] with
	// scheme http or https and nothing after the authority, or the single
	// entry "*" for any origin. Entries are compared case-insensitively with
	// default ports dropped. Empty disables CORS: no header is ever added.
	AllowOrigins []string
	// AllowMethods answers Access-Control-Allow-Methods in preflights.
	// Default when empty: GET, HEAD, PUT, PATCH, POST, DELETE.
	AllowMethods []string
	// AllowHeaders lists the request header fields a cross-origin request
	// may carry (case-insensitive). Not defaulted: nil allows only the
	// CORS-safelisted ones.
	AllowHeaders []string
	// ExposeHeaders lists the response header fields a cross-origin script
	// may read beyond the safelisted ones.
	ExposeHeaders []string
	// AllowCredentials lets browsers send cookies and HTTP auth and expose the
	// response. It cannot be combined with "*".
	AllowCredentials bool
	// MaxAge is how long a browser may cache a preflight answer, in whole
	// seconds. Zero omits Access-Control-Max-Age (browsers then use 5 s).
	MaxAge time.Duration
}

// DefaultCORSConfig is the configuration to start from: no origin is allowed
// until AllowOrigins names one, the usual methods, the header fields a JSON
// API client sends, X-Request-ID readable by scripts, and preflights cached
// for ten minutes.
var DefaultCORSConfig = CORSConfig{
	Skipper: middleware.DefaultSkipper,
	AllowMethods: []string{
		http.MethodGet, http.MethodHead, http.MethodPut,
		http.MethodPatch, http.MethodPost, http.MethodDelete,
	},
	AllowHeaders:  []string{"Accept", "Authorization", "Content-Type", HeaderRequestID},
	ExposeHeaders: []string{HeaderRequestID},
	MaxAge:        10 * time.Minute,
}

// CORSWithConfig returns middleware that answers cross-origin requests from
// an explicit allow-list, or an error naming every problem in cfg.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered here with 204 and never reaches the inner chain, so it needs no
// credentials and costs no rate-limit token; a disallowed origin gets the 204
// without any Access-Control-* field, which makes the browser refuse. Other
// requests from an allowed origin get their CORS fields before the inner chain
// runs, so error responses carry them; requests from other origins pass
// through untouched. Vary: Origin is always set (except for "*") because the
// response depends on it.
func CORSWithConfig(cfg CORSConfig) (echo.MiddlewareFunc, error) {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultCORSConfig.Skipper
	}
	if len(cfg.AllowMethods) == 0 {
		cfg.AllowMethods = DefaultCORSConfig.AllowMethods
	}
	p, err := newCORSPolicy(cfg)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }, nil
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.Skipper(c) {
				return next(c)
			}
			if p.apply(c.Request(), c.Response().Header()) {
				return c.NoContent(http.StatusNoContent)
			}
			return next(c)
		}
	}, nil
}

// corsPolicy is a validated CORSConfig with its header values precomputed.
type corsPolicy struct {
	anyOrigin    bool                // "*"
	origins      map[string]struct{} // serialised origins
	allowHeaders []string
	credentials  bool
	methods      string
	headers      string
	expose       string
	maxAge       string
	vary         string // Vary of a preflight answer
}

// newCORSPolicy validates cfg; a nil policy means CORS is disabled.
func newCORSPolicy(cfg CORSConfig) (*corsPolicy, error) {
	var errs []error
	p := &corsPolicy{origins: make(map[string]struct{}, len(cfg.AllowOrigins))}
	for _, o := range cfg.AllowOrigins {
		if o == "*" {
			p.anyOrigin = true
			continue
		}
		norm, err := parseOrigin(o)
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid origin %q: %w", o, err))
			continue
		}
		p.origins[norm] = struct{}{}
	}
	if p.anyOrigin && len(cfg.AllowOrigins) > 1 {
		errs = append(errs, errors.New(`"*" cannot be combined with other origins`))
	}
	if p.anyOrigin && cfg.AllowCredentials {
		errs = append(errs, errors.New(`"*" cannot be used when credentials are allowed`))
	}
	for _, m := range cfg.AllowMethods {
		if !isToken(m) {
			errs = append(errs, fmt.Errorf("invalid method %q", m))
		}
	}
	for _, h := range slices.Concat(cfg.AllowHeaders, cfg.ExposeHeaders) {
		if !isToken(h) {
			errs = append(errs, fmt.Errorf("invalid header name %q", h))
		}
	}
	if cfg.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("negative max age %s", cfg.MaxAge))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(cfg.AllowOrigins) == 0 {
		return nil, nil
	}
	p.allowHeaders = cfg.AllowHeaders
	p.credentials = cfg.AllowCredentials
	p.methods = strings.Join(cfg.AllowMethods, ", ")
	p.headers = strings.Join(cfg.AllowHeaders, ", ")
	p.expose = strings.Join(cfg.ExposeHeaders, ", ")
	if cfg.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	}
	p.vary = echo.HeaderAccessControlRequestMethod + ", " + echo.HeaderAccessControlRequestHeaders
	if !p.anyOrigin {
		p.vary = echo.HeaderOrigin + ", " + p.vary
	}
	return p, nil
}

// apply sets the CORS fields for r on h and reports whether r is a preflight,
// which the caller answers with 204 instead of running the inner chain.
func (p *corsPolicy) apply(r *http.Request, h http.Header) (preflight bool) {
	origin := r.Header.Get(echo.HeaderOrigin)
	preflight = r.Method == http.MethodOptions && origin != "" && r.Header.Get(echo.HeaderAccessControlRequestMethod) != ""
	values := make(headerValues, 0, 6)
	if preflight {
		values.add(h, echo.HeaderVary, p.vary)
	} else if !p.anyOrigin {
		values.add(h, echo.HeaderVary, echo.HeaderOrigin)
	}
	if origin == "" || !p.allowed(origin) {
		return preflight
	}
	if p.anyOrigin {
		values.set(h, echo.HeaderAccessControlAllowOrigin, "*")
	} else {
		values.set(h, echo.HeaderAccessControlAllowOrigin, origin)
	}
	if p.credentials {
		values.set(h, echo.HeaderAccessControlAllowCredentials, "true")
	}
	if !preflight {
		if p.expose != "" {
			values.set(h, echo.HeaderAccessControlExposeHeaders, p.expose)
		}
		return false
	}
	values.set(h, echo.HeaderAccessControlAllowMethods, p.methods)
	if requested := r.Header.Get(echo.HeaderAccessControlRequestHeaders); requested != "" && p.allowsAll(requested) {
		values.set(h, echo.HeaderAccessControlAllowHeaders, requested)
	} else if p.headers != "" {
		values.set(h, echo.HeaderAccessControlAllowHeaders, p.headers)
	}
	if p.maxAge != "" {
		values.set(h, echo.HeaderAccessControlMaxAge, p.maxAge)
	}
	return true
}

// allowed reports whether origin is on the list. Browsers send the serialised
// form, so the exact lookup almost always decides; other spellings are
// normalised first.
func (p *corsPolicy) allowed(origin string) bool {
	if p.anyOrigin {
		return true
	}
	if _, ok := p.origins[origin]; ok {
		return true
	}
	norm, err := parseOrigin(origin)
	if err != nil {
		return false
	}
	_, ok := p.origins[norm]
	return ok
}

// allowsAll reports whether every name in the comma-separated list requested
// is an allowed header, so the list can be echoed as is.
func (p *corsPolicy) allowsAll(requested string) bool {
	for rest := requested; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ",")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !containsFold(p.allowHeaders, name) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// parseOrigin returns the serialised form of an origin written
// scheme://host[:port]: scheme and host lower-cased, IPv6 in canonical form,
// the scheme's default port dropped. It rejects anything a browser would never
// send as an Origin — other schemes, user info, a path (even "/"), a query or
// a fragment — so a typo in the allow-list fails at start-up instead of
// silently matching nothing.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("scheme must be http or https")
	case u.Opaque != "" || u.Host == "":
		return "", errors.New("must be scheme://host[:port]")
	case u.User != nil:
		return "", errors.New("must not contain user info")
	case u.Path != "" || u.RawPath != "":
		return "", errors.New("must not have a path")
	case u.RawQuery != "" || u.ForceQuery:
		return "", errors.New("must not have a query")
	case strings.Contains(s, "#"):
		return "", errors.New("must not have a fragment")
	case strings.Contains(u.Host, "%"):
		return "", errors.New("host must not be percent-encoded")
	}
	host, err := originHost(u)
	if err != nil {
		return "", err
	}
	port, err := originPort(u)
	if err != nil {
		return "", err
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

func originHost(u *url.URL) (string, error) {
	name := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		addr, err := netip.ParseAddr(name)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", errors.New("invalid IPv6 address")
		}
		return "[" + addr.String() + "]", nil
	}
	name = strings.ToLower(name)
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return "", errors.New("invalid host name")
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-') {
				return "", fmt.Errorf("invalid character %q in host", b)
			}
		}
	}
	return name, nil
}

func originPort(u *url.URL) (string, error) {
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return "", errors.New("empty port")
		}
		return "", nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", errors.New("port must be 1-65535")
	}
	return strconv.Itoa(n), nil
}
