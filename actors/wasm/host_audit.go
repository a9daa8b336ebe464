package wasm

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/troupehq/troupe/internal/ratelog"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// auditEvery is how often one component may write a capability-denial
// audit record. A guest looping on a denied call must not flood the logs;
// the records held back are counted in the next one, and the metric counts
// every denial regardless.
const auditEvery = time.Second

// auditLimiters holds one limiter per component name. Names come from
// manifests the operator deployed, so the map is bounded; keying by name
// rather than by loaded version keeps a hot reload from resetting the limit.
var auditLimiters sync.Map // string -> *ratelog.Limiter

func auditLimiter(component string) *ratelog.Limiter {
	if l, ok := auditLimiters.Load(component); ok {
		return l.(*ratelog.Limiter)
	}
	l, _ := auditLimiters.LoadOrStore(component, ratelog.New(auditEvery))
	return l.(*ratelog.Limiter)
}

// deny refuses a host call for want of capability (in manifest syntax, for
// example "topic:publish:orders.eu") of kind, on resource. It counts the
// denial, writes a rate-limited audit record (the audit logger carries the
// component attribute, as the component logger does), and leaves
// "denied: <capability>" pending for the guest.
func (e *instanceEnv) deny(ctx context.Context, kind, capability, resource string) int64 {
	c := e.comp
	c.stats.denied(ctx, c.name, kind)
	if c.audit != nil {
		if ok, suppressed := auditLimiter(c.name).Allow(time.Now()); ok {
			attrs := []slog.Attr{
				slog.String("capability", capability),
				slog.String("resource", resource),
			}
			if suppressed > 0 {
				attrs = append(attrs, slog.Int("suppressed", suppressed))
			}
			c.audit.LogAttrs(ctx, slog.LevelWarn, "capability denied", attrs...)
		}
	}
	return e.fail(abi.CodeDenied, "denied: "+capability)
}
