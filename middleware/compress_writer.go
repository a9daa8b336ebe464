package middleware

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// writerState is where a compressWriter is in deciding how to send the body.
type writerState uint8

const (
	// stateInitial: nothing written yet; a status may be recorded.
	stateInitial writerState = iota
	// stateHolding: the response may be compressed; the body is held back
	// until it reaches MinSize, is flushed, or ends.
	stateHolding
	// stateIdentity: headers sent; the body passes through unchanged.
	stateIdentity
	// stateEncoding: headers sent; the body goes through enc.
	stateEncoding
	// stateHijacked: the handler took over the connection.
	stateHijacked
)

// compressWriter stands in for the response writer while a handler runs. It
// holds the status and the first MinSize bytes back so it can decide, from
// the final headers and the body's size, whether to compress. Like any
// http.ResponseWriter it is for one goroutine at a time.
type compressWriter struct {
	rw     http.ResponseWriter
	c      *compressor
	pool   *encoderPool // the negotiated coding; nil sends identity
	enc    encoder      // set in stateEncoding
	buf    *[]byte      // the held-back body, from c.buffers
	status int          // the status to send; 0 until the handler sets one
	state  writerState
}

// Header returns the underlying header map; the handler's changes land there
// directly and are read when the decision is made.
func (w *compressWriter) Header() http.Header { return w.rw.Header() }

// WriteHeader records the status, deferring it until the decision is made.
// Informational (1xx) statuses go out at once: they precede the real
// response and carry no body.
func (w *compressWriter) WriteHeader(code int) {
	switch {
	case code >= 100 && code <= 199:
		w.rw.WriteHeader(code)
	case w.state == stateInitial && w.status == 0:
		w.status = code
	case w.state == stateIdentity:
		w.rw.WriteHeader(code) // superfluous: let net/http report it
	}
}

// Write holds p back while the response may still be sent either way, and
// streams it once the decision is made.
func (w *compressWriter) Write(p []byte) (int, error) {
	switch w.state {
	case stateIdentity:
		return w.rw.Write(p)
	case stateEncoding:
		return w.enc.Write(p)
	case stateHijacked:
		return 0, http.ErrHijacked
	case stateInitial:
		if w.status == 0 {
			w.status = http.StatusOK
		}
		if !w.prepare(p) {
			return w.startIdentity(p, false)
		}
		w.state = stateHolding
	}
	if w.held()+len(p) < w.c.minSize {
		if w.buf == nil {
			w.buf = w.c.buffers.Get().(*[]byte)
		}
		*w.buf = append(*w.buf, p...)
		return len(p), nil
	}
	return w.startEncoding(p)
}

// Flush implements http.Flusher for handlers that stream.
func (w *compressWriter) Flush() { _ = w.FlushError() }

// FlushError sends everything written so far to the client, decodable.
// A flush before MinSize commits the decision: a stream's final size is
// unknown, so a compressible response is compressed from here on. It is the
// method http.ResponseController prefers, so flush errors reach the caller.
func (w *compressWriter) FlushError() error {
	switch w.state {
	case stateHijacked:
		return http.ErrHijacked
	case stateInitial:
		if w.status == 0 {
			w.status = http.StatusOK
		}
		if !w.prepare(nil) {
			if _, err := w.startIdentity(nil, false); err != nil {
				return err
			}
			break
		}
		w.state = stateHolding
		fallthrough
	case stateHolding:
		if _, err := w.startEncoding(nil); err != nil {
			return err
		}
	}
	if w.state == stateEncoding {
		if err := w.enc.Flush(); err != nil {
			return err
		}
	}
	return http.NewResponseController(w.rw).Flush()
}

// Hijack hands the connection to the handler, as the underlying writer
// would, and stops the middleware writing anything afterwards.
func (w *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.state = stateHijacked
	}
	return conn, brw, err
}

// Unwrap returns the underlying writer, so http.ResponseController reaches
// features this wrapper does not implement, such as write deadlines.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.rw }

// end completes the response once the inner chain has returned err, and
// returns what the stage returns: err, or else the failure to finish.
func (w *compressWriter) end(err error) error {
	if ferr := w.finish(); ferr != nil && err == nil {
		return fmt.Errorf("compress: finishing response: %w", ferr)
	}
	return err
}

