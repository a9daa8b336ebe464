package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
)

// The CORS header fields, in canonical form.
const (
	headerOrigin           = "Origin"
	headerVary             = "Vary"
	headerACRequestMethod  = "Access-Control-Request-Method"
	headerACRequestHeaders = "Access-Control-Request-Headers"
	headerACAllowOrigin    = "Access-Control-Allow-Origin"
	headerACAllowCreds     = "Access-Control-Allow-Credentials"
	headerACAllowMethods   = "Access-Control-Allow-Methods"
	headerACAllowHeaders   = "Access-Control-Allow-Headers"
	headerACExposeHeaders  = "Access-Control-Expose-Headers"
	headerACMaxAge         = "Access-Control-Max-Age"
)

// CORSConfig configures CORSWithConfig.
type CORSConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: DefaultSkipper.
	Skipper Skipper
	// AllowOrigins is the allow-list: each entry scheme://host[:port] with
	// scheme http or https and nothing after the authority, or the single
	// entry "*" for any origin. Entries are compared case-insensitively with
	// default ports dropped. Empty disables CORS: no header is ever added.
	AllowOrigins []string
	// AllowMethods answers Access-Control-Allow-Methods in preflights.
	// Default when empty: DefaultCORSConfig's (GET, HEAD, POST, PUT, PATCH,
	// DELETE).
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

// DefaultCORSConfig is the configuration to start from, the defaults of the
// cors keys: no origin is allowed until AllowOrigins names one, the usual
// methods, the header fields a JSON API client sends, the response fields
// Troupe's own features set (the request ID, Location, the deprecation
// fields, Retry-After) readable by scripts, and preflights cached for ten
// minutes.
var DefaultCORSConfig = CORSConfig{
	Skipper: DefaultSkipper,
	AllowMethods: []string{
		http.MethodGet, http.MethodHead, http.MethodPost,
		http.MethodPut, http.MethodPatch, http.MethodDelete,
	},
	AllowHeaders:  []string{"Authorization", "Content-Type", HeaderRequestID},
	ExposeHeaders: []string{HeaderRequestID, "Location", "Deprecation", "Sunset", "Link", "Retry-After"},
	MaxAge:        10 * time.Minute,
}

// Validate reports every problem in c, each a *fielderr.Error naming the
// field: an AllowOrigins entry that is not scheme://host[:port], "*" with
// other origins or with AllowCredentials, a method or header name that is
// not an HTTP token, a negative MaxAge. Empty AllowMethods is valid: it
// means DefaultCORSConfig's.
func (c CORSConfig) Validate() error {
	var errs []error
	anyOrigin := false
	for _, o := range c.AllowOrigins {
		if o == "*" {
			anyOrigin = true
			continue
		}
		if _, err := parseOrigin(o); err != nil {
			errs = append(errs, fielderr.New("AllowOrigins", "invalid origin %q: %w", o, err))
		}
	}
	if anyOrigin && len(c.AllowOrigins) > 1 {
		errs = append(errs, fielderr.New("AllowOrigins", `"*" cannot be combined with other origins`))
	}
	if anyOrigin && c.AllowCredentials {
		errs = append(errs, fielderr.New("AllowOrigins", `"*" cannot be used when credentials are allowed`))
	}
	for _, list := range []struct {
		field string
		names []string
		what  string
	}{
		{"AllowMethods", c.AllowMethods, "method"},
		{"AllowHeaders", c.AllowHeaders, "header name"},
		{"ExposeHeaders", c.ExposeHeaders, "header name"},
	} {
		for _, n := range list.names {
			if !isToken(n) {
				errs = append(errs, fielderr.New(list.field, "invalid %s %q", list.what, n))
			}
		}
	}
	if c.MaxAge < 0 {
		errs = append(errs, fielderr.New("MaxAge", "must not be negative, got %s", c.MaxAge))
	}
	return errors.Join(errs...)
}

// corsPolicy is a validated CORSConfig with its header values precomputed.
type corsPolicy struct {
	skip         Skipper
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

// newCORSPolicy fills cfg's zero fields, validates it and precomputes its
// header values; a nil policy means CORS is disabled.
func newCORSPolicy(cfg CORSConfig) (*corsPolicy, error) {
	if cfg.Skipper == nil {
		cfg.Skipper = DefaultCORSConfig.Skipper
	}
	if len(cfg.AllowMethods) == 0 {
		cfg.AllowMethods = DefaultCORSConfig.AllowMethods
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.AllowOrigins) == 0 {
		return nil, nil
	}
	p := &corsPolicy{skip: cfg.Skipper, origins: make(map[string]struct{}, len(cfg.AllowOrigins))}
	for _, o := range cfg.AllowOrigins {
		if o == "*" {
			p.anyOrigin = true
			continue
		}
		norm, _ := parseOrigin(o) // valid: checked above
		p.origins[norm] = struct{}{}
	}
	p.allowHeaders = cfg.AllowHeaders
	p.credentials = cfg.AllowCredentials
	p.methods = strings.Join(cfg.AllowMethods, ", ")
	p.headers = strings.Join(cfg.AllowHeaders, ", ")
	p.expose = strings.Join(cfg.ExposeHeaders, ", ")
	if cfg.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	}
	p.vary = headerACRequestMethod + ", " + headerACRequestHeaders
	if !p.anyOrigin {
		p.vary = headerOrigin + ", " + p.vary
	}
	return p, nil
}

// answer applies the policy to r, setting its fields on w's header, and
// reports whether r was a preflight, which it answers with 204 on w: the
// inner chain must not run.
func (p *corsPolicy) answer(w http.ResponseWriter, r *http.Request) bool {
	if !p.apply(r, w.Header()) {
		return false
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// apply sets the CORS fields for r on h and reports whether r is a preflight,
// which the caller answers with 204 instead of running the inner chain.
func (p *corsPolicy) apply(r *http.Request, h http.Header) (preflight bool) {
	origin := r.Header.Get(headerOrigin)
	preflight = r.Method == http.MethodOptions && origin != "" && r.Header.Get(headerACRequestMethod) != ""
	values := make(headerValues, 0, 6)
	if preflight {
		values.add(h, headerVary, p.vary)
	} else if !p.anyOrigin {
		values.add(h, headerVary, headerOrigin)
	}
	if origin == "" || !p.allowed(origin) {
		return preflight
	}
	if p.anyOrigin {
		values.set(h, headerACAllowOrigin, "*")
	} else {
		values.set(h, headerACAllowOrigin, origin)
	}
	if p.credentials {
		values.set(h, headerACAllowCreds, "true")
	}
	if !preflight {
		if p.expose != "" {
			values.set(h, headerACExposeHeaders, p.expose)
		}
		return false
	}
	values.set(h, headerACAllowMethods, p.methods)
	if requested := r.Header.Get(headerACRequestHeaders); requested != "" && p.allowsAll(requested) {
		values.set(h, headerACAllowHeaders, requested)
	} else if p.headers != "" {
		values.set(h, headerACAllowHeaders, p.headers)
	}
	if p.maxAge != "" {
		values.set(h, headerACMaxAge, p.maxAge)
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
