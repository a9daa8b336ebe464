package resilience

import (
	"net/http"
	"strconv"
	"time"
)

// The header fields of draft-ietf-httpapi-ratelimit-headers-09 (the same
// syntax in -10): both are Structured Field lists whose members are a
// quoted policy name with integer parameters.
const (
	// HeaderRateLimitPolicy describes a quota: q units per w seconds.
	HeaderRateLimitPolicy = "RateLimit-Policy"
	// HeaderRateLimit reports the quota's state: r units remaining, t
	// seconds until it is whole again.
	HeaderRateLimit = "RateLimit"
)

// The fields' keys in net/http's canonical form ("Ratelimit",
// "Ratelimit-Policy"), which Header.Add would work out, and allocate, anew on
// every call: the names are not in net/http's table of common fields. In the
// full service's in-process twin, a request's decisions spent 2.8% of the
// CPU canonicalizing them (issue 19 item 2). The keys, and so the fields
// written, are those Header.Add used.
var (
	keyRateLimitPolicy = http.CanonicalHeaderKey(HeaderRateLimitPolicy)
	keyRateLimit       = http.CanonicalHeaderKey(HeaderRateLimit)
)

// policyField renders one RateLimit-Policy member. A GCRA limit admits a
// burst at once and refills it in burst × interval, so that is the quota
// and window advertised: for the usual Burst = Rate it is exactly "Rate per
// Period".
func policyField(name string, l Limit) string {
	window := ceilSeconds(time.Duration(l.burst()) * l.interval())
	return `"` + name + `";q=` + strconv.Itoa(l.burst()) + ";w=" + strconv.FormatInt(window, 10)
}

// rateLimitField renders one RateLimit member.
func rateLimitField(name string, res Result) string {
	return `"` + name + `";r=` + strconv.Itoa(max(res.Remaining, 0)) + ";t=" + strconv.FormatInt(ceilSeconds(res.ResetAfter), 10)
}

// ceilSeconds rounds d up to whole seconds: a client told to wait less
// than it must would be refused again.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
