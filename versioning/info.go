package versioning

import (
	"slices"
	"time"
)

// Version statuses reported in VersionInfo.Status and the version listing.
const (
	// StatusActive: not deprecated, or deprecated from a date still ahead.
	StatusActive = "active"
	// StatusDeprecated: past its deprecation date, before its sunset.
	StatusDeprecated = "deprecated"
	// StatusSunset: past its sunset; with MountOptions.EnforceSunset its
	// routes answer 410 Gone.
	StatusSunset = "sunset"
)

// VersionInfo describes one version of an API. It is also the element of the
// JSON version listing served at the API's base.
type VersionInfo struct {
	// Version is the version number.
	Version int `json:"version"`
	// Label is the version's name in paths, metrics and logs: "v1".
	Label string `json:"-"`
	// Path is the version root, base included: "/api/v1".
	Path string `json:"path"`
	// Status is StatusActive, StatusDeprecated or StatusSunset at the time
	// the VersionInfo was made.
	Status string `json:"status"`
	// Deprecated is the deprecation date, nil when the version is not
	// deprecated.
	Deprecated *time.Time `json:"deprecated,omitempty"`
	// Sunset is the sunset, nil when none is announced.
	Sunset *time.Time `json:"sunset,omitempty"`
	// Successor is the root path of the successor version, "" when none.
	Successor string `json:"successor,omitempty"`
}

// Versions describes the API's versions now, sorted by number.
func (a *API) Versions() []VersionInfo {
	return a.VersionsAt(time.Now())
}

// VersionsAt is Versions with statuses as of t; it lets a caller with its own
// clock (a test, a report about a planned date) get a deterministic answer.
func (a *API) VersionsAt(t time.Time) []VersionInfo {
	infos := a.describe()
	for i := range infos {
		infos[i].Status = statusAt(&infos[i], t)
	}
	return infos
}

// describe returns the versions sorted by number with every field but Status
// filled in. Each call returns fresh time pointers, so callers may keep or
// modify the result.
func (a *API) describe() []VersionInfo {
	numbers := make([]int, 0, len(a.versions))
	for n := range a.versions {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	infos := make([]VersionInfo, len(numbers))
	for i, n := range numbers {
		info := VersionInfo{Version: n, Label: label(n), Path: a.versionPath(n)}
		if d := a.deprecations[n]; d != nil {
			since := d.since
			info.Deprecated = &since
			if !d.sunset.IsZero() {
				sunset := d.sunset
				info.Sunset = &sunset
			}
			if d.successor != 0 {
				info.Successor = a.versionPath(d.successor)
			}
		}
		infos[i] = info
	}
	return infos
}

// statusAt computes info's status at t from its dates.
func statusAt(info *VersionInfo, t time.Time) string {
	switch {
	case info.Sunset != nil && !t.Before(*info.Sunset):
		return StatusSunset
	case info.Deprecated != nil && !t.Before(*info.Deprecated):
		return StatusDeprecated
	default:
		return StatusActive
	}
}
