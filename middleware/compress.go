package middleware

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/troupehq/troupe/internal/fielderr"
)

// CompressConfig configures the Compress middleware. Start from
// DefaultCompressConfig; CompressWithConfig fills in only Skipper, and
// Algorithms and ContentTypes when empty.
type CompressConfig struct {
	// Skipper lets chosen requests bypass compression entirely.
	// Default: DefaultSkipper.
	Skipper Skipper

	// MinSize is the smallest body, in bytes, worth compressing. Shorter
	// responses go out uncompressed with an exact Content-Length, because
	// encoder framing and the client's decoder cost more than they save.
	// Zero compresses every non-empty body, as it does for the key
	// compression.min_size; negative is an error. A Flush commits to
	// compressing whatever the size, since a streamed body's final size is
	// unknown.
	MinSize int

	// Algorithms lists the content codings to offer — see Encodings — in
	// the order the server prefers them when the client accepts several
	// equally. Names are case-insensitive (RFC 9110 §8.4.1). Empty means
	// all of Encodings in that order. An unknown or repeated name is an
	// error.
	Algorithms []string

	// ContentTypes lists the compressible media types. An entry matches a
	// response whose media type, parameters removed and compared without
	// regard to case, begins with it ("text/" matches text/html); an entry
	// that starts with "+" matches a structured syntax suffix instead
	// ("+json" matches application/vnd.api+json). Empty means the default
	// list. Types outside it, such as images and archives, are already
	// compressed and would only grow.
	ContentTypes []string
}

// DefaultCompressConfig is the configuration Compress uses and the source
// of the defaults CompressWithConfig fills in. MinSize and Algorithms are
// the defaults of the keys compression.min_size and
// compression.algorithms.
var DefaultCompressConfig = CompressConfig{
	Skipper:    DefaultSkipper,
	MinSize:    1024,
	Algorithms: Encodings(),
	ContentTypes: []string{
		"text/",
		"application/json",
		"application/problem+json",
		"application/xml",
		"application/javascript",
		"image/svg+xml",
		"+json",
		"+xml",
	},
}

// Validate reports every problem in c, each a *fielderr.Error naming the
// field: a negative MinSize, an algorithm not in Encodings or listed twice,
// an empty content type.
func (c CompressConfig) Validate() error {
	var errs []error
	if c.MinSize < 0 {
		errs = append(errs, fielderr.New("MinSize", "must not be negative, got %d", c.MinSize))
	}
	var seen []string
	for _, name := range c.Algorithms {
		name = normalizeCoding(name)
		switch {
		case newEncoderFor(name) == nil:
			errs = append(errs, fielderr.New("Algorithms", "unknown algorithm %q (supported: %s)", name, strings.Join(Encodings(), ", ")))
		case slices.Contains(seen, name):
			errs = append(errs, fielderr.New("Algorithms", "algorithm %q is listed twice", name))
		default:
			seen = append(seen, name)
		}
	}
	for i, t := range c.ContentTypes {
		if t = strings.TrimSpace(t); t == "" || t == "+" {
			errs = append(errs, fielderr.New("ContentTypes", "content type %d is empty", i))
		}
	}
	return errors.Join(errs...)
}

// normalizeCoding returns a coding name as Encodings spells it.
func normalizeCoding(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// compressor is the core of Compress: one configured instance. Its pools
// are per instance, so encoders never mix settings.
type compressor struct {
	skip    Skipper
	minSize int            // at least 1: an empty body is never compressed
	offered []string       // coding names in preference order
	pools   []*encoderPool // parallel to offered
	types   []string       // lower-cased ContentTypes entries
	buffers sync.Pool      // *[]byte for held-back bodies
}

// newCompressor validates cfg and fills its defaults.
func newCompressor(cfg CompressConfig) (*compressor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &compressor{skip: cfg.Skipper, minSize: max(cfg.MinSize, 1)}
	if c.skip == nil {
		c.skip = DefaultCompressConfig.Skipper
	}
	algorithms := cfg.Algorithms
	if len(algorithms) == 0 {
		algorithms = DefaultCompressConfig.Algorithms
	}
	for _, name := range algorithms {
		name = normalizeCoding(name)
		c.offered = append(c.offered, name)
		c.pools = append(c.pools, newEncoderPool(name, newEncoderFor(name)))
	}
	types := cfg.ContentTypes
	if len(types) == 0 {
		types = DefaultCompressConfig.ContentTypes
	}
	for _, t := range types {
		c.types = append(c.types, strings.ToLower(strings.TrimSpace(t)))
	}
	// A large MinSize should not cost that much memory per request up
	// front; the buffer grows only as far as a body actually needs.
	initial := min(c.minSize, 64<<10)
	c.buffers.New = func() any {
		b := make([]byte, 0, initial)
		return &b
	}
	return c, nil
}

// bypass reports whether r passes the stage untouched: the Skipper chose
// it, or it upgrades the connection (WebSocket, CONNECT), which then stops
// speaking HTTP and has no body to compress.
func (c *compressor) bypass(r *http.Request) bool {
	return c.skip(r) || r.Header.Get("Upgrade") != "" || r.Method == http.MethodConnect
}

// begin returns the writer the inner chain must use for r instead of w.
// The caller ends the request with the writer's end and release.
func (c *compressor) begin(w http.ResponseWriter, r *http.Request) *compressWriter {
	return &compressWriter{rw: w, c: c, pool: c.negotiate(r)}
}

// negotiate returns the pool of the coding the request asks for, or nil to
// send the response uncompressed. A HEAD response is never encoded: its
// headers would describe an encoding of a body that is never produced.
func (c *compressor) negotiate(r *http.Request) *encoderPool {
	if r.Method == http.MethodHead {
		return nil
	}
	var accept string
	switch values := r.Header.Values("Accept-Encoding"); len(values) {
	case 0:
		return nil
	case 1:
		accept = values[0]
	default: // repeated fields are one comma-separated list (RFC 9110 §5.3)
		accept = strings.Join(values, ",")
	}
	coding, ok := NegotiateEncoding(accept, c.offered)
	if !ok {
		return nil
	}
	for i, name := range c.offered {
		if name == coding {
			return c.pools[i]
		}
	}
	return nil // identity
}

// compressibleType reports whether a Content-Type value names a media type
// the configuration lists.
func (c *compressor) compressibleType(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = trimOWS(mediaType)
	if mediaType == "" {
		return false
	}
	for _, t := range c.types {
		if t[0] == '+' {
			if len(mediaType) >= len(t) && strings.EqualFold(mediaType[len(mediaType)-len(t):], t) {
				return true
			}
		} else if len(mediaType) >= len(t) && strings.EqualFold(mediaType[:len(t)], t) {
			return true
		}
	}
	return false
}