// finish completes the response after the handler returned. When the handler
// wrote nothing at all it writes nothing either, leaving the response to
// the error handler or to net/http's implicit 200.
func (w *compressWriter) finish() error {
	switch w.state {
	case stateInitial:
		if w.status == 0 {
			return nil
		}
		w.prepare(nil) // for Vary; an empty body is never compressed
		_, err := w.startIdentity(nil, true)
		return err
	case stateHolding:
		_, err := w.startIdentity(nil, true)
		return err
	case stateEncoding:
		return w.enc.Close()
	}
	return nil
}

// sent reports whether the status line has been handed to the underlying
// writer.
func (w *compressWriter) sent() bool {
	return w.state != stateInitial && w.state != stateHolding
}

// release returns pooled resources. An encoder still open here was abandoned
// by a panic; it is reset without writing its end, so the client sees a
// truncated stream rather than a complete-looking one.
func (w *compressWriter) release() {
	if w.enc != nil {
		w.pool.put(w.enc)
		w.enc = nil
	}
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
		w.c.buffers.Put(w.buf)
		w.buf = nil
	}
}

func (w *compressWriter) held() int {
	if w.buf == nil {
		return 0
	}
	return len(*w.buf)
}

// prepare inspects the headers once the first bytes (or a flush, or the end)
// arrive, sniffing a missing Content-Type from p as net/http would. It adds
// Vary to every response of compressible type — compressed or not, a cache
// must key it by Accept-Encoding — and reports whether this response may be
// compressed.
func (w *compressWriter) prepare(p []byte) bool {
	h := w.rw.Header()
	contentType := h.Get("Content-Type")
	if _, declared := h["Content-Type"]; !declared && len(p) > 0 {
		contentType = http.DetectContentType(p)
		h.Set("Content-Type", contentType)
	}
	if !w.c.compressibleType(contentType) {
		return false
	}
	addVaryAcceptEncoding(h)
	switch {
	case w.pool == nil:
		return false
	case w.status == http.StatusNoContent, w.status == http.StatusNotModified:
		return false // no body
	case w.status == http.StatusPartialContent, h.Get("Content-Range") != "":
		return false // byte ranges address the identity representation
	case h.Get("Content-Encoding") != "":
		return false // already encoded; never compress twice
	case hasDirective(h.Values("Cache-Control"), "no-transform"):
		return false // RFC 9111 §5.2.2.6 forbids intermediaries to transform
	}
	return true
}

// startIdentity sends the status, the held-back body and p unchanged. At the
// end of the response (final) the held body is all there is, so it gets an
// exact Content-Length.
func (w *compressWriter) startIdentity(p []byte, final bool) (int, error) {
	w.state = stateIdentity
	if final && w.held() > 0 {
		w.rw.Header().Set("Content-Length", strconv.Itoa(w.held()))
	}
	w.rw.WriteHeader(w.status)
	if w.held() > 0 {
		if _, err := w.rw.Write(*w.buf); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	return w.rw.Write(p)
}

// startEncoding sends the status with encoding headers and starts the
// encoder with the held-back body and p.
//
// A strong ETag promises byte-identical content, which the encoded bytes are
// not, so it is weakened (W/): If-None-Match revalidation keeps working, and
// strong comparisons (If-Match, If-Range) correctly stop matching.
func (w *compressWriter) startEncoding(p []byte) (int, error) {
	h := w.rw.Header()
	h.Del("Content-Length")
	h.Set("Content-Encoding", w.pool.coding)
	if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		h.Set("ETag", "W/"+etag)
	}
	w.rw.WriteHeader(w.status)
	w.enc = w.pool.get(w.rw)
	w.state = stateEncoding
	if w.held() > 0 {
		if _, err := w.enc.Write(*w.buf); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	return w.enc.Write(p)
}

// addVaryAcceptEncoding adds Accept-Encoding to Vary unless Vary already
// names it or is "*".
func addVaryAcceptEncoding(h http.Header) {
	if hasDirective(h.Values("Vary"), "Accept-Encoding") || hasDirective(h.Values("Vary"), "*") {
		return
	}
	h.Add("Vary", "Accept-Encoding")
}

// hasDirective reports whether any comma-separated element of the field
// values, ignoring parameters, whitespace and case, equals name.
func hasDirective(values []string, name string) bool {
	for _, v := range values {
		for v != "" {
			var element string
			element, v, _ = strings.Cut(v, ",")
			element, _, _ = strings.Cut(element, "=")
			if strings.EqualFold(trimOWS(element), name) {
				return true
			}
		}
	}
	return false
}
