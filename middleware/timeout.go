package middleware

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/internal/reqinfo"
	"github.com/troupehq/troupe/problem"
)

// TimeoutConfig configures Timeout.
type TimeoutConfig struct {
	// Skipper decides per request whether to skip the middleware.
	// Default: DefaultSkipper.
	Skipper Skipper
	// Timeout bounds the inner chain. Zero disables the middleware, as it
	// does for the key http.request_timeout; negative is invalid (see
	// Validate) and also disables it.
	Timeout time.Duration
	// ErrorDetail is the detail of the 503 problem sent at the deadline.
	// Default: "The request did not complete within its time limit."
	ErrorDetail string
}

// DefaultTimeoutConfig is the configuration Timeout starts from: 30 s, the
// default of http.request_timeout.
var DefaultTimeoutConfig = TimeoutConfig{
	Skipper:     DefaultSkipper,
	Timeout:     30 * time.Second,
	ErrorDetail: deadlineDetail,
}

// Validate reports a negative Timeout as a *fielderr.Error.
func (c TimeoutConfig) Validate() error {
	if c.Timeout < 0 {
		return fielderr.New("Timeout", "must not be negative, got %s", c.Timeout)
	}
	return nil
}

// timeout is the core of Timeout.
type timeout struct {
	skip        Skipper
	d           time.Duration
	unavailable problem.Details // the 503
}

// newTimeout fills cfg's zero fields; it returns nil when cfg disables the
// stage.
func newTimeout(cfg TimeoutConfig) *timeout {
	if cfg.Timeout <= 0 {
		return nil
	}
	t := &timeout{skip: cfg.Skipper, d: cfg.Timeout}
	if t.skip == nil {
		t.skip = DefaultTimeoutConfig.Skipper
	}
	if cfg.ErrorDetail == "" {
		cfg.ErrorDetail = DefaultTimeoutConfig.ErrorDetail
	}
	t.unavailable = problem.New(http.StatusServiceUnavailable, cfg.ErrorDetail)
	return t
}

// begin arms the deadline for r, whose response goes to w, and returns the
// writer and the request the inner chain must use instead. The caller ends
// the request with tw.finish.
func (t *timeout) begin(w http.ResponseWriter, r *http.Request) (tw *timeoutWriter, inner *http.Request) {
	tw = &timeoutWriter{w: w, r: r, unavailable: &t.unavailable, instance: r.URL.Path}
	tw.start(tw.ctx.begin(r.Context(), t.d))
	return tw, r.WithContext(&tw.ctx)
}

// result is what the stage returns for err, the inner chain's error: a
// deadline the handler gave up on before responding is the 503, with err
// as its cause.
func (t *timeout) result(err error, committed bool) error {
	if err != nil && !committed && errors.Is(err, context.DeadlineExceeded) {
		return &problem.Error{Details: t.unavailable, Err: err}
	}
	return err
}

// timeoutWriter stands between the handler and the real writer for one
// request, and holds the handler's context, so that both cost one
// allocation. The handler and the timer callback run on different
// goroutines; mu orders their access to the real writer, and the handler's
// separate header map keeps its header edits away from the callback's.
type timeoutWriter struct {
	w           http.ResponseWriter // the real writer
	h           http.Header         // the handler's header map, the kit's
	r           *http.Request       // the request as it arrived: request ID and method for the 503
	unavailable *problem.Details    // the 503
	instance    string              // the 503's instance, taken before the handler can touch r.URL
	kit         *timeoutKit         // the timer and header map on loan for this request
	ctx         deadlineCtx         // the handler's context

	// vals backs the values of the handler's copy of the header, as
	// Header.Clone's single array would; the real header map may keep
	// pointing into it after the request, so it is never reused.
	vals [headerValuesInline]string

	mu          sync.Mutex
	wroteHeader bool // the handler has started the response
	timedOut    bool // the timeout response was sent; the handler's output is discarded
	slowClient  bool // the deadline passed while the handler waited for the body: 408, not 503
	sent        int  // the status of the timeout response, once sent
	done        bool // the handler has returned; the callback must not write
}

