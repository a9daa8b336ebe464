package wasm

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
)

// componentEnv is what every instance of one loaded component version
// shares: its identity, its grants, and the host services its host calls
// reach. It is immutable once built, except for the subscription set.
type componentEnv struct {
	name   string
	caps   CapabilitySet
	sys    *actors.System
	log    *slog.Logger // records carry the component; level from monitoring.log_level
	audit  *slog.Logger // capability denials, at warn, with component, capability and resource
	store  state.Store  // KV; keys are "<component>/<namespace>/<key>"
	client *http.Client // http_fetch; its dialer re-checks network grants
	stats  *instruments
	limits Limits
	// tracer makes a span per message; nil unless monitoring.enable_tracing
	// and the Runtime has a TracerProvider.
	tracer trace.Tracer
}

// Limits bound what crosses the host boundary, for every component of a
// Runtime.
type Limits struct {
	// MaxMessageBytes bounds a message into a guest and every payload a
	// guest hands to the host (send, request, publish, KV values).
	MaxMessageBytes int
	// MaxReplyBytes bounds a guest's reply and every result the host hands
	// back (request replies, KV values read, fetched bodies).
	MaxReplyBytes int
}

// instanceEnv is one instance's state. Host functions reach it through the
// context of the call into the guest, which the runtime builds once per
// instance, so a call allocates nothing to carry it. Subscriptions need no
// bookkeeping here: the actor System ends them when the actor stops or
// restarts, and a restarted actor's fresh instance subscribes again.
type instanceEnv struct {
	comp *componentEnv
	self actors.Ref // the component's actor; for a pool, the pool's router
	// actor is the Receive the instance runs in, nil outside one (Call):
	// the guest's requests are its actor's, as a native actor's are, so
	// they end when the actor stops and the inspector sees who waits.
	actor *actors.Context
	// deadline is the Unix-nanosecond deadline of the call in flight, 0
	// when the instance is idle. The watchdog reads it; blocking host
	// calls (request, http_fetch) bound their waits by it.
	deadline atomic.Int64
	// result is the pending result of the last host call, copied out by
	// result_read. Only the goroutine running the instance touches it.
	result []byte
	// loop is the instance's serve loop (serve.go), reached by the
	// troupe_loop host functions.
	loop *serveLoop
}

type instanceKey struct{}

// withInstance returns ctx carrying env for the host functions.
func withInstance(ctx context.Context, env *instanceEnv) context.Context {
	return context.WithValue(ctx, instanceKey{}, env)
}

// instanceFrom returns the instance a host function was called by.
func instanceFrom(ctx context.Context) *instanceEnv {
	env, _ := ctx.Value(instanceKey{}).(*instanceEnv)
	return env
}
