package wasm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// maxFetchRedirects bounds a redirect chain, as net/http's default policy.
const maxFetchRedirects = 10

// errNetworkDenied is wrapped by every refusal of newFetchClient's checks.
var errNetworkDenied = errors.New("network destination not granted")

// networkDeniedError is a connection or redirect to host:port that no
// network grant covers.
type networkDeniedError struct{ host, port string }

// Error names the refused destination.
func (e *networkDeniedError) Error() string {
	return fmt.Sprintf("%v: %s", errNetworkDenied, e.hostPort())
}

// Unwrap returns errNetworkDenied.
func (e *networkDeniedError) Unwrap() error { return errNetworkDenied }

// hostPort is the resource in manifest syntax: IPv6 bracketed.
func (e *networkDeniedError) hostPort() string { return net.JoinHostPort(e.host, e.port) }

// checkNetwork returns a *networkDeniedError unless caps grant host:port.
func checkNetwork(caps CapabilitySet, host, port string) error {
	p, err := strconv.Atoi(port)
	if err != nil || !caps.AllowsNetwork(host, p) {
		return &networkDeniedError{host: host, port: port}
	}
	return nil
}

// checkURL is checkNetwork for u's host and port.
func checkURL(caps CapabilitySet, u *url.URL) error {
	host, port := urlHostPort(u)
	return checkNetwork(caps, host, port)
}

// urlHostPort returns u's host and port, the port defaulting by scheme.
func urlHostPort(u *url.URL) (host, port string) {
	host, port = u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return host, port
}

// newFetchClient returns a copy of base (http.DefaultClient when nil) that
// only reaches destinations caps grant. Three checks stack up:
//   - the caller checks the request URL before sending it;
//   - CheckRedirect checks every redirect's URL, and allows only http and
//     https, before base's own redirect policy runs;
//   - when base's transport is an *http.Transport (or nil), the copy's
//     dialer refuses any address it is asked to dial that no grant covers.
//     Proxies are disabled and a custom DialTLSContext is dropped, since
//     either would open connections the check cannot see.
//
// What this guarantees: every TCP connection goes to a host:port granted by
// name or by IP address, and a redirect never leaves the grants. What it
// does not: a name grant trusts DNS, so the component reaches whatever the
// name resolves to, including a private address if the name's owner points
// it there; to pin an address, grant the IP literal, which is then the only
// address dialled. A base transport of another type (a test double, a
// tracing wrapper) cannot be re-armed, so it is wrapped in a check of each
// outgoing request's URL instead, and the connections it makes are its own.
func newFetchClient(base *http.Client, caps CapabilitySet) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	next := base.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to scheme %q refused: only http and https", req.URL.Scheme)
		}
		if err := checkURL(caps, req.URL); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxFetchRedirects {
			return fmt.Errorf("stopped after %d redirects", maxFetchRedirects)
		}
		return nil
	}
	switch t := base.Transport.(type) {
	case nil:
		c.Transport = guardTransport(http.DefaultTransport.(*http.Transport), caps)
	case *http.Transport:
		c.Transport = guardTransport(t, caps)
	default:
		c.Transport = guardedRoundTripper{next: t, caps: caps}
	}
	return &c
}

// guardTransport clones t with a dialer that dials only granted addresses.
func guardTransport(t *http.Transport, caps CapabilitySet) *http.Transport {
	g := t.Clone()
	g.Proxy = nil
	g.DialTLSContext = nil
	//lint:ignore SA1019 cleared because a deprecated hook would bypass the check
	g.DialTLS = nil
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	g.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if err := checkNetwork(caps, host, port); err != nil {
			return nil, err
		}
		return dial(ctx, network, addr)
	}
	return g
}

// guardedRoundTripper checks each request's URL before a transport it
// cannot re-arm sends it.
type guardedRoundTripper struct {
	next http.RoundTripper
	caps CapabilitySet
}

// RoundTrip sends req through the wrapped transport if its URL is granted.
func (g guardedRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkURL(g.caps, req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}
