package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

// CompressConfig configures the Compress middleware. Zero fields take the
// value in DefaultCompressConfig.
type CompressConfig struct {
	// Skipper lets chosen requests bypass compression entirely.
	Skipper echomw.Skipper

	// MinSize is the smallest body, in bytes, worth compressing. Shorter
	// responses go out uncompressed with an exact Content-Length, because
	// encoder framing and the client's decoder cost more than they save.
	// Zero means 1024; negative is an error. A Flush commits to compressing
	// whatever the size, since a streamed body's final size is unknown.
	MinSize int

	// Algorithms lists the content codings to offer — "zstd", "br", "gzip"
	// and "deflate" — in the order the server prefers them when the client
	// accepts several equally. Empty means all four in that order. An
	// unknown or repeated name is an error.
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
// of the defaults CompressWithConfig fills in.
var DefaultCompressConfig = CompressConfig{
	Skipper:    echomw.DefaultSkipper,
	MinSize:    1024,
	Algorithms: []string{"zstd", "br", "gzip", "deflate"},
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

// Compress returns a middleware that compresses responses with
// DefaultCompressConfig. It panics if DefaultCompressConfig has been changed
// into an invalid configuration; use CompressWithConfig to handle that error.
func Compress() echo.MiddlewareFunc {
	m, err := CompressWithConfig(DefaultCompressConfig)
	if err != nil {
		panic(fmt.Sprintf("middleware: DefaultCompressConfig is invalid: %v", err))
	}
	return m
}

// CompressWithConfig returns a middleware that compresses response bodies
// with the coding the client's Accept-Encoding prefers (see
// NegotiateEncoding), streaming them through pooled encoders. It reports
// every problem in cfg at once: a negative MinSize, an unknown or repeated
// algorithm, an empty content type.
//
// When no coding is acceptable — the client excluded identity too — the
// response is sent uncompressed rather than refused with 406: RFC 9110
// §12.1 lets a server disregard proactive negotiation, and an unreadable
// error helps such a client no more than an uncompressed body does.
func CompressWithConfig(cfg CompressConfig) (echo.MiddlewareFunc, error) {
	c, err := newCompressor(cfg)
	if err != nil {
		return nil, err
	}
	return c.middleware, nil
}

// compressor is one configured instance of the middleware. Its pools are
// per instance, so encoders never mix settings.
type compressor struct {
	skipper echomw.Skipper
	minSize int
	offered []string       // coding names in preference order
	pools   []*encoderPool // parallel to offered
	types   []string       // lower-cased ContentTypes entries
	buffers sync.Pool      // *[]byte for held-back bodies
}

func newCompressor(cfg CompressConfig) (*compressor, error) {
	var errs []error
	c := &compressor{skipper: cfg.Skipper, minSize: cfg.MinSize}
	if c.skipper == nil {
		c.skipper = DefaultCompressConfig.Skipper
	}
	switch {
	case c.minSize < 0:
		errs = append(errs, fmt.Errorf("compress: min size %d is negative", c.minSize))
	case c.minSize == 0:
		c.minSize = DefaultCompressConfig.MinSize
	}

	algorithms := cfg.Algorithms
	if len(algorithms) == 0 {
		algorithms = DefaultCompressConfig.Algorithms
	}
	for _, name := range algorithms {
		name = strings.ToLower(strings.TrimSpace(name))
		newEncoder, known := encoderConstructors[name]
		switch {
		case !known:
			errs = append(errs, fmt.Errorf("compress: unknown algorithm %q (supported: zstd, br, gzip, deflate)", name))
		case slices.Contains(c.offered, name):
			errs = append(errs, fmt.Errorf("compress: algorithm %q is listed twice", name))
		default:
			c.offered = append(c.offered, name)
			c.pools = append(c.pools, newEncoderPool(name, newEncoder))
		}
	}

	types := cfg.ContentTypes
	if len(types) == 0 {
		types = DefaultCompressConfig.ContentTypes
	}
	for i, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || t == "+" {
			errs = append(errs, fmt.Errorf("compress: content type %d is empty", i))
			continue
		}
		c.types = append(c.types, t)
	}

	if err := errors.Join(errs...); err != nil {
		return nil, err
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

func (c *compressor) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ctx echo.Context) error {
		req := ctx.Request()
		// An upgraded connection stops speaking HTTP, so there is no body to
		// compress; pass it through untouched.
		if c.skipper(ctx) || req.Header.Get(echo.HeaderUpgrade) != "" || req.Method == http.MethodConnect {
			return next(ctx)
		}
		res := ctx.Response()
		w := &compressWriter{rw: res.Writer, c: c, pool: c.negotiate(req)}
		res.Writer = w
		returned := false
		defer func() {
			res.Writer = w.rw
			if !returned && !w.sent() {
				// A panic is unwinding and nothing reached the client: drop
				// what was held back and let the recover stage render a 500
				// instead of an empty 200.
				res.Committed = false
			}
			w.release()
		}()
		err := next(ctx)
		returned = true
		if ferr := w.finish(); ferr != nil && err == nil {
			err = fmt.Errorf("compress: finishing response: %w", ferr)
		}
		return err
	}
}

// negotiate returns the pool of the coding the request asks for, or nil to
// send the response uncompressed. A HEAD response is never encoded: its
// headers would describe an encoding of a body that is never produced.
func (c *compressor) negotiate(r *http.Request) *encoderPool {
	if r.Method == http.MethodHead {
		return nil
	}
	var accept string
	switch values := r.Header.Values(echo.HeaderAcceptEncoding); len(values) {
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
