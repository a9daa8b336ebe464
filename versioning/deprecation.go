package versioning

import (
	"fmt"
	"net/url"
	"time"
)

// DeprecationOption describes one aspect of a version's deprecation; pass
// options to API.Deprecate.
type DeprecationOption func(*deprecation)

// deprecation is what Deprecate recorded for one version.
type deprecation struct {
	since      time.Time // always set once Deprecate returns
	sinceSet   bool
	sunset     time.Time // zero: no sunset announced
	successor  int       // 0: none
	link       string    // rel="deprecation"
	sunsetLink string    // rel="sunset"
	errs       []string  // mistakes found while applying options
}

// Since sets the date the version is (or will be) deprecated, sent as the
// Deprecation field. A date in the future announces an upcoming deprecation
// (RFC 9745 §2.1); the version's status stays "active" until then.
//
// Without Since the date is the moment Deprecate was called, to the second —
// or the Sunset, if that is earlier, so that a service restarted after its
// sunset still starts and never claims a deprecation later than its sunset.
func Since(t time.Time) DeprecationOption {
	return func(d *deprecation) {
		if t.IsZero() {
			d.errs = append(d.errs, "Since: zero time")
			return
		}
		d.since, d.sinceSet = t.UTC(), true
	}
}

// Sunset sets the moment the version stops being served, sent as the Sunset
// field (RFC 8594). From then on, with MountOptions.EnforceSunset, its routes
// answer 410 Gone. It must not be before Since.
func Sunset(t time.Time) DeprecationOption {
	return func(d *deprecation) {
		if t.IsZero() {
			d.errs = append(d.errs, "Sunset: zero time")
			return
		}
		d.sunset = t.UTC()
	}
}

// Successor names the version clients should move to, sent as
// Link: <{base}/v{version}>; rel="successor-version" and quoted in the 410
// answer after the sunset. It must be a newer version of the same API.
func Successor(version int) DeprecationOption {
	return func(d *deprecation) {
		if version < 1 {
			d.errs = append(d.errs, fmt.Sprintf("Successor(%d): version numbers start at 1", version))
			return
		}
		d.successor = version
	}
}

// Link sets a URL of human-readable documentation about the deprecation,
// sent as Link: <url>; rel="deprecation" (RFC 9745 §3).
func Link(url string) DeprecationOption {
	return func(d *deprecation) {
		if err := checkLinkTarget(url); err != nil {
			d.errs = append(d.errs, "Link: "+err.Error())
			return
		}
		d.link = url
	}
}

// SunsetLink sets a URL describing the sunset policy, sent as
// Link: <url>; rel="sunset" (RFC 8594 §6).
func SunsetLink(url string) DeprecationOption {
	return func(d *deprecation) {
		if err := checkLinkTarget(url); err != nil {
			d.errs = append(d.errs, "SunsetLink: "+err.Error())
			return
		}
		d.sunsetLink = url
	}
}

// checkLinkTarget rejects what cannot sit between the angle brackets of a
// Link field value (RFC 8288 §3) or is not a URI reference at all.
func checkLinkTarget(target string) error {
	if target == "" {
		return fmt.Errorf("empty URL")
	}
	for _, r := range target {
		if r <= ' ' || r == '<' || r == '>' || r == '"' || r >= 0x7f {
			return fmt.Errorf("URL %q: character %q not allowed", target, r)
		}
	}
	if _, err := url.Parse(target); err != nil {
		return fmt.Errorf("URL %q: %w", target, err)
	}
	return nil
}

// defaultSince is the deprecation date when Since was not given.
func defaultSince(now, sunset time.Time) time.Time {
	since := now.UTC().Truncate(time.Second)
	if !sunset.IsZero() && sunset.Before(since) {
		return sunset
	}
	return since
}

// validate reports the mistakes in d that need the whole API to see.
func (d *deprecation) validate(a *API, n int) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("versioning: v%d: "+format, append([]any{n}, args...)...))
	}
	if a.versions[n] == nil {
		fail("Deprecate of an unknown version")
	}
	if s := d.successor; s != 0 {
		switch {
		case s == n:
			fail("is its own successor")
		case s < n:
			fail("successor v%d is older", s)
		case a.versions[s] == nil:
			fail("successor v%d is not a defined version", s)
		}
	}
	if !d.sunset.IsZero() && d.sunset.Before(d.since) {
		fail("sunset %s is before the deprecation date %s",
			d.sunset.Format(time.RFC3339), d.since.Format(time.RFC3339))
	}
	return errs
}
