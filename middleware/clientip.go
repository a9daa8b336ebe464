package middleware

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/troupehq/troupe/internal/fielderr"
)

// NewClientIP returns the rule that says which address a request comes
// from — what the access log, telemetry, rate limits by IP and
// authorization see as the client — for a service behind the proxies listed
// in trustedProxies (each an IP address or a CIDR prefix; the key
// http.trusted_proxies). The service installs it as Echo's IPExtractor, and
// the request-ID stage records its answer in reqinfo.Info.ClientIP.
//
// The connection's address is the client unless it is a trusted proxy;
// then the proxies' own record of the chain is read from the right — the
// standard Forwarded header (RFC 7239) when present, else X-Forwarded-For —
// skipping further trusted proxies, and the first address not trusted is
// the client. A hop that is obfuscated or garbled ends the walk: what lies
// beyond it cannot be attributed, so the last trusted proxy counts as the
// client. A header from an untrusted peer is never read: anyone can send
// one. With no trusted proxies the connection's address is the answer, as
// with Echo's ExtractIPDirect.
//
// An entry that is neither an address nor a prefix is reported as a
// *fielderr.Error for the field TrustedProxies, with every other bad entry.
func NewClientIP(trustedProxies []string) (func(*http.Request) string, error) {
	trusted, err := parseTrusted(trustedProxies)
	if err != nil {
		return nil, err
	}
	if len(trusted) == 0 {
		return directIP, nil
	}
	return trusted.clientIP, nil
}

// trustedSet is the parsed list of trusted proxies.
type trustedSet []netip.Prefix

func parseTrusted(list []string) (trustedSet, error) {
	var errs []error
	set := make(trustedSet, 0, len(list))
	for _, t := range list {
		if p, err := netip.ParsePrefix(t); err == nil {
			set = append(set, p.Masked())
			continue
		}
		addr, err := netip.ParseAddr(t)
		if err != nil {
			errs = append(errs, fielderr.New("TrustedProxies", "%q is neither an IP address nor a CIDR prefix", t))
			continue
		}
		addr = addr.Unmap()
		set = append(set, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return set, errors.Join(errs...)
}

func (s trustedSet) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// directIP is the connection's address: the host of RemoteAddr, or
// RemoteAddr itself when it is a bare IP, or "" when it is neither.
func directIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		if net.ParseIP(r.RemoteAddr) != nil {
			return r.RemoteAddr
		}
		return ""
	}
	return host
}

// clientIP applies the rule described at NewClientIP.
func (s trustedSet) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.contains(peer) {
		return host
	}
	var hops []string
	if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		hops = forwardedFor(fwd)
	} else {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for hop := range strings.SplitSeq(v, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !s.contains(a) {
			break
		}
	}
	return client.Unmap().String()
}

// forwardedFor returns the for= value of each element of Forwarded header
// values, in order ("" for an element without one). Values may be quoted;
// parameters are case-insensitive.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for element := range strings.SplitSeq(v, ",") {
			var hop string
			for pair := range strings.SplitSeq(element, ";") {
				name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(name), "for") {
					hop = strings.Trim(strings.TrimSpace(value), `"`)
				}
			}
			out = append(out, hop)
		}
	}
	return out
}

// parseHop parses one hop: an IP, an IP with a port, or a bracketed IPv6
// address with or without a port ("[2001:db8::1]:4711"). Obfuscated
// identifiers ("_hidden") and "unknown" do not parse.
func parseHop(hop string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(hop); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr(), true
	}
	if strings.HasPrefix(hop, "[") && strings.HasSuffix(hop, "]") {
		if a, err := netip.ParseAddr(hop[1 : len(hop)-1]); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}
