package wasm

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// MaxManifestSize bounds the bytes read from a Component.toml. Real manifests
// are a few hundred bytes; the bound keeps a hostile file from costing memory.
const MaxManifestSize = 1 << 20

// Manifest is a parsed and validated Component.toml. ParseManifest fills zero
// runtime values and an empty log level with their defaults, so the fields
// hold the effective settings.
type Manifest struct {
	Component  ComponentSection  `toml:"component"`
	Runtime    RuntimeSection    `toml:"runtime"`
	Security   SecuritySection   `toml:"security"`
	Monitoring MonitoringSection `toml:"monitoring"`

	// Dir is the directory holding the manifest; WASM is relative to it.
	Dir string `toml:"-"`
	// Caps is Security.Capabilities parsed, the set every host call checks.
	Caps CapabilitySet `toml:"-"`
}

// ComponentSection is the [component] table: identity and module location.
type ComponentSection struct {
	// Name becomes the component's actor name, hence its restricted syntax.
	Name        string `toml:"name"`
	Version     string `toml:"version"`
	Description string `toml:"description"`
	// WASM is the module path, slash-separated and relative to the manifest.
	WASM string `toml:"wasm"`
	// SHA256 optionally pins the module: lowercase hex of its digest.
	SHA256 string `toml:"sha256"`
}

// RuntimeSection is the [runtime] table: resource limits. Zero means the
// default constant of the same name.
type RuntimeSection struct {
	MaxMemoryMB int `toml:"max_memory_mb"`
	// MaxCPUCores is the maximum number of concurrent instances of a
	// stateless component's pool.
	MaxCPUCores           int `toml:"max_cpu_cores"`
	MessageQueueSize      int `toml:"message_queue_size"`
	MessageTimeoutMS      int `toml:"message_timeout_ms"`
	HealthCheckIntervalMS int `toml:"health_check_interval_ms"`
}

// SecuritySection is the [security] table.
type SecuritySection struct {
	// Capabilities are kind:action:resource grants; see ParseCapabilities.
	Capabilities []string `toml:"capabilities"`
}

// MonitoringSection is the [monitoring] table.
type MonitoringSection struct {
	// EnableMetrics records the component's per-message processing time
	// (troupe.actor.processing.duration, kind "wasm:<name>"), set when
	// the actor spawns. Restarts, drops, denials and instance failures
	// are counted either way.
	EnableMetrics bool `toml:"enable_metrics"`
	// EnableTracing makes a span per message, a child of the sender's
	// (for a routed HTTP request, of the server span).
	EnableTracing bool `toml:"enable_tracing"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
}

// ErrUnknownKey is wrapped by the KeyError for a key the manifest format does
// not define, usually a typo that would otherwise be silently ignored.
var ErrUnknownKey = errors.New("unknown key")

// ErrSHA256Mismatch is wrapped by the error VerifySHA256 returns when the
// module is not the one the manifest pins.
var ErrSHA256Mismatch = errors.New("sha256 mismatch")

// KeyError is one problem in a manifest, tied to the dotted key it concerns
// so that the author can find the line to fix.
type KeyError struct {
	Key string // dotted key, e.g. "runtime.max_memory_mb"
	Err error
}

// Error formats the problem as "key: reason".
func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the underlying reason, such as ErrUnknownKey.
func (e *KeyError) Unwrap() error { return e.Err }

// ParseManifest decodes and validates a Component.toml. dir is the directory
// the manifest lives in; the module path is resolved against it. Every
// problem found is reported, joined, as *KeyError values; a TOML syntax or
// type error stops decoding and is reported with its line and column.
func ParseManifest(data []byte, dir string) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("manifest is %d bytes, more than %d", len(data), MaxManifestSize)
	}
	m := &Manifest{Dir: dir}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var errs []error
	if err := dec.Decode(m); err != nil {
		var missing *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &missing):
			for _, e := range missing.Errors {
				errs = append(errs, &KeyError{Key: dottedKey(e.Key()), Err: ErrUnknownKey})
			}
		case errors.As(err, &de):
			row, col := de.Position()
			return nil, fmt.Errorf("line %d, column %d: %w", row, col, err)
		default:
			return nil, err
		}
	}
	errs = append(errs, m.validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.applyDefaults()
	return m, nil
}

// LoadManifest reads and parses the manifest at path; Dir becomes the
// directory of path. Every error starts with path.
func LoadManifest(path string) (*Manifest, error) {
	data, err := readLimited(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already our prefix
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := ParseManifest(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// readLimited reads at most MaxManifestSize+1 bytes, enough for
// ParseManifest to reject an oversized file without reading all of it.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
}

// WASMPath is the module's file path: Component.WASM, cleaned, inside Dir.
// ParseManifest has already rejected paths that would leave Dir.
func (m *Manifest) WASMPath() string {
	return filepath.Join(m.Dir, filepath.FromSlash(m.Component.WASM))
}

// VerifySHA256 checks wasm against Component.SHA256 and returns nil when no
// digest is pinned. A mismatch wraps ErrSHA256Mismatch.
func (m *Manifest) VerifySHA256(wasm []byte) error {
	if m.Component.SHA256 == "" {
		return nil
	}
	want, err := hex.DecodeString(m.Component.SHA256)
	if err != nil || len(want) != sha256.Size {
		return &KeyError{Key: "component.sha256", Err: errors.New("not 64 hex digits")}
	}
	got := sha256.Sum256(wasm)
	// Constant time, so a caller probing modules learns nothing from timing.
	if subtle.ConstantTimeCompare(want, got[:]) != 1 {
		return &KeyError{Key: "component.sha256", Err: fmt.Errorf("%w: module digest is %x", ErrSHA256Mismatch, got)}
	}
	return nil
}

// bareKey matches a TOML key segment that needs no quoting.
var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// dottedKey renders a TOML key path as the author would write it.
func dottedKey(k toml.Key) string {
	parts := make([]string, len(k))
	for i, p := range k {
		if bareKey.MatchString(p) {
			parts[i] = p
		} else {
			parts[i] = strconv.Quote(p)
		}
	}
	return strings.Join(parts, ".")
}
