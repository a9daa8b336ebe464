package wasm

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Defaults for runtime values left at zero, chosen for a small stateless
// component; ParseManifest fills them in.
const (
	// DefaultMaxMemoryMB is the linear memory limit: 64 MiB.
	DefaultMaxMemoryMB = 64
	// DefaultMaxCPUCores runs one instance at a time.
	DefaultMaxCPUCores = 1
	// DefaultMessageQueueSize is the mailbox capacity.
	DefaultMessageQueueSize = 1024
	// DefaultMessageTimeoutMS is the per-message deadline: 5 s.
	DefaultMessageTimeoutMS = 5000
	// DefaultHealthCheckIntervalMS polls the health export every 10 s.
	DefaultHealthCheckIntervalMS = 10000
	// DefaultLogLevel is used when log_level is empty.
	DefaultLogLevel = "info"
)

// Upper bounds for runtime values; anything larger is a mistake, not a need.
const (
	// MaxMemoryMB is the wasm32 address space: 4 GiB.
	MaxMemoryMB = 4096
	// MaxCPUCores bounds the instance pool of a stateless component.
	MaxCPUCores = 256
	// MaxMessageQueueSize bounds a component's mailbox.
	MaxMessageQueueSize = 1 << 20
	// MaxMessageTimeoutMS is ten minutes.
	MaxMessageTimeoutMS = 600_000
	// MaxHealthCheckIntervalMS is one hour.
	MaxHealthCheckIntervalMS = 3_600_000
)

var (
	// nameRE keeps component names usable as actor names and in subjects.
	// All three compile on first use (see lazyRegexp).
	nameRE = lazyRegexp(`^[a-z][a-z0-9_-]{0,62}$`)
	// versionRE is semver with optional minor, patch and leading "v".
	versionRE = lazyRegexp(`^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	sha256RE  = lazyRegexp(`^[0-9a-f]{64}$`)
)

// validate returns every problem in m as a *KeyError, in file order.
func (m *Manifest) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Err: fmt.Errorf(format, args...)})
	}
	c := m.Component
	switch {
	case c.Name == "":
		bad("component.name", "required")
	case !nameRE().MatchString(c.Name):
		bad("component.name", "%q must match %s", c.Name, nameRE())
	}
	switch {
	case c.Version == "":
		bad("component.version", "required")
	case len(c.Version) > 64 || !versionRE().MatchString(c.Version):
		bad("component.version", "%q is not a semantic version such as 1.2.3", c.Version)
	}
	if reason := checkWASMPath(c.WASM); reason != "" {
		bad("component.wasm", "%s", reason)
	}
	if c.SHA256 != "" && !sha256RE().MatchString(c.SHA256) {
		bad("component.sha256", "%q is not 64 lowercase hex digits", c.SHA256)
	}
	r := m.Runtime
	for _, f := range []struct {
		key      string
		val, max int
	}{
		{"runtime.max_memory_mb", r.MaxMemoryMB, MaxMemoryMB},
		{"runtime.max_cpu_cores", r.MaxCPUCores, MaxCPUCores},
		{"runtime.message_queue_size", r.MessageQueueSize, MaxMessageQueueSize},
		{"runtime.message_timeout_ms", r.MessageTimeoutMS, MaxMessageTimeoutMS},
		{"runtime.health_check_interval_ms", r.HealthCheckIntervalMS, MaxHealthCheckIntervalMS},
	} {
		if f.val < 0 || f.val > f.max {
			bad(f.key, "%d is outside 0..%d (0 means the default)", f.val, f.max)
		}
	}
	caps, capErrs := parseCapabilities(m.Security.Capabilities)
	for _, err := range capErrs {
		errs = append(errs, &KeyError{Key: "security.capabilities", Err: err})
	}
	m.Caps = caps
	switch m.Monitoring.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		bad("monitoring.log_level", "%q is not one of debug, info, warn, error", m.Monitoring.LogLevel)
	}
	return errs
}

// checkWASMPath returns why p is not an acceptable module path, or "".
func checkWASMPath(p string) string {
	switch {
	case p == "":
		return "required"
	case !strings.HasSuffix(p, ".wasm"):
		return fmt.Sprintf("%q does not end in .wasm", p)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Sprintf("%q must use forward slashes and no NUL bytes", p)
	case !filepath.IsLocal(filepath.FromSlash(p)):
		return fmt.Sprintf("%q must be relative to the manifest directory and stay inside it", p)
	}
	return ""
}

// applyDefaults replaces zero values with the documented defaults.
func (m *Manifest) applyDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	r := &m.Runtime
	def(&r.MaxMemoryMB, DefaultMaxMemoryMB)
	def(&r.MaxCPUCores, DefaultMaxCPUCores)
	def(&r.MessageQueueSize, DefaultMessageQueueSize)
	def(&r.MessageTimeoutMS, DefaultMessageTimeoutMS)
	def(&r.HealthCheckIntervalMS, DefaultHealthCheckIntervalMS)
	if m.Monitoring.LogLevel == "" {
		m.Monitoring.LogLevel = DefaultLogLevel
	}
}
