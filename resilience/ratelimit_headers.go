package resilience

import (
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
