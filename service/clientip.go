package service

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// ipExtractor returns the client-IP rule (Echo's RealIP, which the access
// log, rate limits and authorization context use). The connection's address
// is the client unless it is a trusted proxy (http.trusted_proxies); then the
// proxies' own record of the chain is read from the right — the standard
// Forwarded header (RFC 7239) when present, else X-Forwarded-For — skipping
// further trusted proxies, and the first address not trusted is the client.
// A header from an untrusted peer is never read: anyone can send one.
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	prefixes := make([]netip.Prefix, 0, len(trusted))
	for _, t := range trusted {
		if p, err := netip.ParsePrefix(t); err == nil {
			prefixes = append(prefixes, p.Masked())
			continue
		}
		addr, _ := netip.ParseAddr(t) // validated by config: one of the two parses
		prefixes = append(prefixes, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		peer, err := netip.ParseAddr(host)
		if err != nil || !isTrusted(peer) {
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
				// An obfuscated or garbled hop: what lies beyond it cannot be
				// attributed, so the last trusted proxy is the client.
				break
			}
			client = a
			if !isTrusted(a) {
				break
			}
		}
		return client.Unmap().String()
	}
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