// headerValuesInline is how many header values timeoutWriter holds without
// allocating: what the core chain sets, with room to spare, while the struct
// stays within 512 bytes, past which the runtime allocates objects with
// pointers a slower way.
const headerValuesInline = 16

// timeoutKit is the reusable part of a request's timeout machinery: a timer
// whose callback is bound once, and a header map. Pooling it saves per
// request the timer, its callback closure and the map, which alone takes two
// allocations, four past eight fields.
//
// The map is the handler's Header() while the request runs. Like every
// http.ResponseWriter's, it must not be used once the handler has returned;
// by then its fields have been copied to the real header map and the kit may
// serve another request.
type timeoutKit struct {
	timer *time.Timer
	tw    atomic.Pointer[timeoutWriter] // the request the timer is armed for
	h     http.Header
}

// maxPooledHeader bounds the header maps kept for reuse, so that one request
// with an unusually large header does not make every later clear costly.
const maxPooledHeader = 32

// timeoutKits holds the idle kits, each with its timer stopped and its map
// empty.
var timeoutKits = sync.Pool{New: func() any {
	k := &timeoutKit{h: make(http.Header)}
	k.timer = time.AfterFunc(time.Hour, k.ring)
	k.timer.Stop()
	return k
}}

// ring is the timer callback. The timer is armed only after tw is stored and
// a kit goes back to the pool only once Stop has kept ring from running, so
// tw is this arming's.
func (k *timeoutKit) ring() { k.tw.Load().expire() }

// start takes a kit, gives the handler a copy of the header so far and arms
// the timer to fire after wait.
func (tw *timeoutWriter) start(wait time.Duration) {
	k := timeoutKits.Get().(*timeoutKit)
	tw.kit = k
	tw.h = k.h
	copyHeader(tw.h, tw.w.Header(), tw.vals[:])
	k.tw.Store(tw)
	k.timer.Reset(wait)
}

// copyHeader fills the empty dst with a deep copy of src, taking the values
// from buf while it lasts, so the handler's edits never reach src's slices.
func copyHeader(dst, src http.Header, buf []string) {
	for k, v := range src {
		if len(v) > len(buf) {
			dst[k] = slices.Clone(v)
			continue
		}
		n := copy(buf, v)
		dst[k] = buf[:n:n]
		buf = buf[n:]
	}
}

// Header returns the handler's own header map.
func (tw *timeoutWriter) Header() http.Header { return tw.h }

// WriteHeader sends the handler's header fields and status, unless the 503
// went first.
func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.wroteHeader || tw.timeOut() {
		return
	}
	tw.startResponse()
	tw.w.WriteHeader(code)
}

// Write writes b to the client, or fails with http.ErrHandlerTimeout once the
// deadline has passed without a response begun.
func (tw *timeoutWriter) Write(b []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timeOut() {
		return 0, http.ErrHandlerTimeout
	}
	if !tw.wroteHeader {
		tw.startResponse()
	}
	return tw.w.Write(b)
}

// Flush implements http.Flusher; see FlushError.
func (tw *timeoutWriter) Flush() { _ = tw.FlushError() }

// FlushError sends buffered output to the client, which commits the header
// like a write does. After a timeout it fails with http.ErrHandlerTimeout.
func (tw *timeoutWriter) FlushError() error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timeOut() {
		return http.ErrHandlerTimeout
	}
	if !tw.wroteHeader {
		tw.startResponse()
	}
	return http.NewResponseController(tw.w).Flush()
}

// Unwrap returns the real writer, for http.ResponseController.
func (tw *timeoutWriter) Unwrap() http.ResponseWriter { return tw.w }

