package realtime

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// originPolicy decides which browser pages may open a connection. Browsers
// send Origin with every WebSocket handshake and EventSource request but,
// unlike for fetch, enforce no CORS check on a WebSocket's answer: the
// server is the only one who can refuse a foreign page (cross-site
// WebSocket hijacking), so it does, before the upgrade.
type originPolicy struct {
	allow []string            // as configured
	any   bool                // "*"
	set   map[string]struct{} // normalised allowed origins
}

// compile normalises the allow-list, reporting an entry that is not
// "*" or scheme://host[:port].
func (p *originPolicy) compile() error {
	p.set = make(map[string]struct{}, len(p.allow))
	for _, o := range p.allow {
		if o == "*" {
			p.any = true
			continue
		}
		norm, ok := normalizeOrigin(o)
		if !ok {
			return fmt.Errorf("realtime: allowed origin %q is not scheme://host[:port]", o)
		}
		p.set[norm] = struct{}{}
	}
	return nil
}

// allowed reports whether r may proceed: it has no Origin (not a browser,
// which could forge any header anyway), comes from the page's own host, or
// from an allowed origin.
func (p *originPolicy) allowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || p.any {
		return true
	}
	norm, ok := normalizeOrigin(origin)
	if !ok {
		return false
	}
	if _, ok := p.set[norm]; ok {
		return true
	}
	host := norm[strings.Index(norm, "://")+3:]
	return strings.EqualFold(host, stripDefaultPort(r.Host, norm[:strings.Index(norm, "://")]))
}

// normalizeOrigin lower-cases an http(s) origin and drops a default port.
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.ToLower(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return u.Scheme + "://" + stripDefaultPort(u.Host, u.Scheme), true
}

// stripDefaultPort drops :80 for http and :443 for https from host.
func stripDefaultPort(host, scheme string) string {
	if scheme == "http" {
		return strings.TrimSuffix(host, ":80")
	}
	return strings.TrimSuffix(host, ":443")
}
