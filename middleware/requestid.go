package middleware

import (
	"context"
	"crypto/rand"
	"net/http"

	"github.com/troupehq/troupe/internal/reqinfo"
)

// HeaderRequestID is the header field that carries the request ID in both
// directions.
const HeaderRequestID = "X-Request-ID"

// maxRequestIDLen bounds an accepted incoming ID, so a client cannot make every
// log line and response it touches arbitrarily large.
const maxRequestIDLen = 128

// RequestIDConfig configures RequestID.
type RequestIDConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: DefaultSkipper.
	Skipper Skipper
	// Header is the request and response header field. Default: HeaderRequestID.
	Header string
	// Generator makes a new ID when the request brings none, or an invalid
	// one. Default: crypto/rand.Text (26 base32 characters).
	Generator func() string
	// Valid decides whether an incoming ID is accepted. Default: ValidRequestID.
	Valid func(string) bool
}

// DefaultRequestIDConfig is the configuration RequestID uses.
var DefaultRequestIDConfig = RequestIDConfig{
	Skipper:   DefaultSkipper,
	Header:    HeaderRequestID,
	Generator: rand.Text,
	Valid:     ValidRequestID,
}

// requestIDs is the core of RequestID: one per configured stage.
type requestIDs struct {
	skip     Skipper
	header   string // canonical
	generate func() string
	valid    func(string) bool
}

// newRequestIDs fills cfg's zero fields from DefaultRequestIDConfig.
func newRequestIDs(cfg RequestIDConfig) *requestIDs {
	s := &requestIDs{skip: cfg.Skipper, header: cfg.Header, generate: cfg.Generator, valid: cfg.Valid}
	if s.skip == nil {
		s.skip = DefaultRequestIDConfig.Skipper
	}
	if s.header == "" {
		s.header = DefaultRequestIDConfig.Header
	}
	if s.generate == nil {
		s.generate = DefaultRequestIDConfig.Generator
	}
	if s.valid == nil {
		s.valid = DefaultRequestIDConfig.Valid
	}
	s.header = http.CanonicalHeaderKey(s.header)
	return s
}

// assign gives r its ID, echoes it on the response header h, and returns r
// carrying its reqinfo.Info: the ID, with the route and client IP the
// adapter knows, recorded once here for every stage further in.
func (s *requestIDs) assign(r *http.Request, h http.Header, f requestFacts) *http.Request {
	id := r.Header.Get(s.header)
	if !s.valid(id) {
		id = s.generate()
	}
	rec := &requestIDRecord{header: [1]string{id}}
	rec.ctx.Context = r.Context()
	rec.ctx.Info.ID = id
	rec.ctx.Info.Route = f.route
	rec.ctx.Info.ClientIP = f.clientIP
	h[s.header] = rec.header[:]
	return r.WithContext(&rec.ctx)
}

// requestIDRecord puts a request's context, its Info within, and the backing
// array of its response header value in one allocation; the chain runs per
// request, so it counts.
type requestIDRecord struct {
	ctx    reqinfo.Context
	header [1]string
}

// RequestIDFrom returns the request ID RequestID stored in ctx, or "" when the
// request did not pass through it.
func RequestIDFrom(ctx context.Context) string {
	return reqinfo.RequestID(ctx)
}

// ValidRequestID reports whether id is acceptable from a client: 1 to 128
// characters from [A-Za-z0-9._:-]. That admits UUIDs, ULIDs, W3C trace IDs and
// most vendors' formats while keeping out spaces, CR/LF, quotes and non-ASCII,
// which could forge log lines or break header and JSON encoding downstream.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !requestIDChar(id[i]) {
			return false
		}
	}
	return true
}

func requestIDChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	case b == '.', b == '_', b == ':', b == '-':
		return true
	}
	return false
}