// startResponse makes the real header map equal to the handler's, which
// is sent now; the caller holds mu. Deletions count too: the handler's map
// started as a copy.
func (tw *timeoutWriter) startResponse() {
	tw.wroteHeader = true
	syncHeader(tw.w.Header(), tw.h)
}

// syncHeader makes dst equal to src.
func syncHeader(dst, src http.Header) {
	clear(dst)
	maps.Copy(dst, src)
}

// expire runs when the deadline passes: it ends the handler's context and
// sends the timeout response if nothing else has been sent. Whether the handler was
// waiting for the client is judged before the context ends, so that whoever
// sees it ended — the breaker, or a handler writing — sees the judgement too.
func (tw *timeoutWriter) expire() {
	if info := reqinfo.FromContext(tw.r.Context()); info.ReadingBody() {
		info.SetClientFault()
		tw.mu.Lock()
		tw.slowClient = true
		tw.mu.Unlock()
	}
	tw.ctx.expire()
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.timeOut()
}

// timeOut sends the 503 if the deadline has passed while the handler has
// neither begun a response nor returned, and reports whether the 503 has been
// sent; the caller holds mu. The handler's own writes call it too: a handler
// woken by its context can get to mu before the callback does, and the
// outcome must not depend on that race. A departed client (a cancelled, not
// expired, context) is sent nothing.
func (tw *timeoutWriter) timeOut() bool {
	if tw.timedOut {
		return true
	}
	if tw.done || tw.wroteHeader || !errors.Is(tw.ctx.Err(), context.DeadlineExceeded) {
		return false
	}
	tw.timedOut = true
	p := *tw.unavailable
	if tw.slowClient {
		p = problem.New(http.StatusRequestTimeout, slowBodyDetail)
	}
	p.Instance = tw.instance
	if tw.r.ContentLength != 0 {
		tw.w.Header().Set("Connection", "close")
	}
	tw.sent = p.Status
	problem.Write(tw.w, tw.r, p)
	_ = http.NewResponseController(tw.w).Flush()
	return true
}

// finish ends the handler's use of tw and returns the status of the timeout
// response, or 0 when none was sent.
// It stops the timer, passes on the header fields the real map still lacks,
// ends the handler's context and returns the kit.
func (tw *timeoutWriter) finish() (sent int) {
	k := tw.kit
	stopped := k.timer.Stop()
	tw.mu.Lock()
	timedOut := tw.timeOut()
	sent = tw.sent
	tw.done = true
	switch {
	case timedOut:
	case !tw.wroteHeader:
		// The handler returned without writing, perhaps with an error
		// whose response will carry the fields it set (405's Allow).
		syncHeader(tw.w.Header(), tw.h)
	default:
		copyTrailers(tw.w.Header(), tw.h)
	}
	// Late callers of Header, in breach of the ResponseWriter contract,
	// get the real map rather than one another request may be using.
	tw.h = tw.w.Header()
	tw.mu.Unlock()
	tw.ctx.release()
	// A timer that could not be stopped has a callback under way that
	// still refers to tw; that kit is left to the collector.
	if stopped && len(k.h) <= maxPooledHeader {
		k.tw.Store(nil)
		clear(k.h)
		timeoutKits.Put(k)
	}
	return sent
}

// copyTrailers copies to dst the trailer fields the handler set in src after
// the response began: those its Trailer field declares and those named with
// http.TrailerPrefix. Other fields set that late are not sent by any writer.
func copyTrailers(dst, src http.Header) {
	for k, v := range src {
		switch {
		case k == "Trailer":
			for _, declared := range v {
				for name := range strings.SplitSeq(declared, ",") {
					name = http.CanonicalHeaderKey(textproto.TrimString(name))
					if v, ok := src[name]; ok {
						dst[name] = v
					}
				}
			}
		case strings.HasPrefix(k, http.TrailerPrefix):
			dst[k] = v
		}
	}
}
