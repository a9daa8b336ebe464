package middleware

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// encoder is the streaming interface every supported coding's writer shares:
// Flush pushes out a decodable prefix (for streamed responses), Close ends
// the stream, Reset readies a pooled writer for the next response.
type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(w io.Writer)
}

// encodings are the content codings Compress implements, in the order the
// server prefers them by default, each with the constructor of a fresh
// encoder. It is the one list of them: Encodings, the default of
// CompressConfig.Algorithms and its validation all read it. The levels are
// fast ones: a service compresses on the request path, where latency matters
// more than the last percent of ratio.
var encodings = []struct {
	name       string
	newEncoder func() encoder
}{
	{"zstd", newZstdEncoder},
	// Quality 4 is brotli's knee: much faster than the default 11 and still
	// smaller than gzip for typical JSON.
	{"br", func() encoder { return brotli.NewWriterLevel(io.Discard, 4) }},
	{"gzip", func() encoder { return gzip.NewWriter(io.Discard) }},
	// HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2), not raw
	// DEFLATE, which some clients fail to decode.
	{"deflate", func() encoder { return zlib.NewWriter(io.Discard) }},
}

// Encodings returns the content codings Compress can produce, lower-case,
// in its default order of preference: zstd, br, gzip, deflate. They are the
// allowed values of CompressConfig.Algorithms (and of the key
// compression.algorithms). Each call returns a new slice.
func Encodings() []string {
	names := make([]string, len(encodings))
	for i, e := range encodings {
		names[i] = e.name
	}
	return names
}

// newEncoderFor returns the encoder constructor of the coding name, as
// Encodings spells it, or nil when Compress does not implement it.
func newEncoderFor(name string) func() encoder {
	for _, e := range encodings {
		if e.name == name {
			return e.newEncoder
		}
	}
	return nil
}

// newZstdEncoder builds a zstd encoder that encodes on the calling goroutine
// (concurrency 1: one response is one stream, and spare goroutines per
// pooled encoder would be waste), trims its memory, and uses the fastest
// level, whose 4 MiB window stays within the 8 MiB RFC 9659 requires HTTP
// decoders to accept.
func newZstdEncoder() encoder {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderLevel(zstd.SpeedFastest),
	)
	if err != nil {
		// The options are constants; failing here is a programming error
		// that the package tests catch.
		panic(fmt.Sprintf("middleware: zstd encoder options rejected: %v", err))
	}
	return e
}

// encoderPool recycles the encoders of one coding. Encoders carry large
// internal tables, so building one per response would dominate the cost of
// compressing a small body.
type encoderPool struct {
	coding string
	pool   sync.Pool
	// live counts encoders handed out and not yet returned; the tests read
	// it to prove that every path, panics included, gives encoders back.
	live atomic.Int64
}

func newEncoderPool(coding string, newEncoder func() encoder) *encoderPool {
	p := &encoderPool{coding: coding}
	p.pool.New = func() any { return newEncoder() }
	return p
}

// get returns an encoder that writes a new stream to dst.
func (p *encoderPool) get(dst io.Writer) encoder {
	e := p.pool.Get().(encoder)
	e.Reset(dst)
	p.live.Add(1)
	return e
}

// put takes an encoder back. Resetting it onto io.Discard drops both the
// unfinished stream and the reference to the response writer.
func (p *encoderPool) put(e encoder) {
	e.Reset(io.Discard)
	p.live.Add(-1)
	p.pool.Put(e)
}
