package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/troupehq/troupe/problem"
)

// Health status values of the application/health+json format
// (draft-inadarei-api-health-check).
const (
	StatusPass = "pass"
	StatusWarn = "warn"
	StatusFail = "fail"
)

const healthContentType = "application/health+json"

// lifecycle states of the service as readiness sees them.
const (
	stateStarting int32 = iota
	stateReady
	stateStopping
)

type check struct {
	name     string
	fn       CheckFunc
	optional bool
}

// checkResult is one entry of the "checks" map.
type checkResult struct {
	Status        string  `json:"status"`
	Output        string  `json:"output,omitempty"`
	ObservedValue float64 `json:"observedValue"`
	ObservedUnit  string  `json:"observedUnit"`
	Time          string  `json:"time"`
}

// report is an application/health+json document.
type report struct {
	Status  string                   `json:"status"`
	Version string                   `json:"version,omitempty"`
	Output  string                   `json:"output,omitempty"`
	Checks  map[string][]checkResult `json:"checks,omitempty"`
}

// probe evaluates one set of checks (liveness or readiness) concurrently
// under one deadline and caches the result for a short time, so a storm of
// probes from several load balancers costs one evaluation of each dependency.
type probe struct {
	checks  []*check
	timeout time.Duration
	ttl     time.Duration

	mu       sync.Mutex
	cached   *report
	cachedAt time.Time
	inflight chan struct{} // closed when the running evaluation finishes
}

func (p *probe) result(ctx context.Context) *report {
	p.mu.Lock()
	if p.cached != nil && time.Since(p.cachedAt) < p.ttl {
		r := p.cached
		p.mu.Unlock()
		return r
	}
	if wait := p.inflight; wait != nil {
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return &report{Status: StatusFail, Output: "health evaluation abandoned: " + ctx.Err().Error()}
		}
		p.mu.Lock()
		r := p.cached
		p.mu.Unlock()
		return r
	}
	done := make(chan struct{})
	p.inflight = done
	p.mu.Unlock()

	// The evaluation is shared by every waiting probe, so it runs under its
	// own deadline rather than the first caller's request context.
	r := p.evaluate()

	p.mu.Lock()
	p.cached, p.cachedAt, p.inflight = r, time.Now(), nil
	p.mu.Unlock()
	close(done)
	return r
}

func (p *probe) evaluate() *report {
	r := &report{Status: StatusPass}
	if len(p.checks) == 0 {
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()

	// One goroutine per check; a check that ignores its context is abandoned
	// at the deadline (its goroutine ends whenever the check does, into the
	// buffered channel).
	type outcome struct {
		i   int
		err error
	}
	start := time.Now()
	outcomes := make(chan outcome, len(p.checks))
	for i, c := range p.checks {
		go func() { outcomes <- outcome{i, callCheck(ctx, c.fn)} }()
	}
	results := make([]checkResult, len(p.checks))
	finished := make([]bool, len(p.checks))
	for range p.checks {
		select {
		case o := <-outcomes:
			results[o.i] = newResult(p.checks[o.i], start, o.err)
			finished[o.i] = true
			continue
		case <-ctx.Done():
		}
		break
	}
	r.Checks = make(map[string][]checkResult, len(p.checks))
	for i, c := range p.checks {
		if !finished[i] {
			results[i] = newResult(c, start, fmt.Errorf("check did not finish: %w", ctx.Err()))
		}
		r.Checks[c.name] = []checkResult{results[i]}
		switch {
		case results[i].Status == StatusFail:
			r.Status = StatusFail
		case results[i].Status == StatusWarn && r.Status == StatusPass:
			r.Status = StatusWarn
		}
	}
	return r
}

// callCheck runs fn, turning a panic into a failure instead of a crash.
func callCheck(ctx context.Context, fn CheckFunc) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("check panicked: %v", v)
		}
	}()
	return fn(ctx)
}

// newResult is the report entry of check c, started at start, ending in err.
func newResult(c *check, start time.Time, err error) checkResult {
	res := checkResult{
		Status:        StatusPass,
		ObservedValue: float64(time.Since(start).Microseconds()) / 1000,
		ObservedUnit:  "ms",
		Time:          start.UTC().Format(time.RFC3339Nano),
	}
	if err != nil {
		res.Status, res.Output = StatusFail, err.Error()
		if c.optional {
			res.Status = StatusWarn
		}
	}
	return res
}

// health serves /livez, /readyz and /healthz for both listeners.
type health struct {
	version   string
	state     atomic.Int32
	liveness  *probe
	readiness *probe
}

func newHealth(version string, timeout, ttl time.Duration, liveness, readiness []*check) *health {
	return &health{
		version:   version,
		liveness:  &probe{checks: liveness, timeout: timeout, ttl: ttl},
		readiness: &probe{checks: readiness, timeout: timeout, ttl: ttl},
	}
}

func (h *health) setState(s int32) { h.state.Store(s) }

// stopping reports whether shutdown has begun.
func (h *health) stopping() bool { return h.state.Load() == stateStopping }

func (h *health) live(ctx context.Context) *report { return h.liveness.result(ctx) }

func (h *health) ready(ctx context.Context) *report {
	switch h.state.Load() {
	case stateStarting:
		return &report{Status: StatusFail, Output: "starting"}
	case stateStopping:
		return &report{Status: StatusFail, Output: "shutting down"}
	}
	r := h.readiness.result(ctx)
	if h.state.Load() == stateStopping { // shutdown began while the checks ran
		return &report{Status: StatusFail, Output: "shutting down"}
	}
	return r
}

// handler returns the health endpoint for one listener. The main listener is
// reachable by anyone, so it says pass/warn/fail only; details and error
// texts, which can reveal internal host names, are for the admin listener.
func (h *health) handler(detailed bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, r, problem.New(http.StatusMethodNotAllowed, "health endpoints answer GET and HEAD"))
			return
		}
		var rep *report
		if r.URL.Path == "/livez" {
			rep = h.live(r.Context())
		} else {
			rep = h.ready(r.Context())
		}
		out := report{Status: rep.Status}
		if detailed {
			out = *rep
			out.Version = h.version
		}
		body, err := json.Marshal(out)
		if err != nil { // plain strings and finite numbers: cannot fail, but never send half a document
			problem.Write(w, r, problem.New(http.StatusInternalServerError, "health report could not be encoded"))
			return
		}
		w.Header().Set("Content-Type", healthContentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		status := http.StatusOK
		if rep.Status == StatusFail {
			status = http.StatusServiceUnavailable
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// isHealthPath reports whether path is one of the probe endpoints.
func isHealthPath(path string) bool {
	return path == "/livez" || path == "/readyz" || path == "/healthz"
}
