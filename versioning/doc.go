// Package versioning mounts an application's routes as numbered API versions
// under one base path (/api/v1, /api/v2, ...) and announces deprecation and
// sunset with the standard header fields: Deprecation (RFC 9745), Sunset
// (RFC 8594) and Link with rel="successor-version", "deprecation" and
// "sunset". After its sunset a version answers 410 Gone. It is the only way a
// Troupe service mounts application routes.
package versioning
